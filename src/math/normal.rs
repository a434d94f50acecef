//! Standard normal variates by inversion: Wichura's algorithm AS 241, `PPND16`
//! (Applied Statistics 37(3), 1988, pp. 477-484), on carlo's own [`ln`](super::ln).
//!
//! Contract: the result depends on the input bits alone. Accuracy against the true
//! quantile of the exact input (mpmath, `testdata/normal.txt`): relative error below
//! 7e-16 for every `p` in `(0, 1)` down to `1e-300` and beyond (measured maximum
//! 5.6e-16, 4.6 ulps, in `math/mod.rs`). AS 241's own approximation error is 1.4e-16;
//! the rest is the rounding of two degree-7 Horner evaluations and their quotient in
//! double. `inverse_normal_cdf(1 - p) = -inverse_normal_cdf(p)` exactly whenever
//! `1 - p` is exact, and `normal_from_bits(!w) = -normal_from_bits(w)` always. It is
//! increasing on any grid coarser than its error; between consecutive 53-bit
//! uniforms, where the true quantile moves by less than an ulp, rounding can step it
//! back by one ulp (once in 16 000 steps around the branch points, in the tests).
//!
//! AS 241 is three rational approximations of degree 7/7: one in `q = p - 1/2` for
//! `|q| <= 0.425`, two in `r = sqrt(-ln min(p, 1 - p))` for `r <= 5` and beyond. A
//! vector lane always performs exactly the operations the scalar code performs for it:
//! where lanes of different branches share a vector, both are computed and each lane
//! selects its own.

use super::ln;
use super::vector::Lanes;

/// Coefficients of AS 241 (`PPND16`), highest degree first for Horner's scheme, with
/// the paper's 20 digits (not rounded to 17) so the transcription can be checked.
/// Central region: `q A(r) / B(r)`, `r = 0.180625 - q^2`.
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    2.5090809287301226727e3,
    3.3430575583588128105e4,
    6.7265770927008700853e4,
    4.5921953931549871457e4,
    1.3731693765509461125e4,
    1.9715909503065514427e3,
    1.3314166789178437745e2,
    3.3871328727963666080,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    5.2264952788528545610e3,
    2.8729085735721942674e4,
    3.9307895800092710610e4,
    2.1213794301586595867e4,
    5.3941960214247511077e3,
    6.8718700749205790830e2,
    4.2313330701600911252e1,
    1.0,
];
/// Intermediate tails, `r <= 5`: `C(r - 1.6) / D(r - 1.6)`.
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    7.74545014278341407640e-4,
    2.27238449892691845833e-2,
    2.41780725177450611770e-1,
    1.27045825245236838258,
    3.64784832476320460504,
    5.76949722146069140550,
    4.63033784615654529590,
    1.42343711074968357734,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.05075007164441684324e-9,
    5.47593808499534494600e-4,
    1.51986665636164571966e-2,
    1.48103976427480074590e-1,
    6.89767334985100004550e-1,
    1.67638483018380384940,
    2.05319162663775882187,
    1.0,
];
/// Far tails, `r > 5` (`min(p, 1 - p) < e^-25`): `E(r - 5) / F(r - 5)`.
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    2.01033439929228813265e-7,
    2.71155556874348757815e-5,
    1.24266094738807843860e-3,
    2.65321895265761230930e-2,
    2.96560571828504891230e-1,
    1.78482653991729133580,
    5.46378491116411436990,
    6.65790464350110377720,
];
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    2.04426310338993978564e-15,
    1.42151175831644588870e-7,
    1.84631831751005468180e-5,
    7.86869131145613259100e-4,
    1.48753612908506148525e-2,
    1.36929880922735805310e-1,
    5.99832206555887937690e-1,
    1.0,
];

const SIGN: u64 = 0x8000_0000_0000_0000;

/// The standard normal quantile `Phi^-1(p)`, by Wichura's AS 241 (`PPND16`): relative
/// error below 7e-16 (worst seen 5.6e-16), bits that depend on `p` alone (see
/// [`math`](crate::math)). `p = 0` gives `-inf`, `p = 1` gives `+inf`, and `p` outside
/// `[0, 1]` or NaN gives NaN.
///
/// ```
/// use carlo::math::inverse_normal_cdf;
/// assert_eq!(inverse_normal_cdf(0.5), 0.0);
/// assert!((inverse_normal_cdf(0.975) - 1.959963984540054).abs() < 1e-15);
/// assert_eq!(inverse_normal_cdf(0.875), -inverse_normal_cdf(0.125));
/// ```
pub fn inverse_normal_cdf(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return if p == 0.0 {
            f64::NEG_INFINITY
        } else if p == 1.0 {
            f64::INFINITY
        } else {
            f64::NAN
        };
    }
    let q = p - 0.5;
    let t = if q < 0.0 { p } else { 1.0 - p };
    // SAFETY: the scalar lanes have no instruction set requirement.
    unsafe { ppnd16(q, t) }
}

