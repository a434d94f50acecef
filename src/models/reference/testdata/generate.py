#!/usr/bin/env python3
"""Reference values for src/models/reference/: QuantLib 1.44 and independent mpmath /
scipy / numpy computations, committed as the *.txt files beside this script.

Rerun (from the repository root):

  python3 -m venv /tmp/venv-ql && /tmp/venv-ql/bin/pip install QuantLib==1.44 mpmath numpy scipy
  /tmp/venv-ql/bin/python src/models/reference/testdata/generate.py all

or one family: heston, merton, basket, lookback, curve. Deterministic (fixed seeds).

Every file has one case a line, whitespace-separated, `#` lines naming the columns.
"""

import math
import os
import random
import sys
import time
import warnings

import numpy as np
import QuantLib as ql
from mpmath import mp, mpf

HERE = os.path.dirname(os.path.abspath(__file__))
TODAY = ql.Date(2, 1, 2025)
DC = ql.Actual365Fixed()
ql.Settings.instance().evaluationDate = TODAY


def snap(t):
    """t rounded to whole days: every time here is snapped first, so that QuantLib's
    Actual/365 year fractions are the very times written to the files."""
    return round(t * 365) / 365


def maturity_date(t):
    days = round(t * 365)
    assert days / 365 == t, f"{t} is not snapped"
    return TODAY + days


def flat(r):
    return ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DC))


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(header.rstrip() + "\n")
        for r in rows:
            f.write(" ".join(x if isinstance(x, str) else repr(float(x)) for x in r) + "\n")
    print(f"wrote {name}: {len(rows)} cases")


# --- Heston -----------------------------------------------------------------------------

def heston_scipy(option, s, k, r, q, t, v0, kappa, theta, xi, rho):
    """C = S e^{-qT} P1 - K e^{-rT} P2 with Heston's two probabilities (not Lewis's
    single integral, which carlo uses) and the little-trap characteristic function, in
    double precision with QUADPACK's adaptive Gauss-Kronrod (QAG) on pieces of a few
    oscillations each, up to where the asymptotic decay leaves below e^-60 (QAWF, made
    for such Fourier tails, fails when ln(F/K) is near 0).
    (mpmath's tanh-sinh at 30 digits took minutes per short-maturity case and missed
    one by 7e-4: the integrand oscillates for thousands of periods there.)"""
    from scipy import integrate
    x = math.log(s / k) + (r - q) * t
    c_inf = math.sqrt(1 - rho * rho) * (v0 + kappa * theta * t) / xi
    # for small xi the decay is the Black-Scholes one, e^{-w u^2 / 2}, long before the
    # asymptotic e^{-c u}: e^{-60} by u = sqrt(120 / w)
    w = theta * t + (v0 - theta) * (1 - math.exp(-kappa * t)) / kappa
    c_inf = min(c_inf, math.sqrt(w / 120.0))

    def phi(u):
        b = kappa - rho * xi * 1j * u
        d = np.sqrt(b * b + xi * xi * (1j * u + u * u))
        g = (b - d) / (b + d)
        e = np.exp(-d * t)
        D = (b - d) / xi**2 * (1 - e) / (1 - g * e)
        C = kappa * theta / xi**2 * ((b - d) * t - 2 * np.log((1 - g * e) / (1 - g)))
        return np.exp(C + D * v0)

    def p(j):
        def g(u):
            v = phi(u - 1j) if j == 1 else phi(u)
            # far out (u in the thousands and beyond) the characteristic function
            # underflows to 0 * inf: its true value there is below 1e-300
            return v if np.isfinite(v) else 0.0 + 0.0j
        full = lambda u: (np.exp(1j * u * x) * g(u) / (1j * u)).real
        head = integrate.quad(full, 0.0, 1.0, epsabs=1e-14, epsrel=1e-13, limit=500)[0]
        # beyond u = 60 / c the decay leaves below e^-60;
        # in between, adaptive Gauss-Kronrod on pieces of a few oscillations each
        top = min(60.0 / c_inf, 1e5) if c_inf > 0 else 1e5
        step = min(50.0, 20.0 / abs(x)) if x != 0 else 50.0
        edges = list(np.arange(1.0, top, step)) + [top]
        tail = 0.0
        for a, b in zip(edges, edges[1:]):
            tail += integrate.quad(full, a, b, epsabs=1e-16, epsrel=1e-13, limit=200)[0]
        return 0.5 + (head + tail) / math.pi

    call = s * math.exp(-q * t) * p(1) - k * math.exp(-r * t) * p(2)
    return call if option == "C" else call - s * math.exp(-q * t) + k * math.exp(-r * t)


