//! Complex numbers for the Fourier references (Heston's characteristic function), on
//! carlo's own [`exp`], [`ln`], [`sin_cos`] and [`atan2`]: every result depends on the
//! inputs' bits alone. Operations are written out in one fixed order, without fused
//! multiply-add.
//!
//! Branches are the principal ones: [`Complex::ln`] has its imaginary part in
//! `[-pi, pi]` and [`Complex::sqrt`] a non-negative real part, both with the cut on the
//! negative real axis, where the sign of a zero imaginary part picks the side
//! (`ln(-1 + 0i) = i pi`, `ln(-1 - 0i) = -i pi`), as in C99 Annex G.
//!
//! Accuracy against mpmath (`testdata/complex.txt`): see [`math`](super)'s table.

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::dd::{fast_two_sum, two_prod, two_sum};
use super::tables::{LN_LN2_HI, LN_LN2_LO};
use super::{atan2, exp, exp_m1, ln, ln_1p, sin_cos};

/// A complex number `re + i im`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Complex {
    /// The real part.
    pub re: f64,
    /// The imaginary part.
    pub im: f64,
}

/// `2^k` for `k` in the normal range.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

impl Complex {
    /// `i`.
    pub const I: Complex = Complex { re: 0.0, im: 1.0 };
    /// `1`.
    pub const ONE: Complex = Complex { re: 1.0, im: 0.0 };

    /// `re + i im`.
    pub const fn new(re: f64, im: f64) -> Complex {
        Complex { re, im }
    }

    /// The real number `re` (imaginary part `+0`).
    pub const fn real(re: f64) -> Complex {
        Complex { re, im: 0.0 }
    }

    /// The complex conjugate.
    pub fn conj(self) -> Complex {
        Complex::new(self.re, -self.im)
    }

    /// `self * k` for a real `k`.
    pub fn scale(self, k: f64) -> Complex {
        Complex::new(self.re * k, self.im * k)
    }

    /// `|z|`, without overflow or underflow in between, within about 0.6 ulp:
    /// `|z|^2` is formed exactly as a double-double, then its square root corrected.
    pub fn abs(self) -> f64 {
        let (a, b) = (self.re.abs(), self.im.abs());
        if a.is_infinite() || b.is_infinite() {
            return f64::INFINITY;
        }
        if a.is_nan() || b.is_nan() {
            return a + b;
        }
        let k = scale_exponent(a.max(b));
        let (a, b) = (mul_pow2(a, -k), mul_pow2(b, -k));
        let (hi, lo) = norm_sq(a, b);
        if hi == 0.0 {
            return 0.0;
        }
        let r = hi.sqrt();
        let (p, pe) = two_prod(r, r);
        let r = r + (((hi - p) - pe) + lo) / (2.0 * r);
        mul_pow2(r, k)
    }

    /// `e^z = e^re (cos im + i sin im)`; `e^(x ± 0i) = e^x ± 0i`. Finite where the
    /// result is (`re` up to 1418 when `cos im` is small enough).
    pub fn exp(self) -> Complex {
        if self.im == 0.0 {
            return Complex::new(exp(self.re), self.im);
        }
        let (s, c) = sin_cos(self.im);
        if self.re > 709.0 {
            // e^re overflows before the product does: two half steps
            let h = exp(0.5 * self.re);
            return Complex::new(c * h * h, s * h * h);
        }
        let e = exp(self.re);
        Complex::new(e * c, e * s)
    }

    /// `e^z - 1`, accurate also near `z = 0`:
    /// `expm1(re) cos im - 2 sin^2(im / 2) + i e^re sin im`.
    pub fn exp_m1(self) -> Complex {
        if self.im == 0.0 {
            return Complex::new(exp_m1(self.re), self.im);
        }
        let (s, c) = sin_cos(self.im);
        let (sh, _) = sin_cos(0.5 * self.im);
        let re = exp_m1(self.re) * c - 2.0 * (sh * sh);
        Complex::new(re, exp(self.re) * s)
    }

    /// The principal logarithm `ln|z| + i arg z`, `arg z` in `[-pi, pi]`; `ln 0 = -inf`
    /// (with the argument of the signed zeros). `ln|z|` stays accurate relative to
    /// itself near `|z| = 1`: `|z|^2` is formed exactly, as a double-double.
    pub fn ln(self) -> Complex {
        let arg = atan2(self.im, self.re);
        let (a, b) = (self.re.abs(), self.im.abs());
        if a.is_nan() || b.is_nan() {
            return Complex::new(a + b, arg);
        }
        if a.is_infinite() || b.is_infinite() {
            return Complex::new(f64::INFINITY, arg);
        }
        if a.max(b) == 0.0 {
            return Complex::new(f64::NEG_INFINITY, arg);
        }
        // scaled only far from 1, so that the squares neither overflow nor underflow
        let k = scale_exponent(a.max(b));
        let (a, b) = (mul_pow2(a, -k), mul_pow2(b, -k));
        // |z|^2 = hi + lo; near 1, hi - 1 is exact and ln(hi) accurate relative to it
        let (hi, lo) = norm_sq(a, b);
        let re = 0.5 * (ln(hi) + lo / hi);
        // + k ln 2, with k ln2_hi exact (ln2_hi has 42 bits, |k| < 2^11)
        let re = if k == 0 {
            re
        } else {
            let k = f64::from(k);
            k * LN_LN2_HI + (k * LN_LN2_LO + re)
        };
        Complex::new(re, arg)
    }

