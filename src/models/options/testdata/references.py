"""Independent values for carlo's numerical references (references.csv beside this file).

carlo computes its discretely monitored barrier prices and Greeks and its Bermudan
prices by recursive quadrature on Gauss-Legendre panels with a shift-invariant
(block-Toeplitz) kernel and closed-form last steps, and its American prices by
Crank-Nicolson finite differences (src/models/options/*_reference.rs). The values
here come from other methods and other code:

- barrier, price: a *dense* quadrature (numpy, libm): Gauss-Legendre panels on the
  alive side with the strike as a panel end, the kernel evaluated at every pair of
  nodes, every step including the last by quadrature (no closed form). It is run at
  two resolutions; their difference is the `uncertainty` column (below 1e-13). For
  one and two dates, mpmath at 30 digits prices the in and out options directly (no
  parity; source `mpmath`).
- barrier, Greeks: five-point central differences of the dense quadrature (spot,
  volatility, rate; theta by moving the first monitoring interval, the dates fixed).
  The `uncertainty` is the stencil's error estimated from the same stencil with a
  doubled step (a fourth-order error: their difference over 15).
- bermudan: a dense quadrature whose panels are laid afresh at every date with the
  exercise boundary (found by Brent's method) as a panel end; two resolutions. For
  dates on whole days, QuantLib 1.44's FdBlackScholesVanillaEngine with a
  BermudanExercise (4000 x 4000 steps) is printed as a comment line beside it (it
  agrees to about 1e-6).
- american: QuantLib 1.44's QdFpAmericanEngine (Andersen, Lake and Offengelden's
  fixed-point method, high-precision scheme; about 1e-9), which carlo's finite
  differences never share a line with. (For a rate of -1% it agrees with QuantLib's
  FdBlackScholesVanillaEngine extrapolated from 4000 and 8000 steps to 5e-6, that
  extrapolation's own error.)

Run (about 70 minutes on a busy two-core machine, most of it the dense Bermudans of
252 dates):

    python3 -m venv /tmp/venv-ql
    /tmp/venv-ql/bin/pip install QuantLib==1.44 mpmath numpy scipy
    /tmp/venv-ql/bin/python src/models/options/testdata/references.py \\
        > src/models/options/testdata/references.csv
"""

import math
import random
import sys

import mpmath as mp
import numpy as np
import QuantLib as ql
from numpy.polynomial.legendre import leggauss
from scipy.optimize import brentq
from scipy.special import ndtr

SPOT = 100.0


# --------------------------------------------------------------------------- barrier


def gl_panels(ends, width, nodes):
    """Gauss-Legendre nodes and weights on panels of at most `width` between `ends`."""
    gx, gw = leggauss(nodes)
    ys, ws = [], []
    for e0, e1 in zip(ends[:-1], ends[1:]):
        count = max(1, int(math.ceil((e1 - e0) / width)))
        edges = np.linspace(e0, e1, count + 1)
        for a, b in zip(edges[:-1], edges[1:]):
            ys.append(0.5 * (a + b) + 0.5 * (b - a) * gx)
            ws.append(0.5 * (b - a) * gw)
    return np.concatenate(ys), np.concatenate(ws)