def heston_ql(option, s, k, r, q, t, v0, kappa, theta, xi, rho):
    proc = ql.HestonProcess(flat(r), flat(q), ql.QuoteHandle(ql.SimpleQuote(s)), v0, kappa, theta, xi, rho)
    model = ql.HestonModel(proc)
    # Gauss-Lobatto to a relative tolerance of 1e-14: QuantLib's most accurate setting
    engine = ql.AnalyticHestonEngine(model, 1e-14, 1000000)
    opt = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Call if option == "C" else ql.Option.Put, k),
                           ql.EuropeanExercise(maturity_date(t)))
    opt.setPricingEngine(engine)
    return opt.NPV()


def heston():
    rng = random.Random(27)
    rows = []
    grid = dict(kappa=[0.5, 1.5, 4.0], theta=[0.02, 0.06, 0.12], xi=[0.1, 0.5, 1.0, 1.5],
                rho=[-0.95, -0.7, -0.3, 0.0, 0.3, 0.7, 0.95], t=[0.05, 0.25, 1.0, 3.0, 10.0],
                m=[0.5, 0.8, 0.95, 1.0, 1.1, 1.5, 2.0], v0=[0.01, 0.04, 0.16])
    cases = []
    for _ in range(110):
        c = {key: rng.choice(v) for key, v in grid.items()}
        cases.append(c)
    # the edges: Feller satisfied with a tiny xi, violated hard, rho at +-0.95, long and short
    cases += [dict(kappa=2.0, theta=0.04, xi=0.01, rho=-0.5, t=1.0, m=1.0, v0=0.04),
              dict(kappa=0.3, theta=0.1, xi=1.5, rho=-0.95, t=10.0, m=0.5, v0=0.2),
              dict(kappa=0.3, theta=0.1, xi=1.5, rho=0.95, t=0.05, m=2.0, v0=0.01),
              dict(kappa=5.0, theta=0.04, xi=0.2, rho=0.0, t=0.05, m=0.8, v0=0.04),
              dict(kappa=1.0, theta=0.04, xi=1.0, rho=-0.95, t=0.05, m=1.5, v0=0.04)]
    t0 = time.time()
    for i, c in enumerate(cases):
        s = 100.0
        k = s * c["m"]
        r, q = rng.choice([(0.03, 0.0), (0.05, 0.02), (-0.01, 0.01)])
        option = "C" if i % 2 == 0 else "P"
        args = (option, s, k, r, q, snap(c["t"]), c["v0"], c["kappa"], c["theta"], c["xi"], c["rho"])
        vq = heston_ql(*args)
        with warnings.catch_warnings():
            # QUADPACK's roundoff notices at tolerances near machine precision
            warnings.simplefilter("ignore")
            vs = heston_scipy(*args)
        rows.append(list(args) + [vq, vs])
    print(f"heston: {time.time() - t0:.0f} s")
    write("heston.txt", "# option spot strike rate dividend maturity v0 kappa theta xi rho "
          "quantlib(AnalyticHestonEngine, Gauss-Lobatto rel 1e-14) "
          "scipy(Heston's P1/P2, QUADPACK QAG on short pieces, double precision)", rows)


# --- Merton -----------------------------------------------------------------------------

def merton_mp(option, s, k, r, q, sig, t, lam, mu, delta):
    mp.dps = 30
    s, k, r, q, sig, t, lam, mu, delta = map(mpf, (s, k, r, q, sig, t, lam, mu, delta))
    kbar = mp.exp(mu + delta**2 / 2) - 1
    f = s * mp.exp((r - q) * t)
    total = mpf(0)
    n = 0
    w = mp.exp(-lam * t)
    mass = mpf(0)
    while True:
        v = sig**2 * t + n * delta**2
        fn = f * mp.exp(-lam * kbar * t + n * (mu + delta**2 / 2))
        if v == 0:
            c = max(fn - k, 0)
        else:
            sd = mp.sqrt(v)
            d1 = mp.log(fn / k) / sd + sd / 2
            c = fn * mp.ncdf(d1) - k * mp.ncdf(d1 - sd)
        total += w * c
        mass += w
        if n > lam * t + 10 and 1 - mass < mpf(10) ** -25:
            break
        n += 1
        w *= lam * t / n
    call = mp.exp(-r * t) * total
    return call if option == "C" else call - s * mp.exp(-q * t) + k * mp.exp(-r * t)


