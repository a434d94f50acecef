//! `exp`: Tang's table-driven method (ACM TOMS 15(2), 1989) with 128 subintervals per
//! octave, in the form of ARM's optimized-routines `exp` (Szabolcs Nagy, 2018) without
//! fused multiply-add.
//!
//! Contract: the result depends on the input bits alone (IEEE-754 `+ - * /`, exact bit
//! operations and table loads, in one fixed order). The error is below 0.52 ulp on the
//! whole finite range (measured maximum 0.504 ulp, see `math/mod.rs`); overflow gives `+inf`,
//! underflow subnormals or `+0` with one rounding, `exp(-inf) = +0`, NaN in gives the
//! same NaN out.
//!
//! `exp(x) = 2^(k/128) e^r` with `k = round(128 x / ln 2)` and `|r| <= ln 2 / 256`:
//! `2^(k/128) = 2^(k >> 7) T[k & 127]` comes from the table (with a tail that carries
//! it to ~106 bits), `e^r - 1` from a degree-5 polynomial. The reduction
//! `r = x - k hi - k lo` is exact up to the last step because `k * hi` is exact (`hi`
//! has 35 bits, `|k| < 2^18`) and `x - k hi` cancels exactly (Sterbenz).

use super::tables::{EXP_INV_LN2_N, EXP_LN2_HI_N, EXP_LN2_LO_N, EXP_POLY, EXP_TABLE};
use super::vector::Lanes;

/// Inputs with `|x|` up to this take the fast path: the result and its exponent fit
/// the bit arithmetic below, and the result is at least 2^-1010, so that `s * tmp`,
/// even where it is subnormal, errs by at most 2^-1075, under 2^-13 ulp of the result.
/// (With 708, `exp(-707.09)` erred by 0.75 ulp.)
const FAST_MAX: f64 = 700.0;
/// Above this, `exp` overflows (`ln(f64::MAX) = 709.78...`).
const OVERFLOW: f64 = 709.8;
/// Below this, `exp` is below half the smallest subnormal (`ln(2^-1075) = -745.13...`).
const UNDERFLOW: f64 = -745.2;
/// `1.5 * 2^52`: adding it rounds to an integer (ties to even) and leaves the integer in
/// the low bits of the sum.
const SHIFT: f64 = 6755399441055744.0;
const ABS_MASK: u64 = 0x7fff_ffff_ffff_ffff;

/// `e^x`, within 0.52 ulp everywhere (worst seen 0.504), with bits that depend on `x`
/// alone (see [`math`](crate::math)). Overflow gives `+inf`; underflow gives subnormals,
/// rounded once, or `+0`; NaN gives the same NaN.
///
/// ```
/// assert_eq!(carlo::math::exp(0.0), 1.0);
/// assert_eq!(carlo::math::exp(1.0), std::f64::consts::E);
/// assert_eq!(carlo::math::exp(-1000.0), 0.0);
/// ```
#[inline]
pub fn exp(x: f64) -> f64 {
    if x.abs() <= FAST_MAX {
        // SAFETY: the scalar lanes have no instruction set requirement.
        unsafe { fast(x) }
    } else {
        special(x)
    }
}

/// `exp` on every lane: the fast path when every lane allows it, else the scalar
/// function lane by lane (the same operations, so the same bits).
///
/// # Safety
/// The CPU must support `V`'s instruction set (see [`Lanes`]).
#[inline(always)]
pub unsafe fn lanes<V: Lanes>(x: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let ok = x.and(V::splat_bits(ABS_MASK)).le(V::splat(FAST_MAX));
        if V::all(ok) {
            fast(x)
        } else {
            x.map_lanes(exp)
        }
    }
}

/// `(tmp, s)` with `exp(x) ~ s (1 + tmp)`, where `s` holds the bits of
/// `2^(k >> 7) T[k & 127]` (wrapping: the caller rescales when they overflow).
#[inline(always)]
unsafe fn reduce<V: Lanes>(x: V) -> (V, V) {
    // SAFETY: the caller guarantees the instruction set of `V`; table indices are
    // masked to 0..256.
    unsafe {
        let z = x.mul(V::splat(EXP_INV_LN2_N));
        let shifted = z.add(V::splat(SHIFT));
        let kd = shifted.sub(V::splat(SHIFT));
        let r = x
            .sub(kd.mul(V::splat(EXP_LN2_HI_N)))
            .sub(kd.mul(V::splat(EXP_LN2_LO_N)));
        // The low bits of `shifted` are k in two's complement.
        let j2 = shifted.and(V::splat_bits(127)).shl::<1>();
        let (tail, scale) = V::lookup_pair(&EXP_TABLE, j2);
        let sbits = scale.add_bits(shifted.shl::<45>());
        let r2 = r.mul(r);
        let p = r2.mul(V::splat(0.5).add(r.mul(V::splat(EXP_POLY[0])))).add(
            r2.mul(r2)
                .mul(V::splat(EXP_POLY[1]).add(r.mul(V::splat(EXP_POLY[2])))),
        );
        (tail.add(r.add(p)), sbits)
    }
}

