#!/usr/bin/env bash
# The 16-worker figures of issue 13 ("Past one node"), on a machine with 16 or more
# cores, and the diagnosis of the processes backend if it falls short:
#
#   bash benches/scaling-16.sh        # about 30 minutes on 16 cores
#
# 1. `carlo scale` of pi at 1.6e10 samples and of the European call at 1e9 paths,
#    threads and processes at 1-16 workers, 3 repeats (CSV + SVG);
# 2. MPI (when mpirun is installed; built with --features mpi into target-mpi/):
#    `carlo run --backend mpi` of the same pi under `mpirun -np 1..16`, 3 repeats,
#    with samples_per_second (carlo's own wall time) and the start-up (mpirun's wall
#    time minus carlo's) in separate columns;
# 3. the ratios the issue's goals are stated in: processes / threads and mpi / threads
#    at 16 workers, from the medians of samples_per_second (goal: >= 0.95 each);
# 4. where processes lose time at 16 workers: chunk sizes 65,536 to 1,048,576 (a loss
#    that shrinks with bigger chunks is per chunk: messages, wake-ups, a parent that
#    answers late), 1 to 8 chunks in flight per worker (CARLO_WORKER_DEPTH: a parent
#    that answers late idles workers that hold fewer), 15 workers against 16 (the
#    parent needs a core too), the workers'
#    CPU use against wall time x workers (idle workers wait for the parent), the
#    parent's CPU time and context switches per chunk (perf stat --no-inherit, if perf
#    is allowed), the start-up (a run of one chunk per worker), and
#    benches/worker-probe.py (a worker's start-up, message sizes and CPU per chunk).
#
# Everything is written to results/studies/ with the suffix -16core (SUFFIX= to
# change, OUT_DIR= for another folder), with machine-16core.txt saying where it ran.
# WORKERS, PI_SAMPLES, EU_SAMPLES, REPEATS and MPI_CARLO (an mpi build) override the defaults (a quick check:
# WORKERS=1,2 PI_SAMPLES=1e8 EU_SAMPLES=1e7 REPEATS=1 OUT_DIR=/tmp/s bash benches/scaling-16.sh).
# Every run of one study must give the same estimate bits; `carlo scale` checks its
# own, and this script checks MPI's against threads'.
set -euo pipefail

cd "$(dirname "$0")/.."
suffix=${SUFFIX--16core}
out=${OUT_DIR:-results/studies}
workers=${WORKERS:-1,2,4,8,16}
max=${workers##*,}
pi_samples=${PI_SAMPLES:-1.6e10}
eu_samples=${EU_SAMPLES:-1e9}
repeats=${REPEATS:-3}
mkdir -p "$out"

cargo build --release --quiet
carlo=target/release/carlo
mpi_carlo=${MPI_CARLO:-}
if [ -n "$mpi_carlo" ]; then
    : # a build with --features mpi given by the caller
elif command -v mpirun >/dev/null; then
    if cargo build --release --quiet --features mpi --target-dir target-mpi; then
        mpi_carlo=target-mpi/release/carlo
    else
        echo "warning: the mpi build failed; no MPI figures" >&2
    fi
else
    echo "warning: no mpirun; no MPI figures (apt-get install libopenmpi-dev openmpi-bin libclang1-14 libclang-common-14-dev)" >&2
fi

machine=$out/machine$suffix.txt
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cores: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "threads per core: $(lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: *//p')"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "kernel: $(uname -sr)"
    echo "rustc: $(rustc --version)"
    echo "carlo: $($carlo --version) ($(git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    [ -n "$mpi_carlo" ] && echo "mpi: $(mpirun --version 2>&1 | head -1)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$machine"
echo "wrote $machine"

# The value of column NAME in line 2 (or the line given) of a CSV on stdin.
column() { awk -F, -v name="$1" -v row="${2:-2}" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == name) c = i} NR == row {print $c}'; }
# The median of the numbers on stdin.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# 1. Threads and processes.
$carlo scale configs/pi.toml --samples "$pi_samples" --workers "$workers" \
    --backends threads,processes --repeats "$repeats" \
    --out "$out/pi-scale$suffix.csv" --plot "$out/pi-scale$suffix.svg"
$carlo scale configs/european.toml --samples "$eu_samples" --workers "$workers" \
    --backends threads,processes --repeats "$repeats" \
    --out "$out/european-scale$suffix.csv" --plot "$out/european-scale$suffix.svg"

