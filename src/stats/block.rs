//! One block's statistics, computed in floating point in one fixed order.
//!
//! A block's samples (at most [`BLOCK`], see [`crate::random::lanes`]) are summed
//! shifted by the block's first sample, in [`LANES`] partial sums: sample `k` of the
//! block goes to partial `k % LANES` (its lane), each partial adding its samples in
//! order, and the partials are added up in lane order when the block is done. That
//! fixed shape is what every SIMD level computes (one 8-lane vector, two of 4, or 8
//! scalars), so a block's statistics have the same bits on all of them, whether a
//! model pushes its rows one at a time ([`Accumulator`]) or a vector of lanes at a
//! time ([`BlockAccumulator`]). Blocks are then merged exactly
//! ([`super::ExactSums`]), so nothing after this point depends on order.

use sha2::{Digest, Sha256};

use super::ExactSums;
use crate::math::Lanes;
use crate::random::lanes::{BLOCK, LANES};

/// A block's statistics: `count` samples shifted by `shift` (the block's first
/// sample), `sum[i] = sum (x_i - shift_i)` and the upper triangle `cross` of `sum (x_i
/// - shift_i)(x_j - shift_j)`, row by row ([`ExactSums::cross_index`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockStats {
    /// Samples in the block.
    pub count: u64,
    /// The block's first sample.
    pub shift: Vec<f64>,
    /// Sums of the shifted samples.
    pub sum: Vec<f64>,
    /// Sums of products of shifted samples, upper triangle.
    pub cross: Vec<f64>,
}

impl BlockStats {
    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.shift.len()
    }

    /// The first column holding a NaN or an infinity (from a non-finite sample), if
    /// any: one whose own values are not finite, else one with a product with another
    /// column that is not.
    pub fn non_finite_column(&self) -> Option<usize> {
        let d = self.dim();
        let own = |i: usize| {
            !self.shift[i].is_finite()
                || !self.sum[i].is_finite()
                || !self.cross[ExactSums::cross_index(d, i, i)].is_finite()
        };
        (0..d).find(|&i| own(i)).or_else(|| {
            (0..d)
                .find(|&i| (i..d).any(|j| !self.cross[ExactSums::cross_index(d, i, j)].is_finite()))
        })
    }

    /// A 64-bit digest of the block's exact bits (the first 8 bytes, little-endian, of
    /// the SHA-256 of its count and every value's bits, each 8 bytes little-endian):
    /// what `carlo verify` compares blocks by.
    pub fn digest(&self) -> u64 {
        let mut hasher = Sha256::new();
        hasher.update(self.count.to_le_bytes());
        for x in self.shift.iter().chain(&self.sum).chain(&self.cross) {
            hasher.update(x.to_bits().to_le_bytes());
        }
        let hash = hasher.finalize();
        u64::from_le_bytes(hash[..8].try_into().expect("SHA-256 has 32 bytes"))
    }

    /// The statistics of this block of replicate `replicate` of `replicates`, as
    /// those of its rows embedded in rows `replicates` times as wide: `replicates`
    /// times the row in block `replicate` of the wide row, zeros elsewhere (see
    /// [`super::replicates`]). The scaling is exact for a power of two.
    pub fn embed(&self, replicate: usize, replicates: usize) -> BlockStats {
        let w = self.dim();
        let dim = w * replicates;
        let r = replicate;
        let scale = replicates as f64;
        let mut out = BlockStats {
            count: self.count,
            shift: vec![0.0; dim],
            sum: vec![0.0; dim],
            cross: vec![0.0; ExactSums::cross_len(dim)],
        };
        for i in 0..w {
            out.shift[r * w + i] = scale * self.shift[i];
            out.sum[r * w + i] = scale * self.sum[i];
            for j in i..w {
                out.cross[ExactSums::cross_index(dim, r * w + i, r * w + j)] =
                    scale * scale * self.cross[ExactSums::cross_index(w, i, j)];
            }
        }
        out
    }

    /// Adds this block to `sums`, exactly.
    pub fn add_to(&self, sums: &mut ExactSums) {
        sums.add_block(self.count, &self.shift, &self.sum, &self.cross);
    }
}

/// Statistics of one block's samples with `D` columns, pushed one row at a time in
/// the block's sample order: the accumulator of scalar models.
#[derive(Debug, Clone)]
pub struct Accumulator<const D: usize> {
    filled: usize,
    shift: [f64; D],
    sum: [[f64; LANES]; D],
    /// Upper triangle used.
    cross: [[[f64; LANES]; D]; D],
}

impl<const D: usize> Default for Accumulator<D> {
    fn default() -> Self {
        Accumulator {
            filled: 0,
            shift: [0.0; D],
            sum: [[0.0; LANES]; D],
            cross: [[[0.0; LANES]; D]; D],
        }
    }
}

