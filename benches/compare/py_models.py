"""The numpy-vectorised models of python_api.py, written once for both sides.

Each is ``f(rng, n)`` returning the ``n`` samples of a chunk as a float64 array, and
uses only generator methods that numpy's ``Generator`` and ``carlo.Rng`` share
(``random``, ``standard_normal``), so the very same function runs under
``multiprocessing.Pool`` (with ``default_rng(SeedSequence.spawn(...)[i])``) and under
``carlo.run_model`` (with chunk ``i``'s carlo stream).
"""
import math

import numpy as np

SPOT, STRIKE, RATE, VOL, T = 100.0, 100.0, 0.05, 0.2, 1.0
DRIFT = (RATE - 0.5 * VOL * VOL) * T
DIFFUSION = VOL * math.sqrt(T)
DISCOUNT = math.exp(-RATE * T)


def pi(rng, n):
    """4 if a uniform point of the unit square falls in the quarter disc, else 0."""
    u = rng.random((n, 2))
    x, y = u[:, 0], u[:, 1]
    return np.where(x * x + y * y < 1.0, 4.0, 0.0)


def european(rng, n):
    """The discounted payoff of a European call, one step of geometric Brownian
    motion per path (plain Monte Carlo)."""
    s_t = SPOT * np.exp(DRIFT + DIFFUSION * rng.standard_normal(n))
    return DISCOUNT * np.maximum(s_t - STRIKE, 0.0)
