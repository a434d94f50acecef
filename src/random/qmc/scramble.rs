//! The randomization of a replicate: a linear matrix scramble and a digital shift per
//! dimension, drawn from `(seed, replicate)` (the recipe is in the [module
//! docs](super#randomization)).
//!
//! Why this scramble: `x -> L x XOR e` with `L` lower-triangular and invertible maps
//! the first `i` digits of a coordinate to a bijective function of its first `i`
//! digits, so every elementary interval that held `2^t` points of the net still does
//! (Matousek 1998; Owen 2003 calls it the random linear scramble); the shift `e` makes
//! each point uniform on the unit cube, so replicate means are unbiased. It costs
//! nothing per point: the scrambled direction vectors `L V_k` are computed once, and
//! the scrambled points are a Sobol sequence of their own. Nested uniform scrambling
//! (Owen 1995) randomizes more, one random bit per prefix of digits, but evaluated per
//! point it costs about 64 hashes per coordinate where this costs one XOR; Owen (2003)
//! compares the variances of these scramblings.

use rand::{Rng, SeedableRng};

use super::directions::BITS;
use crate::random::stream::Stream;

/// Name and version of the randomized quasi-Monte Carlo derivation: direction numbers,
/// point order, scramble, the streams it is drawn from and the map to doubles. Goes
/// with every output a scrambled Sobol run produces; a change to any of them must get
/// a new name.
pub const RQMC_DERIVATION: &str = "sobol-jk21201/lms-shift-v1";

/// The generator replicate `replicate` of `seed` draws its scrambles from: two long
/// jumps (past every chunk and auxiliary stream of [`crate::random::stream`]), then one jump per
/// replicate.
///
/// Costs `replicate` jumps (about a microsecond each).
pub(super) fn replicate_stream(seed: u64, replicate: u64) -> Stream {
    let mut rng = Stream::seed_from_u64(seed);
    rng.long_jump();
    rng.long_jump();
    for _ in 0..replicate {
        rng.jump();
    }
    rng
}

/// One dimension's scramble: `x -> L x XOR shift`.
#[derive(Debug, Clone)]
pub(super) struct Lms {
    /// Row `i` gives output bit `63 - i` (digit `i + 1`): the parity of `row & x`.
    rows: [u64; BITS],
    /// The digital shift.
    pub(super) shift: u64,
}

impl Lms {
    /// The next dimension's scramble from `rng`: 64 rows, then the shift.
    pub(super) fn draw(rng: &mut Stream) -> Self {
        let rows = std::array::from_fn(|i| {
            // The `i` digits above digit i + 1 are random; the diagonal digit is 1.
            let below_diagonal = !(u64::MAX >> i);
            (rng.next_u64() & below_diagonal) | (1u64 << (BITS - 1 - i))
        });
        Lms {
            rows,
            shift: rng.next_u64(),
        }
    }

    /// `L x`, the linear part alone: what a direction vector becomes.
    pub(super) fn apply(&self, x: u64) -> u64 {
        let mut out = 0;
        for (i, row) in self.rows.iter().enumerate() {
            out |= u64::from((row & x).count_ones() & 1) << (BITS - 1 - i);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_is_unit_lower_triangular() {
        let mut rng = replicate_stream(1, 0);
        let lms = Lms::draw(&mut rng);
        for (i, row) in lms.rows.iter().enumerate() {
            // Digit i + 1 depends on itself and the digits above it only.
            assert_eq!(row.trailing_zeros() as usize, BITS - 1 - i);
        }
        // Some randomness below the diagonal (63 * 64 / 2 bits; all zero has
        // probability 2^-2016).
        assert!(lms.rows.iter().map(|r| r.count_ones()).sum::<u32>() > 64 + 500);
        // The top digit is never mixed, so the scramble maps [0, 1/2) onto itself;
        // lower digits are mixed with the ones above them.
        assert_eq!(lms.apply(1 << 63) >> 63, 1);
        assert_ne!(lms.apply(1 << 63), 1 << 63);
        assert_eq!(lms.apply((1 << 63) - 1) >> 63, 0);
    }

    #[test]
    fn scramble_is_a_bijection_on_each_digit_prefix() {
        // The first 8 digits of L x depend on the first 8 digits of x only, and
        // bijectively: the 256 prefixes map onto the 256 prefixes.
        let mut rng = replicate_stream(9, 2);
        let lms = Lms::draw(&mut rng);
        let mut seen = [false; 256];
        for p in 0..256u64 {
            let low = 0x00ab_cdef_0123_4567;
            let image = lms.apply((p << 56) | low) >> 56;
            assert_eq!(image, lms.apply(p << 56) >> 56);
            seen[image as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn replicate_streams_are_disjoint_from_carlos_streams() {
        use crate::random::stream::{Family, stream};
        let mut q = replicate_stream(42, 0);
        let mut c = stream(42, Family::Chunk, 0);
        let mut a = stream(42, Family::Auxiliary, 0);
        let first = q.next_u64();
        assert_ne!(first, c.next_u64());
        assert_ne!(first, a.next_u64());
        let mut r1 = replicate_stream(42, 1);
        assert_ne!(first, r1.next_u64());
    }
}