impl<const D: usize> Accumulator<D> {
    /// No samples yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the block's next sample (sample `k` goes to lane `k % LANES`).
    ///
    /// # Panics
    /// Past [`BLOCK`] samples: a block has no more.
    #[inline(always)]
    pub fn push(&mut self, x: [f64; D]) {
        assert!(self.filled < BLOCK, "a block holds {BLOCK} samples");
        if self.filled == 0 {
            self.shift = x;
        }
        let lane = self.filled % LANES;
        let mut d = [0.0; D];
        for i in 0..D {
            d[i] = x[i] - self.shift[i];
            self.sum[i][lane] += d[i];
        }
        for i in 0..D {
            for j in i..D {
                self.cross[i][j][lane] += d[i] * d[j];
            }
        }
        self.filled += 1;
    }

    /// Samples pushed so far.
    pub fn len(&self) -> usize {
        self.filled
    }

    /// Whether no sample was pushed.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// The block's statistics.
    pub fn finish(&self) -> BlockStats {
        fold(self.filled as u64, &self.shift, &self.sum, &self.cross)
    }
}

/// The partials of a block added up in lane order, as [`BlockStats`].
// Column indices index the partial sums of two columns at once.
#[allow(clippy::needless_range_loop)]
fn fold<const D: usize>(
    count: u64,
    shift: &[f64; D],
    sum: &[[f64; LANES]; D],
    cross: &[[[f64; LANES]; D]; D],
) -> BlockStats {
    // the partial sums of each, in lane order
    let total = |parts: &[f64; LANES]| parts.iter().fold(0.0, |acc, x| acc + x);
    let mut upper = Vec::with_capacity(ExactSums::cross_len(D));
    for i in 0..D {
        for j in i..D {
            upper.push(total(&cross[i][j]));
        }
    }
    BlockStats {
        count,
        shift: shift.to_vec(),
        sum: sum.iter().map(total).collect(),
        cross: upper,
    }
}

/// Statistics of one block's rows of any width, pushed in the block's sample order:
/// [`Accumulator`] for a width known only at run time, with the same bits.
#[derive(Debug, Clone)]
pub struct RowAccumulator {
    dim: usize,
    filled: usize,
    shift: Vec<f64>,
    /// `sum[i * LANES + lane]`.
    sum: Vec<f64>,
    /// `cross[k * LANES + lane]`, `k` the upper-triangle index of `(i, j)`.
    cross: Vec<f64>,
    d: Vec<f64>,
}

impl RowAccumulator {
    /// No samples yet, rows of `dim` values.
    pub fn new(dim: usize) -> Self {
        RowAccumulator {
            dim,
            filled: 0,
            shift: vec![0.0; dim],
            sum: vec![0.0; dim * LANES],
            cross: vec![0.0; ExactSums::cross_len(dim) * LANES],
            d: vec![0.0; dim],
        }
    }

    /// Adds the block's next sample.
    ///
    /// # Panics
    /// Past [`BLOCK`] samples, or for a row of another width.
    // Column indices index the row, the shifts and the partial sums at once.
    #[allow(clippy::needless_range_loop)]
    pub fn push(&mut self, x: &[f64]) {
        assert!(self.filled < BLOCK, "a block holds {BLOCK} samples");
        assert_eq!(x.len(), self.dim, "a row of {} values", self.dim);
        if self.filled == 0 {
            self.shift.copy_from_slice(x);
        }
        let lane = self.filled % LANES;
        let dim = self.dim;
        for i in 0..dim {
            self.d[i] = x[i] - self.shift[i];
            self.sum[i * LANES + lane] += self.d[i];
        }
        let mut k = 0;
        for i in 0..dim {
            for j in i..dim {
                self.cross[k * LANES + lane] += self.d[i] * self.d[j];
                k += 1;
            }
        }
        self.filled += 1;
    }

    /// The block's statistics.
    pub fn finish(&self) -> BlockStats {
        let total = |parts: &[f64]| parts.iter().fold(0.0, |acc, x| acc + x);
        BlockStats {
            count: self.filled as u64,
            shift: self.shift.clone(),
            sum: self.sum.chunks_exact(LANES).map(total).collect(),
            cross: self.cross.chunks_exact(LANES).map(total).collect(),
        }
    }
}

/// Statistics of one block's samples with `D` columns, taken a run of samples at a
/// time from column buffers: the accumulator of the models' vector loops. It computes
/// exactly what [`Accumulator`] computes for the same rows in the same order.
#[derive(Debug, Clone)]
pub(crate) struct BlockAccumulator<const D: usize> {
    filled: usize,
    shift: [f64; D],
    sum: [[f64; LANES]; D],
    cross: [[[f64; LANES]; D]; D],
}

impl<const D: usize> BlockAccumulator<D> {
    /// No samples yet.
    pub(crate) fn new() -> Self {
        BlockAccumulator {
            filled: 0,
            shift: [0.0; D],
            sum: [[0.0; LANES]; D],
            cross: [[[0.0; LANES]; D]; D],
        }
    }