def density(delta, mean, sd):
    return np.exp(-0.5 * ((delta - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def barrier_out(c, first=None, spot=SPOT, panel=1.5, nodes=16, cone=10.0):
    """The knock-out option by dense quadrature; `first`: the length of the first
    monitoring interval (the others T / n), for theta."""
    S0, K, r, q, sig, T, n = spot, c["strike"], c["rate"], c["dividend"], c["vol"], c["T"], c["steps"]
    H, up, call, R = c["barrier"], c["kind"].startswith("up"), c["option"] == "call", c["rebate"]
    dt = T / n
    tau = dt if first is None else first
    mu = r - q - 0.5 * sig * sig
    s = sig * math.sqrt(dt)
    b, k = math.log(H / S0), math.log(K / S0)
    total = tau + (n - 1) * dt
    lo = min(0, mu * total) - cone * sig * math.sqrt(total)
    hi = max(0, (mu + sig * sig) * total) + cone * sig * math.sqrt(total)
    a0, a1 = (lo, min(b, hi)) if up else (max(b, lo), hi)
    phi = 1.0 if call else -1.0

    def dead(x, mean, sd):
        return ndtr((x + mean - b) / sd) if up else ndtr((b - x - mean) / sd)

    if a0 >= a1:
        value = 0.0
        y = w = V = np.zeros(0)
    else:
        ends = sorted([a0, a1] + ([k] if a0 < k < a1 else []))
        y, w = gl_panels(ends, panel * s if n > 1 else panel * sig * math.sqrt(tau), nodes)
        V = np.maximum(phi * (S0 * np.exp(y) - K), 0.0)
    if n > 1 and len(y):
        M = density(y[None, :] - y[:, None], mu * dt, s) * w[None, :]
        for i in range(n - 1, 0, -1):
            # date i from date i + 1; the rebate is paid at T
            paid = R * math.exp(-r * (n - i - 1) * dt)
            V = math.exp(-r * dt) * (M @ V + paid * dead(y, mu * dt, s))
    paid = R * math.exp(-r * (n - 1) * dt)
    sd1 = sig * math.sqrt(tau)
    p = density(y - 0.0, mu * tau, sd1) * w
    return math.exp(-r * tau) * (float(p @ V) + paid * float(dead(0.0, mu * tau, sd1)))


def black_scholes(S, K, r, q, sig, T, call):
    sd = sig * math.sqrt(T)
    d1 = (math.log(S / K) + (r - q + 0.5 * sig * sig) * T) / sd
    d2 = d1 - sd
    if call:
        return S * math.exp(-q * T) * ndtr(d1) - K * math.exp(-r * T) * ndtr(d2)
    return K * math.exp(-r * T) * ndtr(-d2) - S * math.exp(-q * T) * ndtr(-d1)


def barrier_price(c, **kw):
    out = barrier_out(c, **kw)
    if c["kind"].endswith("out"):
        return out
    spot = kw.get("spot", SPOT)
    vanilla = black_scholes(spot, c["strike"], c["rate"], c["dividend"], c["vol"], c["T"], c["option"] == "call")
    return vanilla + c["rebate"] * math.exp(-c["rate"] * c["T"]) - out


def barrier_mpmath(c):
    """One or two dates, in and out priced directly at 30 digits."""
    mp.mp.dps = 30
    S0, K, r, q, sig, T, n = [mp.mpf(x) for x in (SPOT, c["strike"], c["rate"], c["dividend"], c["vol"], c["T"], c["steps"])]
    H, R = mp.mpf(c["barrier"]), mp.mpf(c["rebate"])
    up, call, is_in = c["kind"].startswith("up"), c["option"] == "call", c["kind"].endswith("in")
    dt = T / n
    mu = r - q - sig**2 / 2
    s = sig * mp.sqrt(dt)
    b, k = mp.log(H / S0), mp.log(K / S0)
    phi = 1 if call else -1
    pay = lambda y: max(phi * (S0 * mp.e**y - K), 0)
    p = lambda y, x: mp.npdf(y, x + mu * dt, s)
    alive = (-mp.inf, b) if up else (b, mp.inf)
    deadr = (b, mp.inf) if up else (-mp.inf, b)
    disc = mp.e ** (-r * dt)

    def split(lo, hi):
        pts = [lo] + ([k] if lo < k < hi else []) + [hi]
        return pts

    def last(x):
        # value one step before expiry, not yet touched
        if is_in:
            v = mp.quad(lambda y: pay(y) * p(y, x), split(*deadr))
            v += R * (mp.ncdf((b - x - mu * dt) / s) if up else 1 - mp.ncdf((b - x - mu * dt) / s))
        else:
            v = mp.quad(lambda y: pay(y) * p(y, x), split(*alive))
            v += R * (1 - mp.ncdf((b - x - mu * dt) / s) if up else mp.ncdf((b - x - mu * dt) / s))
        return disc * v

    if c["steps"] == 1:
        return float(last(mp.mpf(0)))

    def vanilla(y):
        S = S0 * mp.e**y
        sd = s
        d1 = (mp.log(S / K) + (r - q + sig**2 / 2) * dt) / sd
        d2 = d1 - sd
        if call:
            return S * mp.e ** (-q * dt) * mp.ncdf(d1) - K * disc * mp.ncdf(d2)
        return K * disc * mp.ncdf(-d2) - S * mp.e ** (-q * dt) * mp.ncdf(-d1)

    if is_in:
        v = mp.quad(lambda y: vanilla(y) * p(y, 0), [deadr[0], deadr[1]])
        v += mp.quad(lambda y: last(y) * p(y, 0), [alive[0], alive[1]])
    else:
        v = mp.quad(lambda y: last(y) * p(y, 0), [alive[0], alive[1]])
        v += R * mp.e ** (-r * (T - dt)) * mp.quad(lambda y: p(y, 0), [deadr[0], deadr[1]])
    return float(disc * v)


def five_point(f, h, order=1):
    """The first (or second) derivative at 0 by the five-point stencil with step h,
    and an estimate of its error: the stencil's error is c h^4, so the difference
    from the same stencil with step 2h is 15 times it."""
    values = {k: f(k * h) for k in (-4, -2, -1, 1, 2, 4)}
    values[0] = f(0.0) if order == 2 else 0.0

    def stencil(g):
        v = lambda k: values[k * g]
        if order == 1:
            return (8 * (v(1) - v(-1)) - (v(2) - v(-2))) / (12 * g * h)
        return (-v(2) + 16 * v(1) - 30 * values[0] + 16 * v(-1) - v(-2)) / (12 * (g * h) ** 2)

    fine, coarse = stencil(1), stencil(2)
    return fine, abs(fine - coarse) / 15


def barrier_greeks(c):
    """The Greeks by five-point differences of the dense quadrature: spot, volatility
    and rate bumped; theta by moving the first monitoring interval (the dates and
    expiry fixed, calendar time advancing)."""
    dist = abs(c["barrier"] - SPOT)
    hs = min(0.25, 0.01 * dist)
    f = lambda e: barrier_price(c, spot=SPOT + e)
    dt = c["T"] / c["steps"]
    return {
        "delta": five_point(f, hs),
        "gamma": five_point(f, hs, order=2),
        "vega": five_point(lambda e: barrier_price(dict(c, vol=c["vol"] + e)), 5e-4),
        "rho": five_point(lambda e: barrier_price(dict(c, rate=c["rate"] + e)), 5e-4),
        "theta": five_point(lambda e: first_interval(c, dt - e), 2e-3 * dt),
    }


def first_interval(c, tau):
    """The price with the first interval `tau` long (the rebate and the vanilla of
    an in option still paid at the fixed expiry)."""
    out = barrier_out(c, first=tau)
    if c["kind"].endswith("out"):
        return out
    n, dt = c["steps"], c["T"] / c["steps"]
    life = tau + (n - 1) * dt
    vanilla = black_scholes(SPOT, c["strike"], c["rate"], c["dividend"], c["vol"], life, c["option"] == "call")
    return vanilla + c["rebate"] * math.exp(-c["rate"] * life) - out


# -------------------------------------------------------------------------- bermudan


def bermudan(S0, K, r, q, sig, T, n, call, panel=2.0, nodes=16, cone=10.0):
    """The Bermudan option by dense quadrature, the panels laid afresh at every date
    with the exercise boundary as a panel end."""
    dt = T / n
    mu = r - q - 0.5 * sig * sig
    md, s = mu * dt, sig * math.sqrt(dt)
    phi = 1.0 if call else -1.0
    if n == 1:
        return black_scholes(S0, K, r, q, sig, T, call)
    lo = min(0, mu * T) - cone * sig * math.sqrt(T)
    hi = max(0, (mu + sig * sig) * T) + cone * sig * math.sqrt(T)
    pay = lambda y: np.maximum(phi * (S0 * np.exp(y) - K), 0.0)
    disc = math.exp(-r * dt)
    C = lambda y: black_scholes_vec(S0 * np.exp(y), K, r, q, sig, dt, call)
    y_old = np.linspace(lo, hi, 2001)
    for i in range(n - 1, 0, -1):
        g = pay(y_old) - C(y_old)
        roots = []
        for a in range(len(y_old) - 1):
            if (g[a] > 0) != (g[a + 1] > 0):
                f = lambda y: float(pay(np.array([y]))[0] - C(np.array([y]))[0])
                # Evaluated alone, the ends may round to one sign (where payoff and
                # continuation are both zero far out of the money): no boundary.
                if f(y_old[a]) * f(y_old[a + 1]) < 0:
                    roots.append(brentq(f, y_old[a], y_old[a + 1], xtol=1e-15, rtol=1e-15))
        y, w = gl_panels(sorted([lo, hi] + roots), panel * s, nodes)
        V = np.maximum(pay(y), C(y))
        C = lambda z, y=y, w=w, V=V: disc * (density(y[None, :] - np.atleast_1d(z)[:, None], md, s) @ (w * V))
        y_old = y
    return float(C(np.array([0.0]))[0])


def black_scholes_vec(S, K, r, q, sig, T, call):
    sd = sig * math.sqrt(T)
    d1 = (np.log(S / K) + (r - q + 0.5 * sig * sig) * T) / sd
    d2 = d1 - sd
    if call:
        return S * math.exp(-q * T) * ndtr(d1) - K * math.exp(-r * T) * ndtr(d2)
    return K * math.exp(-r * T) * ndtr(-d2) - S * math.exp(-q * T) * ndtr(-d1)


# ---------------------------------------------------------------------- QuantLib


def ql_process(r, q, sig):
    today = ql.Date(1, 1, 2025)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    proc = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(SPOT)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, q, dc)),
        ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), sig, dc)),
    )
    return today, proc


