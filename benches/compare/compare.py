#!/usr/bin/env python3
"""Time carlo against numpy + multiprocessing and QuantLib on the same work.

Writes a CSV of medians over repeats and prints a markdown table; see README.md.
"""
import argparse
import csv
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy_mp
import quantlib_mc

REPO = Path(__file__).resolve().parents[2]
SAMPLES = {"pi": 100_000_000, "european": 1_000_000, "european-long": 50_000_000,
           "asian": 200_000, "barrier": 40_000, "american": 100_000,
           "heston": 100_000, "basket": 4_000_000}
CARLO_CHUNK = {"pi": 65536, "european": 65536, "european-long": 65536, "asian": 16384,
               "barrier": 4096, "american": 8192, "heston": 4096, "basket": 65536}
# The yardstick's loop for a case (`yardstick one LOOP N`): its hand-written scalar
# pi loop and inlined one-step European pricer, the per-core limit of a plain loop.
# `european-long` is the European call at a size where process start-up is noise,
# against the yardstick only.
YARDSTICK = {"pi": "pi", "european-long": "euro_inline"}
MODEL = {
    "pi": 'type = "pi"\n',
    "european": 'type = "european"\n',
    "european-long": 'type = "european"\n',
    "asian": 'type = "asian"\nfixings = 12\naverage = "arithmetic"\n',
    "barrier": 'type = "barrier"\nbarrier = 120.0\nkind = "up-and-out"\n'
               'rebate = 0.0\nsteps = 252\n',
    "american": 'type = "american"\nsteps = 50\nbasis_degree = 3\n'
                'calibration_paths = 32768\n',
    # The QuantLib cases' own markets (quantlib_mc.HESTON, BASKET_VOLS): whole models.
    "heston": 'type = "heston"\noption = "call"\nspot = 100.0\nstrike = 100.0\n'
              'rate = 0.05\ndividend = 0.0\nmaturity = 1.0\nv0 = 0.04\nkappa = 1.5\n'
              'theta = 0.04\nxi = 0.5\nrho = -0.7\nsteps = 100\n',
    "basket": 'type = "basket"\noption = "call"\nspots = [100.0, 100.0, 100.0, 100.0, 100.0]\n'
              'weights = [0.2, 0.2, 0.2, 0.2, 0.2]\nvolatilities = [0.2, 0.25, 0.3, 0.35, 0.4]\n'
              'correlation = 0.5\nstrike = 100.0\nrate = 0.05\nmaturity = 1.0\n'
              'average = "arithmetic"\n',
}
MARKET = """option = "call"
spot = 100.0
strike = 100.0
rate = 0.05
dividend = 0.0
volatility = 0.2
maturity = 1.0
antithetic = false
control_variate = false
"""
# (case, tool, minimum speedup_of_carlo on one worker)
GOALS = [("pi", "numpy", 3.5), ("pi", "yardstick", 1.0), ("european-long", "yardstick", 2.5),
         ("european", "QuantLib", 50), ("asian", "QuantLib", 60), ("barrier", "QuantLib", 80),
         ("american", "QuantLib", 50), ("heston", "QuantLib", 50), ("basket", "QuantLib", 50)]
COLUMNS = ["case", "tool", "workers", "samples", "repeats", "median_seconds", "min_seconds",
           "max_seconds", "estimate", "std_error", "speedup_of_carlo"]


def carlo_config(case, samples, chunk):
    market = "" if case in ("pi", "heston", "basket") else MARKET
    if case == "american":
        market = market.replace('option = "call"', 'option = "put"')
    return (f'[simulation]\nname = "cmp-{case}"\nsamples = {samples}\nseed = 42\n'
            f'chunk_size = {chunk}\n\n[model]\n{MODEL[case]}{market}')


