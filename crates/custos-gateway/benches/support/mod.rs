//! What the gateway benches share: the load generator and the seeded records.

#![allow(dead_code, reason = "each bench uses a subset")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_store::{Case, Citizen, Officer, Registry, Warrant};

/// The citizen every lookup asks for.
pub const TARGET: &str = "1000035000"; // citizen 5,000

pub fn pct(v: &[Duration], p: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

/// Closed-loop load: `conns` keep-alive connections (connection k to `addrs[k % n]`), each
/// sending `req` again as soon as the previous answer arrived, for `secs` seconds; returns
/// (requests/s, p50 ms, p99 ms, non-200 answers).
///
/// The generator is one thread driving every connection through epoll (a current-thread tokio
/// runtime), as `wrk` does: a thread per connection spent about half of the machine's two
/// cores on waking threads, CPU the server under test then lacked.
pub fn load(addrs: &[SocketAddr], conns: usize, secs: u64, req: Vec<u8>) -> (f64, f64, f64, u64) {
    let addrs = addrs.to_vec();
    let driver = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(secs);
            let req = Arc::new(req);
            let tasks: Vec<_> = (0..conns)
                .map(|k| tokio::spawn(connection(addrs[k % addrs.len()], req.clone(), deadline)))
                .collect();
            let mut all = Vec::new();
            let mut bad = 0;
            for t in tasks {
                let (l, b) = t.await.unwrap();
                all.extend(l);
                bad += b;
            }
            (all, bad, started.elapsed().as_secs_f64())
        })
    });
    let (mut all, bad, secs) = driver.join().unwrap();
    all.sort();
    (all.len() as f64 / secs, pct(&all, 0.5), pct(&all, 0.99), bad)
}

/// One keep-alive connection of [`load`]: its latencies and its count of non-200 answers.
async fn connection(addr: SocketAddr, req: Arc<Vec<u8>>, deadline: Instant) -> (Vec<Duration>, u64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let (mut lat, mut non200) = (Vec::new(), 0u64);
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    while Instant::now() < deadline {
        let t = Instant::now();
        s.write_all(&req).await.unwrap();
        // Read until the head is complete, then until the body (Content-Length) is.
        buf.clear();
        let mut need = usize::MAX;
        while buf.len() < need {
            let mut chunk = [0u8; 8192];
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if need == usize::MAX {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    need = end + 4 + len;
                    if !head.starts_with("http/1.1 200") {
                        non200 += 1;
                    }
                }
            }
        }
        lat.push(t.elapsed());
    }
    (lat, non200)
}

/// `n` citizens (the lookup target among them), an investigator `inv1` on case `C1` with
/// warrant `W1` for the target from reviewer `rev1`.
pub fn seed(reg: &Registry, n: u64) {
    let mut batch = Vec::new();
    for i in 0..n {
        batch.push(Citizen {
            nid: format!("{}", 1_000_000_000 + i * 7),
            name_en: format!("Citizen {i}"),
            name_bn: "নাগরিক".into(),
            msisdns: vec![format!("88017{:08}", i)],
            dob: "1990-01-01".into(),
            ..Citizen::default()
        });
        if batch.len() == 10_000 {
            reg.add_citizens(&batch).unwrap();
            batch.clear();
        }
    }
    if !batch.is_empty() {
        reg.add_citizens(&batch).unwrap();
    }
    let st = reg.store();
    for (id, unit, role) in [("inv1", "ATU", "investigator"), ("rev1", "COURT", "reviewer")] {
        st.put_officer(&Officer {
            id: id.into(),
            name: "x".into(),
            unit: unit.into(),
            rank: "SI".into(),
            roles: vec![role.into()],
            status: "active".into(),
        })
        .unwrap();
    }
    let bi = reg.vault().blind("nid", TARGET);
    st.put_case(&Case {
        id: "C1".into(),
        unit: "ATU".into(),
        officers: vec!["inv1".into()],
        subjects: vec![bi.clone()],
        open: true,
        covert: false,
    })
    .unwrap();
    let now = custos_server::auth::now_unix() as i64;
    st.put_warrant(&Warrant {
        id: "W1".into(),
        case: "C1".into(),
        issuer: "rev1".into(),
        subjects: vec![bi],
        categories: vec!["identity".into()],
        data_from: 0,
        data_to: now,
        valid_from: now - 10,
        valid_to: now + 86_400,
        status: "active".into(),
    })
    .unwrap();
}

/// The raw HTTP/1.1 request of a guarded lookup of the target.
pub fn guarded_request(token: &str) -> Vec<u8> {
    let body = format!(r#"{{"nid":"{TARGET}","case":"C1","warrant":"W1","purpose":"bench"}}"#);
    format!(
        "POST /v1/identity/lookup HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
