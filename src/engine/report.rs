//! What a run reports: its merged statistics, each quantity's estimate, why it
//! stopped, and results that look wrong.

use serde::{Deserialize, Serialize};

use super::TracePoint;
use crate::config::Job;
use crate::model::{Model, Quantity, ReferenceKind};
use crate::stats::{Estimate, Moments, estimate};

/// The result of a run (or of merged shards): merged statistics and the estimates
/// drawn from them, with how the run was executed.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run's name.
    pub name: String,
    /// What was run.
    pub job: Job,
    /// The backend's name.
    pub backend: String,
    /// Workers used.
    pub workers: usize,
    /// Wall-clock seconds of the run.
    pub wall_seconds: f64,
    /// Statistics of every chunk, merged in chunk order.
    pub moments: Moments,
    /// Each quantity with its estimate, in output order.
    pub estimates: Vec<(Quantity, Estimate)>,
    /// Why the run stopped drawing samples.
    pub stop_reason: StopReason,
    /// The convergence trace: statistics after 1, 2, 4, 8, ... chunks and at the
    /// stop, ascending (empty for reports not made by running chunks, such as merged
    /// shards).
    pub trace: Vec<TracePoint>,
    /// Worker processes that died or stalled and were replaced, over every session
    /// of the run (the `worker_restarts` column).
    pub worker_restarts: u64,
    /// The digest of each chunk merged, in chunk order ([`Moments::digest`]); empty
    /// when the report was not made from chunks.
    pub digests: Vec<u64>,
    /// The model's normal method ([`Model::normal_method`], the `normal` column).
    pub normal: Option<&'static str>,
}

/// Why a run stopped (the `stop_reason` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopReason {
    /// It drew every sample of the config.
    Samples,
    /// It met the config's target error first.
    Target,
}

impl StopReason {
    /// The name written in the `stop_reason` column.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Samples => "samples",
            StopReason::Target => "target",
        }
    }
}

impl Report {
    /// The report of statistics `moments` merged from `job`'s chunks.
    pub fn new(
        name: &str,
        job: &Job,
        model: &dyn Model,
        moments: Moments,
        backend: &str,
        workers: usize,
        wall_seconds: f64,
    ) -> Self {
        let estimates = model
            .quantities()
            .iter()
            .map(|q| (q.clone(), quantity_estimate(q, &moments, job.confidence)))
            .collect();
        Report {
            name: name.to_string(),
            job: job.clone(),
            backend: backend.to_string(),
            workers,
            wall_seconds,
            moments,
            estimates,
            stop_reason: StopReason::Samples,
            trace: Vec::new(),
            worker_restarts: 0,
            digests: Vec::new(),
            normal: model.normal_method(),
        }
    }

    /// Samples behind the estimates.
    pub fn samples(&self) -> u64 {
        self.moments.count
    }

    /// Results that look wrong, one line each, for stderr: an estimate more than 5
    /// standard errors from an exact reference (a correct model lands that far about
    /// once in 1.7 million runs; a wrong parameter or a bug in a model, every time),
    /// or from a quadrature reference by more than 1% (an American estimate lies below
    /// its Bermudan reference by its exercise rule's loss); a standard error of 0 over
    /// several samples (nothing random happened), said more strongly when the estimate
    /// is then not its reference (an American put at an absurd dividend: every path
    /// exercised alike, by a rule that the regression could not fit). They never
    /// change a result or an exit code.
    ///
    /// Two more say what the interval could not do: a control variate that was asked
    /// for but dropped (the estimate is the plain one), and randomized quasi-Monte
    /// Carlo replicate values skewed beyond [`SKEWED_REPLICATES`], where the
    /// skew-corrected interval still covers less than it claims (docs/quants.md).
    ///
    /// And one of the measured limits of randomized quasi-Monte Carlo: on a one-date
    /// path (the european model) the Sobol point set is one-dimensional, and the
    /// replicate means of a Greek or a sweep's difference (payoffs with an indicator
    /// or a kink) take nearly lattice values, so their intervals are not reliable.
    pub fn warnings(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.job.sampler.replicates().is_some()
            && self.job.model.kind() == "european"
            && self.estimates.iter().any(|(q, _)| q.name != "price")
        {
            found.push(
                "sampler = \"sobol\" on a one-date path: the replicate means of Greeks and \
                 sweep differences take nearly lattice values (one Sobol dimension), and their \
                 intervals cover less or more than their confidence (docs/quants.md); use \
                 sampler = \"mc\" for them"
                    .to_string(),
            );
        }
        for (q, e) in &self.estimates {
            if let Some(note) = note(e) {
                found.push(format!("{}: {note}", q.name));
            }
            if let Some(g) = e.skewness
                && g.abs() > SKEWED_REPLICATES
            {
                found.push(format!(
                    "{}: the replicate means are skewed (skewness {g:.2}); the interval is \
                     corrected for it, but with few replicates it may cover less than its \
                     confidence: use more points per replicate and more replicates, or \
                     sampler = \"mc\"",
                    q.name
                ));
            }
            let reference = q.reference.filter(|(r, _)| r.is_finite());
            if e.samples > 1 && e.std_error == 0.0 {
                let off = reference.filter(|&(r, kind)| {
                    (e.estimate - r).abs() > reference_accuracy(kind) * r.abs().max(1.0)
                });
                found.push(match off {
                    Some((r, kind)) => format!(
                        "{}: all {} samples gave {} (a standard error of 0), but its {} \
                         reference is {r}: the estimate cannot be trusted at these \
                         parameters (nothing random happened); check them (units, such as \
                         a percentage for a fraction)",
                        q.name,
                        e.samples,
                        e.estimate,
                        kind.name()
                    ),
                    None => format!(
                        "{}: all {} samples gave {} (a standard error of 0): nothing random \
                         happened; is that what these parameters mean?",
                        q.name, e.samples, e.estimate
                    ),
                });
                continue;
            }
            let Some((r, kind)) = reference else { continue };
            if e.std_error > 0.0 {
                let z = (e.estimate - r) / e.std_error;
                let beyond = (e.estimate - r).abs() > QUADRATURE_WARNING * r.abs().max(1.0);
                if z.abs() > 5.0 && (kind == ReferenceKind::Exact || beyond) {
                    found.push(format!(
                        "{}: the estimate {} is {z:.1} standard errors from its {} \
                         reference {r}; check the parameters (units, such as a \
                         percentage for a fraction) and the model",
                        q.name,
                        e.estimate,
                        kind.name()
                    ));
                }
            }
        }
        found
    }
}