def ql_american(K, r, q, sig, days, call):
    today, proc = ql_process(r, q, sig)
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if call else ql.Option.Put, K)
    opt = ql.VanillaOption(payoff, ql.AmericanExercise(today, today + days))
    if not (r < 0 and q < 0):
        # One exercise boundary (or none): QuantLib's fixed-point method applies.
        opt.setPricingEngine(ql.QdFpAmericanEngine(proc, ql.QdFpAmericanEngine.highPrecisionScheme()))
        return opt.NPV(), 1e-9, "quantlib-qdfp"
    values = []
    for grid in (4000, 8000):
        opt.setPricingEngine(ql.FdBlackScholesVanillaEngine(proc, grid, grid, 4))
        values.append(opt.NPV())
    # QuantLib's projected steps converge as 1/N: extrapolate.
    return 2 * values[1] - values[0], abs(values[1] - values[0]) / 4, "quantlib-fd"


def ql_bermudan(K, r, q, sig, days, n, call):
    today, proc = ql_process(r, q, sig)
    dates = [today + (i * days) // n for i in range(1, n + 1)]
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if call else ql.Option.Put, K)
    opt = ql.VanillaOption(payoff, ql.BermudanExercise(dates))
    opt.setPricingEngine(ql.FdBlackScholesVanillaEngine(proc, 4000, 4000, 4))
    return opt.NPV()


