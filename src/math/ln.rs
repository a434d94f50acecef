//! `ln`: table-driven natural logarithm after Tang (ACM TOMS 16(4), 1990) and ARM's
//! optimized-routines `log` (Szabolcs Nagy, 2018), rearranged so that no step needs a
//! fused multiply-add and no separate path is needed near 1.
//!
//! Contract: the result depends on the input bits alone (IEEE-754 `+ - * /`, exact bit
//! operations and table loads, in one fixed order). The error is below 0.52 ulp for
//! every positive input, subnormals included (measured maximum 0.503 ulp, see
//! `math/mod.rs`);
//! `ln(1) = +0`, `ln(±0) = -inf`, `ln(+inf) = +inf`, negative inputs give NaN, and NaN in
//! gives the same NaN out.
//!
//! `x = 2^k z` with `z` in `[0.6855, 1.371)`, split into 128 subintervals of centre
//! `c`; `ln x = k ln 2 + ln c + log1p(r)`, `r = z/c - 1`, `|r| <= 2^-8`. Three choices
//! keep every rounding error but the last far below half an ulp:
//! - `1/c` has 26 significant bits and `z` is split into 27 + 26 bits, so `z (1/c) - 1`
//!   is two exact products, an exact subtraction and one addition whose error is
//!   recovered exactly (Knuth's TwoSum);
//! - `k ln2_hi + (ln c)_hi` is exact (both multiples of 2^-43, magnitude below 2^10),
//!   and its sum with `r` is split exactly into `hi + lo` (Dekker's Fast2Sum);
//! - the subinterval around 1 has `c = 1` exactly, so there `ln x = r + log1p(r) - r`
//!   with `r = x - 1` exact, and the error stays relative however close `x` is to 1.

use super::tables::{LN_LN2_HI, LN_LN2_LO, LN_OFF, LN_POLY, LN_TABLE};
use super::vector::Lanes;

/// `2^52 + 2048`: the exponent `k` is read as the integer `k + 2048` in the mantissa of
/// `2^52`, then this is subtracted, so `k` becomes a double without a conversion
/// instruction (AVX2 has none for 64-bit integers).
const K_BIAS: f64 = 4503599627372544.0;

/// `ln x`, the natural logarithm, within 0.52 ulp for every positive `x` (worst seen
/// 0.503), with bits that depend on `x` alone (see [`math`](crate::math)).
/// `ln(±0) = -inf`, `ln(+inf) = +inf`, negative `x` gives NaN, NaN the same NaN.
///
/// ```
/// assert_eq!(carlo::math::ln(1.0), 0.0);
/// assert_eq!(carlo::math::ln(std::f64::consts::E), 1.0);
/// assert_eq!(carlo::math::ln(0.0), f64::NEG_INFINITY);
/// assert!(carlo::math::ln(-1.0).is_nan());
/// ```
#[inline]
pub fn ln(x: f64) -> f64 {
    if (f64::MIN_POSITIVE..f64::INFINITY).contains(&x) {
        // SAFETY: the scalar lanes have no instruction set requirement.
        unsafe { kernel(x) }
    } else {
        special(x)
    }
}

/// `ln` on every lane: the kernel when every lane is a positive normal number, else the
/// scalar function lane by lane (the same operations, so the same bits).
///
/// # Safety
/// The CPU must support `V`'s instruction set (see [`Lanes`]).
#[inline(always)]
pub unsafe fn lanes<V: Lanes>(x: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let ok = V::mask_and(
            x.ge(V::splat(f64::MIN_POSITIVE)),
            x.lt(V::splat(f64::INFINITY)),
        );
        if V::all(ok) {
            kernel(x)
        } else {
            x.map_lanes(ln)
        }
    }
}

