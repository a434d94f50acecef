//! Standard normal variates one at a time: rand_distr's ziggurat, inlined.
//!
//! [`normal`] is the same algorithm over the same tables (copied from rand_distr 0.6),
//! with the ~99% fast path forced inline and the rest kept out of line, so it draws
//! bit-for-bit the numbers rand_distr would draw from the same stream (tested below),
//! libm's `exp` and `ln` in its rare branches included. It is what a Python model's
//! `rng.normal` draws, whose contract is rand_distr's numbers. carlo's own option
//! models no longer use it: they draw their normals in blocks by
//! [`super::NORMAL_METHOD`] (`ziggurat.rs`), with carlo's own `exp` and `ln`.

use rand::distr::Open01;
use rand::{Rng, RngExt};

use super::zig_tables::{ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X};
use crate::random::stream::Stream;

/// One ziggurat candidate from 64 random bits: the layer `i`, a uniform `u` in
/// `[-1, 1)` and the candidate `x = u * X[i]`.
#[inline(always)]
fn candidate(rng: &mut Stream) -> (usize, f64, f64) {
    let bits = rng.next_u64();
    let i = (bits & 0xff) as usize;
    // The top 52 bits as a mantissa with exponent 1 give [2, 4); minus 3, [-1, 1).
    let u = f64::from_bits((bits >> 12) | ((1023u64 + 1) << 52)) - 3.0;
    (i, u, u * ZIG_NORM_X[i])
}

/// A standard normal variate, identical to `rng.sample(rand_distr::StandardNormal)`.
#[inline(always)]
pub fn normal(rng: &mut Stream) -> f64 {
    let (i, u, x) = candidate(rng);
    if x.abs() < ZIG_NORM_X[i + 1] {
        return x;
    }
    rejected(rng, i, u, x)
}

/// The rare rest of the ziggurat: the wedges between layers and the tail beyond
/// `R`, exactly as rand_distr's `utils::ziggurat` does them.
#[cold]
#[inline(never)]
fn rejected(rng: &mut Stream, mut i: usize, mut u: f64, mut x: f64) -> f64 {
    loop {
        if i == 0 {
            // Marsaglia's tail algorithm.
            let mut xt = 1.0f64;
            let mut yt = 0.0f64;
            while -2.0 * yt < xt * xt {
                let x_: f64 = rng.sample(Open01);
                let y_: f64 = rng.sample(Open01);
                xt = x_.ln() / ZIG_NORM_R;
                yt = y_.ln();
            }
            return if u < 0.0 {
                xt - ZIG_NORM_R
            } else {
                ZIG_NORM_R - xt
            };
        }
        let f1 = ZIG_NORM_F[i + 1];
        if f1 + (ZIG_NORM_F[i] - f1) * rng.random::<f64>() < (-x * x / 2.0).exp() {
            return x;
        }
        (i, u, x) = candidate(rng);
        if x.abs() < ZIG_NORM_X[i + 1] {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream::{Family, stream};
    use rand_distr::StandardNormal;

    #[test]
    fn equals_rand_distr_bit_for_bit() {
        // A million draws visit every layer, the wedges and the tail (about 0.03%
        // of draws go beyond |x| > 3.5) many times over.
        let mut ours = stream(3, Family::Chunk, 0);
        let mut theirs = stream(3, Family::Chunk, 0);
        let mut tail = 0;
        for k in 0..1_000_000 {
            let a = normal(&mut ours);
            let b: f64 = theirs.sample(StandardNormal);
            assert_eq!(a.to_bits(), b.to_bits(), "draw {k}: {a} vs {b}");
            tail += usize::from(a.abs() > ZIG_NORM_R);
        }
        assert!(tail > 0, "the tail was never visited");
        // The two generators must also have consumed the same numbers.
        assert_eq!(ours.next_u64(), theirs.next_u64());
    }
}
