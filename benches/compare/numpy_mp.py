"""The classic multiprocessing-tutorial approach: numpy-vectorised chunks,
one independent stream per chunk from SeedSequence.spawn, mapped over a
multiprocessing.Pool. Plain Monte Carlo (no antithetics, no control variates).
"""
import math
from multiprocessing import Pool

import numpy as np

SPOT, STRIKE, RATE, DIV, VOL, T = 100.0, 100.0, 0.05, 0.0, 0.2, 1.0
FIXINGS, BARRIER, STEPS = 12, 120.0, 252
DISCOUNT = math.exp(-RATE * T)

# Samples (points or paths) per chunk: about 1e6 random numbers each.
CHUNK = {"pi": 1_000_000, "european": 50_000, "asian": 10_000, "barrier": 2_000}


def _log_paths(rng, n, steps):
    """log(S_t / S_0) at t = i T / steps, i = 1..steps: shape (n, steps)."""
    dt = T / steps
    z = rng.standard_normal((n, steps))
    return np.cumsum((RATE - DIV - 0.5 * VOL**2) * dt + VOL * math.sqrt(dt) * z, axis=1)


def _moments(payoff):
    return payoff.sum(), np.dot(payoff, payoff)


# Each case returns the sum and the sum of squares of its n samples.
def pi(rng, n):
    x, y = rng.random(n), rng.random(n)
    inside = np.count_nonzero(x * x + y * y <= 1.0)  # samples are 4 or 0
    return 4.0 * inside, 16.0 * inside


def european(rng, n):
    s_t = SPOT * np.exp(_log_paths(rng, n, 1)[:, 0])
    return _moments(DISCOUNT * np.maximum(s_t - STRIKE, 0.0))


def asian(rng, n):
    average = SPOT * np.exp(_log_paths(rng, n, FIXINGS)).mean(axis=1)
    return _moments(DISCOUNT * np.maximum(average - STRIKE, 0.0))


def barrier(rng, n):
    log_s = _log_paths(rng, n, STEPS)
    alive = log_s.max(axis=1) < math.log(BARRIER / SPOT)  # up-and-out, discrete
    payoff = np.maximum(SPOT * np.exp(log_s[:, -1]) - STRIKE, 0.0) * alive
    return _moments(DISCOUNT * payoff)


CASES = {"pi": pi, "european": european, "asian": asian, "barrier": barrier}


def _chunk(task):
    case, seed_seq, n = task
    return (n, *CASES[case](np.random.default_rng(seed_seq), n))


def run(case, samples, workers, seed=42):
    """Estimate and standard error of `case` from `samples` draws on a Pool."""
    size = CHUNK[case]
    counts = [size] * (samples // size) + ([samples % size] if samples % size else [])
    seeds = np.random.SeedSequence(seed).spawn(len(counts))
    with Pool(workers) as pool:
        parts = pool.map(_chunk, [(case, s, n) for s, n in zip(seeds, counts)], chunksize=1)
    n, s, ss = (sum(p[i] for p in parts) for i in range(3))
    mean = s / n
    var = (ss - n * mean * mean) / (n - 1)
    return float(mean), math.sqrt(var / n)
