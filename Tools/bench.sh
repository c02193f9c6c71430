#!/usr/bin/env bash
# Runs PlanLedger's benchmarks and their baselines side by side on this machine, and writes Tools/BENCHMARKS.md.
# Usage: Tools/bench.sh [EVENTS]   (default 1000000). Needs gcc, libsqlite3-dev, openssl; wrk and nginx for P5
# (installed with apt-get when missing). Loopback only; everything it starts it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
OUT=Tools/out
mkdir -p "$OUT"
rm -f "$OUT"/bench.sqlite* "$OUT"/baseline*.sqlite*
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null
fi
swift build -c release --product planledger 2>&1 | tail -1
swift build -c release --product planledger-bench 2>&1 | tail -1
BIN=.build/release
gcc -O2 -o "$OUT/sqlite_baseline" Tools/baseline/sqlite_baseline.c -lsqlite3
value() { grep "^$1=" "$2" | cut -d= -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { sort -n | sed -n 2p; }  # of three
range() { sort -n | sed -n '1p;3p' | paste -sd- | sed 's/-/–/'; }
wrk_rps() { awk '/Requests\/sec/ {printf "%d\n", $2}' "$1"; }
# rounds NAME COMMAND ARGS...: the output of COMMAND ARGS... $OUT/NAME-<round>.txt for each round (a line each).
rounds() { local name=$1; shift; for r in 1 2 3; do "$@" "$OUT/$name-$r.txt"; done; }

echo "P1: batch append of $EVENTS synthetic events"
$BIN/planledger-bench generate --db "$OUT/bench.sqlite" --events "$EVENTS" > "$OUT/p1.txt" 2>/dev/null
# Two raw-SQLite baselines: every row the ledger stores, in the same transactions (the headline), and the log's rows
# alone (the first baseline, kept for comparison). The first holds the copied rows in memory: about 3 GB at 1M events.
"$OUT/sqlite_baseline" ledger "$OUT/bench.sqlite" "$OUT/baseline-ledger.sqlite" > "$OUT/p1-baseline-ledger.txt"
"$OUT/sqlite_baseline" batch "$OUT/bench.sqlite" "$OUT/baseline-batch.sqlite" > "$OUT/p1-baseline.txt"
BASELINE_DEFAULT_SETTINGS=1 "$OUT/sqlite_baseline" batch "$OUT/bench.sqlite" "$OUT/baseline-batch.sqlite" > "$OUT/p1-baseline-default.txt"

# P3 and P6 are a few seconds each of CPU-bound work on a shared machine: three rounds each, and the table gives the
# median and the range (P6 alternating with its baseline, like P2).
echo "P3: rebuild"
for round in 1 2 3; do $BIN/planledger-bench rebuild --db "$OUT/bench.sqlite" > "$OUT/p3-$round.txt"; done

echo "P4: as-of / valid-at queries"
$BIN/planledger-bench queries --db "$OUT/bench.sqlite" --count 20000 > "$OUT/p4.txt"

echo "P6: verify"
"$OUT/sqlite_baseline" scan "$OUT/bench.sqlite" > "$OUT/p6-scan.txt"
openssl_mbs() { awk '{ v = $NF; sub(/k$/, "", v); printf "%.1f\n", v * 1000 / 1e6 }' "$1"; }
for round in 1 2 3; do
    $BIN/planledger-bench verify --db "$OUT/bench.sqlite" > "$OUT/p6-$round.txt"
    MEAN=$(value mean_event_bytes "$OUT/p6-1.txt")
    openssl speed -bytes "$MEAN" -seconds 3 sha256 2>/dev/null | grep '^sha256' > "$OUT/p6-openssl-$round.txt" || true
done

echo "P2 and P5: the server under load"
PORT=7391
TOKEN=$($BIN/planledger token create --role admin --label bench --db "$OUT/bench.sqlite" | tail -1)
$BIN/planledger serve --db "$OUT/bench.sqlite" --port $PORT --quiet --max-connections 512 > "$OUT/serve.txt" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; [ -n "${NGINX_PID:-}" ] && kill $NGINX_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "listening" "$OUT/serve.txt" && break; sleep 0.2; done
# P2 and its baseline are each a few seconds of fsync-bound work on a shared machine, so they alternate for three
# rounds and the table gives the medians (and every round's numbers, in p2-rounds.txt). The 64 clients are wrk's
# 64 connections (C, epoll: about 40 µs of CPU per request), and again our own client, one thread per connection
# (about 70 µs), whose CPU the two cores also have to find.
# wrk's --latency percentiles, in ms.
wrk_ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; printf "%.2f\n", v }' "$2"; }
: > "$OUT/p2-rounds.txt"
for round in 1 2 3; do
    "$OUT/sqlite_baseline" autocommit "$OUT/baseline-autocommit.sqlite" 3000 > "$OUT/p2-baseline-$round.txt"
    PLANLEDGER_TOKEN=$TOKEN wrk -t2 -c64 -d10s --latency -s Tools/p2-append.lua "http://127.0.0.1:$PORT" > "$OUT/p2-wrk-$round.txt"
    $BIN/planledger-bench http-append --port $PORT --token "$TOKEN" --clients 64 --per-client 100 > "$OUT/p2-$round.txt"
    echo "round $round: wrk $(awk '/Requests\/sec/ {print $2}' "$OUT/p2-wrk-$round.txt") appends/s, p99 $(wrk_ms 99% "$OUT/p2-wrk-$round.txt") ms, non-2xx $(awk '/Non-2xx/ {print $NF}' "$OUT/p2-wrk-$round.txt"); our client $(value appends_per_second "$OUT/p2-$round.txt") appends/s, p99 $(value p99_ms "$OUT/p2-$round.txt") ms; baseline $(value commits_per_second "$OUT/p2-baseline-$round.txt") commits/s" >> "$OUT/p2-rounds.txt"
