#!/usr/bin/env python3
"""Offline generator for carlo's own transcendental functions (src/math/).

It writes, from mpmath at 300+ bits of precision:

  tables   ../tables.rs   the exp table 2^(j/128), the ln table (1/c, log c), the
                          polynomial coefficients and the reduction constants
  refs     exp.txt, ln.txt, normal.txt   committed reference values for the unit tests
  dense N  DIR/exp_dense.txt, DIR/ln_dense.txt   N extra points each for the ignored
                          test `math::tests::dense_reference` (not committed: too big)

Rerun (from the repository root):

  python3 -m venv /tmp/venv-math && /tmp/venv-math/bin/pip install mpmath
  /tmp/venv-math/bin/python src/math/testdata/generate.py tables refs
  /tmp/venv-math/bin/python src/math/testdata/generate.py dense 1000000 /tmp/carlo-dense
  CARLO_MATH_DENSE=/tmp/carlo-dense cargo test --release --lib math -- --ignored

The output is deterministic (fixed seeds); rerunning it must leave git clean.

Reference file format, one point a line, `#` starts a comment:

  INPUT_BITS OUTPUT_BITS RESIDUAL

hex bit patterns of the input and of the correctly rounded output, then
RESIDUAL = (|true| - |rounded|) / ulp(|true|), in [-0.5, 0.5], so that a test can
measure the error of any candidate in ulps of the true value, not only whether it is
correctly rounded. normal.txt also has lines `B BITS OUTPUT_BITS RESIDUAL` for
normal_from_bits, whose uniform (m + 1/2) 2^-53 is not always a double.
"""

import os
import random
import struct
import sys
from fractions import Fraction

from mpmath import mp, mpf

PREC = 320
mp.prec = PREC

HERE = os.path.dirname(os.path.abspath(__file__))


# --- exact double helpers -------------------------------------------------------------

def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def frac(v) -> Fraction:
    """The exact value of an mpf or a float as a Fraction."""
    if isinstance(v, float):
        return Fraction(v)
    sign, man, exp, _ = v._mpf_
    if not man and exp:
        raise ValueError(f"not a finite number: {v}")
    man = -int(man) if sign else int(man)
    exp = int(exp)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)


def round_double(v) -> float:
    """The double nearest to v (ties to even), subnormals and overflow included."""
    f = frac(v) if not isinstance(v, Fraction) else v
    try:
        return f.numerator / f.denominator  # CPython: correctly rounded
    except OverflowError:
        return float("inf") if f > 0 else float("-inf")


def ulp_of(v: Fraction) -> Fraction:
    """ulp of a positive real: 2^(floor(log2 v) - 52), at least 2^-1074."""
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if Fraction(2) ** e > v:
        e -= 1
    return Fraction(2) ** max(e - 52, -1074)


def residual(true: Fraction, r: float) -> float:
    a = abs(true)
    return float((a - abs(Fraction(r))) / ulp_of(a))


def round_to_bits(v: Fraction, step_exp: int) -> Fraction:
    """v rounded to the nearest multiple of 2^step_exp."""
    scaled = v / Fraction(2) ** step_exp
    return Fraction(round(scaled)) * Fraction(2) ** step_exp


def round_sig(v: Fraction, sig: int) -> Fraction:
    """v (> 0) rounded to `sig` significant bits."""
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if Fraction(2) ** e > v:
        e -= 1
    return round_to_bits(v, e - sig + 1)


def mpf_of(f: Fraction):
    return mpf(f.numerator) / f.denominator


# --- constants and tables ---------------------------------------------------------------

LN2 = frac(mp.log(2))
EXP_N = 128
LN_N = 128
# ln: the subinterval containing 1.0 is centred on it (c = 1 exactly), which is what
# makes ln exact-to-rounding near 1; OFF is 0x3fe6000000000000 less half a subinterval.
LN_OFF = 0x3FE6000000000000 - (1 << 44)


def cheb_fit(g, R, deg):
    """Coefficients of the degree `deg` polynomial interpolating g at Chebyshev nodes
    of [-R, R]: near-minimax for these tiny intervals."""
    n = deg + 1
    xs = [R * mp.cos(mp.pi * (2 * k + 1) / (2 * n)) for k in range(n)]
    A = mp.matrix(n, n)
    b = mp.matrix(n, 1)
    for i, x in enumerate(xs):
        for j in range(n):
            A[i, j] = x**j
        b[i] = g(x)
    c = mp.lu_solve(A, b)
    return [round_double(c[j]) for j in range(n)]


