//! A synthetic Bangladeshi population for the demonstration: names in Bangla and Latin script,
//! parents, dates of birth, divisions / districts / upazilas, addresses, and call-detail records
//! with plausible calling patterns (a small circle of frequent contacts, calls in waking hours,
//! SMS and data sessions, a home cell and a handset).
//!
//! Pure: values in, values out; deterministic for a seed.

use custos_store::{Cdr, Citizen};

use crate::Rng;

/// Given names (Bangla, Latin), male.
const MALE: [(&str, &str); 24] = [
    ("মোহাম্মদ", "Mohammad"),
    ("আব্দুল", "Abdul"),
    ("রহিম", "Rahim"),
    ("করিম", "Karim"),
    ("জামাল", "Jamal"),
    ("কামাল", "Kamal"),
    ("সাইফুল", "Saiful"),
    ("মাহমুদ", "Mahmud"),
    ("রফিক", "Rafiq"),
    ("শফিক", "Shafiq"),
    ("হাসান", "Hasan"),
    ("হোসেন", "Hossain"),
    ("আরিফ", "Arif"),
    ("তানভীর", "Tanvir"),
    ("নাজমুল", "Nazmul"),
    ("মিজানুর", "Mizanur"),
    ("আনিসুর", "Anisur"),
    ("সুমন", "Sumon"),
    ("রাশেদ", "Rashed"),
    ("ইমরান", "Imran"),
    ("অমিত", "Amit"),
    ("সুব্রত", "Subrata"),
    ("প্রদীপ", "Pradip"),
    ("বিপ্লব", "Biplob"),
];

/// Given names (Bangla, Latin), female.
const FEMALE: [(&str, &str); 20] = [
    ("ফাতেমা", "Fatema"),
    ("আয়েশা", "Ayesha"),
    ("নাসরিন", "Nasrin"),
    ("শাহনাজ", "Shahnaz"),
    ("রুমানা", "Rumana"),
    ("সালমা", "Salma"),
    ("তাসলিমা", "Taslima"),
    ("মরিয়ম", "Mariam"),
    ("জান্নাতুল", "Jannatul"),
    ("সুমাইয়া", "Sumaiya"),
    ("নুসরাত", "Nusrat"),
    ("শারমিন", "Sharmin"),
    ("রেহানা", "Rehana"),
    ("পারভীন", "Parvin"),
    ("ফারজানা", "Farzana"),
    ("মৌসুমী", "Mousumi"),
    ("দীপা", "Dipa"),
    ("শিউলি", "Shiuli"),
    ("রিনা", "Rina"),
    ("তানিয়া", "Tania"),
];

/// Family names (Bangla, Latin).
const FAMILY: [(&str, &str); 22] = [
    ("ইসলাম", "Islam"),
    ("রহমান", "Rahman"),
    ("হক", "Haque"),
    ("আহমেদ", "Ahmed"),
    ("চৌধুরী", "Chowdhury"),
    ("খান", "Khan"),
    ("হোসেন", "Hossain"),
    ("আলী", "Ali"),
    ("মিয়া", "Mia"),
    ("সরকার", "Sarkar"),
    ("তালুকদার", "Talukder"),
    ("মজুমদার", "Majumder"),
    ("ভূঁইয়া", "Bhuiyan"),
    ("শেখ", "Sheikh"),
    ("উদ্দিন", "Uddin"),
    ("বেগম", "Begum"),
    ("আক্তার", "Akter"),
    ("খাতুন", "Khatun"),
    ("দাস", "Das"),
    ("রায়", "Roy"),
    ("সাহা", "Saha"),
    ("পাল", "Paul"),
];

