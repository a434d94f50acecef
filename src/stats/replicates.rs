//! Statistics of randomized quasi-Monte Carlo runs: one block of columns per replicate.
//!
//! A chunk of a sobol run holds points of one replicate (see [`crate::random::sampler`]). Its
//! statistics are written as those of *virtual rows* of `width * replicates` columns:
//! a point of replicate `r` with row `f` becomes the row that holds `R f` in block `r`
//! and zeros elsewhere ([`embed`]). These are exact statistics of real rows, so chunks
//! merge, checkpoint, travel and verify like any others; and once every replicate holds
//! `n` points, the mean of block `r` is exactly replicate `r`'s mean. [`estimate`]
//! then takes the `R` replicate means as `R` samples: Student's t on them, as
//! `scipy.integrate.qmc_quad` does, with a control variate fitted on them, and
//! corrected for the skewness of the replicate values by Hall's transformation (see
//! [`super::interval`] for why).

use super::estimate::t_quantile;
use super::interval::{chi_square_median_ratio, hall_interval, skewness};
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
///
/// The interval is Student's t on the replicate values (the replicate means, each
/// corrected by the control with the coefficient fitted on all of them), made
/// asymmetric by Hall's transformation with their sample skewness
/// ([`hall_interval`]); the standard error is Student's, `s / sqrt(R)`.
///
/// `variance_ratio` is the per-point variance of the `plain` column (pooled over every
/// point) over `samples` times the estimate's variance: how many times fewer samples
/// this run needed than plain Monte Carlo for the same error. The estimate's variance
/// comes from `R` values, and a variance from few values falls below the truth more
/// often than above (its distribution is skewed): the ratio is multiplied by the
/// median of `chi2(dof) / dof` ([`chi_square_median_ratio`]), so that under
/// normal replicate values it is too high as often as too low (median-unbiased)
/// instead of too high most of the time.
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
    // The replicate values whose mean is the estimate: with a control, each
    // replicate's mean corrected with the fitted coefficient.
    let beta = match control {
        Some(_) if !e.control_dropped => means.covariance(0, 1) / means.variance(1),
        _ => 0.0,
    };
    let values: Vec<f64> = rows
        .iter()
        .map(|row| match control {
            Some(c) if beta != 0.0 => row[0] - beta * (row[1] - c.mean),
            _ => row[0],
        })
        .collect();
    let used = rows.len() as u64;
    let dof = if control.is_some() && !e.control_dropped {
        used.saturating_sub(2)
    } else {
        used.saturating_sub(1)
    };
    let gamma = skewness(&values, e.estimate);
    e.skewness = Some(gamma);
    if dof > 0 && e.std_error.is_finite() {
        let t = t_quantile(dof, confidence);
        (e.ci_low, e.ci_high) = hall_interval(e.estimate, e.std_error, t, gamma, values.len());
    }
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
    e.variance_ratio = if var > 0.0 && var_mc.is_finite() && dof > 0 {
        var_mc / var * chi_square_median_ratio(dof)
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
        // Median-unbiased: times the median of chi2(2) / 2 (two degrees of freedom).
        let ratio = var_mc / (e.std_error.powi(2) * 12.0) * std::f64::consts::LN_2;
        assert!((e.variance_ratio - ratio).abs() < 1e-9 * ratio);
        assert_eq!(layout.points(10), vec![4, 4, 2]);
    }
}