def max_abs_error(f, R, n=4000):
    return max(abs(f(R * (2 * mpf(i) / n - 1))) for i in range(n + 1) if 2 * i != n)


def exp_constants():
    inv_ln2_n = round_double(EXP_N / mpf_of(LN2))
    # 35 significant bits: k * LN2_HI_N is exact for |k| < 2^18 (|x| < 745 * 1.0001).
    hi = round_sig(LN2 / EXP_N, 35)
    lo = round_double(LN2 / EXP_N - hi)
    R = mpf_of(LN2) / 256 * (1 + mpf(2) ** -30)
    # e^r - 1 - r - r^2/2 = r^3 (C3 + C4 r + C5 r^2)
    g = lambda r: (mp.exp(r) - 1 - r - r * r / 2) / r**3 if abs(r) > mpf(10) ** -40 else mpf(1) / 6
    c = cheb_fit(g, R, 2)
    err = max_abs_error(
        lambda r: mp.exp(r) - 1 - r - r * r / 2 - r**3 * sum(mpf(cj) * r**j for j, cj in enumerate(c)), R
    )
    table = []
    for j in range(EXP_N):
        v = mp.power(2, mpf(j) / EXP_N)
        t_hi = round_double(v)
        tail = round_double((frac(v) - Fraction(t_hi)) / Fraction(t_hi))
        table.append((bits(tail), (bits(t_hi) - (j << 45)) % 2**64))
    return dict(inv_ln2_n=inv_ln2_n, hi=float(hi), lo=lo, poly=c, err=err, table=table)


def ln_constants():
    hi = round_to_bits(LN2, -42)  # k * LN2_HI exact for |k| < 2^11
    lo = round_double(LN2 - hi)
    table = []
    rmax = Fraction(0)
    for i in range(LN_N):
        z0 = Fraction(from_bits(LN_OFF + (i << 45)))
        z1 = Fraction(from_bits(LN_OFF + ((i + 1) << 45)))
        if z0 <= 1 < z1:
            invc = Fraction(1)
        else:
            # 26 significant bits: zhi * invc and zlo * invc are exact products.
            invc = round_sig(2 / (z0 + z1), 26)
        logc = -frac(mp.log(mpf_of(invc)))
        logc_hi = round_to_bits(logc, -43)
        logc_lo = round_double(logc - logc_hi)
        rmax = max(rmax, abs(z0 * invc - 1), abs(z1 * invc - 1))
        table.append((bits(float(invc)), bits(float(logc_hi)), bits(logc_lo), 0))
        assert Fraction(float(invc)) == invc and Fraction(float(logc_hi)) == logc_hi
    R = mpf_of(rmax) * (1 + mpf(2) ** -20)
    # log1p(r) - r + r^2/2 = r^3 (A1 + A2 r + A3 r^2 + A4 r^3 + A5 r^4)
    g = lambda r: (mp.log1p(r) - r + r * r / 2) / r**3 if abs(r) > mpf(10) ** -40 else mpf(1) / 3
    c = cheb_fit(g, R, 4)
    err = max_abs_error(
        lambda r: mp.log1p(r) - r + r * r / 2 - r**3 * sum(mpf(cj) * r**j for j, cj in enumerate(c)), R, 2000
    )
    return dict(hi=float(hi), lo=lo, poly=c, err=err, table=table, rmax=float(rmax))


def fmt_f64(x: float) -> str:
    return f"f64::from_bits(0x{bits(x):016x})"