/// The sample skewness of replicate values beyond which a run warns that its
/// interval may be short: a symmetric law gives more only about once in 100 runs
/// at 16 replicates (the sample skewness of 16 normal values has a standard
/// deviation near 0.5), while the replicate means of a one-sided payoff with a few
/// thousand points often do.
pub const SKEWED_REPLICATES: f64 = 1.5;

/// What a summary row's `note` says about its estimate, if anything: today, that a
/// control variate was dropped.
pub fn note(e: &Estimate) -> Option<String> {
    e.control_dropped.then(|| {
        "the control variate was dropped (too few samples or replicates to fit it, or a \
         control with no spread): the estimate is the plain one"
            .to_string()
    })
}

/// An estimate further than this fraction of its quadrature reference's size (and
/// more than 5 standard errors) is worth a warning: a Longstaff-Schwartz estimate
/// lies below its Bermudan reference by its rule's loss, normally a small fraction
/// of a percent, so a closer test would warn on a correct American run.
const QUADRATURE_WARNING: f64 = 1e-2;

/// How far an estimate with a standard error of 0 may lie from a reference of
/// `kind` before the two disagree, relative to the reference's size (at least 1).
fn reference_accuracy(kind: ReferenceKind) -> f64 {
    match kind {
        ReferenceKind::Exact => 1e-9,
        ReferenceKind::Quadrature => 1e-3,
    }
}

/// The estimate of quantity `q` from merged statistics.
pub fn quantity_estimate(q: &Quantity, moments: &Moments, confidence: f64) -> Estimate {
    if !q.combination.is_empty() {
        let (combined, replicated) = combine(moments, &q.combination, q.replicated.as_ref());
        return match replicated {
            Some(layout) => {
                crate::stats::replicates::estimate(&combined, &layout, 0, None, None, confidence)
            }
            None => estimate(&combined, 0, None, None, confidence),
        };
    }
    match &q.replicated {
        Some(layout) => crate::stats::replicates::estimate(
            moments, layout, q.column, q.control, q.plain, confidence,
        ),
        None => estimate(moments, q.column, q.control, q.plain, confidence),
    }
}

/// The statistics of the combination `sum w_i X_i` of columns (within each
/// replicate's block, for a replicated layout), as one column per block: its mean
/// and co-moments follow from those of the columns exactly.
fn combine(
    moments: &Moments,
    weights: &[(usize, f64)],
    replicated: Option<&crate::stats::Replicated>,
) -> (Moments, Option<crate::stats::Replicated>) {
    let (blocks, width) =
        replicated.map_or((1, moments.dim()), |r| (r.replicates as usize, r.width));
    let dim = moments.dim();
    let mut out = Moments::empty(blocks);
    out.count = moments.count;
    for a in 0..blocks {
        out.mean[a] = weights
            .iter()
            .map(|&(c, w)| w * moments.mean[a * width + c])
            .sum();
        for b in 0..blocks {
            let mut m2 = 0.0;
            for &(i, wi) in weights {
                for &(j, wj) in weights {
                    m2 += wi * wj * moments.comoment[(a * width + i) * dim + b * width + j];
                }
            }
            out.comoment[a * blocks + b] = m2;
        }
    }
    let layout = replicated.map(|r| crate::stats::Replicated { width: 1, ..*r });
    (out, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_far_from_an_exact_reference_are_warned_about() {
        let job = crate::config::Experiment::parse(
            "[simulation]\nsamples = 100\nseed = 1\n[model]\ntype = \"pi\"\n",
            std::path::Path::new("x.toml"),
            &Default::default(),
            &crate::model::Registry::builtin(),
        )
        .unwrap()
        .job;
        let pi = crate::models::Pi::new(&crate::models::PiParams {}).unwrap();
        // Samples of 3.3 +- 0.01: 15 standard errors of the mean from pi, or none.
        let report = |value: f64, spread: f64| {
            let rows: Vec<Vec<f64>> = (0..100)
                .map(|i| vec![value + spread * if i % 2 == 0 { 1.0 } else { -1.0 }])
                .collect();
            Report::new(
                "x",
                &job,
                &pi,
                Moments::from_rows(1, &rows),
                "sequential",
                1,
                0.0,
            )
        };
        let far = report(3.3, 0.1).warnings();
        assert_eq!(far.len(), 1, "{far:?}");
        assert!(
            far[0].contains("standard errors from its exact reference"),
            "{far:?}"
        );
        assert!(report(std::f64::consts::PI, 0.1).warnings().is_empty());
        let flat = report(3.0, 0.0).warnings();
        assert!(flat[0].contains("all 100 samples gave 3"), "{flat:?}");
    }
}
