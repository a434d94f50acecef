//! Statistics of randomized quasi-Monte Carlo runs: one block of columns per replicate.
//!
//! A chunk of a sobol run holds points of one replicate (see [`crate::random::sampler`]). Its
//! statistics are written as those of *virtual rows* of `width * replicates` columns:
//! a point of replicate `r` with row `f` becomes the row that holds `R f` in block `r`
//! and zeros elsewhere ([`embed`]). These are exact statistics of real rows, so chunks
//! merge, checkpoint, travel and verify like any others; and once every replicate holds
//! `n` points, the mean of block `r` is exactly replicate `r`'s mean. [`estimate`]
//! then takes the `R` replicate means as `R` samples: Student's t on them, as
//! `scipy.integrate.qmc_quad` does, with a control variate fitted on them.

use super::{Control, Estimate, Moments, estimate as plain_estimate};

/// How a quantity's statistics are laid out in a randomized quasi-Monte Carlo run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replicated {
    /// Independent randomizations `R`.
    pub replicates: u64,
    /// Columns of one sample's row (the model's own row width).
    pub width: usize,
    /// Points per chunk: every chunk is full (the run checks it).
    pub chunk_size: u64,
}

impl Replicated {
    /// Points of each replicate among the first `count` samples of the run (chunks go
    /// round the replicates: chunk `c` belongs to replicate `c % R`).
    pub fn points(&self, count: u64) -> Vec<u64> {
        let chunks = count / self.chunk_size;
        let r = self.replicates;
        (0..r)
            .map(|k| self.chunk_size * (chunks / r + u64::from(k < chunks % r)))
            .collect()
    }
}

/// The statistics of a chunk of replicate `replicate`, whose own rows have statistics
/// `chunk`, as virtual rows of `chunk.dim() * replicates` columns (see the module docs).
pub fn embed(chunk: &Moments, replicate: u64, replicates: u64) -> Moments {
    let w = chunk.dim();
    let dim = w * replicates as usize;
    let r = replicate as usize;
    let scale = replicates as f64;
    let mut out = Moments::empty(dim);
    out.count = chunk.count;
    for i in 0..w {
        out.mean[r * w + i] = scale * chunk.mean[i];
        for j in 0..w {
            out.comoment[(r * w + i) * dim + r * w + j] = scale * scale * chunk.comoment[i * w + j];
        }
    }
    out
}

/// The estimate of column `column` (within a block), corrected by `control` (also
/// within a block) when given, from the replicate means held by `moments`.
///
/// Replicates that hold no point yet (early trace points) are left out; with fewer
/// than two, the standard error is NaN. `samples` is every point of every replicate.
/// `variance_ratio` is the per-point variance of the `plain` column (pooled over every
/// point) over `samples` times the estimate's variance: how many times fewer samples
/// this run needed than plain Monte Carlo for the same error.
pub fn estimate(
    moments: &Moments,
    layout: &Replicated,
    column: usize,
    control: Option<Control>,
    plain: Option<usize>,
    confidence: f64,
) -> Estimate {
    let total = moments.count;
    let w = layout.width;
    let r = layout.replicates;
    let points = layout.points(total);
    let mut columns = vec![column];
    if let Some(c) = control {
        columns.push(c.column);
    }
    let rows: Vec<Vec<f64>> = points
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(k, &n)| {
            let factor = total as f64 / (r as f64 * n as f64);
            columns
                .iter()
                .map(|&c| moments.mean[k * w + c] * factor)
                .collect()
        })
        .collect();
    let means = Moments::from_rows(columns.len(), &rows);
    let control = control.map(|c| Control {
        column: 1,
        mean: c.mean,
    });
    let mut e = plain_estimate(&means, 0, control, None, confidence);
    e.samples = total;
    // Pooled per-point variance of the plain column: block k's virtual column holds
    // R f on replicate k's points and 0 elsewhere, so its sum of squares about 0 is
    // R^2 times that of f over replicate k.
    let p = plain.unwrap_or(column);
    let dim = moments.dim();
    let (mut sum, mut squares) = (0.0, 0.0);
    for (k, &n) in points.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let c = k * w + p;
        let m = moments.mean[c];
        let virtual_squares = moments.comoment[c * dim + c] + total as f64 * m * m;
        squares += virtual_squares / (r * r) as f64;
        sum += m * total as f64 / r as f64;
    }
    let var_mc = (squares - sum * sum / total as f64) / (total as f64 - 1.0);
    let var = e.std_error * e.std_error * total as f64;
    e.variance_ratio = if var > 0.0 && var_mc.is_finite() {
        var_mc / var
    } else {
        1.0
    };
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_chunks_give_the_replicate_means() {
        // Three replicates of two chunks of two points each, rows (f, g).
        let layout = Replicated {
            replicates: 3,
            width: 2,
            chunk_size: 2,
        };
        let data: Vec<Vec<Vec<f64>>> = (0..6)
            .map(|c| {
                (0..2)
                    .map(|i| vec![f64::from(c * 2 + i), f64::from((c + i) % 3)])
                    .collect()
            })
            .collect();
        let mut merged = Moments::empty(6);
        for (c, rows) in data.iter().enumerate() {
            let m = Moments::from_rows(2, rows);
            merged.merge(&embed(&m, c as u64 % 3, 3));
        }
        assert_eq!(merged.count, 12);
        let e = estimate(&merged, &layout, 0, None, None, 0.95);
        // Replicate k holds chunks k and k + 3: points 2k, 2k+1, 2k+6, 2k+7.
        let means: Vec<f64> = (0..3).map(|k| f64::from(2 * k) + 3.5).collect();
        let grand = means.iter().sum::<f64>() / 3.0;
        assert!((e.estimate - grand).abs() < 1e-12, "{}", e.estimate);
        let var = means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / 2.0;
        assert!((e.std_error - (var / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(e.samples, 12);
        // The pooled variance of all 12 values of f.
        let all: Vec<f64> = data.iter().flatten().map(|r| r[0]).collect();
        let mean = all.iter().sum::<f64>() / 12.0;
        let var_mc = all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 11.0;
        let ratio = var_mc / (e.std_error.powi(2) * 12.0);
        assert!((e.variance_ratio - ratio).abs() < 1e-9 * ratio);
        assert_eq!(layout.points(10), vec![4, 4, 2]);
    }
}