def write_tables():
    e = exp_constants()
    l = ln_constants()
    out = []
    w = out.append
    w("//! Tables and constants of [`exp`](super::exp) and [`ln`](super::ln), generated by")
    w("//! `src/math/testdata/generate.py tables` from mpmath at 320 bits. Do not edit.")
    w("//!")
    w("//! Bit patterns, not decimal literals, so that what is tested is what is compiled.")
    w("")
    w("/// `N / ln 2` with `N = 128` subintervals per octave.")
    w(f"pub(super) const EXP_INV_LN2_N: f64 = {fmt_f64(e['inv_ln2_n'])}; // {e['inv_ln2_n']!r}")
    w("/// `ln 2 / N` to 35 bits: `k * EXP_LN2_HI_N` is exact for `|k| < 2^18`.")
    w(f"pub(super) const EXP_LN2_HI_N: f64 = {fmt_f64(e['hi'])}; // {e['hi']!r}")
    w("/// `ln 2 / N - EXP_LN2_HI_N`, rounded.")
    w(f"pub(super) const EXP_LN2_LO_N: f64 = {fmt_f64(e['lo'])}; // {e['lo']!r}")
    err = float(mp.log(e["err"], 2))
    w(f"/// `e^r - 1 - r - r^2/2 ~ r^3 (C3 + C4 r + C5 r^2)` on `|r| <= ln2/256`, abs error 2^{err:.1f}.")
    w("pub(super) const EXP_POLY: [f64; 3] = [")
    for c in e["poly"]:
        w(f"    {fmt_f64(c)}, // {c!r}")
    w("];")
    w("/// Per `j` in `0..128`: the bits of `tail_j`, then `bits(T_j) - (j << 45)`, where")
    w("/// `T_j = 2^(j/128)` rounded and `T_j (1 + tail_j)` is `2^(j/128)` to about 106 bits.")
    w("/// The shift pre-subtracted lets `k << 45` add the exponent and `j` in one step.")
    w("#[rustfmt::skip]")
    w(f"pub(super) static EXP_TABLE: [u64; {2 * EXP_N}] = [")
    for t, s in e["table"]:
        w(f"    0x{t:016x}, 0x{s:016x},")
    w("];")
    w("")
    w("/// `ln`: inputs are split as `x = 2^k z` with `bits(z) - LN_OFF < 2^52`; the subinterval")
    w("/// containing 1.0 is centred on it.")
    w(f"pub(super) const LN_OFF: u64 = 0x{LN_OFF:016x};")
    w("/// `ln 2` to a multiple of 2^-42: `k * LN_LN2_HI` is exact for `|k| < 2^11`.")
    w(f"pub(super) const LN_LN2_HI: f64 = {fmt_f64(l['hi'])}; // {l['hi']!r}")
    w("/// `ln 2 - LN_LN2_HI`, rounded.")
    w(f"pub(super) const LN_LN2_LO: f64 = {fmt_f64(l['lo'])}; // {l['lo']!r}")
    err = float(mp.log(l["err"], 2))
    w(f"/// `log1p(r) - r + r^2/2 ~ r^3 (A1 + A2 r + ... + A5 r^4)` on `|r| <= {l['rmax']:.6f}`, abs error 2^{err:.1f}.")
    w("pub(super) const LN_POLY: [f64; 5] = [")
    for c in l["poly"]:
        w(f"    {fmt_f64(c)}, // {c!r}")
    w("];")
    w("/// Per subinterval `i` in `0..128`, stride 4: `1/c` (26 significant bits, so products")
    w("/// with it are exact), `log c` to a multiple of 2^-43 (so `k ln2_hi + log c` is")
    w("/// exact), the rest of `log c`, and padding. `c = 1/invc` exactly.")
    w("#[rustfmt::skip]")
    w(f"pub(super) static LN_TABLE: [u64; {4 * LN_N}] = [")
    for a, b_, c_, d in l["table"]:
        w(f"    0x{a:016x}, 0x{b_:016x}, 0x{c_:016x}, 0x{d:016x},")
    w("];")
    path = os.path.join(HERE, "..", "tables.rs")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {os.path.normpath(path)}; exp poly err 2^{float(mp.log(e['err'], 2)):.1f}, "
          f"ln poly err 2^{float(mp.log(l['err'], 2)):.1f}, ln |r| <= {l['rmax']}")


# --- reference values ---------------------------------------------------------------------

def checked(fn, x: float):
    """Correctly rounded fn(x) with its residual, checked at a higher precision."""
    out = []
    for prec in (PREC, PREC + 128):
        with mp.workprec(prec):
            v = fn(mpf(x))
            f = frac(v)
            out.append((round_double(f), f))
    (r0, f0), (r1, f1) = out
    assert bits(r0) == bits(r1), f"rounding unstable at {x!r}"
    return r0, f1


def line(x: float, fn) -> str:
    r, f = checked(fn, x)
    if r in (0.0, float("inf")) or f == 0:
        res = 0.0
    else:
        res = residual(f, r)
    return f"{bits(x):016x} {bits(r):016x} {res:.4f}"


