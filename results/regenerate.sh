#!/usr/bin/env bash
# Regenerates what is committed in results/: the summaries of the shipped configs
# (results/examples/, named as each config names its summary), the scaling studies
# (CSV + SVG) and the comparison against numpy and QuantLib (results/studies/), plus
# machine.txt saying where they ran. Run it from anywhere:
#
#   bash results/regenerate.sh                # everything (about 5 minutes on 2 cores)
#   bash results/regenerate.sh --no-compare   # skip the Python comparison
#   WORKERS=1,2,4,8,16 bash results/regenerate.sh --no-compare   # a bigger machine
#
# The comparison needs Python with numpy and QuantLib: it uses $PYTHON, else
# .venv/bin/python, else skips with a message (see benches/compare/README.md).
# Timings are only comparable within one run of this script, on a quiet machine.
set -euo pipefail

cd "$(dirname "$0")/.."
compare=1
for arg in "$@"; do
    case "$arg" in
        --no-compare) compare=0 ;;
        *) echo "usage: bash results/regenerate.sh [--no-compare]" >&2; exit 2 ;;
    esac
done
workers="${WORKERS:-1,2}"
suffix="${SUFFIX:-}" # e.g. SUFFIX=-16core keeps a bigger machine's study beside ours

cargo build --release --quiet
carlo=target/release/carlo

machine=results/studies/machine${suffix}.txt
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cores: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
    echo "memory: $(grep -m1 MemTotal /proc/meminfo 2>/dev/null | awk '{printf "%.1f GiB", $2/1048576}')"
    echo "kernel: $(uname -sr)"
    echo "rustc: $(rustc --version)"
    echo "carlo: $($carlo --version) ($(git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
} > "$machine"
echo "wrote $machine"

if [ -z "$suffix" ]; then
    for config in configs/*.toml; do
        # The file name the config gives its summary, from `carlo check`.
        summary=$($carlo check "$config" | sed -n 's/.*summary to //p')
        out="results/examples/$(basename "$summary")"
        $carlo run "$config" --quiet --out "$out"
        echo "wrote $out"
    done
fi

backends=threads
if $carlo run configs/pi.toml --samples 1000 --backend processes --workers 1 --quiet --out - > /dev/null 2>&1; then
    backends=threads,processes
fi
$carlo scale configs/pi.toml --samples 1e9 --workers "$workers" --backends "$backends" \
    --repeats 3 --out "results/studies/pi-scale${suffix}.csv" --plot "results/studies/pi-scale${suffix}.svg"
$carlo scale configs/european.toml --samples 5e7 --workers "$workers" --backends "$backends" \
    --repeats 3 --out "results/studies/european-scale${suffix}.csv" --plot "results/studies/european-scale${suffix}.svg"

if [ "$compare" = 1 ] && [ -z "$suffix" ]; then
    python="${PYTHON:-}"
    if [ -z "$python" ] && [ -x .venv/bin/python ]; then python=.venv/bin/python; fi
    if [ -n "$python" ]; then
        "$python" benches/compare/compare.py --carlo "$carlo" --out results/studies/compare.csv \
            | tee results/studies/compare.md
    else
        echo "skipping the comparison: set PYTHON or create .venv (see benches/compare/README.md)" >&2
    fi
fi
