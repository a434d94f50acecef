//! The one rounding: a big rational to the nearest double, ties to even.

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::Zero;

/// `num * 2^exp / den` rounded to the nearest double, ties to even (IEEE 754's
/// default rounding, with gradual underflow). Beyond the largest double it is an
/// infinity; a nonzero value that rounds to zero keeps its sign.
///
/// # Panics
/// If `den` is zero.
pub(crate) fn quotient(num: &BigInt, exp: i64, den: u64) -> f64 {
    assert!(den > 0, "a quotient by zero");
    let neg = num.sign() == Sign::Minus;
    let a = num.magnitude();
    if a.is_zero() {
        return 0.0;
    }
    let la = a.bits() as i64;
    let ld = i64::from(64 - den.leading_zeros());
    // q = floor(a 2^s / den) has 55 or 56 bits: the 53 kept, a rounding bit and one
    // more, with `rest` (the remainder) saying whether anything below is not zero.
    let s = 55 - (la - ld);
    let d = BigUint::from(den);
    let (q, r) = if s >= 0 {
        (a << s as u64).div_rem(&d)
    } else {
        a.div_rem(&(d << (-s) as u64))
    };
    let q: u64 = q.try_into().expect("a quotient of at most 56 bits");
    let rest = !r.is_zero();
    let bits_q = i64::from(64 - q.leading_zeros());
    debug_assert!((55..=56).contains(&bits_q));
    // q's lowest bit weighs 2^e0. Keep 53 bits, fewer where the result is subnormal
    // (its lowest bit may not be below 2^-1074).
    let e0 = exp - s;
    let drop = (bits_q - 53).max(-1074 - e0);
    let magnitude = if drop >= 64 {
        // Below half the smallest subnormal: q < 2^56 <= half of 2^drop.
        0.0
    } else {
        let drop = drop as u32;
        let mut mant = q >> drop;
        let below = q & ((1u64 << drop) - 1);
        let half = 1u64 << (drop - 1);
        if below > half || (below == half && (rest || mant & 1 == 1)) {
            mant += 1;
        }
        compose(mant, e0 + i64::from(drop))
    };
    if neg { -magnitude } else { magnitude }
}

/// `mant * 2^x` as a double, for `mant <= 2^53` from a rounding whose lowest kept bit
/// weighs `2^x`, with `x >= -1074` (subnormal results have `x == -1074`).
fn compose(mant: u64, x: i64) -> f64 {
    let (mant, x) = if mant == 1 << 53 {
        (1 << 52, x + 1)
    } else {
        (mant, x)
    };
    if mant < 1 << 52 {
        debug_assert!(x == -1074 || mant == 0, "a subnormal at 2^{x}");
        return f64::from_bits(mant);
    }
    let biased = x + 52 + 1023;
    if biased >= 2047 {
        return f64::INFINITY;
    }
    debug_assert!(biased >= 1);
    f64::from_bits(((biased as u64) << 52) | (mant & ((1 << 52) - 1)))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use num_rational::BigRational;
    use num_traits::Signed;
    use proptest::prelude::*;

    fn exact(x: f64) -> BigRational {
        BigRational::from_float(x).expect("finite")
    }

    /// Whether `got` is the double nearest to `want`, ties to even: checked against
    /// its two neighbours, with exact rational arithmetic (independent of how
    /// [`quotient`] finds it).
    pub(crate) fn is_correctly_rounded(got: f64, want: &BigRational) -> bool {
        if got.is_infinite() {
            // Past the midpoint between the largest double and 2^1024.
            let limit = exact(f64::MAX) + exact(2f64.powi(970));
            return if got > 0.0 {
                *want >= limit
            } else {
                *want <= -limit
            };
        }
        let err = (exact(got) - want).abs();
        for near in [got.next_up(), got.next_down()] {
            if near.is_infinite() {
                continue;
            }
            let other = (exact(near) - want).abs();
            if other < err || (other == err && got.to_bits() & 1 == 1) {
                return false;
            }
        }
        true
    }

    fn check(num: BigInt, exp: i64, den: u64) -> Result<(), TestCaseError> {
        let got = quotient(&num, exp, den);
        let scale = if exp >= 0 {
            BigRational::from_integer(BigInt::from(1) << exp as usize)
        } else {
            BigRational::new(1.into(), BigInt::from(1) << (-exp) as usize)
        };
        let want = BigRational::new(num.clone(), den.into()) * scale;
        prop_assert!(
            is_correctly_rounded(got, &want),
            "{num} * 2^{exp} / {den} gave {got:e}"
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn quotients_round_to_nearest_even(
            limbs in prop::collection::vec(any::<u64>(), 0..5),
            neg in any::<bool>(),
            exp in -1400i64..900,
            den in prop_oneof![Just(1u64), 1u64..10_000, any::<u64>()],
        ) {
            let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
            let num = BigInt::from_bytes_le(if neg { Sign::Minus } else { Sign::Plus }, &bytes);
            check(num, exp, den)?;
        }

        /// Exact halves between two doubles, normal and subnormal, go to the even one.
        #[test]
        fn ties_go_to_even(m in 0u64..1 << 53, exp in -1130i64..960, den in 1u64..1000) {
            let num = BigInt::from(2 * m + 1) * den;
            check(num, exp, den)?;
        }
    }

    #[test]
    fn edges() {
        assert_eq!(quotient(&BigInt::from(0), 5, 3).to_bits(), 0);
        assert_eq!(quotient(&BigInt::from(6), 0, 3), 2.0);
        assert_eq!(quotient(&BigInt::from(-1), -1074, 1), -5e-324);
        // Half the smallest subnormal ties to zero (even), a bit more rounds up.
        assert_eq!(quotient(&BigInt::from(1), -1075, 1).to_bits(), 0);
        assert_eq!(
            quotient(&BigInt::from(-1), -1075, 1).to_bits(),
            (-0.0f64).to_bits()
        );
        assert_eq!(quotient(&BigInt::from(3), -1076, 1), 5e-324);
        assert_eq!(quotient(&BigInt::from(1), -5000, 7), 0.0);
        assert_eq!(quotient(&BigInt::from(1), 1024, 1), f64::INFINITY);
        assert_eq!(quotient(&BigInt::from(-1), 1023, 1), -(2f64.powi(1023)));
        assert_eq!(quotient(&BigInt::from(1), -1, 3), 1.0 / 6.0);
        assert_eq!(quotient(&BigInt::from(u64::MAX), 0, u64::MAX), 1.0);
    }
}
