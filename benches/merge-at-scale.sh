#!/usr/bin/env bash
# carlo merge at scale: writes SHARDS partials of one pi run (every shard a separate
# `carlo run --shard I/SHARDS`, two at a time), merges them under /usr/bin/time -v,
# and checks the summary and its chunk digests against one run of the same config,
# bit for bit. Prints the wall time, CPU time and peak RSS of each merge.
#
#   usage: bash benches/merge-at-scale.sh [SHARDS] [SAMPLES] [CHUNK_SIZE] [REPEATS]
#   default: 10000 shards of 1e8 pi samples in chunks of 1000 (100,000 chunks), 3 merges
#   docs/clusters.md has the figures; 10000 1e9 100 gives 10^7 chunks (287 MB of partials).
#
# Needs target/release/carlo (cargo build --release) or CARLO=/path/to/carlo.
set -euo pipefail

shards=${1:-10000}
samples=${2:-1e8}
chunk=${3:-1000}
repeats=${4:-3}
carlo=$(realpath "${CARLO:-target/release/carlo}")
work=$(mktemp -d "${TMPDIR:-/tmp}/carlo-merge-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir parts
cat >pi.toml <<EOF
[simulation]
name = "pi"
samples = $samples
seed = 42
chunk_size = $chunk

[model]
type = "pi"
EOF

start=$(date +%s.%N)
seq 1 "$shards" | xargs -P 2 -I{} "$carlo" run pi.toml --shard "{}/$shards" \
    --backend sequential --quiet --out "parts/part-{}-of-$shards.json"
echo "wrote $shards partials in $(echo "$(date +%s.%N) - $start" | bc) s," \
    "$(du -sb parts | cut -f1) bytes"

for r in $(seq 1 "$repeats"); do
    /usr/bin/time -v "$carlo" merge parts/*.json --out merged.csv --quiet 2>time.txt
    awk -F': ' '/Elapsed \(wall/ {w=$2} /User time/ {u=$2} /System time/ {s=$2}
        /Maximum resident/ {m=$2}
        END {printf "merge %d: %s wall, %.2f s CPU (user %s + sys %s), peak RSS %.1f MiB\n",
             '"$r"', w, u + s, u, s, m / 1024}' time.txt
done

/usr/bin/time -f "single run: %e s wall, peak RSS %M KiB" \
    "$carlo" run pi.toml --backend threads --out single.csv --quiet
# Every column but those that say how the run went (backend, workers, timing).
columns() { cut -d, -f1-11,14,17- "$1"; }
if cmp -s <(columns merged.csv) <(columns single.csv) && cmp -s merged.chunks single.chunks; then
    echo "merged summary and chunk digests: bit-identical to the single run"
else
    echo "error: the merge differs from the single run" >&2
    diff <(columns merged.csv) <(columns single.csv) >&2 || true
    exit 1
fi
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