/// A standard normal variate from 64 random bits, by inversion of the open-interval
/// uniform `u = (m + 1/2) 2^-53`, `m = bits >> 11` (so `u` is never 0 or 1, and
/// `u` and `1 - u` are equally likely).
///
/// `u` itself is not always a double: for `m >= 2^52` it needs 54 bits, and rounding
/// it would make `m = 2^53 - 1` give `u = 1` and an infinite variate. That half is
/// computed as `-Phi^-1(1 - u)` instead, exactly the same number by the symmetry of
/// [`inverse_normal_cdf`]; for `m < 2^52` the result is `inverse_normal_cdf(u)`, bit for
/// bit. The result lies in about `[-8.29, 8.29]`.
///
/// ```
/// use carlo::math::{inverse_normal_cdf, normal_from_bits};
/// let bits = 0x1234_5678_9abc_def0_u64;
/// let u = ((bits >> 11) as f64 + 0.5) * 2f64.powi(-53);
/// assert_eq!(normal_from_bits(bits), inverse_normal_cdf(u));
/// assert_eq!(normal_from_bits(!bits), -normal_from_bits(bits));
/// assert!(normal_from_bits(u64::MAX).is_finite());
/// ```
#[inline]
pub fn normal_from_bits(bits: u64) -> f64 {
    // SAFETY: the scalar lanes have no instruction set requirement.
    unsafe { from_bits_lanes(f64::from_bits(bits)) }
}

/// [`normal_from_bits`] on each lane, the lanes holding the random words' bits.
#[inline(always)]
pub(super) unsafe fn from_bits_lanes<V: Lanes>(bits: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let p = lower_uniform(bits);
        let x = ppnd16(p.sub(V::splat(0.5)), p);
        x.xor(bits.and(V::splat_bits(SIGN)))
    }
}

/// The first pass of the slice form: [`normal_from_bits`] on every lane whose uniform
/// is central (`|u - 1/2| <= 0.425`, about 85% of them), with the mask of the others,
/// whose values are meaningless and must be recomputed with [`from_bits_lanes`].
#[inline(always)]
pub(super) unsafe fn central_lanes<V: Lanes>(bits: V) -> (V, V::Mask) {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let q = lower_uniform(bits).sub(V::splat(0.5));
        let tail = V::splat(0.425).lt(q.and(V::splat_bits(!SIGN)));
        let x = central(q).xor(bits.and(V::splat_bits(SIGN)));
        (x, tail)
    }
}

/// `p = min(u, 1 - u)` for `u = (m + 1/2) 2^-53`, `m = bits >> 11`: the lower half's
/// uniform, or the mirror of the upper half's.
#[inline(always)]
unsafe fn lower_uniform<V: Lanes>(bits: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        // m' = m for the lower half, 2^53 - 1 - m for the upper one, always below
        // 2^52, so m' + 1/2 is exact.
        let upper = V::splat_bits(0).sub_bits(bits.shr::<63>());
        let m = bits
            .shr::<11>()
            .xor(upper)
            .and(V::splat_bits((1 << 52) - 1));
        // (2^52 + m') - (2^52 - 1/2) = m' + 1/2, exactly; times 2^-53, exactly.
        m.or(V::splat_bits(0x4330_0000_0000_0000))
            .sub(V::splat(4503599627370495.5))
            .mul(V::splat(f64::from_bits(0x3ca0_0000_0000_0000)))
    }
}

/// `Phi^-1(p)` from `q = p - 1/2` and `t = min(p, 1 - p)`, both exact.
///
/// Hand-written: a vector of lanes of one kind computes that kind only; a mixed one
/// computes both formulas on every lane and selects, so each lane still performs
/// exactly the scalar operations of its own branch. (The slice form sorts the lanes
/// first: it never builds mixed vectors.)
#[inline(always)]
unsafe fn ppnd16<V: Lanes>(q: V, t: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let is_central = q.and(V::splat_bits(!SIGN)).le(V::splat(0.425));
        if V::all(is_central) {
            return central(q);
        }
        let tails = tail(q, t);
        if !V::any(is_central) {
            return tails;
        }
        V::select(is_central, central(q), tails)
    }
}

/// AS 241 for `|q| <= 0.425`: `q A(r) / B(r)`, `r = 0.180625 - q^2`.
#[inline(always)]
unsafe fn central<V: Lanes>(q: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let r = V::splat(0.180625).sub(q.mul(q));
        let num = horner(r, |i| V::splat(A[i]));
        let den = horner(r, |i| V::splat(B[i]));
        q.mul(num).div(den)
    }
}