def exp_points(rng: random.Random, dense: int = 0):
    pts = []
    if dense:
        pts += [rng.uniform(-745.1, 709.7) for _ in range(dense // 2)]
        pts += [rng.uniform(-50.0, 50.0) for _ in range(dense // 2)]
        return pts
    pts += [rng.uniform(-50.0, 50.0) for _ in range(1200)]
    pts += [rng.uniform(-745.13, 709.78) for _ in range(600)]
    pts += [rng.uniform(-1.0, 1.0) for _ in range(300)]
    pts += [rng.uniform(-745.13, -708.39) for _ in range(150)]  # subnormal results
    pts += [rng.uniform(708.0, 709.78) for _ in range(50)]
    pts += [rng.uniform(-745.2, -708.0) for _ in range(50)]
    # either side of the fast path's |x| <= 700, where s * tmp can be subnormal
    pts += [rng.uniform(-712.0, -690.0) for _ in range(250)]
    pts += [rng.uniform(690.0, 709.78) for _ in range(50)]
    # tiny arguments, down to subnormals
    for e in range(-1074, 0, 7):
        pts += [2.0**e, -(2.0**e), 1.37 * 2.0**e if e > -1070 else 2.0**e]
    # subinterval boundaries: x = (k + 1/2) ln2/128, where the reduction picks a side
    for k in rng.sample(range(-137500, 131000), 150):
        m = float(mpf_of((Fraction(k) + Fraction(1, 2)) * LN2 / EXP_N))
        pts += [from_bits(bits(m) - 1), m, from_bits(bits(m) + 1)]
    # exact multiples of ln2/128 and their neighbours
    for k in rng.sample(range(-137000, 131000), 60):
        m = float(mpf_of(Fraction(k) * LN2 / EXP_N))
        b = bits(m)
        pts += [from_bits(b - 1), m, from_bits(b + 1)]
    # edges of the fast path, overflow and underflow
    for v in (700.0, -700.0, 708.0, -708.0, 709.0, 709.78, 709.782712893384, -708.3964185322641,
              -708.39641853226, -708.4, -744.44007192138126, -745.1332191019411,
              -745.13321910194122, -745.1332191019412, -745.14, 1.0, -1.0, 0.5, 2.0,
              10.0, 20.0, 100.0, -100.0, 0.6931471805599453, -0.6931471805599453):
        b = bits(v)
        pts += [from_bits(b - 2), from_bits(b - 1), v, from_bits(b + 1), from_bits(b + 2)]
    return [p for p in pts if -745.2 < p < 709.79]


def ln_points(rng: random.Random, dense: int = 0):
    pts = []
    if dense:
        pts += [2.0 ** rng.uniform(-1000.0, 1000.0) for _ in range(dense // 2)]
        pts += [rng.uniform(0.5, 2.0) for _ in range(dense // 4)]
        pts += [1.0 + rng.uniform(-2.0**-7, 2.0**-7) for _ in range(dense // 4)]
        return pts
    pts += [2.0 ** rng.uniform(-996.6, 996.6) for _ in range(1200)]  # (1e-300, 1e300)
    pts += [rng.uniform(0.9, 1.1) for _ in range(400)]
    pts += [1.0 + rng.uniform(-2.0**-7, 2.0**-7) for _ in range(300)]
    pts += [2.0 ** rng.uniform(-1074.0, -1022.0) for _ in range(100)]  # subnormals
    pts += [2.0 ** rng.uniform(-1074.0, 1024.0) for _ in range(200)]
    for k in range(1, 60):  # 1 +- k ulps and 1 +- 2^-k
        pts += [from_bits(bits(1.0) + k), from_bits(bits(1.0) - k), 1.0 + 2.0**-k, 1.0 - 2.0**-(k + 1)]
    # subinterval boundaries, in several octaves
    for i in range(0, 129, 1):
        for k in rng.sample(range(-1020, 1020), 2) + [0]:
            b = (LN_OFF + (i << 45) + (k << 52)) % 2**64
            pts += [from_bits(b - 1), from_bits(b), from_bits(b + 1)]
    for v in (5e-324, 1e-323, 2.2250738585072014e-308, 2.225073858507201e-308,
              1.7976931348623157e308, 2.0, 0.5, 10.0, 2.718281828459045, 1e-300, 1e300):
        pts += [v]
    return [p for p in pts if 0.0 < p < float("inf")]


def quantile(p: Fraction):
    """Phi^-1(p) at the working precision, by Newton from a double estimate."""
    if p > Fraction(1, 2):
        return -quantile(1 - p)
    if p == Fraction(1, 2):
        return mpf(0)
    from statistics import NormalDist

    pm = mpf_of(p)
    x = mpf(NormalDist().inv_cdf(max(float(p), 5e-324)))
    for _ in range(100):
        step = (mp.ncdf(x) - pm) / mp.npdf(x)
        x -= step
        if abs(step) < abs(x) * mpf(2) ** (-mp.prec + 8):
            break
    return x


def normal_line(p: Fraction, label: str) -> str:
    out = []
    for prec in (PREC, PREC + 128):
        with mp.workprec(prec):
            f = frac(quantile(p))
            out.append((round_double(f), f))
    (r0, _), (r1, f) = out
    assert bits(r0) == bits(r1)
    res = 0.0 if f == 0 else residual(f, r0)
    return f"{label} {bits(r0):016x} {res:.4f}"


def normal_refs(rng: random.Random):
    lines = []
    ps = [rng.random() for _ in range(800)]
    ps += [2.0 ** rng.uniform(-997.0, -1.0) for _ in range(400)]
    ps += [1.0 - 2.0 ** rng.uniform(-53.0, -1.0) for _ in range(300)]
    ps += [rng.uniform(0.07, 0.08) for _ in range(50)] + [rng.uniform(0.92, 0.93) for _ in range(50)]
    for v in (0.075, 0.925, 1.3887943864964021e-11, 1.0 - 1.3887943864964021e-11, 2.0**-54,
              2.0**-53, 1.0 - 2.0**-53, 0.5, 1e-300, 5e-324, 1e-310, 0.025, 0.975):
        b = bits(v)
        ps += [from_bits(b - 1), v, from_bits(b + 1)]
    for p in ps:
        if 0.0 < p < 1.0:
            lines.append(normal_line(Fraction(p), f"{bits(p):016x}"))
    words = [rng.getrandbits(64) for _ in range(500)]
    words += [0, 1, (1 << 11) - 1, 1 << 11, (1 << 63) - 1, 1 << 63, 2**64 - 1, 2**64 - (1 << 11)]
    words += [(1 << 63) - (1 << 11), (1 << 63) + (1 << 11)]
    for w in words:
        m = w >> 11
        u = (Fraction(m) + Fraction(1, 2)) / 2**53
        lines.append(normal_line(u, f"B {w:016x}"))
    return lines


def write_refs():
    rng = random.Random(20240611)
    for name, fn, pts in (
        ("exp", mp.exp, exp_points(rng)),
        ("ln", mp.log, ln_points(rng)),
    ):
        seen = set()
        lines = [f"# {name}: input bits, correctly rounded output bits, residual in ulps "
                 f"(see generate.py)"]
        for x in pts:
            if bits(x) in seen:
                continue
            seen.add(bits(x))
            lines.append(line(x, fn))
        with open(os.path.join(HERE, f"{name}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"wrote {name}.txt: {len(lines) - 1} points")
    lines = ["# inverse normal CDF: p bits (or `B` and 64 random bits for normal_from_bits), "
             "correctly rounded quantile bits, residual in ulps"]
    lines += normal_refs(rng)
    with open(os.path.join(HERE, "normal.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote normal.txt: {len(lines) - 1} points")


def write_dense(n: int, out_dir: str):
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(7)
    for name, fn, pts in (("exp", mp.exp, exp_points(rng, n)), ("ln", mp.log, ln_points(rng, n))):
        with open(os.path.join(out_dir, f"{name}_dense.txt"), "w") as f:
            for x in pts:
                # one precision only: the committed files already check stability
                v = fn(mpf(x))
                fv = frac(v)
                r = round_double(fv)
                res = 0.0 if r in (0.0, float("inf")) or fv == 0 else residual(fv, r)
                f.write(f"{bits(x):016x} {bits(r):016x} {res:.4f}\n")
        print(f"wrote {name}_dense.txt: {len(pts)} points")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    i = 0
    while i < len(argv):
        if argv[i] == "tables":
            write_tables()
        elif argv[i] == "refs":
            write_refs()
        elif argv[i] == "dense":
            write_dense(int(argv[i + 1]), argv[i + 2])
            i += 2
        else:
            print(f"unknown command {argv[i]!r}")
            return 2
        i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
