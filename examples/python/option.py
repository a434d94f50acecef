"""A European call priced with carlo: a numpy function, carlo's streams, error bars,
and the Black-Scholes price as the reference.

`args` are keyword arguments of the function, and part of the job: a run with another
strike has another fingerprint, so its checkpoint is never mixed with this one.

    python examples/python/option.py [SAMPLES]
"""
import math
import sys

import numpy as np

import carlo

MARKET = dict(spot=100.0, strike=100.0, rate=0.05, volatility=0.2, maturity=1.0)


def european_call(rng, n, spot, strike, rate, volatility, maturity):
    """Discounted payoffs of n paths, each half of an antithetic pair averaged."""
    z = rng.standard_normal(n)
    drift = (rate - 0.5 * volatility**2) * maturity
    diffusion = volatility * math.sqrt(maturity)
    up = spot * np.exp(drift + diffusion * z)
    down = spot * np.exp(drift - diffusion * z)
    payoff = 0.5 * (np.maximum(up - strike, 0.0) + np.maximum(down - strike, 0.0))
    return math.exp(-rate * maturity) * payoff


def black_scholes(spot, strike, rate, volatility, maturity):
    phi = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))  # noqa: E731
    d1 = (math.log(spot / strike) + (rate + 0.5 * volatility**2) * maturity) / (
        volatility * math.sqrt(maturity))
    d2 = d1 - volatility * math.sqrt(maturity)
    return spot * phi(d1) - strike * math.exp(-rate * maturity) * phi(d2)


if __name__ == "__main__":
    samples = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000
    summary = carlo.run_model(
        european_call, "price", samples=samples, seed=7, args=MARKET,
        references={"price": black_scholes(**MARKET)},
    )
    print(summary)
    row = summary["price"]
    print(f"price {row.estimate:.4f} ± {row.std_error:.4f}, Black-Scholes {row.reference:.4f}")