/// Division, district, upazilas (a real subset of the administrative geography).
const PLACES: [(&str, &str, [&str; 3]); 16] = [
    ("Dhaka", "Dhaka", ["Savar", "Dhamrai", "Keraniganj"]),
    ("Dhaka", "Gazipur", ["Gazipur Sadar", "Kaliakair", "Sreepur"]),
    ("Dhaka", "Narayanganj", ["Narayanganj Sadar", "Rupganj", "Sonargaon"]),
    ("Dhaka", "Tangail", ["Tangail Sadar", "Mirzapur", "Madhupur"]),
    ("Chattogram", "Chattogram", ["Hathazari", "Patiya", "Sitakunda"]),
    ("Chattogram", "Cox's Bazar", ["Cox's Bazar Sadar", "Teknaf", "Ukhia"]),
    ("Chattogram", "Cumilla", ["Cumilla Sadar", "Daudkandi", "Chauddagram"]),
    ("Rajshahi", "Rajshahi", ["Paba", "Godagari", "Bagha"]),
    ("Rajshahi", "Bogura", ["Bogura Sadar", "Sherpur", "Shibganj"]),
    ("Khulna", "Khulna", ["Dumuria", "Batiaghata", "Rupsha"]),
    ("Khulna", "Jashore", ["Jashore Sadar", "Jhikargacha", "Sharsha"]),
    ("Sylhet", "Sylhet", ["Sylhet Sadar", "Beanibazar", "Golapganj"]),
    ("Sylhet", "Moulvibazar", ["Sreemangal", "Kamalganj", "Kulaura"]),
    ("Barishal", "Barishal", ["Barishal Sadar", "Bakerganj", "Babuganj"]),
    ("Rangpur", "Rangpur", ["Rangpur Sadar", "Mithapukur", "Pirganj"]),
    ("Mymensingh", "Mymensingh", ["Mymensingh Sadar", "Trishal", "Bhaluka"]),
];

const ROADS: [&str; 8] = [
    "Station Road",
    "College Road",
    "Hospital Road",
    "Bazar Road",
    "Mosque Lane",
    "School Para",
    "Uttar Para",
    "Dakshin Para",
];

fn pick<'a, T>(rng: &mut Rng, v: &'a [T]) -> &'a T {
    rng.pick(v)
}

/// A full identity record around a simulated citizen's NID and mobile number. The details
/// are drawn from a generator keyed by the NID, so the same NID always gets the same person.
pub fn person(seed: u64, nid: &str, msisdn: &str) -> Citizen {
    let key = nid.bytes().fold(seed ^ 0x1234_5678, |h, b| h.wrapping_mul(0x100_0000_01B3) ^ u64::from(b));
    let mut rng = Rng::new(key);
    let female = rng.chance(0.49);
    let (g_bn, g_en) = if female { *pick(&mut rng, &FEMALE) } else { *pick(&mut rng, &MALE) };
    let (f_bn, f_en) =
        if female && rng.chance(0.6) { *pick(&mut rng, &FAMILY[15..18]) } else { *pick(&mut rng, &FAMILY) };
    // Parents are written in Latin script only; the draws still come in pairs.
    let (_, fa_en) = *pick(&mut rng, &MALE);
    let (_, fs_en) = *pick(&mut rng, &FAMILY[..15]);
    let (_, mo_en) = *pick(&mut rng, &FEMALE);
    let (division, district, upazilas) = *pick(&mut rng, &PLACES);
    let upazila = *pick(&mut rng, &upazilas);
    let year = 1950 + rng.below(56);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let house = 1 + rng.below(250);
    let road = *pick(&mut rng, &ROADS);
    let mut msisdns = vec![msisdn.to_string()];
    if rng.chance(0.12) {
        msisdns.push(format!("8801{}{:08}", 3 + rng.below(7), rng.below(100_000_000)));
    }
    Citizen {
        nid: nid.to_string(),
        name_bn: format!("{g_bn} {f_bn}"),
        name_en: format!("{g_en} {f_en}"),
        father: format!("{fa_en} {fs_en}"),
        mother: format!("{mo_en} {}", if rng.chance(0.5) { "Begum" } else { "Khatun" }),
        dob: format!("{year:04}-{month:02}-{day:02}"),
        gender: if female { "female" } else { "male" }.to_string(),
        division: division.to_string(),
        district: district.to_string(),
        upazila: upazila.to_string(),
        address: format!("House {house}, {road}, {upazila}, {district}"),
        msisdns,
    }
}

