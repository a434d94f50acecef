"""carlo.Rng under numpy's names: each method a deterministic sequence of the block's
stream (the same bits on every backend), with numpy's signatures and the moments of
its distribution."""
import numpy as np
import pytest

import carlo
from conftest import bits

SIZE = dict(samples=200_000, chunk_size=20_000, seed=12)

# (call, mean, variance, kurtosis bound for the variance's standard error)
DISTRIBUTIONS = {
    "random": (lambda r, n: r.random(n), 0.5, 1 / 12, 2),
    "uniform": (lambda r, n: r.uniform(-1.0, 3.0, n), 1.0, 16 / 12, 2),
    "normal": (lambda r, n: r.normal(2.0, 3.0, n), 2.0, 9.0, 3),
    "normal size=": (lambda r, n: r.normal(size=n), 0.0, 1.0, 3),
    "standard_normal": (lambda r, n: r.standard_normal(n), 0.0, 1.0, 3),
    "lognormal": (lambda r, n: r.lognormal(0.0, 0.25, n), np.exp(0.25**2 / 2),
                  (np.exp(0.25**2) - 1) * np.exp(0.25**2), 6),
    "exponential": (lambda r, n: r.exponential(2.0, n), 2.0, 4.0, 9),
    "standard_exponential": (lambda r, n: r.standard_exponential(n), 1.0, 1.0, 9),
    "gamma": (lambda r, n: r.gamma(2.5, 2.0, n), 5.0, 10.0, 6),
    "gamma small shape": (lambda r, n: r.gamma(0.4, size=n), 0.4, 0.4, 20),
    "standard_gamma": (lambda r, n: r.standard_gamma(3.0, n), 3.0, 3.0, 5),
    "chisquare": (lambda r, n: r.chisquare(4, n), 4.0, 8.0, 6),
    "beta": (lambda r, n: r.beta(2.0, 3.0, n), 0.4, 0.04, 3),
    "poisson small": (lambda r, n: r.poisson(3.5, n), 3.5, 3.5, 4),
    "poisson large": (lambda r, n: r.poisson(120.0, n), 120.0, 120.0, 4),
    "binomial small": (lambda r, n: r.binomial(20, 0.3, n), 6.0, 4.2, 4),
    "binomial large": (lambda r, n: r.binomial(1000, 0.6, n), 600.0, 240.0, 4),
    "geometric": (lambda r, n: r.geometric(0.25, n), 4.0, 12.0, 12),
    "integers": (lambda r, n: r.integers(10, size=n), 4.5, 8.25, 2),
    "integers endpoint": (lambda r, n: r.integers(1, 6, n, endpoint=True), 3.5, 35 / 12, 2),
    "choice": (lambda r, n: r.choice([1.0, 2.0, 4.0], size=n, p=[0.5, 0.25, 0.25]), 2.0,
               1.5, 3),
}


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_each_distribution_has_its_moments_and_the_same_bits_everywhere(name):
    draw, mean, variance, kurtosis = DISTRIBUTIONS[name]

    def model(rng, n):
        x = np.asarray(draw(rng, n), dtype=float)
        return np.column_stack([x, (x - mean) ** 2])

    runs = [carlo.run_model(model, ["mean", "variance"], backend=b, workers=w, **SIZE)
            for b, w in (("threads", 2), ("processes", 2))]
    assert bits(runs[0]) == bits(runs[1])
    m, v = runs[0]
    # Fixed seed: deterministic. 5 standard errors (the variance's bounded by its
    # kurtosis) fail by chance about once in 1.7 million.
    assert abs(m.estimate - mean) < 5 * m.std_error, (m.estimate, mean)
    se_v = np.sqrt(kurtosis * variance**2 / SIZE["samples"])
    assert abs(v.estimate - variance) < 5 * se_v, (v.estimate, variance)


def test_numpy_signatures_run_on_a_numpy_generator_too():
    def model(rng, n):
        return (rng.normal(1.0, 2.0, size=n) + rng.uniform(0, 1, n) + rng.poisson(2.0, n)
                + rng.binomial(5, 0.5, n) + rng.gamma(2.0, 1.0, n) + rng.exponential(1.0, n)
                + rng.integers(0, 3, n) + rng.standard_normal(n) + rng.beta(1, 1, n))

    assert model(np.random.default_rng(1), 10).shape == (10,)
    s = carlo.run_model(model, "x", backend="threads", **SIZE)
    assert abs(s[0].estimate - 10.5) < 5 * s[0].std_error


def test_scalars_arrays_and_dtypes():
    seen = {}

    def model(rng, n):
        seen["float"] = type(rng.random())
        seen["int"] = type(rng.poisson(3.0))
        seen["dtype"] = rng.binomial(3, 0.5, (2, 3)).dtype
        seen["shape"] = rng.normal(size=(4, 2)).shape
        seen["choice"] = rng.choice(["a", "b"], size=3).tolist()
        seen["perm"] = sorted(rng.permutation(5).tolist())
        seen["perm array"] = sorted(rng.permutation(np.arange(3) * 2).tolist())
        x = list(range(6))
        rng.shuffle(x)
        seen["shuffle"] = sorted(x)
        a = np.arange(4.0)
        rng.shuffle(a)
        seen["shuffle array"] = sorted(a.tolist())
        seen["no replace"] = sorted(rng.choice(10, size=10, replace=False).tolist())
        seen["generator"] = rng.numpy().random() < 1.0
        return rng.random(n)

    carlo.run_model(model, "x", backend="sequential", samples=100, seed=1)
    assert seen["float"] is float and seen["int"] is int
    assert seen["dtype"] == np.int64 and seen["shape"] == (4, 2)
    assert set(seen["choice"]) <= {"a", "b"} and len(seen["choice"]) == 3
    assert seen["perm"] == [0, 1, 2, 3, 4] and seen["perm array"] == [0, 2, 4]
    assert seen["shuffle"] == list(range(6)) and seen["shuffle array"] == [0, 1, 2, 3]
    assert seen["no replace"] == list(range(10)) and seen["generator"]


@pytest.mark.parametrize("call, error, needle", [
    (lambda r: r.normal(0, -1), ValueError, "scale must be >= 0"),
    (lambda r: r.normal(np.zeros(3)), TypeError, "loc must be a number"),
    (lambda r: r.poisson(-1), ValueError, "lam must be >= 0"),
    (lambda r: r.binomial(-1, 0.5), ValueError, "n must be >= 0"),
    (lambda r: r.binomial(3, 1.5), ValueError, "p must be in [0, 1]"),
    (lambda r: r.beta(0, 1), ValueError, "a and b must be > 0"),
    (lambda r: r.integers(3, 3), ValueError, "needs low < high"),
    (lambda r: r.choice(3, size=4, replace=False), ValueError, "cannot take 4 samples"),
    (lambda r: r.choice(3, p=[0.5, 0.5]), ValueError, "p has 2 probabilities for 3"),
    (lambda r: r.choice(2, p=[0.5, 0.6]), ValueError, "must sum to 1"),
    (lambda r: r.random(-2), ValueError, "size must not be negative"),
    (lambda r: r.random("3"), TypeError, "size must be an int or a tuple of ints"),
    (lambda r: r.random(2**70), MemoryError, "too large"),
])
def test_bad_arguments_are_python_errors(call, error, needle):
    caught = []

    def model(rng, n):
        try:
            call(rng)
        except Exception as e:
            caught.append(e)
        return rng.random(n)

    carlo.run_model(model, "x", backend="sequential", samples=10, seed=1, probe=False)
    assert caught and isinstance(caught[0], error), caught
    assert needle in str(caught[0]), str(caught[0])
