"""Models the tests run. Workers import them by name, as they would a user's."""
import os
import time

import numpy as np

PI = np.pi


def pi(rng, n):
    """carlo's built-in pi, in numpy: pairs of uniforms, 4 inside the quarter disc."""
    u = rng.random((n, 2))
    x, y = u[:, 0], u[:, 1]
    return np.where(x * x + y * y < 1.0, 4.0, 0.0)


def option(rng, n, spot=100.0, strike=100.0, rate=0.05, volatility=0.2, maturity=1.0):
    """A European call and put from the same paths, and the terminal spot: float
    columns, and a control variate's worth of correlation."""
    z = rng.standard_normal(n)
    s = spot * np.exp((rate - 0.5 * volatility**2) * maturity + volatility * np.sqrt(maturity) * z)
    discount = np.exp(-rate * maturity)
    return np.column_stack([discount * np.maximum(s - strike, 0.0),
                            discount * np.maximum(strike - s, 0.0), s])


def option_fortran(rng, n, **market):
    """`option`'s samples in a column-major array: the layout must not matter."""
    return np.asfortranarray(option(rng, n, **market))


def option_strided(rng, n, **market):
    """`option`'s samples as a strided view of a wider array."""
    wide = np.repeat(option(rng, n, **market), 2, axis=1)
    return wide[:, ::2]


def mixed(rng, n):
    """Every draw method, integer and float columns together."""
    k = rng.integers(0, 10, n).astype(np.float64)
    e = rng.exponential(size=n)
    b = (rng.bits(n) >> np.uint64(63)).astype(np.float64)
    return np.column_stack([k, e, b, rng.standard_normal(n)])


def slow(rng, n, seconds=0.2):
    time.sleep(seconds)
    return rng.random(n)


def raises(rng, n):
    """Raises in the one short block of a run (the last, when samples is not a
    multiple of the block size, 4096)."""
    x = rng.random(n)
    if n < 4096:
        return helper_that_divides(x)
    return x


def helper_that_divides(x):
    return x / 0 if isinstance(x, float) else 1 / 0


def raise_on_first_call(rng, n):
    raise KeyError("no such thing")


def exit_once(rng, n, marker):
    """Ends its worker process (as a crash would) the first time any chunk runs."""
    x = rng.random(n)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return x
    os.close(fd)
    os._exit(3)


def segfault_once(rng, n, marker):
    x = rng.random(n)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return x
    os.close(fd)
    import ctypes
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def wrong_shape(rng, n):
    return rng.random((n, 3))


def wrong_rows(rng, n):
    return rng.random(n + 1)


def wrong_dtype(rng, n):
    return rng.random(n).astype(str)


def not_an_array(rng, n):
    return [0.5] * n


def nan(rng, n):
    x = rng.random(n)
    x[n // 2] = np.nan
    return x


def prints(rng, n):
    print("a model that prints must not break the protocol")
    os.write(1, b"nor one that writes to descriptor 1\n")
    return rng.random(n)


not_callable = 3
