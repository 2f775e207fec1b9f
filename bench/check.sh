#!/usr/bin/env bash
# Throughput and peak memory of `yjsend check` over a mixed corpus of N fixture messages
# (default 1,000: the fixture corpus repeated). Prints messages per second (best of RUNS) and
# the peak resident memory of the process.
#
#   bench/check.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
RUNS=${2:-3}

cargo build --release --locked --quiet
BIN=target/release/yjsend
CORPUS=$(mktemp -d)
trap 'rm -rf "$CORPUS"' EXIT

mapfile -t SOURCES < <(ls fixtures/eml/*.eml | sort)
[ ${#SOURCES[@]} -gt 0 ] || { echo "no fixtures in fixtures/eml" >&2; exit 1; }
for ((i = 0; i < N; i++)); do
  cp "${SOURCES[i % ${#SOURCES[@]}]}" "$CORPUS/$(printf '%05d' "$i").eml"
done
BYTES=$(du -sb "$CORPUS" | cut -f1)
echo "corpus: $N messages from ${#SOURCES[@]} fixtures, $((BYTES / 1024 / 1024)) MB"

best=""
peak=0
for ((r = 1; r <= RUNS; r++)); do
  out=$( { /usr/bin/time -f '%e %M' "$BIN" --config fixtures/config/yjsend.toml \
            check --json "$CORPUS"/*.eml > /dev/null; } 2>&1 | tail -n 1)
  secs=${out% *}
  kb=${out#* }
  rate=$(awk -v n="$N" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : n / 0.01) }')
  echo "run $r: ${secs}s, $rate messages/s, peak RSS $((kb / 1024)) MB"
  if [ -z "$best" ] || [ "$rate" -gt "$best" ]; then best=$rate; fi
  if [ "$kb" -gt "$peak" ]; then peak=$kb; fi
done
echo "best: $best messages/s; peak RSS over all runs: $((peak / 1024)) MB"
