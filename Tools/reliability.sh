#!/usr/bin/env bash
# Full reliability runs (quick versions run in `swift test`): crash (kill -9 while 64 clients append, N rounds),
# tamper (random edits of the SQLite file, each found by verify at the right position), HTTP fuzz. Loopback only,
# bounded in count and time; exits non-zero on the first failure.
# Usage: Tools/reliability.sh [CRASH_ROUNDS=20] [TAMPER_ROUNDS=1000] [FUZZ_REQUESTS=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-20}; TAMPER=${2:-1000}; FUZZ=${3:-20000}
OUT=Tools/out/reliability
rm -rf "$OUT"; mkdir -p "$OUT"
swift build -c release --product planledger 2>&1 | tail -1
swift build -c release --product planledger-bench 2>&1 | tail -1
BIN=.build/release
DB="$OUT/crash.sqlite"

echo "crash test: $ROUNDS rounds of kill -9 while 64 clients append"
$BIN/planledger-bench generate --db "$DB" --events 2000 > /dev/null 2>&1
TOKEN=$($BIN/planledger token create --role admin --label crash --db "$DB" | tail -1)
for round in $(seq 1 "$ROUNDS"); do
    PORT=$((7400 + round))
    $BIN/planledger serve --db "$DB" --port $PORT --quiet > "$OUT/serve.txt" 2>&1 &
    SERVER=$!
    for _ in $(seq 50); do grep -q "listening" "$OUT/serve.txt" && break; sleep 0.1; done
    $BIN/planledger-bench crash-load --port $PORT --token "$TOKEN" --clients 64 --acked "$OUT/acked.txt" --round "$round" &
    LOAD=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 $SERVER; wait $SERVER 2>/dev/null || true
    wait $LOAD 2>/dev/null || true
    $BIN/planledger-bench check-acked --db "$DB" --acked "$OUT/acked.txt" | tr '\n' ' '
    $BIN/planledger verify --db "$DB" | tail -1
done

echo "tamper test: $TAMPER random edits"
$BIN/planledger-bench tamper --db "$DB" --rounds "$TAMPER" --seed 2026 2>/dev/null

echo "fuzz: up to $FUZZ requests"
cp "$DB" "$OUT/fuzz.sqlite"; [ -f "$DB-wal" ] && cp "$DB-wal" "$OUT/fuzz.sqlite-wal"
$BIN/planledger-bench fuzz --db "$OUT/fuzz.sqlite" --requests "$FUZZ" --seconds 600 --seed 2026 2>/dev/null
echo "reliability: all runs passed"