def merton():
    rng = random.Random(76)
    rows = []
    for i in range(60):
        s = 100.0
        k = s * rng.choice([0.5, 0.8, 1.0, 1.2, 2.0])
        r, q = rng.choice([(0.05, 0.0), (0.03, 0.02)])
        sig = rng.choice([0.05, 0.2, 0.5])
        t = snap(rng.choice([0.1, 1.0, 5.0]))
        lam = rng.choice([0.1, 1.0, 5.0, 30.0])
        mu = rng.choice([-0.3, -0.05, 0.0, 0.1])
        delta = rng.choice([0.0, 0.05, 0.3])
        option = "C" if i % 2 == 0 else "P"
        args = (option, s, k, r, q, sig, t, lam, mu, delta)
        rows.append(list(args) + [float(merton_mp(*args))])
    write("merton.txt", "# option spot strike rate dividend volatility maturity jump_intensity jump_mean "
          "jump_volatility mpmath(Merton's series, 30 digits, to a Poisson tail below 1e-25; "
          "QuantLib 1.44's Python build does not expose JumpDiffusionEngine)", rows)


# --- baskets ----------------------------------------------------------------------------

def basket_case(option, spots, weights, vols, divs, rho, r, t, k, mc_paths, seed):
    t = snap(t)
    n = len(spots)
    corr = [[1.0 if i == j else rho for j in range(n)] for i in range(n)]
    procs = [ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(spots[i])), flat(divs[i]), flat(r),
                                          ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), vols[i], DC)))
             for i in range(n)]
    m = ql.Matrix(n, n)
    for i in range(n):
        for j in range(n):
            m[i][j] = corr[i][j]
    arr = ql.StochasticProcessArray(procs, m)
    total = sum(weights)
    a = [w / total for w in weights]
    typ = ql.Option.Call if option == "C" else ql.Option.Put
    payoff = ql.AverageBasketPayoff(ql.PlainVanillaPayoff(typ, k), a)
    opt = ql.BasketOption(payoff, ql.EuropeanExercise(maturity_date(t)))
    opt.setPricingEngine(ql.ChoiBasketEngine(procs, m, 40.0, 2**22, False, True))
    choi = opt.NPV()
    # an independent long Monte Carlo in numpy (antithetic), for the arithmetic basket
    rs = np.random.default_rng(seed)
    L = np.linalg.cholesky(np.array(corr))
    sig = np.array(vols)
    fwd = np.array(spots) * np.exp((r - np.array(divs)) * t)
    vals = []
    for _ in range(mc_paths // 1_000_000):
        z = rs.standard_normal((500_000, n)) @ L.T
        out = []
        for zz in (z, -z):
            st = fwd * np.exp(-0.5 * sig**2 * t + sig * np.sqrt(t) * zz)
            basket = st @ np.array(a)
            out.append(np.maximum((basket - k) if option == "C" else (k - basket), 0.0))
        vals.append(0.5 * (out[0] + out[1]))
    vals = np.concatenate(vals) * math.exp(-r * t)
    mc, se = vals.mean(), vals.std(ddof=1) / math.sqrt(len(vals))
    # geometric basket, exact, in mpmath
    mp.dps = 30
    mean = sum(mpf(a[i]) * (mp.log(mpf(spots[i])) + (mpf(r) - divs[i] - mpf(vols[i]) ** 2 / 2) * t) for i in range(n))
    var = sum(mpf(a[i]) * a[j] * corr[i][j] * vols[i] * vols[j] * t for i in range(n) for j in range(n))
    sd = mp.sqrt(var)
    fg = mp.exp(mean + var / 2)
    d1 = (mp.log(fg / k) + var / 2) / sd
    call = mp.exp(-r * t) * (fg * mp.ncdf(d1) - k * mp.ncdf(d1 - sd))
    geo = call if option == "C" else call - mp.exp(-r * t) * (fg - k)
    return [option, n, rho, r, t, k] + list(spots) + list(weights) + list(vols) + list(divs) + [float(geo), choi, mc, se]


def basket():
    rows = []
    specs = [
        ("C", [100.0] * 5, [0.2] * 5, [0.2, 0.25, 0.3, 0.35, 0.4], [0.0, 0.01, 0.02, 0.0, 0.01], 0.5, 0.05, 1.0, 100.0),
        ("P", [100.0] * 5, [1.0] * 5, [0.2, 0.25, 0.3, 0.35, 0.4], [0.0, 0.01, 0.02, 0.0, 0.01], 0.5, 0.05, 1.0, 100.0),
        ("C", [90.0, 110.0, 100.0], [0.5, 0.3, 0.2], [0.3, 0.2, 0.4], [0.0, 0.0, 0.0], 0.2, 0.03, 2.0, 105.0),
        ("C", [100.0, 100.0], [1.0, 1.0], [0.2, 0.2], [0.0, 0.0], 0.9, 0.05, 1.0, 120.0),
        ("P", [100.0, 50.0, 80.0, 120.0], [0.25, 0.25, 0.25, 0.25], [0.5, 0.6, 0.4, 0.3], [0.02] * 4, -0.2, 0.02, 3.0, 80.0),
        ("C", [100.0] * 5, [0.2] * 5, [0.1] * 5, [0.0] * 5, 0.0, 0.05, 0.5, 95.0),
    ]
    for i, spec in enumerate(specs):
        rows.append(basket_case(*spec, mc_paths=20_000_000, seed=1000 + i))
    write("basket.txt", "# option n rho rate maturity strike spots[n] weights[n] volatilities[n] dividends[n] "
          "geometric(mpmath, exact) arithmetic_choi(QuantLib ChoiBasketEngine lambda 40, control variate) "
          "arithmetic_mc(numpy, 2e7 antithetic paths) mc_std_error", rows)


# --- lookbacks --------------------------------------------------------------------------

def lookback_ql(kind, s, k, r, q, sig, t):
    proc = ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(s)), flat(q), flat(r),
                                        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), sig, DC)))
    ex = ql.EuropeanExercise(maturity_date(t))
    if kind in ("FLC", "FLP"):
        typ = ql.Option.Call if kind == "FLC" else ql.Option.Put
        opt = ql.ContinuousFloatingLookbackOption(s, ql.FloatingTypePayoff(typ), ex)
        opt.setPricingEngine(ql.AnalyticContinuousFloatingLookbackEngine(proc))
    else:
        typ = ql.Option.Call if kind == "FXC" else ql.Option.Put
        opt = ql.ContinuousFixedLookbackOption(s, ql.PlainVanillaPayoff(typ, k), ex)
        opt.setPricingEngine(ql.AnalyticContinuousFixedLookbackEngine(proc))
    return opt.NPV()