/// The logarithm of the number whose bits are `x`, a positive normal number, or a
/// subnormal one renormalised with its exponent field allowed to wrap below zero.
#[inline(always)]
unsafe fn kernel<V: Lanes>(x: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`; table indices are
    // masked to 0..512.
    unsafe {
        let tmp = x.sub_bits(V::splat_bits(LN_OFF));
        let i4 = tmp.shr::<45>().and(V::splat_bits(127)).shl::<2>();
        // k is the top 12 bits of tmp, signed: (k mod 4096) ^ 2048 = k + 2048.
        let kd = tmp
            .shr::<52>()
            .xor(V::splat_bits(0x800))
            .or(V::splat_bits(0x4330_0000_0000_0000))
            .sub(V::splat(K_BIAS));
        let z = x.sub_bits(tmp.and(V::splat_bits(0xfff0_0000_0000_0000)));
        let (invc, logc_hi) = V::lookup_pair(&LN_TABLE, i4);
        let logc_lo = V::lookup(&LN_TABLE, i4.add_bits(V::splat_bits(2)));

        let zhi = z.and(V::splat_bits(!((1u64 << 26) - 1)));
        let zlo = z.sub(zhi);
        let a = zhi.mul(invc).sub(V::splat(1.0));
        let b = zlo.mul(invc);
        let r = a.add(b);
        let bb = r.sub(a);
        let r_lo = a.sub(r.sub(bb)).add(b.sub(bb));

        let w = kd.mul(V::splat(LN_LN2_HI)).add(logc_hi);
        let hi = w.add(r);
        let lo = w
            .sub(hi)
            .add(r)
            .add(r_lo)
            .add(kd.mul(V::splat(LN_LN2_LO)).add(logc_lo));

        // log1p(r) - r
        let r2 = r.mul(r);
        let c = |i: usize| V::splat(LN_POLY[i]);
        let p = r2.mul(V::splat(-0.5).add(r.mul(c(0)))).add(
            r2.mul(r2)
                .mul(c(1).add(r.mul(c(2))).add(r2.mul(c(3).add(r.mul(c(4)))))),
        );
        lo.add(p).add(hi)
    }
}

/// Zero, negative, subnormal, infinite and NaN inputs.
#[cold]
#[inline(never)]
fn special(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return x;
    }
    // Subnormal: scale by 2^52 exactly, and take 52 off the exponent field (it wraps
    // below zero; the kernel reads the exponent as a signed number).
    let scaled = (x * f64::from_bits(0x4330_0000_0000_0000)).to_bits(); // 2^52
    // SAFETY: scalar lanes.
    unsafe { kernel(f64::from_bits(scaled.wrapping_sub(52 << 52))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(ln(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(f64::NEG_INFINITY).is_nan());
        assert!(ln(-1.0).is_nan());
        assert!(ln(-f64::from_bits(1)).is_nan());
        assert!(ln(f64::NAN).is_nan());
        let payload = f64::from_bits(0x7ff8_0000_dead_beef);
        assert_eq!(ln(payload).to_bits(), payload.to_bits());
        assert_eq!(ln(2.0), std::f64::consts::LN_2);
        assert_eq!(ln(10.0), std::f64::consts::LN_10);
        assert_eq!(ln(std::f64::consts::E), 1.0);
        // the smallest subnormal: -1074 ln 2
        assert_eq!(ln(f64::from_bits(1)), -744.4400719213812);
        assert_eq!(ln(f64::MAX), 709.782712893384);
    }

    #[test]
    fn powers_of_two_and_near_one() {
        for k in -1074i32..1024 {
            let x = if k >= -1022 {
                f64::from_bits(((k + 1023) as u64) << 52)
            } else {
                f64::from_bits(1 << (k + 1074))
            };
            let want = k as f64 * std::f64::consts::LN_2;
            assert!((ln(x) - want).abs() <= want.abs() * 2.3e-16, "2^{k}");
        }
        // ln(1 + d) = d - d^2/2 + d^3/3 - ...: for |d| <= 2^-30 the first three terms
        // are the value to far under an ulp, so the result must be their rounding.
        for k in 30..=60 {
            for d in [2.0f64.powi(-k), -(2.0f64.powi(-k)), 3.0 * 2.0f64.powi(-k)] {
                let x = 1.0 + d;
                let d = x - 1.0;
                // d - d^2/2 + d^3/3 in double-double, then rounded once
                let (a, b) = (d, -(d * d) / 2.0);
                let s = a + b;
                let err = (a - s) + b;
                let want = s + (err + d * d * d / 3.0);
                assert_eq!(ln(x), want, "1 + {d:e}");
            }
        }
    }
}
