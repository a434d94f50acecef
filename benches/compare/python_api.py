#!/usr/bin/env python3
"""carlo's Python package against multiprocessing.Pool, and against the carlo CLI.

1. The same numpy function (py_models.pi, py_models.european) under
   ``carlo.run_model`` (processes, threads, sequential) and under
   ``multiprocessing.Pool`` with one ``SeedSequence.spawn`` stream per chunk, on 1 and
   2 workers. Goal: carlo's throughput >= 0.9 of the Pool's, same workers.
2. ``carlo.run`` on built-in models against ``carlo run`` (a subprocess) on the same
   config, threads backend. Goal: >= 0.95 of the CLI's throughput.
3. ``warm``: a small run (a fraction of a second of work) as a fresh
   ``carlo.run_model`` (cold: its workers start), as a call on a ``carlo.Pool`` whose
   workers are warm, and on a forked ``multiprocessing.Pool``. Goal: a warm call under
   50 ms.
4. ``probe``: a 100-chunk run with the determinism probe and without. Goal: the probe
   costs under 5%.
5. ``scalar``: a per-sample Python loop drawing ``rng.random()`` under carlo against
   the same loop on the standard library's ``random.random()``, one process.

Prints a markdown table of medians and writes them to a CSV (see README.md).
"""
import argparse
import csv
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One BLAS thread per process: OpenBLAS's own threads in forked Pool workers slow the
# Pool's `x @ x` down about four times on two cores; this is the Pool's best case.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import carlo  # noqa: E402
import py_models  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CHUNK = 65_536
# Runs of a few seconds: carlo's workers are fresh interpreters (spawn, ~0.15 s to start
# and import numpy) where the Pool forks, and a run's throughput includes its start.
SAMPLES = {"pi": 200_000_000, "european": 100_000_000}
BUILTIN_SAMPLES = {"pi": 400_000_000, "european": 100_000_000}
SEED = 42


def _pool_chunk(task):
    case, seed_seq, n = task
    x = getattr(py_models, case)(np.random.default_rng(seed_seq), n)
    return n, float(x.sum()), float(x @ x)


def _keep_freed_memory():
    """What carlo's workers do (python/src/worker.rs): glibc keeps freed blocks of up
    to 32 MiB instead of mapping numpy's temporaries afresh at every chunk."""
    import ctypes
    libc = ctypes.CDLL(None)
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD


def pool_run(case, samples, workers, tuned=False):
    """The tutorials' way: a Pool maps chunks, each on its own spawned stream."""
    counts = [CHUNK] * (samples // CHUNK) + ([samples % CHUNK] if samples % CHUNK else [])
    seeds = np.random.SeedSequence(SEED).spawn(len(counts))
    with multiprocessing.Pool(workers, _keep_freed_memory if tuned else None) as pool:
        parts = pool.map(_pool_chunk, [(case, s, n) for s, n in zip(seeds, counts)], chunksize=1)
    n = sum(p[0] for p in parts)
    s = sum(p[1] for p in parts)
    ss = sum(p[2] for p in parts)
    mean = s / n
    return mean, ((ss - n * mean * mean) / (n - 1) / n) ** 0.5


def carlo_model(case, samples, backend, workers):
    row = carlo.run_model(
        getattr(py_models, case), [case], samples=samples, seed=SEED, chunk_size=CHUNK,
        backend=backend, workers=workers,
    )[0]
    return row.estimate, row.std_error


BUILTIN = {
    "pi": 'type = "pi"\n',
    "european": 'type = "european"\noption = "call"\nspot = 100.0\nstrike = 100.0\n'
                'rate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n',
}


def builtin_config(folder, case):
    path = Path(folder) / f"bench-{case}.toml"
    path.write_text(f"[simulation]\nsamples = 1000\nseed = {SEED}\nchunk_size = {CHUNK}\n"
                    f"[model]\n{BUILTIN[case]}")
    return path


def cli_run(binary, config, samples, workers):
    out = subprocess.run(
        [str(binary), "run", str(config), "--samples", str(samples), "--workers", str(workers),
         "--backend", "threads", "--quiet", "--format", "csv", "--out", "-"],
        capture_output=True, text=True, check=True).stdout
    return tuple(out.splitlines()[1].split(",")[3:5])


def api_run(config, samples, workers):
    row = carlo.run(config, samples=samples, workers=workers, backend="threads", quiet=True)[0]
    return repr(row.estimate), repr(row.std_error)


def interleaved(tools, repeats):
    """Seconds of each tool's runs, and its last result. The tools take turns within
    each repeat, so that a shared machine's load falls on all of them alike."""
    times = {name: [] for name in tools}
    results = {}
    for _ in range(repeats):
        for name, fn in tools.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return times, results


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def small(rng, n):
    """A tenth of a millisecond of numpy per chunk: what a warm call is made of."""
    return rng.random(n)


def warm_part(workers, repeats, record):
    """Cold run_model, warm carlo.Pool calls, a forked Pool, on 16 chunks of 4096."""
    samples, chunk = 16 * 4096, 4096

    def cold():
        s = carlo.run_model(small, "x", samples=samples, chunk_size=chunk, seed=SEED,
                            backend="processes", workers=workers)
        return repr(s[0].estimate), repr(s[0].std_error)

    def fork_pool():
        seeds = np.random.SeedSequence(SEED).spawn(16)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_small_chunk, [(s, chunk) for s in seeds])
        return repr(sum(parts) / samples), ""

    with carlo.Pool(workers=workers) as pool:
        pool.run_model(small, "x", samples=samples, chunk_size=chunk, seed=SEED)  # warm up

        def warm():
            s = pool.run_model(small, "x", samples=samples, chunk_size=chunk, seed=SEED)
            return repr(s[0].estimate), repr(s[0].std_error)

        tools = {"multiprocessing.Pool (fork), 16 chunks": fork_pool,
                 "carlo.run_model (cold), 16 chunks": cold,
                 "carlo.Pool call (warm), 16 chunks": warm}
        times, results = interleaved(tools, repeats)
    base = None
    for name in tools:
        seconds = record("warm", name, workers, samples, times[name], results[name], base)
        base = base or seconds


def _small_chunk(task):
    seed_seq, n = task
    return float(np.random.default_rng(seed_seq).random(n).sum())


