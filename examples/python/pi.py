"""Pi with carlo: the tutorials' Pool-based pi (pi_multiprocessing.py), shorter and
reproducible.

carlo calls `pi` once per block of 4096 samples, block b drawing from its own stream
alone, and merges the blocks exactly, so the estimate, its standard error and its
confidence interval have the same bits with 1 or 16 worker processes, with threads, run
in sequence, or at any chunk size. A dead worker is replaced and its chunks rerun;
Ctrl-C stops cleanly. (carlo's built-in pi spreads each block over eight lane streams,
so it agrees with this one within their errors, not in their bits.)

    python examples/python/pi.py [SAMPLES]
"""
import sys

import numpy as np

import carlo


def pi(rng, n):
    """n samples: 4 where a uniform point of the unit square lies in the quarter disc."""
    u = rng.random((n, 2))  # rows of two consecutive draws: x, y
    x, y = u[:, 0], u[:, 1]
    return np.where(x * x + y * y < 1.0, 4.0, 0.0)


if __name__ == "__main__":
    samples = int(float(sys.argv[1])) if len(sys.argv) > 1 else 100_000_000
    summary = carlo.run_model(pi, "pi", samples=samples, seed=42, references={"pi": np.pi})
    print(summary)
