//! `sin`, `cos` and `atan2` on carlo's own terms: the result depends on the input bits
//! alone (IEEE-754 `+ - * /`, exact integer and bit operations, in one fixed order, no
//! fused multiply-add), whatever the platform's libm says.
//!
//! # Method
//! - **Reduction** (`|x| > pi/4`): Payne and Hanek's reduction, exact for every finite
//!   double, in integer arithmetic. `x = m 2^e` times the 192 bits of `2/pi` that
//!   matter for it (the bits above give multiples of 4, those below less than 2^-130)
//!   is an exact 245-bit product; its two integer bits are the quadrant and its next
//!   128 bits the fraction `f`, `|f| <= 1/2`, which becomes `r = f pi/2` as a
//!   double-double `r + y`. No cancellation can hurt: the closest a double comes to a
//!   multiple of `pi/2` leaves `f` near 2^-62, still 66 good bits.
//! - **Kernels** on `|r| <= pi/4`: `sin r = r + r^3 S(r^2)`, `cos r = 1 - r^2/2 +
//!   r^4 C(r^2)` with `1 - r^2/2` carried exactly (`r^2` split by Dekker's product),
//!   and the tail `y` added to first order. `S` and `C` interpolate at Chebyshev nodes
//!   (fitted by `testdata/generate_trig.py`, relative error below 2^-57).
//! - **atan2**: the ratio of the smaller to the larger magnitude as a double-double
//!   `t` in `[0, 1]`; `atan t = atan c + atan((t - c) / (1 + t c))` around the nearest
//!   `c` of `0, 1/4, 1/2, 3/4, 1` (`t - c` is exact), an odd polynomial on
//!   `|u| <= 1/8`, and the quadrant by `pi/2 - a` and `pi - a` in double-double.
//!
//! # Accuracy (against mpmath, `testdata/trig.txt` and `atan2.txt`)
//! Below 1 ulp everywhere (measured maxima in [`math`](super)'s table); `sin(±0) = ±0`;
//! `sin`, `cos` of an infinity or NaN are NaN; `atan2` follows C99 Annex F for zeros,
//! infinities and NaN (`atan2(±0, -0) = ±pi`, `atan2(±0, +0) = ±0`, ...).

use super::dd::{fast_two_sum, two_prod, two_sum};
use super::trig_tables::{
    ATAN_CENTRES, ATAN_POLY, COS_POLY, PI_HI, PI_LO, PIO2_HI, PIO2_LO, SIN_POLY, TWO_OVER_PI,
};

/// `pi/4` rounded down: at or below it, no reduction.
const PIO4: f64 = 0.785_398_163_397_448_2;
/// Below this, `sin x = x` and `cos x = 1` correctly rounded (`x^2 / 6 < 2^-56`).
const TINY: f64 = 7.450_580_596_923_828e-9; // 2^-27

/// `sin x`, within 1 ulp, with bits that depend on `x` alone.
///
/// ```
/// assert_eq!(carlo::math::sin(0.0), 0.0);
/// assert!((carlo::math::sin(1e22) - (-0.8522008497671888)).abs() < 1e-16);
/// ```
pub fn sin(x: f64) -> f64 {
    sin_cos(x).0
}

/// `cos x`, within 1 ulp, with bits that depend on `x` alone.
///
/// ```
/// assert_eq!(carlo::math::cos(0.0), 1.0);
/// assert_eq!(carlo::math::cos(std::f64::consts::PI), -1.0);
/// ```
pub fn cos(x: f64) -> f64 {
    sin_cos(x).1
}

/// `(sin x, cos x)` from one reduction: the same bits as [`sin`] and [`cos`].
pub fn sin_cos(x: f64) -> (f64, f64) {
    let ax = x.abs();
    if ax <= PIO4 {
        if ax < TINY {
            return (x, 1.0);
        }
        return (sin_kernel(x, 0.0), cos_kernel(x, 0.0));
    }
    if !ax.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let (q, r, y) = reduce(ax);
    let (s, c) = (sin_kernel(r, y), cos_kernel(r, y));
    let (s, c) = match q & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    };
    if x < 0.0 { (-s, c) } else { (s, c) }
}

