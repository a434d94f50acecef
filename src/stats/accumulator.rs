//! The hot-loop accumulator models push their samples into.
//!
//! Hand-written for speed: Welford's update costs a division per sample on the
//! critical path, so samples are summed in blocks of [`BLOCK`] as plain sums and
//! cross-products shifted by the block's first sample (which keeps the cancellation
//! of `sum x^2 - (sum x)^2 / n` small), and each block is folded into the running
//! statistics with the exact pairwise merge. The column count is a const generic so
//! that the compiler unrolls the per-sample work.

use super::Moments;

/// Samples per block between two pairwise merges.
pub const BLOCK: u32 = 1024;

/// Running statistics of samples with `D` columns.
#[derive(Debug, Clone)]
pub struct Accumulator<const D: usize> {
    total: Moments,
    filled: u32,
    shift: [f64; D],
    sum: [f64; D],
    /// Upper triangle used; the lower half is filled in when a block is folded.
    cross: [[f64; D]; D],
}

impl<const D: usize> Default for Accumulator<D> {
    fn default() -> Self {
        Accumulator {
            total: Moments::empty(D),
            filled: 0,
            shift: [0.0; D],
            sum: [0.0; D],
            cross: [[0.0; D]; D],
        }
    }
}

impl<const D: usize> Accumulator<D> {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample.
    #[inline(always)]
    pub fn push(&mut self, x: [f64; D]) {
        if self.filled == 0 {
            self.shift = x;
        }
        let mut d = [0.0; D];
        for i in 0..D {
            d[i] = x[i] - self.shift[i];
            self.sum[i] += d[i];
        }
        for i in 0..D {
            for j in i..D {
                self.cross[i][j] += d[i] * d[j];
            }
        }
        self.filled += 1;
        if self.filled == BLOCK {
            self.fold();
        }
    }

    #[cold]
    fn fold(&mut self) {
        let n = f64::from(self.filled);
        let mut block = Moments::empty(D);
        block.count = u64::from(self.filled);
        for i in 0..D {
            block.mean[i] = self.shift[i] + self.sum[i] / n;
            for j in i..D {
                let c = self.cross[i][j] - self.sum[i] * self.sum[j] / n;
                block.comoment[i * D + j] = c;
                block.comoment[j * D + i] = c;
            }
        }
        self.total.merge(&block);
        self.filled = 0;
        self.sum = [0.0; D];
        self.cross = [[0.0; D]; D];
    }

    /// The statistics of every sample pushed so far.
    pub fn finish(mut self) -> Moments {
        if self.filled > 0 {
            self.fold();
        }
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= 1e-12 * scale
    }

    proptest! {
        /// Splitting samples into chunks, accumulating each and merging the chunks
        /// in order equals one two-pass computation over all samples.
        #[test]
        fn chunked_accumulation_equals_one_pass(
            rows in prop::collection::vec((-1e3f64..1e3, 0f64..50.0), 2..5000),
            chunk in 1usize..3000,
        ) {
            let rows: Vec<Vec<f64>> = rows.into_iter().map(|(a, b)| vec![a, a * 0.5 + b]).collect();
            let mut merged = Moments::empty(2);
            for part in rows.chunks(chunk) {
                let mut acc = Accumulator::<2>::new();
                for r in part {
                    acc.push([r[0], r[1]]);
                }
                merged.merge(&acc.finish());
            }
            let whole = Moments::from_rows(2, &rows);
            prop_assert_eq!(merged.count, whole.count);
            // Relative to the data's scale: means and co-moments of values up to
            // ~1e3 over up to 5000 rows.
            let mean_scale = 1e3;
            let m2_scale = whole.comoment.iter().fold(1.0f64, |a, b| a.max(b.abs()));
            for i in 0..2 {
                prop_assert!(close(merged.mean[i], whole.mean[i], mean_scale));
            }
            for k in 0..4 {
                prop_assert!(close(merged.comoment[k], whole.comoment[k], m2_scale),
                    "comoment {} {} vs {}", k, merged.comoment[k], whole.comoment[k]);
            }
        }
    }
}