# ------------------------------------------------------------------------- cases


COLUMNS = "family,option,kind,strike,rate,dividend,volatility,maturity,barrier,rebate,steps,quantity,value,uncertainty,source"


def row(family, c, quantity, value, uncertainty, source):
    cells = [family, c["option"], c.get("kind", ""), c["strike"], c["rate"], c["dividend"], c["vol"], c["T"],
             c.get("barrier", ""), c.get("rebate", ""), c["steps"], quantity, repr(float(value)),
             "%.1e" % uncertainty, source]
    print(",".join(str(x) for x in cells), flush=True)


def barrier_cases():
    rng = random.Random(24)
    cases = [
        # The reference market and the shipped config (252 dates).
        dict(option="call", kind="up-and-out", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=120.0, rebate=0.0, steps=252),
        dict(option="call", kind="up-and-in", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=120.0, rebate=3.0, steps=252),
        # Barrier next to the spot, one date, high and tiny volatility, long maturity.
        dict(option="put", kind="down-and-out", strike=100.0, rate=0.03, dividend=0.01, vol=0.25, T=1.0, barrier=99.9, rebate=1.0, steps=50),
        dict(option="call", kind="up-and-out", strike=95.0, rate=0.05, dividend=0.0, vol=0.3, T=0.5, barrier=100.1, rebate=0.0, steps=12),
        dict(option="call", kind="down-and-in", strike=100.0, rate=0.05, dividend=0.02, vol=0.2, T=1.0, barrier=90.0, rebate=2.0, steps=1),
        dict(option="put", kind="up-and-out", strike=105.0, rate=0.04, dividend=0.0, vol=0.9, T=2.0, barrier=150.0, rebate=0.5, steps=24),
        dict(option="call", kind="up-and-out", strike=100.0, rate=0.05, dividend=0.0, vol=0.03, T=1.0, barrier=104.0, rebate=0.0, steps=50),
        dict(option="put", kind="down-and-in", strike=110.0, rate=0.02, dividend=0.03, vol=0.2, T=5.0, barrier=80.0, rebate=0.0, steps=60),
        dict(option="call", kind="down-and-out", strike=80.0, rate=-0.01, dividend=0.01, vol=0.35, T=1.0, barrier=85.0, rebate=4.0, steps=2),
        dict(option="put", kind="up-and-in", strike=120.0, rate=0.06, dividend=0.0, vol=0.4, T=0.25, barrier=110.0, rebate=0.0, steps=2),
        # Deep in and out of the money.
        dict(option="call", kind="down-and-out", strike=60.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=90.0, rebate=0.0, steps=20),
        dict(option="put", kind="up-and-out", strike=60.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=130.0, rebate=0.0, steps=20),
        dict(option="call", kind="up-and-out", strike=140.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=150.0, rebate=1.0, steps=20),
        dict(option="call", kind="up-and-out", strike=130.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=120.0, rebate=2.5, steps=20),
    ]
    kinds = ["up-and-out", "up-and-in", "down-and-out", "down-and-in"]
    for _ in range(26):
        kind = rng.choice(kinds)
        up = kind.startswith("up")
        cases.append(dict(
            option=rng.choice(["call", "put"]), kind=kind,
            strike=rng.choice([80.0, 90.0, 100.0, 110.0, 120.0]),
            rate=rng.choice([0.0, 0.02, 0.05, 0.08, -0.01]), dividend=rng.choice([0.0, 0.0, 0.03, 0.06]),
            vol=rng.choice([0.1, 0.2, 0.35, 0.6]), T=rng.choice([0.25, 0.5, 1.0, 2.0, 3.0]),
            barrier=rng.choice([105.0, 115.0, 130.0]) if up else rng.choice([95.0, 85.0, 70.0]),
            rebate=rng.choice([0.0, 0.0, 2.0]), steps=rng.choice([1, 2, 3, 5, 12, 26, 52, 100])))
    return cases