def lindley_mc(kind, s, k, r, q, sig, t, steps, paths, seed):
    """Independent Monte Carlo of the discretely monitored lookback (numpy, antithetic)."""
    rs = np.random.default_rng(seed)
    dt = t / steps
    vals = []
    for _ in range(paths // 400_000):
        z = rs.standard_normal((200_000, steps))
        for zz in (z, -z):
            x = np.cumsum((r - q - sig * sig / 2) * dt + sig * math.sqrt(dt) * zz, axis=1)
            st = s * np.exp(x)
            mx = np.maximum(st.max(axis=1), s)
            mn = np.minimum(st.min(axis=1), s)
            if kind == "FXC":
                v = np.maximum(mx - k, 0)
            elif kind == "FXP":
                v = np.maximum(k - mn, 0)
            elif kind == "FLC":
                v = st[:, -1] - mn
            else:
                v = mx - st[:, -1]
            vals.append(v)
    vals = np.concatenate(vals) * math.exp(-r * t)
    # the standard error as if the antithetic halves were independent: they are
    # negatively correlated here, so this overstates it (a conservative test)
    return vals.mean(), vals.std(ddof=1) / math.sqrt(len(vals))


def two_step(kind, s, k, r, q, sig, t):
    """The 2-date discrete lookback by scipy's adaptive double quadrature over the two
    normal increments, split at the payoff's kinks."""
    from scipy import integrate
    dt = t / 2
    m, sd = (r - q - sig * sig / 2) * dt, sig * math.sqrt(dt)
    pdf = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    def pay(z1, z2):
        x1 = m + sd * z1
        x2 = x1 + m + sd * z2
        s1, s2 = s * math.exp(x1), s * math.exp(x2)
        mx, mn = max(s, s1, s2), min(s, s1, s2)
        v = {"FXC": max(mx - k, 0), "FXP": max(k - mn, 0), "FLC": s2 - mn, "FLP": mx - s2}[kind]
        return v * pdf(z1) * pdf(z2)

    # kinks: z1 = -m/sd (S1 = S); z2 where S2 = S, S2 = S1, and the strike lines
    total = 0.0
    z1cuts = sorted({-9.0, 9.0, -m / sd} | ({(math.log(k / s) - m) / sd} if kind in ("FXC", "FXP") else set()))
    z1cuts = [c for c in z1cuts if -9 <= c <= 9]
    for a, b in zip(z1cuts, z1cuts[1:]):
        def inner(z1):
            x1 = m + sd * z1
            cuts = {-9.0, 9.0, (-x1 - m) / sd, -m / sd}
            if kind in ("FXC", "FXP"):
                cuts.add((math.log(k / s) - x1 - m) / sd)
            cuts = sorted(c for c in cuts if -9 <= c <= 9)
            return sum(integrate.quad(lambda z2: pay(z1, z2), c0, c1, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                       for c0, c1 in zip(cuts, cuts[1:]))
        total += integrate.quad(inner, a, b, epsabs=1e-12, epsrel=1e-11, limit=200)[0]
    return math.exp(-r * t) * total


def lookback():
    rows = []
    cases = []
    for kind in ("FXC", "FXP", "FLC", "FLP"):
        for s, k, r, q, sig, t in [(100, 100, 0.05, 0.0, 0.2, 1.0), (100, 90, 0.05, 0.02, 0.3, 0.5),
                                   (100, 120, 0.03, 0.03, 0.25, 2.0), (100, 80, 0.01, 0.04, 0.4, 1.0),
                                   (100, 110, 0.0, 0.0, 0.15, 0.25), (100, 100, 0.05, 0.05 + 1e-9, 0.2, 1.0)]:
            cases.append((kind, s, k, r, q, sig, snap(t)))
    for c in cases:
        rows.append(list(c) + [lookback_ql(*c)])
    write("lookback.txt", "# kind(FXC fixed call on max, FXP fixed put on min, FLC floating call S_T - min, "
          "FLP floating put max - S_T) spot strike rate dividend volatility maturity "
          "quantlib(AnalyticContinuous{Fixed,Floating}LookbackEngine, extremum = spot)", rows)
    rows = []
    for i, c in enumerate(cases[::3]):
        kind, s, k, r, q, sig, t = c
        rows.append(list(c) + [2, two_step(*c), 0.0, "scipy-dblquad"])
        for steps in (5, 20):
            mc, se = lindley_mc(*c, steps, 4_000_000, 500 + i * 7 + steps)
            rows.append(list(c) + [steps, mc, se, "numpy-mc"])
    write("lookback_discrete.txt", "# kind spot strike rate dividend volatility maturity steps value std_error method "
          "(discrete monitoring on i T / steps, extremum starting at the spot)", rows)


# --- term structures --------------------------------------------------------------------

def curve():
    rows = []
    specs = [
        ("C", 100.0, 100.0, [0.5, 1.0, 2.0], [0.01, 0.03, 0.05], [2.0], [0.01], [0.2, 1.0, 2.0], [0.3, 0.2, 0.25], 1.5),
        ("P", 100.0, 110.0, [0.2, 2.0], [0.05, 0.02], [1.0, 2.0], [0.0, 0.03], [1.0, 2.0], [0.15, 0.4], 2.0),
        ("C", 100.0, 90.0, [1.0], [0.04], [1.0], [0.02], [0.1, 0.5, 1.0], [0.5, 0.3, 0.2], 0.75),
    ]
    for option, s, k, rt, rv, qt, qv, vt, vv, t in specs:
        rt, qt, vt, t = [snap(x) for x in rt], [snap(x) for x in qt], [snap(x) for x in vt], snap(t)
        def fwd_curve(times, values):
            dates = [TODAY] + [maturity_date(x) for x in times]
            # ForwardCurve is backward-flat: the rate at dates[i] holds on (dates[i-1], dates[i]]
            return ql.YieldTermStructureHandle(ql.ForwardCurve(dates, [values[0]] + list(values), DC))
        dates = [maturity_date(x) for x in vt]
        var = []
        acc, prev = 0.0, 0.0
        for x, v in zip(vt, vv):
            acc += v * v * (x - prev)
            prev = x
            var.append(math.sqrt(acc / x))
        vol = ql.BlackVarianceCurve(TODAY, dates, var, DC, False)
        proc = ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(s)), fwd_curve(qt, qv), fwd_curve(rt, rv),
                                            ql.BlackVolTermStructureHandle(vol))
        opt = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Call if option == "C" else ql.Option.Put, k),
                               ql.EuropeanExercise(maturity_date(t)))
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(proc))
        enc = lambda a: ",".join(repr(x) for x in a)
        rows.append([option, s, k, enc(rt), enc(rv), enc(qt), enc(qv), enc(vt), enc(vv), t, opt.NPV()])
    write("curve.txt", "# option spot strike rate_times rate_values dividend_times dividend_values "
          "vol_times vol_values maturity quantlib(AnalyticEuropeanEngine, ForwardCurve + BlackVarianceCurve)", rows)


def main(argv):
    todo = {"heston": heston, "merton": merton, "basket": basket, "lookback": lookback, "curve": curve}
    if not argv:
        print(__doc__)
        return 2
    for a in argv:
        if a == "all":
            for f in todo.values():
                f()
        elif a in todo:
            todo[a]()
        else:
            print(f"unknown {a!r}")
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
