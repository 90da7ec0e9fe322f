//! Export scanning throughput (parse every message of a Telegram JSON export and extract every
//! identifier), beside a plain buffered read of the same file in the same run.
//! Run: `cargo bench -p custos-sim --bench leak_scan` (`CUSTOS_BENCH_POSTS`, default 400,000).

#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark code")]

use std::io::Read;
use std::time::Instant;

fn main() {
    let n: usize = std::env::var("CUSTOS_BENCH_POSTS").ok().and_then(|s| s.parse().ok()).unwrap_or(400_000);
    let posts: Vec<(String, i64)> = (0..n)
        .map(|i| {
            let id =
                if i % 2 == 0 { format!("88017{:08}", i) } else { format!("{}", 1_000_000_000 + i * 13) };
            (id, 1_767_225_600 + i as i64)
        })
        .collect();
    let export = custos_sim::telegram_export("bench", &posts, 1);
    let d = tempfile_dir();
    let path = d.join("result.json");
    std::fs::write(&path, &export).unwrap();
    let mb = export.len() as f64 / 1e6;
    drop(export);
    // Warm the page cache, then measure both on the cached file.
    let mut sink = Vec::new();
    std::fs::File::open(&path).unwrap().read_to_end(&mut sink).unwrap();
    drop(sink);
    let t = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    let mut f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let mut total = 0usize;
    loop {
        let k = f.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        total += k;
    }
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (mut msgs, mut hits) = (0u64, 0u64);
    for m in custos_leak::telegram::JsonMessages::new(std::fs::File::open(&path).unwrap(), 6 * 3600) {
        let m = m.unwrap();
        msgs += 1;
        hits += custos_leak::extract::extract(&m.text).len() as u64;
    }
    let scan_s = t.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&d).ok();
    println!("| export of {mb:.0} MB, {msgs} messages, {hits} identifiers | MB/s | seconds |");
    println!("|---|---|---|");
    println!("| baseline: plain buffered read ({total} bytes) | {:.0} | {read_s:.2} |", mb / read_s);
    println!(
        "| scan: parse every message + extract identifiers (one core) | {:.0} | {scan_s:.2} |",
        mb / scan_s
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("custos-leak-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