/// `sin(r + y)` for `|r| <= pi/4` (a little more is fine), `|y| <= ulp(r)`.
#[inline]
fn sin_kernel(r: f64, y: f64) -> f64 {
    let z = r * r;
    let v = z * r;
    let p = horner(&SIN_POLY, z);
    // sin(r + y) = sin r + y cos r to first order, cos r ~ 1 - z/2
    r + (v * p + (y - 0.5 * z * y))
}

/// `cos(r + y)` for `|r| <= pi/4`, `|y| <= ulp(r)`.
#[inline]
fn cos_kernel(r: f64, y: f64) -> f64 {
    let (z, zl) = two_prod(r, r);
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    // w >= 0.69, so 1 - w and its difference with hz are exact
    let c = (1.0 - w) - hz;
    let q = z * z * horner(&COS_POLY, z);
    w + (c + (q - (0.5 * zl + r * y)))
}

/// `c[0] + z (c[1] + z (...))`.
#[inline(always)]
fn horner(c: &[f64], z: f64) -> f64 {
    let mut acc = c[c.len() - 1];
    for &ci in c[..c.len() - 1].iter().rev() {
        acc = ci + z * acc;
    }
    acc
}

/// The bits `p .. p + 64` of `[0; 64] ++ bits(2/pi)`, counted from 0 at the top.
#[inline]
fn two_over_pi_window(p: usize) -> u64 {
    let word = |j: usize| -> u64 {
        match j {
            0 => 0,
            j if j <= TWO_OVER_PI.len() => TWO_OVER_PI[j - 1],
            _ => 0,
        }
    };
    let (q, s) = (p / 64, p % 64);
    if s == 0 {
        word(q)
    } else {
        (word(q) << s) | (word(q + 1) >> (64 - s))
    }
}

/// Payne-Hanek: for finite `ax > pi/4`, `(q, r, y)` with `ax = (4k + q) pi/2 + r + y`,
/// `|r + y| <= pi/4`, `r + y` a double-double to about 2^-120 relative.
fn reduce(ax: f64) -> (u32, f64, f64) {
    let b = ax.to_bits();
    // ax > pi/4 is normal: ax = m 2^e with a 53-bit integer m
    let m = (b & ((1 << 52) - 1)) | (1 << 52);
    let e = ((b >> 52) as i64) - 1075;
    // Bits b_i of 2/pi (i = 1, 2, ... at weights 2^-i) with i < e - 1 add multiples of
    // 4 to x 2/pi: the window starts at i0 = e - 1 (zeros where i0 < 1), 192 bits.
    // Bit i sits at index (i - 1) + 64 of the zero-padded string; e >= -53 here.
    let p = (e - 2 + 64) as usize;
    let w0 = two_over_pi_window(p) as u128;
    let w1 = two_over_pi_window(p + 64) as u128;
    let w2 = two_over_pi_window(p + 128) as u128;
    let m = m as u128;
    // m * (w0 w1 w2): four limbs, value P 2^-190 = x 2/pi mod 4 (to 2^-130)
    let mut acc = m * w2;
    let l0 = acc as u64;
    acc = (acc >> 64) + m * w1;
    let l1 = acc as u64;
    acc = (acc >> 64) + m * w0;
    let l2 = acc as u64;
    // quadrant: bits 190, 191 of P; fraction: bits 62 .. 190
    let mut q = (l2 >> 62) as u32;
    let f = (((l2 & ((1 << 62) - 1)) as u128) << 66) | ((l1 as u128) << 2) | ((l0 >> 62) as u128);
    // round to the nearest quadrant: a fraction of 1/2 or more counts from the next one
    let fs = f as i128; // f - 2^128 when its top bit is set
    if fs < 0 {
        q = q.wrapping_add(1);
    }
    let hi = fs as f64; // rounded to nearest
    let lo = fs.wrapping_sub(hi as i128) as f64;
    let scale = f64::from_bits((1023 - 128) << 52); // 2^-128
    let (fh, fl) = (hi * scale, lo * scale);
    // r = f pi/2 in double-double
    let (ph, pl) = two_prod(fh, PIO2_HI);
    let pl = pl + (fh * PIO2_LO + fl * PIO2_HI);
    let (r, y) = fast_two_sum(ph, pl);
    (q, r, y)
}