def run_carlo(binary, config, samples, workers):
    cmd = [str(binary), "run", str(config), "--samples", str(samples),
           "--workers", str(workers), "--backend", "threads", "--seed", "42",
           "--quiet", "--format", "csv", "--out", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    row = next(r for r in csv.DictReader(io.StringIO(out)) if r["quantity"] in ("price", "pi"))
    return float(row["estimate"]), float(row["std_error"])


def run_yardstick(binary, loop, samples):
    """The yardstick's loop as a whole process. `one LOOP N` runs a warm-up of N / 10
    first, so it is asked for N / 1.1 to do the same work as carlo in all."""
    n = round(samples / 1.1)
    out = subprocess.run([str(binary), "one", loop, str(n)], capture_output=True,
                         text=True, check=True).stdout
    value = float(out.split("value=")[1].split()[0])
    return value, float("nan")


def measure(fn, repeats):
    """Wall-clock seconds of each call, and the last call's (estimate, std_error)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--carlo", type=Path, default=REPO / "target/release/carlo")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--out", type=Path, default=REPO / "results/studies/compare.csv")
    p.add_argument("--quick", action="store_true", help="sizes divided by 10 (smoke test)")
    p.add_argument("--skip-carlo", action="store_true")
    p.add_argument("--yardstick", type=Path, default=None,
                   help="the yardstick binary (../shared/yardstick, built with cargo "
                        "build --release): adds its pi and one-step European loops")
    p.add_argument("--cases", default=",".join(SAMPLES), help="comma-separated cases")
    return p.parse_args()


def main():
    args = parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    cases = args.cases.split(",")
    sizes = {c: n // 10 if args.quick else n for c, n in SAMPLES.items() if c in cases}
    use_carlo = not args.skip_carlo
    if use_carlo and not args.carlo.is_file():
        print(f"carlo binary not found at {args.carlo}: build it with `cargo build --release` "
              "or pass --carlo PATH; reporting numpy and QuantLib only.", file=sys.stderr)
        use_carlo = False

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, n in sizes.items():
            config = Path(tmp) / f"{case}.toml"
            config.write_text(carlo_config(case, n, min(CARLO_CHUNK[case], n // 8)))
            for w in workers:
                tools = []
                if case in numpy_mp.CASES:
                    tools.append(("numpy", lambda: numpy_mp.run(case, n, w)))
                if args.yardstick and case in YARDSTICK and w == 1:
                    tools.append(("yardstick",
                                  lambda: run_yardstick(args.yardstick, YARDSTICK[case], n)))
                if use_carlo:
                    tools.insert(0, ("carlo", lambda: run_carlo(args.carlo, config, n, w)))
                if case in quantlib_mc.CASES and w == 1:
                    tools.append(("QuantLib", lambda: quantlib_mc.run(case, n)))
                base = None
                for tool, fn in tools:
                    print(f"{case} {tool} workers={w} samples={n} ...", file=sys.stderr)
                    try:
                        times, (estimate, std_error) = measure(fn, args.repeats)
                    except subprocess.CalledProcessError as e:
                        print(f"  carlo failed ({e.returncode}): {e.stderr.strip()}",
                              file=sys.stderr)
                        continue
                    median = statistics.median(times)
                    base = median if tool == "carlo" else base
                    rows.append(dict(case=case, tool=tool, workers=w, samples=n,
                                     repeats=args.repeats, median_seconds=median,
                                     min_seconds=min(times), max_seconds=max(times),
                                     estimate=estimate, std_error=std_error,
                                     speedup_of_carlo=median / base if base else ""))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    report(rows)
    print(f"\nCSV written to {args.out}", file=sys.stderr)


def report(rows):
    print("| case | tool | workers | samples | median s (min-max) | estimate ± std error "
          "| speedup_of_carlo |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        speedup = f"{r['speedup_of_carlo']:.2f}x" if r["speedup_of_carlo"] != "" else "-"
        print(f"| {r['case']} | {r['tool']} | {r['workers']} | {r['samples']:,} "
              f"| {r['median_seconds']:.3f} ({r['min_seconds']:.3f}-{r['max_seconds']:.3f}) "
              f"| {r['estimate']:.5f} ± {r['std_error']:.5f} | {speedup} |")
    print("\nQuantLib prices on one thread, so it is measured for 1 worker only; "
          "pi is not a QuantLib case.")
    speedups = {(r["case"], r["tool"]): r["speedup_of_carlo"] for r in rows if r["workers"] == 1}
    if any(s != "" for s in speedups.values()):
        print("\nGoals on one worker:")
        for case, tool, goal in GOALS:
            s = speedups.get((case, tool), "")
            verdict = "not measured" if s == "" else f"{s:.2f}x, {'met' if s >= goal else 'MISSED'}"
            print(f"- {case}: carlo vs {tool} >= {goal}x: {verdict}")


if __name__ == "__main__":
    main()