    /// Adds the block's next `n` samples, whose column `i` is `cols[i][..n]`. The
    /// columns' entries from `n` to the next multiple of [`LANES`] are overwritten
    /// (with the block's first sample, so that they add nothing); after a run whose
    /// `n` is not a multiple of [`LANES`], only [`finish`](Self::finish) may follow.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    ///
    /// # Panics
    /// If `n` is 0, if the block would hold more than [`BLOCK`] samples, if the
    /// columns are shorter than `n` rounded up to a multiple of [`LANES`], or if a run
    /// follows one of a length not a multiple of [`LANES`].
    // Column indices index the columns, the shifts and the partial sums at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    pub(crate) unsafe fn add<V: Lanes>(&mut self, cols: [&mut [f64]; D], n: usize) {
        assert!(n >= 1 && self.filled + n <= BLOCK, "run of {n} samples");
        assert!(self.filled.is_multiple_of(LANES), "a run after a short one");
        if self.filled == 0 {
            for i in 0..D {
                self.shift[i] = cols[i][0];
            }
        }
        let padded = n.next_multiple_of(LANES);
        let mut cols = cols;
        for (col, &s) in cols.iter_mut().zip(&self.shift) {
            assert!(col.len() >= padded, "column of {} for {padded}", col.len());
            col[n..padded].fill(s);
        }
        // SAFETY: the caller guarantees the instruction set; every load below is in
        // `cols[i][..padded]`, every store in the partial sums. Hand-written hot loop:
        // no closures or iterator adapters, so that everything is inlined into the
        // level's `#[target_feature]` function. The partials of lanes `h * V::LANES..`
        // are summed in one pass over the run in local arrays (registers): an array
        // indexed by `h` as well would live in memory, and each addition would wait
        // for the last one's store.
        unsafe {
            let mut splat = [V::splat(0.0); D];
            for i in 0..D {
                splat[i] = V::splat(self.shift[i]);
            }
            for h in 0..LANES / V::LANES {
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
                    k += LANES;
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

    /// The block's statistics; the accumulator is empty again.
    pub(crate) fn take(&mut self) -> BlockStats {
        let stats = fold(self.filled as u64, &self.shift, &self.sum, &self.cross);
        *self = Self::new();
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{LaneProgram, Level, Simd};

    fn rows(n: usize, seed: u64) -> Vec<[f64; 3]> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                [100.0 + u, u * u, -3.0 * u]
            })
            .collect()
    }

    struct Vector<'a>(&'a [[f64; 3]], usize);

    impl LaneProgram for Vector<'_> {
        type Output = BlockStats;
        unsafe fn run<V: Lanes>(self) -> BlockStats {
            let mut acc = BlockAccumulator::<3>::new();
            let mut cols = vec![vec![0.0; BLOCK + 8]; 3];
            for part in self.0.chunks(self.1) {
                for (k, r) in part.iter().enumerate() {
                    for i in 0..3 {
                        cols[i][k] = r[i];
                    }
                }
                let [a, b, c] = &mut cols[..] else {
                    unreachable!()
                };
                // SAFETY: passed on from the caller.
                unsafe { acc.add::<V>([&mut a[..], &mut b[..], &mut c[..]], part.len()) };
            }
            acc.take()
        }
    }

    #[test]
    fn scalar_and_vector_accumulators_agree_at_every_level() {
        for n in [1, 7, 8, 9, 100, 4095, 4096] {
            let data = rows(n, n as u64);
            let mut scalar = Accumulator::<3>::new();
            for r in &data {
                scalar.push(*r);
            }
            let want = scalar.finish();
            assert_eq!(want.count, n as u64);
            assert_eq!(want.shift, data[0].to_vec());
            for level in Level::available() {
                // runs of 8 or 256, the last maybe short
                for run in [8, 256] {
                    let got = Simd::new(level).unwrap().run(Vector(&data, run));
                    assert_eq!(got, want, "{n} samples, {level:?}, runs of {run}");
                    assert_eq!(got.digest(), want.digest());
                }
            }
        }
    }

    #[test]
    fn statistics_match_a_two_pass_computation() {
        let data = rows(4096, 3);
        let mut acc = Accumulator::<3>::new();
        for r in &data {
            acc.push(*r);
        }
        let b = acc.finish();
        let mut sums = ExactSums::new(3);
        b.add_to(&mut sums);
        let m = sums.moments();
        let rows: Vec<Vec<f64>> = data.iter().map(|r| r.to_vec()).collect();
        let whole = crate::stats::Moments::from_rows(3, &rows);
        for i in 0..3 {
            assert!((m.mean[i] - whole.mean[i]).abs() <= 1e-13 * whole.mean[i].abs().max(1.0));
        }
        for k in 0..9 {
            let scale = whole.comoment[k].abs().max(1e-3);
            assert!(
                (m.comoment[k] - whole.comoment[k]).abs() <= 1e-10 * scale,
                "{k}"
            );
        }
    }

    #[test]
    fn non_finite_samples_are_found() {
        let mut acc = Accumulator::<2>::new();
        acc.push([1.0, 2.0]);
        acc.push([1.0, f64::NAN]);
        assert_eq!(acc.finish().non_finite_column(), Some(1));
        let mut ok = Accumulator::<2>::new();
        ok.push([1.0, 2.0]);
        assert_eq!(ok.finish().non_finite_column(), None);
    }
}
