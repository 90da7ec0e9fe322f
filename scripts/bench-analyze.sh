#!/usr/bin/env bash
# Load benchmark of `custos analyze` on a large simulated access log, beside a plain read and a
# plain CSV parse of the same file in the same run. Usage: scripts/bench-analyze.sh [OFFICERS] [DAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
officers=${1:-16000}
days=${2:-90}
cargo build --release -q
bin=target/release/custos
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$bin sim --out "$out" --officers "$officers" --days "$days" --citizens 2000000 --seed 7
rows=$(($(wc -l < "$out/access_log.csv") - 1))
size=$(du -m "$out/access_log.csv" | cut -f1)
echo "rows: $rows, size: ${size} MB"
t() { /usr/bin/time -f "%e s, max RSS %M KB" "$@"; }
echo "baseline: plain read (cat > /dev/null)"; t cat "$out/access_log.csv" > /dev/null
echo "baseline: CSV parse only (same parser, no engine)"; t $bin analyze --log "$out/access_log.csv" --parse-only
echo "custos analyze (cases + watch list, JSON out)"; t $bin analyze --log "$out/access_log.csv" --cases "$out/cases.csv" --watch "$out/watch.csv" --format json > "$out/report.json"
head -c 300 "$out/report.json"; echo