def probe_part(case, samples, workers, repeats, record):
    """The same 100-chunk run with the determinism probe (the default) and without:
    wall time, and CPU time of this process and its workers (which a shared machine's
    load moves far less)."""
    chunk = max(samples // 100, 1)
    cpu = {False: [], True: []}

    def run(probe):
        before = os.times()
        s = carlo.run_model(getattr(py_models, case), [case], samples=samples, seed=SEED,
                            chunk_size=chunk, backend="processes", workers=workers,
                            probe=probe)
        after = os.times()
        cpu[probe].append(sum(after[:4]) - sum(before[:4]))
        return repr(s[0].estimate), repr(s[0].std_error)

    tools = {"carlo.run_model, probe=False": lambda: run(False),
             "carlo.run_model, probe=True": lambda: run(True)}
    times, results = interleaved(tools, repeats)
    assert results["carlo.run_model, probe=False"] == results["carlo.run_model, probe=True"]
    base = None
    for name in tools:
        seconds = record(f"{case} (100 chunks)", name, workers, samples, times[name],
                         results[name], base)
        base = base or seconds
    off, on = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(f"| {case} (100 chunks) | CPU seconds, probe off / on | {workers} | "
          f"{off:.2f} s / {on:.2f} s | | +{100 * (on / off - 1):.1f}% |", flush=True)


def scalar_pi_stdlib(n):
    """A per-sample loop on the standard library's generator, hoisted, keeping each
    sample."""
    import random
    draw = random.Random(SEED).random
    samples = [0.0] * n
    for i in range(n):
        x, y = draw(), draw()
        samples[i] = 4.0 if x * x + y * y < 1.0 else 0.0
    return np.array(samples)


def scalar_pi_carlo(rng, n):
    """The same loop on carlo's rng, hoisted (docs/python.md, fast scalar models)."""
    draw = rng.random
    samples = [0.0] * n
    for i in range(n):
        x, y = draw(), draw()
        samples[i] = 4.0 if x * x + y * y < 1.0 else 0.0
    return np.array(samples)


def scalar_part(repeats, record):
    samples = 1_000_000

    def stdlib():
        return repr(scalar_pi_stdlib(samples).mean()), ""

    def ours():
        s = carlo.run_model(scalar_pi_carlo, "pi", samples=samples, chunk_size=samples,
                            seed=SEED, backend="sequential", probe=False)
        return repr(s[0].estimate), ""

    tools = {"loop on random.random()": stdlib, "loop on carlo rng.random()": ours}
    times, results = interleaved(tools, repeats)
    base = None
    for name in tools:
        seconds = record("scalar pi (1 process)", name, 1, samples, times[name],
                         results[name], base)
        base = base or seconds


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--carlo", type=Path, default=REPO / "target/release/carlo")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cases", default="pi,european")
    p.add_argument("--parts", default="models,builtin,warm,probe,scalar",
                   help="models: run_model against the Pool; builtin: carlo.run against the "
                        "CLI; warm: carlo.Pool calls; probe: the probe's cost; scalar: "
                        "per-sample loops")
    p.add_argument("--workers", default="1,2")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every sample count")
    p.add_argument("--out", type=Path, default=REPO / "results/studies/python-api.csv")
    args = p.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    rows = []
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
          f"numpy {np.__version__}, carlo {carlo.__version__}; medians of {args.repeats}")

    def record(case, tool, w, samples, times, result, baseline):
        seconds = statistics.median(times)
        rows.append({
            "case": case, "tool": tool, "workers": w, "samples": samples,
            "median_seconds": f"{seconds:.4f}", "min_seconds": f"{min(times):.4f}",
            "max_seconds": f"{max(times):.4f}",
            "samples_per_second": f"{samples / seconds:.0f}",
            "ratio_to_baseline": f"{baseline / seconds:.3f}" if baseline else "",
            "estimate": result[0], "std_error": result[1],
        })
        ratio = f"{baseline / seconds:.2f}" if baseline else "1 (baseline)"
        print(f"| {case} | {tool} | {w} | {samples / seconds / 1e6:.1f} M/s | {seconds:.3f} s "
              f"| {ratio} |", flush=True)
        return seconds

    print("\n| case | tool | workers | throughput | median | ratio to baseline |\n"
          "|---|---|---|---|---|---|")
    cases = args.cases.split(",")
    parts = args.parts.split(",")
    for case in cases if "models" in parts else ():
        samples = int(SAMPLES[case] * args.scale)
        for w in workers:
            tools = {"multiprocessing.Pool": lambda: pool_run(case, samples, w),
                     "multiprocessing.Pool, malloc tuned": lambda: pool_run(case, samples, w, True)}
            for backend in ("processes", "threads") + (("sequential",) if w == 1 else ()):
                tools[f"carlo.run_model {backend}"] = (
                    lambda b=backend: carlo_model(case, samples, b, w))
            times, results = interleaved(tools, args.repeats)
            base = None
            for name in tools:
                seconds = record(case, name, w, samples, times[name], results[name], base)
                base = base or seconds

    for w in workers if "warm" in parts else ():
        warm_part(w, args.repeats, record)
    for case in cases if "probe" in parts else ():
        for w in workers:
            probe_part(case, int(SAMPLES[case] * args.scale), w, args.repeats, record)
    if "scalar" in parts:
        scalar_part(args.repeats, record)

    if "builtin" not in parts:
        pass
    elif args.carlo.exists():
        with tempfile.TemporaryDirectory() as folder:
            for case in cases:
                config = builtin_config(folder, case)
                samples = int(BUILTIN_SAMPLES[case] * args.scale)
                for w in workers:
                    tools = {"carlo run (CLI)": lambda: cli_run(args.carlo, config, samples, w),
                             "carlo.run": lambda: api_run(config, samples, w)}
                    times, results = interleaved(tools, args.repeats)
                    cli, api = results["carlo run (CLI)"], results["carlo.run"]
                    assert [float(x) for x in cli] == [float(x) for x in api], (cli, api)
                    base = record(f"{case} (built-in)", "carlo run (CLI)", w, samples,
                                  times["carlo run (CLI)"], cli, None)
                    record(f"{case} (built-in)", "carlo.run", w, samples, times["carlo.run"],
                           api, base)
    else:
        print(f"\n{args.carlo} not found: skipped carlo.run against the CLI "
              "(cargo build --release)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