/// Call-detail records of one subscriber between `from` (a local midnight) and `to` (Unix
/// seconds): on average
/// `per_day` events a day, most to a circle of a few frequent contacts drawn from `numbers`,
/// in waking hours (Asia/Dhaka), from a home cell with a few others, on one handset.
pub fn cdrs(seed: u64, msisdn: &str, numbers: &[String], from: i64, to: i64, per_day: f64) -> Vec<Cdr> {
    let key = msisdn.bytes().fold(seed ^ 0xCD12, |h, b| h.wrapping_mul(0x100_0000_01B3) ^ u64::from(b));
    let mut rng = Rng::new(key);
    if numbers.is_empty() || to <= from {
        return vec![];
    }
    let circle: Vec<&String> = (0..3 + rng.below(5)).map(|_| rng.pick(numbers)).collect();
    let home = 10_000 + rng.below(50_000);
    let imei = format!("35{:013}", rng.below(10_000_000_000_000));
    let days = ((to - from) / 86_400).max(1);
    let n = rng.poisson(per_day * days as f64);
    let mut out: Vec<Cdr> = (0..n)
        .map(|_| {
            let day = rng.below(days as u64) as i64;
            // Waking hours, local time 07:00–23:59.
            let sec = 7 * 3600 + rng.below(17 * 3600) as i64;
            let start = from + day * 86_400 + sec;
            let other = if rng.chance(0.8) { *rng.pick(&circle) } else { rng.pick(numbers) };
            let (caller, callee) = if rng.chance(0.5) {
                (msisdn.to_string(), other.clone())
            } else {
                (other.clone(), msisdn.to_string())
            };
            let kind = match rng.below(10) {
                0..=5 => "voice",
                6..=8 => "sms",
                _ => "data",
            };
            let duration = match kind {
                "voice" => 10 + rng.below(600) as u32,
                "data" => 60 + rng.below(3600) as u32,
                _ => 0,
            };
            let cell = if rng.chance(0.7) { home } else { 10_000 + rng.below(50_000) };
            Cdr {
                caller,
                callee,
                start,
                duration,
                kind: kind.to_string(),
                cell_id: format!("470-0{}-{cell}", 1 + rng.below(7)),
                imei: imei.clone(),
            }
        })
        .collect();
    out.sort_by_key(|c| c.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_nid_is_the_same_person_and_names_come_in_both_scripts() {
        let a = person(7, "1234567890", "8801712345678");
        let b = person(7, "1234567890", "8801712345678");
        assert_eq!(a, b);
        assert!(a.name_bn.chars().any(|c| ('\u{0980}'..='\u{09FF}').contains(&c)), "{}", a.name_bn);
        assert!(a.name_en.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\''));
        assert_eq!(a.msisdns[0], "8801712345678");
        assert!(PLACES
            .iter()
            .any(|(d, z, u)| *d == a.division && *z == a.district && u.contains(&a.upazila.as_str())));
        let c = person(7, "1234567891", "8801712345678");
        assert_ne!((a.name_en.clone(), a.dob.clone()), (c.name_en, c.dob));
    }

    #[test]
    fn call_records_involve_the_subscriber_in_waking_hours_and_a_small_circle() {
        let numbers: Vec<String> = (0..500).map(|i| format!("88017{:08}", i)).collect();
        let from = 1_767_484_800 - 6 * 3600;
        let recs = cdrs(3, "8801811111111", &numbers, from, from + 30 * 86_400, 4.0);
        assert!(recs.len() > 60 && recs.len() < 200, "{}", recs.len());
        let mut others = std::collections::HashMap::new();
        for r in &recs {
            assert!(r.caller == "8801811111111" || r.callee == "8801811111111");
            let local_hour = (r.start + 6 * 3600).rem_euclid(86_400) / 3600;
            assert!(local_hour >= 7, "call at {local_hour}h");
            let other = if r.caller == "8801811111111" { &r.callee } else { &r.caller };
            *others.entry(other.clone()).or_insert(0) += 1;
        }
        let mut counts: Vec<i32> = others.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top: i32 = counts.iter().take(7).sum();
        assert!(f64::from(top) / recs.len() as f64 > 0.7, "calls are not concentrated on a circle");
    }
}