done
if grep -q "Non-2xx\|Socket errors" "$OUT"/p2-wrk-*.txt; then echo "P2: wrk saw failed requests (see $OUT/p2-wrk-*.txt)" >&2; exit 1; fi
P2W=$(rounds p2-wrk wrk_rps | median)
P2WP50=$(rounds p2-wrk wrk_ms 50% | median)
P2WP99=$(rounds p2-wrk wrk_ms 99% | median)
P2WP99RANGE=$(rounds p2-wrk wrk_ms 99% | range)
P2=$(rounds p2 value appends_per_second | median)
P2B=$(rounds p2-baseline value commits_per_second | median)
P2P50=$(rounds p2 value p50_ms | median)
P2P99=$(rounds p2 value p99_ms | median)
P2P99RANGE=$(rounds p2 value p99_ms | range)

ENTITY=/v1/entities/goal/R1-G0
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$ENTITY" > "$OUT/entity.json"
wrk -t2 -c64 -d15s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$ENTITY" > "$OUT/p5.txt"
RSS_KB=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
kill -INT $SERVER; wait $SERVER || true
# P2's appends again, in process and without HTTP: how much of P2 is the writer and how much the server.
$BIN/planledger-bench inproc-append --db "$OUT/bench.sqlite" --clients 64 --per-client 100 > "$OUT/p2-inproc.txt"

mkdir -p "$OUT/www"
cp "$OUT/entity.json" "$OUT/www/entity.json"
cat > "$OUT/nginx.conf" <<CONF
worker_processes 2;
pid $PWD/$OUT/nginx.pid;
error_log $PWD/$OUT/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server { listen 127.0.0.1:7392; root $PWD/$OUT/www; location / { default_type application/json; } }
}
CONF
nginx -c "$PWD/$OUT/nginx.conf" -p "$PWD/$OUT"
sleep 0.5
NGINX_PID=$(cat "$OUT/nginx.pid")
wrk -t2 -c64 -d15s "http://127.0.0.1:7392/entity.json" > "$OUT/p5-nginx.txt"
kill $NGINX_PID

P1=$(value events_per_second "$OUT/p1.txt"); P1B=$(value rows_per_second "$OUT/p1-baseline.txt")
P1L=$(value events_per_second "$OUT/p1-baseline-ledger.txt")
P1D=$(value rows_per_second "$OUT/p1-baseline-default.txt")
P5=$(awk '/Requests\/sec/ {print $2}' "$OUT/p5.txt"); P5B=$(awk '/Requests\/sec/ {print $2}' "$OUT/p5-nginx.txt")
P3=$(rounds p3 value events_per_second | median); P3RANGE=$(rounds p3 value events_per_second | range)
P6=$(rounds p6 value hashed_mb_per_second | median); P6RANGE=$(rounds p6 value hashed_mb_per_second | range)
P6E=$(rounds p6 value events_per_second | median)
P6B=$(rounds p6-openssl openssl_mbs | median); P6BRANGE=$(rounds p6-openssl openssl_mbs | range)

# The processor, as far as a VM shows it: the same model name has covered hosts of different generations here, on
# which the ratios moved (SHA-NI against SQLite's and our own code, above all), so family, model and the extensions
# that matter are recorded with each run.
cpu() {
    local field
    field() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'; }
    local flags; flags=$(field flags)
    local extensions=""
    for flag in sha_ni avx2 avx512f; do case " $flags " in *" $flag "*) extensions="$extensions, $flag";; esac; done
    echo "$(field 'model name'), family $(field 'cpu family') model $(field model)$extensions"
}