def greek_cases():
    return [
        dict(option="call", kind="up-and-out", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=120.0, rebate=0.0, steps=52),
        dict(option="put", kind="down-and-out", strike=100.0, rate=0.03, dividend=0.02, vol=0.3, T=1.0, barrier=85.0, rebate=2.0, steps=12),
        dict(option="call", kind="down-and-in", strike=95.0, rate=0.05, dividend=0.0, vol=0.25, T=0.5, barrier=90.0, rebate=1.0, steps=5),
        dict(option="put", kind="up-and-in", strike=105.0, rate=0.02, dividend=0.01, vol=0.4, T=2.0, barrier=125.0, rebate=0.0, steps=26),
        dict(option="call", kind="up-and-out", strike=90.0, rate=0.04, dividend=0.0, vol=0.2, T=1.0, barrier=110.0, rebate=3.0, steps=1),
        dict(option="put", kind="down-and-in", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=95.0, rebate=0.0, steps=2),
        dict(option="call", kind="up-and-out", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, barrier=120.0, rebate=0.0, steps=252),
    ]


def bermudan_cases():
    rng = random.Random(25)
    cases = [
        dict(option="put", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, steps=50),
        dict(option="put", strike=110.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, steps=50),
        dict(option="put", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, steps=252),
        dict(option="call", strike=100.0, rate=0.02, dividend=0.06, vol=0.3, T=2.0, steps=252),
        dict(option="put", strike=130.0, rate=0.08, dividend=0.0, vol=0.1, T=0.5, steps=12),
        dict(option="put", strike=70.0, rate=0.03, dividend=0.0, vol=0.6, T=3.0, steps=36),
        dict(option="call", strike=100.0, rate=-0.01, dividend=0.03, vol=0.25, T=1.0, steps=10),
        dict(option="put", strike=100.0, rate=0.03, dividend=-0.02, vol=0.25, T=1.0, steps=10),
        dict(option="put", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, T=1.0, steps=2),
    ]
    for _ in range(19):
        cases.append(dict(
            option=rng.choice(["call", "put", "put"]), strike=rng.choice([70.0, 85.0, 100.0, 110.0, 130.0]),
            rate=rng.choice([0.0, 0.01, 0.03, 0.05, 0.08]), dividend=rng.choice([0.0, 0.02, 0.04, 0.07]),
            vol=rng.choice([0.1, 0.2, 0.3, 0.45, 0.6]), T=rng.choice([0.1, 0.25, 0.5, 1.0, 2.0, 3.0]),
            steps=rng.choice([1, 2, 4, 5, 12, 25, 50])))
    return cases


