//! The hot-loop accumulator models push their samples into.
//!
//! Hand-written for speed: Welford's update costs a division per sample on the
//! critical path, so samples are summed in blocks of [`BLOCK`] as plain sums and
//! cross-products shifted by the block's first sample (which keeps the cancellation
//! of `sum x^2 - (sum x)^2 / n` small), and each block is folded into the running
//! statistics with the exact pairwise merge. The column count is a const generic so
//! that the compiler unrolls the per-sample work.

use super::Moments;
use crate::math::Lanes;

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

/// Samples per fold of [`BlockAccumulator`], as [`BLOCK`] is for [`Accumulator`].
pub(crate) const FOLD: usize = 1024;

/// Running statistics of samples with `D` columns, taken a run of samples at a time
/// from column buffers: the accumulator of the models' vector loops.
///
/// The samples are summed in blocks of [`FOLD`] like [`Accumulator`]'s (sums and
/// cross-products shifted by the block's first sample, then one pairwise merge), but
/// in 8 interleaved partial sums, sample `k` of a block going to partial `k mod 8`,
/// added up in order when the block is folded. That fixed shape is what every SIMD
/// level computes (one 8-lane vector, two of 4, or 8 scalars), so the statistics have
/// the same bits on all of them, and the additions no longer wait for each other
/// sample after sample.
#[derive(Debug, Clone)]
pub(crate) struct BlockAccumulator<const D: usize> {
    count: u64,
    mean: [f64; D],
    comoment: [[f64; D]; D],
    /// Samples in the current block, and its first sample.
    filled: usize,
    shift: [f64; D],
    /// The partial sums of the current block: of `x - shift` per column, and of the
    /// products of two columns' (upper triangle).
    sum: [[f64; 8]; D],
    cross: [[[f64; 8]; D]; D],
}

impl<const D: usize> BlockAccumulator<D> {
    /// No samples yet.
    pub(crate) fn new() -> Self {
        BlockAccumulator {
            count: 0,
            mean: [0.0; D],
            comoment: [[0.0; D]; D],
            filled: 0,
            shift: [0.0; D],
            sum: [[0.0; 8]; D],
            cross: [[[0.0; 8]; D]; D],
        }
    }

    /// Adds the `n` samples whose column `i` is `cols[i][..n]`. The columns' entries
    /// from `n` to the next multiple of 8 are overwritten (with the block's first
    /// sample, so that they add nothing); after a run whose `n` is not a multiple of
    /// 8, only [`finish`](Self::finish) may follow.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    ///
    /// # Panics
    /// If `n` is 0 or above [`FOLD`], if the columns are shorter than `n` rounded up
    /// to a multiple of 8, or if a run follows one of a length not a multiple of 8.
    // Column indices index the columns, the shifts and the partial sums at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    pub(crate) unsafe fn add<V: Lanes>(&mut self, cols: [&mut [f64]; D], n: usize) {
        assert!((1..=FOLD).contains(&n), "run of {n} samples");
        assert!(self.filled.is_multiple_of(8), "a run after a short one");
        if self.filled + n > FOLD {
            self.fold();
        }
        if self.filled == 0 {
            for i in 0..D {
                self.shift[i] = cols[i][0];
            }
        }
        let padded = n.next_multiple_of(8);
        let mut cols = cols;
        for (col, &s) in cols.iter_mut().zip(&self.shift) {
            assert!(col.len() >= padded, "column of {} for {padded}", col.len());
            col[n..padded].fill(s);
        }
        // SAFETY: the caller guarantees the instruction set; every load below is in
        // `cols[i][..padded]`, every store in the partial sums. No closures or
        // iterator adapters here: everything must be inlined into the level's
        // `#[target_feature]` function. The partials of lanes `h * LANES..` are summed
        // in one pass over the run, in small local arrays (registers): an array
        // indexed by `h` as well would live in memory, and each addition would wait
        // for the last one's store.
        unsafe {
            let mut splat = [V::splat(0.0); D];
            for i in 0..D {
                splat[i] = V::splat(self.shift[i]);
            }
            for h in 0..8 / V::LANES {
                let lane = h * V::LANES;
                let mut sum = [V::splat(0.0); D];
                let mut cross = [[V::splat(0.0); D]; D];
                for i in 0..D {
                    sum[i] = V::load(self.sum[i].as_ptr().add(lane));
                    for j in i..D {
                        cross[i][j] = V::load(self.cross[i][j].as_ptr().add(lane));
                    }
                }
                let mut k = lane;
                while k < padded {
                    let mut d = [V::splat(0.0); D];
                    for i in 0..D {
                        d[i] = V::load(cols[i].as_ptr().add(k)).sub(splat[i]);
                    }
                    for i in 0..D {
                        sum[i] = sum[i].add(d[i]);
                        for j in i..D {
                            cross[i][j] = cross[i][j].add(d[i].mul(d[j]));
                        }
                    }
                    k += 8;
                }
                for i in 0..D {
                    sum[i].store(self.sum[i].as_mut_ptr().add(lane));
                    for j in i..D {
                        cross[i][j].store(self.cross[i][j].as_mut_ptr().add(lane));
                    }
                }
            }
        }
        self.filled += n;
    }

    /// Folds the current block into the running statistics.
    #[inline(never)]
    fn fold(&mut self) {
        if self.filled == 0 {
            return;
        }
        // the 8 partial sums of each, in order
        let total = |parts: &[f64; 8]| parts.iter().fold(0.0, |acc, x| acc + x);
        let sum: [f64; D] = std::array::from_fn(|i| total(&self.sum[i]));
        let n = self.filled as f64;
        let mean: [f64; D] = std::array::from_fn(|i| self.shift[i] + sum[i] / n);
        let comoment: [[f64; D]; D] = std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                let (a, b) = (i.min(j), i.max(j));
                total(&self.cross[a][b]) - sum[a] * sum[b] / n
            })
        });
        self.merge(self.filled as u64, &mean, &comoment);
        self.filled = 0;
        self.sum = [[0.0; 8]; D];
        self.cross = [[[0.0; 8]; D]; D];
    }

    /// Chan et al.'s pairwise update, as [`Moments::merge`].
    fn merge(&mut self, count: u64, mean: &[f64; D], comoment: &[[f64; D]; D]) {
        if self.count == 0 {
            self.count = count;
            self.mean = *mean;
            self.comoment = *comoment;
            return;
        }
        let (na, nb) = (self.count as f64, count as f64);
        let n = na + nb;
        let delta: [f64; D] = std::array::from_fn(|i| mean[i] - self.mean[i]);
        let weight = na * nb / n;
        for i in 0..D {
            for j in 0..D {
                self.comoment[i][j] += comoment[i][j] + delta[i] * delta[j] * weight;
            }
        }
        for (m, d) in self.mean.iter_mut().zip(&delta) {
            *m += d * nb / n;
        }
        self.count += count;
    }

    /// The statistics of every sample added.
    pub(crate) fn finish(mut self) -> Moments {
        self.fold();
        let mut m = Moments::empty(D);
        m.count = self.count;
        m.mean.copy_from_slice(&self.mean);
        for i in 0..D {
            m.comoment[i * D..(i + 1) * D].copy_from_slice(&self.comoment[i]);
        }
        m
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
