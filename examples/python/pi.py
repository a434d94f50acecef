"""Pi with carlo: the tutorials' Pool-based pi (pi_multiprocessing.py), shorter and
reproducible.

Chunk i draws from carlo's stream i alone and the chunks are merged in order, so the
estimate, its standard error and its confidence interval have the same bits with 1 or
16 worker processes, with threads, or run in sequence. A dead worker is replaced and its
chunks rerun; Ctrl-C stops cleanly. The draws are those of carlo's built-in pi, so this
gives the bits of `carlo run configs/pi.toml` with the same samples and seed.

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
