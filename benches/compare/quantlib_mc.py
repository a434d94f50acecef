"""QuantLib's Monte Carlo engines on the same market (pseudorandom, plain MC).
QuantLib prices on one thread, so it is measured for one worker only.
"""
import QuantLib as ql

SPOT, STRIKE, RATE, DIV, VOL = 100.0, 100.0, 0.05, 0.0, 0.2
FIXINGS, BARRIER, STEPS = 12, 120.0, 252
AMERICAN_DATES = 50

TODAY = ql.Date(2, 1, 2026)
MATURITY = TODAY + 365  # Actual365Fixed: T = 1 exactly
DAY_COUNT = ql.Actual365Fixed()


def _process():
    ql.Settings.instance().evaluationDate = TODAY
    curve = lambda r: ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT))
    vol = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(TODAY, ql.NullCalendar(), VOL, DAY_COUNT))
    return ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(SPOT)), curve(DIV), curve(RATE), vol)


def _call():
    return ql.PlainVanillaPayoff(ql.Option.Call, STRIKE), ql.EuropeanExercise(MATURITY)


def european(process, paths, seed):
    option = ql.VanillaOption(*_call())
    option.setPricingEngine(ql.MCEuropeanEngine(
        process, "pseudorandom", timeSteps=1, requiredSamples=paths, seed=seed))
    return option


def asian(process, paths, seed):
    # Fixing dates are whole days, 365 i / 12 rounded half up, so t_i is within half
    # a day of i/12; the true price moves by about 0.003, well inside the MC error.
    dates = [TODAY + int(365 * i / FIXINGS + 0.5) for i in range(1, FIXINGS + 1)]
    option = ql.DiscreteAveragingAsianOption(ql.Average.Arithmetic, 0.0, 0, dates, *_call())
    option.setPricingEngine(ql.MCDiscreteArithmeticAPEngine(
        process, "pseudorandom", controlVariate=False, requiredSamples=paths, seed=seed))
    return option


def barrier(process, paths, seed):
    option = ql.BarrierOption(ql.Barrier.UpOut, BARRIER, 0.0, *_call())
    # isBiased=True: check the barrier on the 252 dates only (discrete monitoring).
    option.setPricingEngine(ql.MCBarrierEngine(
        process, "pseudorandom", timeSteps=STEPS, requiredSamples=paths,
        isBiased=True, seed=seed))
    return option


def american(process, paths, seed):
    # Longstaff-Schwartz on 50 dates with QuantLib's defaults (a degree-2 monomial
    # basis fitted on 2,048 calibration paths), as in ../shared/reference; carlo
    # fits a degree-3 polynomial on 32,768 paths, 16 times the calibration work.
    option = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Put, STRIKE),
                              ql.AmericanExercise(TODAY, MATURITY))
    option.setPricingEngine(ql.MCAmericanEngine(
        process, "pseudorandom", timeSteps=AMERICAN_DATES, requiredSamples=paths,
        seed=seed))
    return option


# Heston (configs/heston.toml's variance process on this market): QuantLib's default
# discretization is Andersen's QE scheme with martingale correction, as carlo's.
HESTON = dict(v0=0.04, kappa=1.5, theta=0.04, xi=0.5, rho=-0.7, steps=100)


def heston(process, paths, seed):
    curve = lambda r: ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT))
    h = HESTON
    heston_process = ql.HestonProcess(curve(RATE), curve(DIV), ql.QuoteHandle(ql.SimpleQuote(SPOT)),
                                      h["v0"], h["kappa"], h["theta"], h["xi"], h["rho"])
    option = ql.VanillaOption(*_call())
    option.setPricingEngine(ql.MCEuropeanHestonEngine(
        heston_process, "pseudorandom", timeSteps=h["steps"], requiredSamples=paths, seed=seed))
    return option


# Five assets of this market's spot, volatilities 0.2 to 0.4, correlation 0.5, equal
# weights (configs/basket.toml without its dividends): one step to expiry.
BASKET_VOLS = [0.2, 0.25, 0.3, 0.35, 0.4]
BASKET_CORRELATION = 0.5


def basket(process, paths, seed):
    curve = lambda r: ql.YieldTermStructureHandle(ql.FlatForward(TODAY, r, DAY_COUNT))
    processes = [ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(SPOT)), curve(DIV), curve(RATE),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(TODAY, ql.NullCalendar(), v, DAY_COUNT)))
        for v in BASKET_VOLS]
    n = len(processes)
    matrix = ql.Matrix(n, n)
    for i in range(n):
        for j in range(n):
            matrix[i][j] = 1.0 if i == j else BASKET_CORRELATION
    payoff = ql.AverageBasketPayoff(ql.PlainVanillaPayoff(ql.Option.Call, STRIKE), [1.0 / n] * n)
    option = ql.BasketOption(payoff, ql.EuropeanExercise(MATURITY))
    option.setPricingEngine(ql.MCEuropeanBasketEngine(
        ql.StochasticProcessArray(processes, matrix), "pseudorandom", timeSteps=1,
        requiredSamples=paths, seed=seed))
    return option


CASES = {"european": european, "asian": asian, "barrier": barrier, "american": american,
         "heston": heston, "basket": basket}


def run(case, samples, seed=42):
    """Price `case` with `samples` paths: (estimate, QuantLib's error estimate)."""
    option = CASES[case](_process(), samples, seed)
    return option.NPV(), option.errorEstimate()
