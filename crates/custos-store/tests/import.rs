//! `custos import`'s CSV reading under arbitrary input: never a panic, and every good row is
//! normalised (the fuzz target's entry point, run by proptest on every `cargo test`).

use custos_store::import::{Kind, Record, Rows};
use proptest::prelude::*;

const CITIZENS: &str =
    "nid,name_bn,name_en,father,mother,dob,gender,division,district,upazila,address,msisdns\n";
const CDRS: &str = "caller,callee,start,duration,type,cell_id,imei\n";

proptest! {
    #[test]
    fn arbitrary_text_never_panics(head in prop_oneof![Just(CITIZENS), Just(CDRS), Just("")],
                                   body in "[ -~\n,\"০-৯\u{feff}]{0,400}") {
        custos_store::fuzzing::import_rows(format!("{head}{body}").as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut text = CDRS.as_bytes().to_vec();
        text.extend_from_slice(&data);
        custos_store::fuzzing::import_rows(&text);
    }

    /// Well-formed call records come back as written, with the line they were on.
    #[test]
    fn good_call_records_round_trip(rows in proptest::collection::vec(
        (0u64..100_000_000, 0u64..100_000_000, 0i64..4_000_000_000, any::<u32>(), 0usize..3), 1..20)) {
        let kinds = ["voice", "sms", "data"];
        let mut text = CDRS.to_string();
        for (a, b, t, d, k) in &rows {
            text.push_str(&format!("017{a:08},+88019{b:08},{t},{d},{},cell,imei\n", kinds[*k]));
        }
        let read: Vec<_> = Rows::new(Kind::Cdrs, text.as_bytes()).unwrap().collect();
        prop_assert_eq!(read.len(), rows.len());
        for (got, (a, b, t, d, k)) in read.into_iter().zip(&rows) {
            let Ok(Record::Cdr(c)) = got else { return Err(TestCaseError::fail(format!("{got:?}"))) };
            prop_assert_eq!(c.caller, format!("88017{a:08}"));
            prop_assert_eq!(c.callee, format!("88019{b:08}"));
            prop_assert_eq!((c.start, c.duration, c.kind.as_str()), (*t, *d, kinds[*k]));
        }
    }
}
