//! The engine: runs a job's chunks on an executor and merges their statistics in
//! chunk order into a [`Report`].

use std::ops::Range;
use std::time::Instant;

use crate::Error;
use crate::config::{Experiment, Job};
use crate::exec::{self, Executor, Flow, Work};
use crate::model::{self, Model, Quantity};
use crate::stats::{Estimate, InOrder, Moments, estimate};

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
}

/// Why a run stopped (the `stop_reason` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        }
    }

    /// Samples behind the estimates.
    pub fn samples(&self) -> u64 {
        self.moments.count
    }
}

/// The estimate of quantity `q` from merged statistics.
///
/// When `q` names a column of plain samples (antithetic pairs keep the first path's
/// payoff), the variance ratio compares that column's variance with the variance of
/// the estimator used, at equal samples.
pub fn quantity_estimate(q: &Quantity, moments: &Moments, confidence: f64) -> Estimate {
    let mut e = estimate(moments, q.column, q.control, confidence);
    if let Some(plain) = q.plain {
        let reduced = e.std_error * e.std_error * moments.count as f64;
        if reduced > 0.0 {
            e.variance_ratio = moments.variance(plain) / reduced;
        }
    }
    e
}

/// Progress of a run as chunks are merged, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Samples merged so far (in chunk order).
    pub samples_done: u64,
    /// Samples the run will draw at most.
    pub samples_total: u64,
    /// The statistics merged so far.
    pub moments: &'a Moments,
    /// The model's first quantity.
    pub quantity: &'a Quantity,
    /// The run's confidence level.
    pub confidence: f64,
}

impl Progress<'_> {
    /// The running estimate of the first quantity.
    pub fn estimate(&self) -> Estimate {
        quantity_estimate(self.quantity, self.moments, self.confidence)
    }
}

/// Watches a run from the calling thread.
pub trait Observer {
    /// Called after chunks were merged; cheap calls only (it runs between chunks).
    fn progress(&mut self, _progress: &Progress<'_>) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Observer for Quiet {}

/// Runs an experiment on its configured backend.
pub fn run(experiment: &Experiment, observer: &mut dyn Observer) -> Result<Report, Error> {
    let model = model::build(&experiment.job.model, experiment.job.seed)?;
    let mut executor = exec::build(experiment.backend, experiment.workers)?;
    run_on(
        &experiment.name,
        &experiment.job,
        model.as_ref(),
        executor.as_mut(),
        observer,
    )
}

/// Runs every chunk of `job` with `model` on `executor`.
pub fn run_on(
    name: &str,
    job: &Job,
    model: &dyn Model,
    executor: &mut dyn Executor,
    observer: &mut dyn Observer,
) -> Result<Report, Error> {
    let start = Instant::now();
    let plan = job.plan();
    let work = Work { job, model, plan };
    let mut merger = InOrder::new(model.dim());
    run_until(&work, executor, &mut merger, plan.chunks(), observer)?;
    Ok(Report::new(
        name,
        job,
        model,
        merger.merged().clone(),
        executor.backend(),
        executor.workers(),
        start.elapsed().as_secs_f64(),
    ))
}

/// Runs the chunks from `merger.next()` up to `end` that `merger` does not already
/// hold, folding each into it in chunk order, until chunks `0..end` are merged.
pub fn run_until(
    work: &Work<'_>,
    executor: &mut dyn Executor,
    merger: &mut InOrder,
    end: u64,
    observer: &mut dyn Observer,
) -> Result<(), Error> {
    let todo = missing(merger, end);
    let quantity = &work.model.quantities()[0];
    executor.execute(work, &todo, &mut |index, moments| {
        if merger.insert(index, moments) > 0 {
            observer.progress(&Progress {
                samples_done: work.plan.samples_before(merger.next()),
                samples_total: work.plan.samples(),
                moments: merger.merged(),
                quantity,
                confidence: work.job.confidence,
            });
        }
        Flow::Continue
    })?;
    if merger.next() < end {
        return Err(Error::Execution(format!(
            "the {} backend finished without chunk {}",
            executor.backend(),
            merger.next()
        )));
    }
    Ok(())
}

/// The chunks in `merger.next()..end` that are neither merged nor waiting, as
/// sorted ranges.
fn missing(merger: &InOrder, end: u64) -> Vec<Range<u64>> {
    let mut todo = Vec::new();
    let mut from = merger.next();
    for (index, _) in merger.waiting() {
        if index >= end {
            break;
        }
        if index > from {
            todo.push(from..index);
        }
        from = index + 1;
    }
    if from < end {
        todo.push(from..end);
    }
    todo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_skips_waiting_chunks() {
        let mut merger = InOrder::new(1);
        merger.insert(0, Moments::empty(1));
        merger.insert(3, Moments::empty(1));
        merger.insert(4, Moments::empty(1));
        merger.insert(7, Moments::empty(1));
        assert_eq!(missing(&merger, 9), vec![1..3, 5..7, 8..9]);
        assert_eq!(missing(&merger, 4), vec![1..3]);
    }
}
