//! The engine: runs a job's chunks on an executor and merges their statistics in
//! chunk order into a [`Report`].
//!
//! Decisions that change the result (stopping on a target error, the points of the
//! convergence trace) are taken at fixed chunk counts, on the statistics of chunks
//! `0..k` merged in order: executors may run ahead, but what they finish beyond a
//! decision point is never looked at before it. A run's progress is a [`State`]
//! (`state.rs`), which a checkpoint saves and [`resume_on`] continues with the same
//! bits; what a run reports is a [`Report`] (`report.rs`).

mod report;
mod state;

use std::ops::Range;
use std::time::Instant;

use crate::Error;
use crate::config::{Experiment, Job};
use crate::exec::{self, Event, Executor, Flow, Work};
use crate::model::{Model, Quantity};
use crate::plan::Plan;
use crate::stats::{Estimate, Moments};

pub use report::{Report, SKEWED_REPLICATES, StopReason, note, quantity_estimate};
pub use state::{DIGEST_GROUP, Digests, State, TracePoint, group_digest};

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

/// Watches and steers a run from the calling thread. Every method runs between
/// chunks, so each must be cheap most of the time.
pub trait Observer {
    /// Called after chunks were merged.
    fn progress(&mut self, _progress: &Progress<'_>) {}

    /// Called after each chunk the run accepts with everything it has finished, and
    /// once more with `last` true when it ends (finished or interrupted). A
    /// checkpoint saves the state every few seconds, and always when `last`; an error
    /// ends the run.
    fn checkpoint(&mut self, _state: &State, _last: bool) -> Result<(), Error> {
        Ok(())
    }

    /// Polled after each chunk: true (Ctrl-C was pressed) starts no more chunks and
    /// ends the run, once those in flight are done, with [`Error::Interrupted`]
    /// after a last [`checkpoint`](Self::checkpoint).
    fn interrupted(&mut self) -> bool {
        false
    }

    /// Called once when the run fails with `error`, after a last
    /// [`checkpoint`](Self::checkpoint) of what it finished (so that a checkpoint
    /// can say how to resume). The error itself is the caller's to report.
    fn failed(&mut self, _error: &Error) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Observer for Quiet {}

/// Runs an experiment on its configured backend.
pub fn run(experiment: &Experiment, observer: &mut dyn Observer) -> Result<Report, Error> {
    resume(experiment, State::new(experiment.model.dim()), observer)
}

/// Continues an experiment from `state` (see [`resume_on`]).
pub fn resume(
    experiment: &Experiment,
    state: State,
    observer: &mut dyn Observer,
) -> Result<Report, Error> {
    let mut executor = exec::build(experiment)?;
    resume_on(
        &experiment.name,
        &experiment.job,
        experiment.model.as_ref(),
        executor.as_mut(),
        state,
        observer,
    )
}

/// Runs every chunk of `job` with `model` on `executor` (or, with a target, until
/// the target is met).
pub fn run_on(
    name: &str,
    job: &Job,
    model: &dyn Model,
    executor: &mut dyn Executor,
    observer: &mut dyn Observer,
) -> Result<Report, Error> {
    resume_on(
        name,
        job,
        model,
        executor,
        State::new(model.dim()),
        observer,
    )
}

/// Continues `job` from `state`, which must belong to it (a checkpoint checks
/// that): runs the blocks it lacks, in chunks of the job's chunk size, merges them
/// exactly as they finish, takes each decision (trace point, target check, the end)
/// once every block before it is done, stops at the first check that meets the job's
/// target or after the last block, and reports. The result has the same bits as an
/// uninterrupted run, at any chunk size. A finished state reports at once.
pub fn resume_on(
    name: &str,
    job: &Job,
    model: &dyn Model,
    executor: &mut dyn Executor,
    mut state: State,
    observer: &mut dyn Observer,
) -> Result<Report, Error> {
    let start = Instant::now();
    let quantity = &model.quantities()[0];
    let before = state.wall_seconds;
    let end = job.blocks();
    // The blocks not done, in chunks of this run's size (whatever size wrote the
    // checkpoint).
    let plan = Plan::resume(job.samples, job.chunk_blocks(), state.todo(end));
    let work = Work {
        job,
        model,
        plan: &plan,
    };
    if state.stop.is_none() {
        // A state saved at a decision point has taken its decision already; one that
        // reached the end without it (made by hand) takes it now.
        state.fold(job, model.quantities());
        let all = 0..plan.chunks();
        let todo: &[Range<u64>] = if state.stop.is_none() {
            std::slice::from_ref(&all)
        } else {
            &[]
        };
        let mut interrupted = false;
        let mut failed = None;
        // Chunks accepted in this run: a run that fails before any (ranks that do
        // not agree) leaves no checkpoint behind.
        let mut accepted = 0u64;
        let executed = executor.execute(&work, todo, &mut |event| {
            if let Event::Fatal(why) = &event {
                if accepted > 0 {
                    let _ = observer.checkpoint(&state, true);
                }
                observer.failed(&Error::Execution(why.clone()));
                return Flow::Stop;
            }
            if state.stop.is_some() || interrupted || failed.is_some() {
                return Flow::Stop;
            }
            let stats = match event {
                Event::Done(_, stats) => stats,
                Event::Restarted => {
                    state.restarts = state.restarts.saturating_add(1);
                    return Flow::Continue;
                }
                Event::Fatal(_) => unreachable!("handled above"),
                Event::Idle => {
                    interrupted = observer.interrupted();
                    if !interrupted {
                        // Saves keep their pace while a chunk is slow to come.
                        if let Err(e) = observer.checkpoint(&state, false) {
                            failed = Some(e);
                            return Flow::Stop;
                        }
                        return Flow::Continue;
                    }
                    // A chunk may be stuck where it cannot be stopped (a thread):
                    // save now, so that a second Ctrl-C, which exits at once, loses
                    // nothing.
                    if let Err(e) = observer.checkpoint(&state, true) {
                        failed = Some(e);
                    }
                    return Flow::Stop;
                }
            };
            accepted += 1;
            state.add(stats, job);
            if state.fold(job, model.quantities()) > 0 {
                observer.progress(&Progress {
                    samples_done: plan.samples_before(state.decided),
                    samples_total: plan.samples(),
                    moments: &state.prefix.moments(),
                    quantity,
                    confidence: job.confidence,
                });
            }
            state.wall_seconds = before + start.elapsed().as_secs_f64();
            if let Err(e) = observer.checkpoint(&state, false) {
                failed = Some(e);
                return Flow::Stop;
            }
            if state.stop.is_some() {
                // After the last block nothing is left to stop; saying Stop would
                // make some executors abandon workers they could keep for the next
                // run.
                return if state.decided < end {
                    Flow::Stop
                } else {
                    Flow::Continue
                };
            }
            interrupted = observer.interrupted();
            if interrupted {
                Flow::Stop
            } else {
                Flow::Continue
            }
        });
        if let Err(e) = executed {
            // What finished is kept: a run that resumes recomputes only the rest.
            if accepted > 0 {
                let _ = observer.checkpoint(&state, true);
            }
            observer.failed(&e);
            return Err(e);
        }
        if let Some(e) = failed {
            observer.failed(&e);
            return Err(e);
        }
        state.wall_seconds = before + start.elapsed().as_secs_f64();
        if state.stop.is_none() && !interrupted {
            return Err(Error::Execution(format!(
                "the {} backend finished without block {}",
                executor.backend(),
                state.decided
            )));
        }
        observer.checkpoint(&state, true)?;
        if interrupted {
            return Err(Error::Interrupted {
                done: state.decided,
                total: end,
            });
        }
    } else {
        // Nothing left to run, but the executor still takes part: MPI ranks meet in
        // every run to check that they resume the same job from the same point.
        executor.execute(&work, &[], &mut |_| Flow::Stop)?;
    }
    let mut report = Report::new(
        name,
        job,
        model,
        state.prefix.moments(),
        executor.backend(),
        executor.workers(),
        state.wall_seconds,
    );
    report.stop_reason = state.stop.unwrap_or(StopReason::Samples);
    report.digests = state.digests.groups(state.decided).unwrap_or_default();
    report.trace = state.trace;
    report.worker_restarts = state.restarts;
    Ok(report)
}