#[inline(always)]
unsafe fn fast<V: Lanes>(x: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe {
        let (tmp, s) = reduce(x);
        s.add(s.mul(tmp))
    }
}

/// NaN, infinities, and the edges where the result overflows or is subnormal or near
/// it: there `s` is rescaled by a power of two so that every step stays normal.
#[cold]
#[inline(never)]
fn special(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    if x < UNDERFLOW {
        return 0.0;
    }
    // SAFETY: scalar lanes.
    let (tmp, s) = unsafe { reduce(x) };
    if x > 0.0 {
        // 2^(k >> 7) may be 2^1024: scale by 2^-1009 first; the final product is
        // exact or overflows to inf, as the correctly rounded result would.
        let s = f64::from_bits(s.to_bits().wrapping_sub(1009 << 52));
        return (s + s * tmp) * f64::from_bits(0x7f00_0000_0000_0000); // 2^1009
    }
    let s = f64::from_bits(s.to_bits().wrapping_add(1022 << 52));
    let y = s + s * tmp;
    let tiny = f64::from_bits(0x0010_0000_0000_0000); // 2^-1022
    if y >= 1.0 {
        return y * tiny;
    }
    // A subnormal result: rounding y to 53 bits and then to the subnormal grid would
    // round twice. Round once, on the grid of 1.0 + y (spacing 2^-52 = the subnormal
    // spacing times 2^1022), carrying the error of y along (ARM's specialcase).
    let lo = (s - y) + s * tmp;
    let hi = 1.0 + y;
    let lo = ((1.0 - hi) + y) + lo;
    ((hi + lo) - 1.0) * tiny
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(exp(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp(-0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY).to_bits(), 0.0f64.to_bits());
        assert!(exp(f64::NAN).is_nan());
        let payload = f64::from_bits(0x7ff8_0000_dead_beef);
        assert_eq!(exp(payload).to_bits(), payload.to_bits());
        assert_eq!(exp(f64::MAX), f64::INFINITY);
        assert_eq!(exp(709.79), f64::INFINITY);
        assert_eq!(exp(f64::MIN).to_bits(), 0.0f64.to_bits());
        assert_eq!(exp(-745.2).to_bits(), 0.0f64.to_bits());
        // tiny arguments round to 1, subnormal ones too
        assert_eq!(exp(f64::from_bits(1)), 1.0);
        assert_eq!(exp(-f64::from_bits(1)), 1.0);
        assert_eq!(exp(1e-300), 1.0);
        assert_eq!(exp(-1e-17), 1.0);
        assert_eq!(exp(-2.0f64.powi(-53)), 1.0 - 2.0f64.powi(-53));
        // the largest finite result and the smallest subnormal one
        assert_eq!(exp(709.782712893384), 1.7976931348622732e308);
        assert_eq!(exp(-745.1332191019411), 5e-324);
        assert_eq!(exp(-745.1332191019412), 0.0);
        // the normal/subnormal boundary and the overflow threshold are continuous
        assert!(exp(-708.3964185322641) >= f64::MIN_POSITIVE * 0.9999999999999);
    }

    #[test]
    fn integer_powers() {
        let mut e = 1.0f64;
        for k in 1..=20 {
            e *= std::f64::consts::E;
            let got = exp(k as f64);
            // e^k by repeated products drifts by ~k/2 ulps; exp must stay close to it
            assert!((got - e).abs() <= e * 1e-15 * k as f64, "{k}: {got} vs {e}");
        }
        assert_eq!(exp(1.0), std::f64::consts::E);
        assert_eq!(exp(std::f64::consts::LN_2), 2.0);
        assert_eq!(exp(-std::f64::consts::LN_2), 0.5);
    }
}