/// `atan2(y, x)`: the angle of the point `(x, y)`, in `[-pi, pi]`, within 1 ulp, with
/// bits that depend on the inputs alone. Zeros, infinities and NaN as in C99 Annex F:
/// the sign of a zero `y` is kept, a zero `x` of negative sign gives `±pi`.
///
/// ```
/// use carlo::math::atan2;
/// assert_eq!(atan2(1.0, 1.0), std::f64::consts::FRAC_PI_4);
/// assert_eq!(atan2(0.0, -1.0), std::f64::consts::PI);
/// assert_eq!(atan2(-0.0, -1.0), -std::f64::consts::PI);
/// assert_eq!(atan2(-0.0, 1.0).to_bits(), (-0.0f64).to_bits());
/// ```
pub fn atan2(y: f64, x: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    let (ay, ax) = (y.abs(), x.abs());
    let angle = if ay == 0.0 {
        if x.is_sign_negative() { PI_HI } else { 0.0 }
    } else if ax == 0.0 {
        PIO2_HI
    } else if ax.is_infinite() || ay.is_infinite() {
        match (ay.is_infinite(), ax.is_infinite(), x < 0.0) {
            (true, true, false) => PIO2_HI / 2.0,
            (true, true, true) => 3.0 * (PIO2_HI / 2.0),
            (true, false, _) => PIO2_HI,
            (false, _, false) => 0.0,
            (false, _, true) => PI_HI,
        }
    } else {
        finite_angle(ay, ax, x < 0.0)
    };
    if y.is_sign_negative() { -angle } else { angle }
}

/// The angle of `(±ax, ay)` for finite positive `ay`, `ax`, in `(0, pi)`.
fn finite_angle(ay: f64, ax: f64, x_negative: bool) -> f64 {
    // Only the ratio matters: scale the larger into [1, 2) (exact unless the smaller
    // underflows, when the angle is below 2^-1000 from 0 or pi anyway).
    let big = ay.max(ax);
    let (ay, ax) = if big < f64::MIN_POSITIVE {
        (ay * pow2(600), ax * pow2(600))
    } else {
        (ay, ax)
    };
    let k = ((ay.max(ax).to_bits() >> 52) as i64) - 1023;
    // 2^-k in two normal factors (k is in -475 ..= 1023)
    let (s1, s2) = (pow2(-k / 2), pow2(-k - (-k / 2)));
    let (ay, ax) = (ay * s1 * s2, ax * s1 * s2);
    let swap = ay > ax;
    let (num, den) = if swap { (ax, ay) } else { (ay, ax) };
    // t = num / den as a double-double: the residual num - t den is exact
    let t = num / den;
    let (p, pe) = two_prod(t, den);
    let tl = ((num - p) - pe) / den;
    let (mut hi, mut lo) = atan_dd(t, tl);
    if swap {
        let (h, e) = two_sum(PIO2_HI, -hi);
        (hi, lo) = (h, e + (PIO2_LO - lo));
    }
    if x_negative {
        let (h, e) = two_sum(PI_HI, -hi);
        (hi, lo) = (h, e + (PI_LO - lo));
    }
    hi + lo
}

/// `2^k` for `k` in the normal range.
fn pow2(k: i64) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