def american_cases():
    rng = random.Random(26)
    cases = [
        dict(option="put", strike=100.0, rate=0.05, dividend=0.0, vol=0.2, days=365),
        dict(option="put", strike=110.0, rate=0.05, dividend=0.0, vol=0.2, days=365),
        dict(option="put", strike=130.0, rate=0.08, dividend=0.0, vol=0.1, days=37),
        dict(option="put", strike=70.0, rate=0.03, dividend=0.0, vol=0.6, days=1095),
        dict(option="call", strike=100.0, rate=0.02, dividend=0.06, vol=0.3, days=730),
        dict(option="call", strike=100.0, rate=-0.01, dividend=0.03, vol=0.25, days=365),
        dict(option="put", strike=100.0, rate=0.03, dividend=-0.02, vol=0.25, days=365),
        dict(option="put", strike=100.0, rate=0.05, dividend=0.0, vol=0.05, days=365),
    ]
    for _ in range(28):
        cases.append(dict(
            option=rng.choice(["call", "put", "put"]), strike=rng.choice([70.0, 80.0, 90.0, 100.0, 110.0, 120.0, 130.0]),
            rate=rng.choice([0.0, 0.01, 0.03, 0.05, 0.08]), dividend=rng.choice([0.0, 0.02, 0.04, 0.07]),
            vol=rng.choice([0.1, 0.2, 0.3, 0.45, 0.6]), days=rng.choice([37, 91, 182, 365, 730, 1095])))
    for c in cases:
        c["T"] = c["days"] / 365.0
        c["steps"] = ""
    return cases


def main():
    which = set(sys.argv[1:]) or {"barrier", "greeks", "bermudan", "american"}
    print(COLUMNS)
    if "barrier" in which:
        for c in barrier_cases():
            if c["steps"] <= 2:
                row("barrier", c, "price", barrier_mpmath(c), 1e-15, "mpmath")
            else:
                fine = barrier_price(c, panel=1.0, nodes=18)
                row("barrier", c, "price", fine, abs(fine - barrier_price(c)), "dense-quadrature")
    if "greeks" in which:
        for c in greek_cases():
            for name, (value, u) in barrier_greeks(c).items():
                row("barrier", c, name, value, u, "dense-quadrature-differences")
    if "bermudan" in which:
        for c in bermudan_cases():
            args = (SPOT, c["strike"], c["rate"], c["dividend"], c["vol"], c["T"], c["steps"], c["option"] == "call")
            fine = bermudan(*args, panel=1.5, nodes=20)
            row("bermudan", c, "price", fine, abs(fine - bermudan(*args)), "dense-quadrature")
            days = c["T"] * 365
            if abs(days - round(days)) < 1e-9 and round(days) % c["steps"] == 0:
                qlv = ql_bermudan(c["strike"], c["rate"], c["dividend"], c["vol"], round(days), c["steps"], c["option"] == "call")
                print(f"# quantlib-fd 4000x4000 for the row above: {qlv!r} (difference {qlv - fine:+.1e})", flush=True)
    if "american" in which:
        for c in american_cases():
            value, u, source = ql_american(c["strike"], c["rate"], c["dividend"], c["vol"], c["days"], c["option"] == "call")
            row("american", c, "price", value, u, source)


if __name__ == "__main__":
    main()
