//! The block statistics of the samples a Python model returns: an `(n, k)` array of
//! floats in (`n` at most [`BLOCK`]), [`BlockStats`] out.
//!
//! The rows are pushed in sample order into a [`RowAccumulator`], the fixed lane fold
//! every carlo model's block statistics are computed with (the same bits as
//! [`carlo::stats::Accumulator`] for the same rows): so a Python model's block has the
//! bits a Rust model returning the same samples would, and the blocks merge exactly
//! ([`carlo::stats::ExactSums`]) whatever the chunk they ran in. Integer columns
//! (counts, indicators, pi's 0/4 samples) take the same path: blocks are at most
//! [`BLOCK`] samples, and their exact merge leaves no rounding to compare across
//! chunk sizes.
//!
//! [`BLOCK`]: carlo::random::lanes::BLOCK

use carlo::stats::{BlockStats, RowAccumulator};

/// A sample that is NaN or infinite, where the model returned it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NonFinite {
    /// Row of the array (the sample).
    pub row: usize,
    /// Column (the quantity).
    pub column: usize,
    /// The value.
    pub value: f64,
}

/// The statistics of one block's rows, `k` values each, row-major (`data.len() == n *
/// k`, `1 <= n <= BLOCK`), pushed in sample order into a [`RowAccumulator`] (one per
/// block; nothing is allocated per row). Fails at the first NaN or infinite value.
pub fn block_stats(data: &[f64], k: usize) -> Result<BlockStats, NonFinite> {
    assert!(k > 0 && data.len().is_multiple_of(k), "rows of {k} values");
    let mut acc = RowAccumulator::new(k);
    for row in data.chunks_exact(k) {
        acc.push(row);
    }
    let stats = acc.finish();
    // Finite samples give finite statistics; a NaN or infinity anywhere makes them not.
    if stats.non_finite_column().is_some()
        && let Some(i) = data.iter().position(|x| !x.is_finite())
    {
        return Err(NonFinite {
            row: i / k,
            column: i % k,
            value: data[i],
        });
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use carlo::random::lanes::BLOCK;
    use carlo::random::{Family, stream};
    use carlo::stats::Accumulator;

    fn rows(n: usize, k: usize, seed: u64) -> Vec<f64> {
        let mut rng = stream(seed, Family::Chunk, 3);
        (0..n * k)
            .map(|_| carlo::random::normal(&mut rng) * 3.0 + 1.5)
            .collect()
    }

    fn with_accumulator<const D: usize>(data: &[f64]) -> BlockStats {
        let mut acc = Accumulator::<D>::new();
        for row in data.chunks_exact(D) {
            acc.push(row.try_into().unwrap());
        }
        acc.finish()
    }

    #[test]
    fn blocks_match_the_accumulator_bit_for_bit() {
        for n in [1, 2, 7, 8, 9, 1023, 4095, BLOCK] {
            let d1 = rows(n, 1, 1);
            let got = block_stats(&d1, 1).unwrap();
            assert_eq!(got, with_accumulator::<1>(&d1), "{n}");
            assert_eq!(got.digest(), with_accumulator::<1>(&d1).digest());
            let d3 = rows(n, 3, 2);
            assert_eq!(
                block_stats(&d3, 3).unwrap(),
                with_accumulator::<3>(&d3),
                "{n}"
            );
        }
        // Integer columns (pi's 0 and 4) take the same path.
        let pi: Vec<f64> = (0..BLOCK)
            .map(|i| if i % 5 < 4 { 4.0 } else { 0.0 })
            .collect();
        assert_eq!(block_stats(&pi, 1).unwrap(), with_accumulator::<1>(&pi));
    }

    #[test]
    fn non_finite_samples_are_found() {
        let err = block_stats(&[1.0, 2.0, 3.0, f64::NAN, 5.0, 6.0], 2).unwrap_err();
        assert_eq!((err.row, err.column), (1, 1));
        assert!(err.value.is_nan());
        let err = block_stats(&[f64::NEG_INFINITY], 1).unwrap_err();
        assert_eq!(err.value, f64::NEG_INFINITY);
    }
}
