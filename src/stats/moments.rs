//! Sufficient statistics of a set of samples with several columns.

/// Count, means and co-moments (Welford's M2, generalised to a matrix) of samples
/// with `dim` columns.
///
/// `comoment[i * dim + j]` is `sum over samples of (x_i - mean_i)(x_j - mean_j)`;
/// the diagonal is Welford's M2 of each column, the rest is what a control variate
/// needs. The empty value (`count == 0`) is the identity of [`merge`](Self::merge).
/// Encoded, sent and kept by `stats::codec` alone (serde too goes through it).
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// Number of samples.
    pub count: u64,
    /// Mean of each column.
    pub mean: Vec<f64>,
    /// Co-moment matrix, `dim * dim`, row-major and symmetric.
    pub comoment: Vec<f64>,
}

impl Moments {
    /// No samples, `dim` columns.
    pub fn empty(dim: usize) -> Self {
        Moments {
            count: 0,
            mean: vec![0.0; dim],
            comoment: vec![0.0; dim * dim],
        }
    }

    /// Statistics of the given rows, computed in two passes (the numerically careful
    /// way; used as the reference in tests and for small inputs).
    pub fn from_rows(dim: usize, rows: &[Vec<f64>]) -> Self {
        let mut m = Moments::empty(dim);
        m.count = rows.len() as u64;
        if rows.is_empty() {
            return m;
        }
        for row in rows {
            for (mean, x) in m.mean.iter_mut().zip(row) {
                *mean += x;
            }
        }
        for mean in &mut m.mean {
            *mean /= rows.len() as f64;
        }
        for row in rows {
            for i in 0..dim {
                for j in 0..dim {
                    m.comoment[i * dim + j] += (row[i] - m.mean[i]) * (row[j] - m.mean[j]);
                }
            }
        }
        m
    }

    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// A 64-bit digest of these statistics' exact bits: the first 8 bytes, as a
    /// little-endian integer, of the SHA-256 of their words (`stats::codec`), each as
    /// its 8 little-endian bytes. Equal digests mean equal statistics for any practical
    /// purpose; `carlo verify` compares chunks by them.
    pub fn digest(&self) -> u64 {
        use sha2::{Digest, Sha256};
        let mut words = Vec::with_capacity(super::codec::words_len(self.dim()));
        super::codec::to_words(self, &mut words);
        let mut hasher = Sha256::new();
        for w in &words {
            hasher.update(w.to_le_bytes());
        }
        let hash = hasher.finalize();
        u64::from_le_bytes(hash[..8].try_into().expect("SHA-256 has 32 bytes"))
    }

    /// Checks statistics received or read back against what the reader knows: that
    /// they have `dim` columns (so that a bad message can never reach
    /// [`merge`](Self::merge), which panics on a shape mismatch), and, with
    /// `plausible`, that they could come from real samples
    /// ([`implausible`](Self::implausible)): files read back are checked so, messages from workers
    /// are not (a worker reports a NaN sample as an error of its own).
    pub fn check(&self, dim: usize, plausible: bool) -> Result<(), String> {
        if self.dim() != dim || self.comoment.len() != dim * dim {
            return Err(format!(
                "statistics of {} columns where the model has {dim}",
                self.dim()
            ));
        }
        match self.implausible() {
            Some(reason) if plausible && self.count > 0 => Err(reason),
            _ => Ok(()),
        }
    }

    /// Why these cannot be the statistics of real samples, if they cannot: a NaN or
    /// infinite value, or a negative sum of squared deviations (a column's own
    /// co-moment). Files read back (checkpoints, partials) are checked with it, so an
    /// edited or damaged one is refused instead of merged.
    pub fn implausible(&self) -> Option<String> {
        let dim = self.dim();
        if self.comoment.len() != dim * dim {
            return Some(format!(
                "{} co-moments for {dim} columns",
                self.comoment.len()
            ));
        }
        if self
            .mean
            .iter()
            .chain(&self.comoment)
            .any(|x| !x.is_finite())
        {
            return Some("its statistics hold a NaN or an infinity".into());
        }
        if (0..dim).any(|i| self.comoment[i * dim + i] < 0.0) {
            return Some("a column's sum of squared deviations is negative".into());
        }
        None
    }

    /// The first column whose mean or co-moments are not finite, if any: such
    /// statistics come from a NaN or infinite sample.
    pub fn non_finite_column(&self) -> Option<usize> {
        let dim = self.dim();
        (0..dim).find(|&i| {
            !self.mean[i].is_finite()
                || self.comoment[i * dim..(i + 1) * dim]
                    .iter()
                    .any(|c| !c.is_finite())
        })
    }

    /// Sample covariance of columns `i` and `j` (divisor `count - 1`); NaN below two
    /// samples.
    pub fn covariance(&self, i: usize, j: usize) -> f64 {
        if self.count < 2 {
            return f64::NAN;
        }
        self.comoment[i * self.dim() + j] / (self.count - 1) as f64
    }

    /// Sample variance of column `i`.
    pub fn variance(&self, i: usize) -> f64 {
        self.covariance(i, i)
    }

    /// Adds the samples summarised by `other` (Chan, Golub and LeVeque's pairwise
    /// update). Not commutative in floating point: callers merge in a fixed order.
    ///
    /// # Panics
    /// If the dimensions differ, which is a bug in the caller.
    pub fn merge(&mut self, other: &Moments) {
        assert_eq!(
            self.dim(),
            other.dim(),
            "merging moments of different shapes"
        );
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            self.clone_from(other);
            return;
        }
        let dim = self.dim();
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta: Vec<f64> = (0..dim).map(|i| other.mean[i] - self.mean[i]).collect();
        let weight = na * nb / n;
        for i in 0..dim {
            for j in 0..dim {
                self.comoment[i * dim + j] +=
                    other.comoment[i * dim + j] + delta[i] * delta[j] * weight;
            }
        }
        for (mean, d) in self.mean.iter_mut().zip(&delta) {
            *mean += d * nb / n;
        }
        self.count += other.count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_empty_is_identity() {
        let a = Moments::from_rows(2, &[vec![1.0, 2.0], vec![3.0, 5.0]]);
        let mut b = Moments::empty(2);
        b.merge(&a);
        assert_eq!(a, b);
        b.merge(&Moments::empty(2));
        assert_eq!(a, b);
    }

    #[test]
    fn merge_matches_two_pass() {
        let rows: Vec<Vec<f64>> = (0..10)
            .map(|i| vec![f64::from(i), f64::from(i * i) - 3.0])
            .collect();
        let mut merged = Moments::from_rows(2, &rows[..3]);
        merged.merge(&Moments::from_rows(2, &rows[3..]));
        let whole = Moments::from_rows(2, &rows);
        assert_eq!(merged.count, 10);
        for (a, b) in merged.mean.iter().zip(&whole.mean) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0));
        }
        for (a, b) in merged.comoment.iter().zip(&whole.comoment) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0));
        }
        assert!((merged.variance(0) - 55.0 / 6.0).abs() < 1e-12);
    }
}