/// AS 241 for `|q| > 0.425`: with `r = sqrt(-ln t)`, `C(r - 1.6) / D(r - 1.6)` for
/// `r <= 5`, else `E(r - 5) / F(r - 5)`, negated below the median.
#[inline(always)]
unsafe fn tail<V: Lanes>(q: V, t: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let r = ln::lanes(t).xor(V::splat_bits(SIGN)).sqrt();
        let near = r.le(V::splat(5.0));
        let (num, den) = if V::all(near) {
            let x = r.sub(V::splat(1.6));
            (horner(x, |i| V::splat(C[i])), horner(x, |i| V::splat(D[i])))
        } else {
            // r > 5 means t < e^-25: per lane, the coefficients of its branch
            let x = r.sub(V::select(near, V::splat(1.6), V::splat(5.0)));
            let pick = |near_c: &[f64; 8], far_c: &[f64; 8], i: usize| {
                V::select(near, V::splat(near_c[i]), V::splat(far_c[i]))
            };
            (
                horner(x, |i| pick(&C, &E, i)),
                horner(x, |i| pick(&D, &F, i)),
            )
        };
        // -1 below the median, +1 above: (s num) / den = s (num / den) exactly
        let one = V::splat(1.0);
        let sign = V::select(q.lt(V::splat(0.0)), one.xor(V::splat_bits(SIGN)), one);
        sign.mul(num).div(den)
    }
}

/// `((c0 x + c1) x + ... ) x + c7`, in that order (AS 241's).
#[inline(always)]
unsafe fn horner<V: Lanes>(x: V, c: impl Fn(usize) -> V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let mut acc = c(0);
        for i in 1..8 {
            acc = acc.mul(x).add(c(i));
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(inverse_normal_cdf(0.0), f64::NEG_INFINITY);
        assert_eq!(inverse_normal_cdf(1.0), f64::INFINITY);
        assert_eq!(inverse_normal_cdf(-0.0), f64::NEG_INFINITY);
        assert_eq!(inverse_normal_cdf(0.5).to_bits(), 0.0f64.to_bits());
        for p in [
            -1e-300,
            -1.0,
            1.0 + f64::EPSILON,
            2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(inverse_normal_cdf(p).is_nan(), "{p}");
        }
        let tiny = inverse_normal_cdf(f64::from_bits(1));
        assert!(tiny.is_finite() && tiny < -38.0, "{tiny}");
    }

    #[test]
    fn extremes_of_the_uniform() {
        // m = 0 and m = 2^53 - 1: u = 2^-54 and 1 - 2^-54, never 0 or 1
        let lo = normal_from_bits(0);
        let hi = normal_from_bits(u64::MAX);
        assert_eq!(lo, inverse_normal_cdf(2.0f64.powi(-54)));
        assert_eq!(hi, -lo);
        assert!((lo + 8.2923610758).abs() < 1e-9, "{lo}");
        // the two middle values, u = 1/2 -+ 2^-54
        let below = normal_from_bits((1 << 63) - 1);
        let above = normal_from_bits(1 << 63);
        assert!(
            below < 0.0 && above > 0.0 && below == -above,
            "{below} {above}"
        );
    }

    #[test]
    fn symmetric() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            assert_eq!(
                normal_from_bits(!state).to_bits(),
                (-normal_from_bits(state)).to_bits()
            );
            let p = (state >> 11) as f64 * 2.0f64.powi(-53);
            if p > 0.0 {
                assert_eq!(inverse_normal_cdf(1.0 - p), -inverse_normal_cdf(p), "{p}");
            }
        }
    }

    #[test]
    fn monotone() {
        // A grid fine enough to be dense, coarse enough that neighbours differ by far
        // more than the error: every step of 2^-20 in u, and 2^-8 octaves in the tails.
        let mut last = f64::NEG_INFINITY;
        for i in 0..(1u64 << 20) {
            let x = normal_from_bits(i << 44);
            assert!(x > last, "step {i}: {x} after {last}");
            last = x;
        }
        let (mut last, mut last_p) = (f64::NEG_INFINITY, 0.0);
        for i in 0..(1074 * 256) {
            let p = 2.0f64.powf(-1074.0 + i as f64 / 256.0);
            if p == last_p {
                continue; // subnormal p: the grid is coarser than the step
            }
            let x = inverse_normal_cdf(p);
            assert!(x > last, "p = {p:e}: {x} after {last}");
            (last, last_p) = (x, p);
        }
        // across the branch boundaries at the finest grid normal_from_bits has: m = 0
        // and the ulp-level neighbourhoods of |q| = 0.425 and r = 5
        let (mut back, mut worst) = (0, 0.0f64);
        for centre in [0.075, 1.3887943864964021e-11, 2.0f64.powi(-40), 0.5] {
            let m0 = (centre * 2.0f64.powi(53)) as u64;
            let mut last = f64::NEG_INFINITY;
            for m in m0.saturating_sub(2000)..m0 + 2000 {
                let x = normal_from_bits(m << 11);
                // Within a branch a rational in double rounding can step back by an
                // ulp or two where consecutive inputs move the result by less than an
                // ulp; what must hold is monotonicity up to the stated error.
                assert!(x >= last - 7e-16 * last.abs(), "m = {m}: {x} after {last}");
                if x < last {
                    back += 1;
                    worst = worst.max((last - x) / last.abs());
                }
                last = last.max(x);
            }
        }
        eprintln!("finest grid: {back} steps back of 16000, at most {worst:.2e} relative");
    }
}