# The measured table replaces the part of Tools/BENCHMARKS.md between the two bench.sh markers; the notes around it
# (profiling, reliability, what is left) are written by hand.
cat > "$OUT/table.md" <<MD
Measured by \`Tools/bench.sh $EVENTS\` on $(date -u +%Y-%m-%d): $(nproc) cores ($(cpu)),
$(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), release build. Each ratio is against a
baseline measured in the same run on the same machine (a shared, noisy one: treat single runs as ±15%).

| | PlanLedger | baseline (same run) | ratio | target |
|---|---|---|---|---|
| P1 batch append, $EVENTS events in transactions of 1,000 (validation, domain rules, hashing, Merkle nodes, projections) | $P1 events/s | raw C inserts of the same rows and indexes: every row the ledger stores ($(value rows "$OUT/p1-baseline-ledger.txt") in all: log, Merkle nodes, stream heads, projections), in the same transactions, with the writer's SQLite settings (64 MiB cache, checkpoint every 4,000 pages): $P1L events/s | $(ratio "$P1" "$P1L")× | ≥ 0.6× |
| P1, against raw C inserting the log's rows and indexes only, same settings | | $P1B rows/s | $(ratio "$P1" "$P1B")× | |
| P1, against the log-only C program with SQLite's default settings | | $P1D rows/s | $(ratio "$P1" "$P1D")× | |
| P2 64 HTTP clients appending one event each, durable: \`wrk\` with 64 connections (\`Tools/p2-append.lua\`; median of 3 rounds of 10 s, alternating with the baseline) | $P2W appends/s, p50 $P2WP50 ms, p99 $P2WP99 ms (rounds: $P2WP99RANGE ms) | single-row autocommit FULL commits (median of 3 rounds of 3,000): $P2B commits/s | $(ratio "$P2W" "$P2B")× | ≥ 2×, p99 ≤ 20 ms |
| P2 with our client instead: 64 threads, one blocking connection each (3 rounds of 6,400) | $P2 appends/s, p50 $P2P50 ms, p99 $P2P99 ms (rounds: $P2P99RANGE ms) | the same baseline | $(ratio "$P2" "$P2B")× | |
| P2 without HTTP: the same appends from 64 threads in process | $(value appends_per_second "$OUT/p2-inproc.txt") appends/s, p50 $(value p50_ms "$OUT/p2-inproc.txt") ms, p99 $(value p99_ms "$OUT/p2-inproc.txt") ms, $(value transactions_per_commit "$OUT/p2-inproc.txt") transactions per commit | the same baseline | $(ratio "$(value appends_per_second "$OUT/p2-inproc.txt")" "$P2B")× | |
| P3 rebuild of all projections from $EVENTS events (median of 3 rounds) | $P3 events/s (rounds: $P3RANGE) | — | — | ≥ 250k events/s |
| P4 entity query p50 / p99: current | $(value current_p50_ms "$OUT/p4.txt") / $(value current_p99_ms "$OUT/p4.txt") ms | | | |
| P4 as-of (random past transaction time) | $(value as_of_p50_ms "$OUT/p4.txt") / $(value as_of_p99_ms "$OUT/p4.txt") ms | current query | p50 $(value as_of_ratio_p50 "$OUT/p4.txt")× | p99 ≤ 2 ms, ratio ≤ 2 |
| P4 valid-at (random past valid time) | $(value valid_at_p50_ms "$OUT/p4.txt") / $(value valid_at_p99_ms "$OUT/p4.txt") ms | current query | p50 $(value valid_at_ratio_p50 "$OUT/p4.txt")× | |
| P4 both | $(value both_p50_ms "$OUT/p4.txt") / $(value both_p99_ms "$OUT/p4.txt") ms | current query | p99 $(value both_ratio_p99 "$OUT/p4.txt")× | |
| P5 wrk keep-alive GET of an entity (64 connections, 15 s) | $P5 req/s | nginx serving the same JSON bytes as a static file: $P5B req/s | $(ratio "$P5" "$P5B")× | ≥ 0.3× |
| P6 verify of $EVENTS events (mean event $MEAN bytes; median of 3 rounds, alternating with the baseline) | $P6E events/s = $P6 MB/s hashed (rounds: $P6RANGE MB/s) | openssl speed sha256 at $MEAN-byte blocks (median of 3 rounds of 3 s): $P6B MB/s (rounds: $P6BRANGE) | $(ratio "$P6" "$P6B")× | ≥ 0.3× |
| P6 context: raw C stepping through the same rows with SQLite on one thread, no hashing | | $(value rows_per_second "$OUT/p6-scan.txt") rows/s | $(ratio "$P6E" "$(value rows_per_second "$OUT/p6-scan.txt")")× | |
| Peak RSS of serve holding the ledger, after P2 and P5 | $((RSS_KB / 1024)) MB | | | ≤ 200 MB |

Raw outputs are in \`Tools/out/\` (not committed).
MD
python3 - "$OUT/table.md" Tools/BENCHMARKS.md <<'PY'
import sys
table, target = open(sys.argv[1]).read(), sys.argv[2]
text = open(target).read()
begin, end = "<!-- bench.sh:begin -->", "<!-- bench.sh:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(target, "w").write(head + begin + "\n" + table + end + tail)
PY
cat "$OUT/table.md"