/// `atan(t + tl)` for `t` in `[0, 1]`, `|tl| <= ulp(t)`, as an unnormalised
/// double-double `(hi, lo)`.
fn atan_dd(t: f64, tl: f64) -> (f64, f64) {
    // nearest centre c = k/4, by comparisons (a rounded 4t + 1/2 could pick a centre
    // too far); t - c is then exact (Sterbenz: t in [c/2, 2c] for k >= 1)
    let k = usize::from(t >= 0.125)
        + usize::from(t >= 0.375)
        + usize::from(t >= 0.625)
        + usize::from(t >= 0.875);
    let (u, ul) = if k == 0 {
        (t, 0.0)
    } else {
        let c = k as f64 * 0.25;
        let num = t - c;
        // den = 1 + t c as a double-double (t c is exact for c = 1/4, 1/2, 1)
        let (tc, tce) = two_prod(t, c);
        let (dh, dl) = two_sum(1.0, tc);
        let dl = dl + tce;
        let u = num / dh;
        let (p, pe) = two_prod(u, dh);
        // u + ul = num / (dh + dl) to first order
        (u, (((num - p) - pe) - u * dl) / dh)
    };
    let z = u * u;
    let poly = u * z * horner(&ATAN_POLY, z);
    let (ch, cl) = ATAN_CENTRES[k];
    let (hi, e) = two_sum(ch, u);
    // d atan / dt = 1 / (1 + t^2): the tail of t; d atan(u) / du ~ 1 for the tail of u
    let lo = e + (cl + (poly + (ul + tl / (1.0 + t * t))));
    (hi, lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(sin(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(sin(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(cos(-0.0), 1.0);
        for x in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert!(sin(x).is_nan() && cos(x).is_nan());
        }
        assert_eq!(sin(f64::from_bits(1)), f64::from_bits(1));
        assert_eq!(sin(-1e-300), -1e-300);
        assert_eq!(cos(1e-300), 1.0);
        // sin(pi) is the rounding error of pi, cos(pi/2) likewise
        assert_eq!(sin(std::f64::consts::PI), 1.2246467991473532e-16);
        assert_eq!(cos(std::f64::consts::FRAC_PI_2), 6.123233995736766e-17);
        assert_eq!(sin(f64::MAX), 0.004961954789184062);
        assert_eq!(cos(f64::MAX), -0.9999876894265599);
    }

    #[test]
    fn sin_cos_agree_with_sin_and_cos() {
        let mut x = -1e3;
        while x < 1e3 {
            let (s, c) = sin_cos(x);
            assert_eq!(s.to_bits(), sin(x).to_bits());
            assert_eq!(c.to_bits(), cos(x).to_bits());
            assert!((s * s + c * c - 1.0).abs() < 4e-16, "{x}");
            x += 0.37;
        }
    }

    #[test]
    fn atan2_zeros_and_infinities() {
        use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
        let bits = |x: f64| x.to_bits();
        assert_eq!(bits(atan2(0.0, 0.0)), bits(0.0));
        assert_eq!(bits(atan2(-0.0, 0.0)), bits(-0.0));
        assert_eq!(atan2(0.0, -0.0), PI);
        assert_eq!(atan2(-0.0, -0.0), -PI);
        assert_eq!(atan2(0.0, -3.0), PI);
        assert_eq!(atan2(-0.0, -3.0), -PI);
        assert_eq!(atan2(2.0, 0.0), FRAC_PI_2);
        assert_eq!(atan2(-2.0, -0.0), -FRAC_PI_2);
        assert_eq!(atan2(f64::INFINITY, f64::INFINITY), FRAC_PI_4);
        assert_eq!(atan2(f64::INFINITY, f64::NEG_INFINITY), 3.0 * FRAC_PI_4);
        assert_eq!(atan2(f64::NEG_INFINITY, 1.0), -FRAC_PI_2);
        assert_eq!(bits(atan2(-1.0, f64::INFINITY)), bits(-0.0));
        assert_eq!(atan2(1.0, f64::NEG_INFINITY), PI);
        assert!(atan2(f64::NAN, 1.0).is_nan() && atan2(1.0, f64::NAN).is_nan());
        assert_eq!(atan2(1.0, 1.0), FRAC_PI_4);
        assert_eq!(atan2(1e-300, 1e300), 0.0);
        assert_eq!(atan2(-1e-300, -1e300), -PI);
        assert_eq!(atan2(1e300, 1e-300), FRAC_PI_2);
        assert_eq!(atan2(f64::MAX, f64::MAX), FRAC_PI_4);
        assert_eq!(atan2(5e-324, 5e-324), FRAC_PI_4);
    }
}