    /// `ln(1 + z)`, accurate also for small `|z|`.
    pub fn ln_1p(self) -> Complex {
        let (a, b) = (self.re, self.im);
        if a.abs() + b.abs() > 0.5 {
            return (self + Complex::ONE).ln();
        }
        // |1 + z|^2 - 1 = 2a + a^2 + b^2
        let re = 0.5 * ln_1p(2.0 * a + (a * a + b * b));
        Complex::new(re, atan2(b, 1.0 + a))
    }

    /// The principal square root, real part `>= 0`, with the sign of the imaginary part
    /// of `z` (so `sqrt(-4 ± 0i) = ±2i`).
    pub fn sqrt(self) -> Complex {
        let (a, b) = (self.re, self.im);
        if b.is_infinite() {
            return Complex::new(f64::INFINITY, b);
        }
        if a.is_nan() || b.is_nan() {
            return Complex::new(a + b, a + b);
        }
        if a == 0.0 && b == 0.0 {
            return Complex::new(0.0, b);
        }
        if a.is_infinite() {
            return if a > 0.0 {
                Complex::new(a, 0.0f64.copysign(b))
            } else {
                Complex::new(0.0, f64::INFINITY.copysign(b))
            };
        }
        // t = sqrt((|a| + |z|) / 2), scaled by an even power of two to stay in range
        let k = scale_exponent(a.abs().max(b.abs()));
        let k = k - k.rem_euclid(2); // even, so that the root scales back exactly
        let (sa, sb) = (mul_pow2(a, -k), mul_pow2(b, -k));
        let t = (0.5 * (sa.abs() + Complex::new(sa, sb).abs())).sqrt();
        // back to scale before dividing, so that a tiny b is not flushed to zero
        let t = mul_pow2(t, k / 2);
        if sa >= 0.0 {
            Complex::new(t, b / (2.0 * t))
        } else {
            Complex::new(b.abs() / (2.0 * t), t.copysign(b))
        }
    }
}

/// `a^2 + b^2` as a double-double `hi + lo` (exact but for the last addition's tail),
/// for `a`, `b` within `[2^-500, 2^500]` or zero.
fn norm_sq(a: f64, b: f64) -> (f64, f64) {
    let (a2, a2e) = two_prod(a, a);
    let (b2, b2e) = two_prod(b, b);
    let (hi, e) = two_sum(a2, b2);
    fast_two_sum(hi, e + (a2e + b2e))
}

/// The binary exponent of `x > 0` when it is outside `[2^-500, 2^500]`, else 0: how
/// far to scale so that squares and Dekker's products stay exact.
fn scale_exponent(x: f64) -> i32 {
    if (pow2(-500)..=pow2(500)).contains(&x) {
        return 0;
    }
    let b = x.to_bits();
    let e = ((b >> 52) & 0x7ff) as i32;
    if e == 0 {
        // subnormal: the position of the leading bit
        return -1011 - (b.leading_zeros() as i32);
    }
    e - 1023
}

/// `x 2^k` for `|k| <= 1100`, in two exact steps (each factor normal).
fn mul_pow2(x: f64, k: i32) -> f64 {
    if k == 0 {
        return x;
    }
    let h = k / 2;
    x * pow2(h) * pow2(k - h)
}

impl Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Neg for Complex {
    type Output = Complex;
    fn neg(self) -> Complex {
        Complex::new(-self.re, -self.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    /// `(ac - bd) + i (ad + bc)`, each product rounded, then the sum.
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

impl Mul<f64> for Complex {
    type Output = Complex;
    fn mul(self, k: f64) -> Complex {
        self.scale(k)
    }
}

impl Add<f64> for Complex {
    type Output = Complex;
    fn add(self, k: f64) -> Complex {
        Complex::new(self.re + k, self.im)
    }
}

impl Div for Complex {
    type Output = Complex;
    /// Smith's algorithm: no overflow from squaring the divisor.
    fn div(self, o: Complex) -> Complex {
        let (a, b, c, d) = (self.re, self.im, o.re, o.im);
        if c.abs() >= d.abs() {
            if c == 0.0 && d == 0.0 {
                return Complex::new(a / c, b / c);
            }
            let r = d / c;
            let den = c + d * r;
            Complex::new((a + b * r) / den, (b - a * r) / den)
        } else {
            let r = c / d;
            let den = c * r + d;
            Complex::new((a * r + b) / den, (b * r - a) / den)
        }
    }
}

impl Div<f64> for Complex {
    type Output = Complex;
    fn div(self, k: f64) -> Complex {
        Complex::new(self.re / k, self.im / k)
    }
}

impl fmt::Display for Complex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.im.is_sign_negative() {
            write!(f, "{} - {}i", self.re, -self.im)
        } else {
            write!(f, "{} + {}i", self.re, self.im)
        }
    }
}