# 2. MPI.
mpi_csv=$out/pi-mpi$suffix.csv
if [ -n "$mpi_carlo" ]; then
    echo "backend,workers,repeat,samples,wall_seconds,samples_per_second,mpirun_seconds,startup_seconds,estimate" >"$mpi_csv"
    for np in ${workers//,/ }; do
        for r in $(seq 1 "$repeats"); do
            start=$(date +%s.%N)
            # shellcheck disable=SC2086
            csv=$(mpirun --allow-run-as-root --oversubscribe ${MPIRUN_FLAGS:-} -np "$np" \
                "$mpi_carlo" run configs/pi.toml --samples "$pi_samples" --backend mpi \
                --out - --format csv --quiet)
            total=$(echo "$(date +%s.%N) - $start" | bc)
            wall=$(column wall_seconds <<<"$csv")
            echo "mpi,$np,$r,$(column samples <<<"$csv"),$wall,$(column samples_per_second <<<"$csv"),$total,$(echo "$total - $wall" | bc),$(column estimate <<<"$csv")" >>"$mpi_csv"
        done
    done
    echo "wrote $mpi_csv"
    threads_estimate=$(column estimate <"$out/pi-scale$suffix.csv")
    if awk -F, -v e="$threads_estimate" 'NR > 1 && $9 != e {bad = 1} END {exit !bad}' "$mpi_csv"; then
        echo "error: an MPI run's estimate differs from threads' ($threads_estimate): see $mpi_csv" >&2
        exit 1
    fi
fi

# 3. The ratios at the widest point.
rate() { # CSV BACKEND WORKERS: samples_per_second of that point
    awk -F, -v b="$2" -v w="$3" 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next}
        $c["backend"] == b && $c["workers"] == w {print $c["samples_per_second"]}' "$1" | median
}
ratios=$out/ratios$suffix.txt
{
    for study in pi european; do
        t=$(rate "$out/$study-scale$suffix.csv" threads "$max")
        p=$(rate "$out/$study-scale$suffix.csv" processes "$max")
        echo "$study x$max: threads $t samples/s, processes $p: processes/threads $(echo "scale=3; $p / $t" | bc)"
    done
    if [ -n "$mpi_carlo" ]; then
        t=$(rate "$out/pi-scale$suffix.csv" threads "$max")
        m=$(rate "$mpi_csv" mpi "$max")
        s=$(awk -F, -v w="$max" 'NR > 1 && $2 == w {print $8}' "$mpi_csv" | median)
        echo "pi x$max: mpi $m samples/s: mpi/threads $(echo "scale=3; $m / $t" | bc); mpirun start-up and finish $s s (median)"
    fi
} | tee "$ratios"

# 4. Where processes lose time at the widest point (pi).
diagnosis=$out/processes-diagnosis$suffix.txt
run_timed() { # LABEL ARGS...: one run, with its rate, wall time and CPU use
    local label=$1
    shift
    local csv start wall user sys
    start=$(date +%s.%N)
    csv=$(/usr/bin/time -f "%U %S" -o "$out/.time" "$carlo" run configs/pi.toml "$@" --out - --format csv --quiet)
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    read -r user sys <"$out/.time"
    awk -v label="$label" -v rate="$(column samples_per_second <<<"$csv")" -v wall="$wall" \
        -v own="$(column wall_seconds <<<"$csv")" -v cpu="$user + $sys" -v u="$user" -v s="$sys" \
        -v w="$(column workers <<<"$csv")" 'BEGIN {
        printf "%-34s %6.3f G samples/s  wall %7.3f s (carlo %7.3f s)  CPU %8.2f s = %5.1f%% of wall x %d workers\n",
            label, rate / 1e9, wall, own, u + s, 100 * (u + s) / (wall * w), w}'
}
{
    echo "# processes at $max workers, pi at $pi_samples samples ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
    echo "## chunk size: a loss that shrinks with bigger chunks is paid per chunk"
    for chunk in 65536 262144 1048576; do
        for backend in threads processes; do
            run_timed "$backend x$max, chunks of $chunk" --backend "$backend" --workers "$max" --chunk-size "$chunk" --samples "$pi_samples"
        done
    done
    echo "## chunks in flight per worker (CARLO_WORKER_DEPTH, default 2): more slack for a parent that answers late"
    for depth in 1 2 4 8; do
        CARLO_WORKER_DEPTH=$depth run_timed "processes x$max, depth $depth" --backend processes --workers "$max" --samples "$pi_samples"
    done
    echo "## a core for the parent"
    run_timed "processes x$((max - 1))" --backend processes --workers "$((max - 1))" --samples "$pi_samples"
    echo "## start-up: one chunk of 65,536 per worker"
    for backend in threads processes; do
        for r in 1 2 3; do
            run_timed "$backend x$max start-up ($r)" --backend "$backend" --workers "$max" --samples "$((max * 65536))"
        done
    done
    if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
        echo "## the parent's own thread (perf stat --no-inherit): CPU and context switches"
        for backend in threads processes; do
            echo "### $backend x$max (chunks: $(awk "BEGIN {printf \"%d\", $pi_samples / 65536}"))"
            perf stat --no-inherit -e task-clock,context-switches,cpu-migrations \
                "$carlo" run configs/pi.toml --backend "$backend" --workers "$max" \
                --samples "$pi_samples" --out /dev/null --format csv --quiet 2>&1 | grep -E "task-clock|context|migrations|elapsed"
        done
    else
        echo "## (perf is missing or not allowed: no per-thread figures)"
    fi
    echo "## one worker: start-up, message sizes, CPU per chunk (benches/worker-probe.py)"
    python3 benches/worker-probe.py "$carlo" configs/pi.toml configs/european.toml configs/american.toml
} 2>&1 | tee "$diagnosis"
rm -f "$out/.time"
echo "wrote $out/*$suffix.*: commit them, and put the ratios in docs/performance.md"
