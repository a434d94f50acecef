//! The engine: runs a job's chunks on an executor and merges their statistics in
//! chunk order into a [`Report`].
//!
//! Decisions that change the result (stopping on a target error, the points of the
//! convergence trace) are taken at fixed chunk counts, on the statistics of chunks
//! `0..k` merged in order: executors may run ahead, but what they finish beyond a
//! decision point is never looked at before it. A run's progress is a [`State`],
//! which a checkpoint saves and [`resume_on`] continues with the same bits.

use std::ops::Range;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::{Experiment, Job};
use crate::exec::{self, Event, Executor, Flow, Work};
use crate::model::{Model, Quantity, ReferenceKind};
use crate::plan::Plan;
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
    /// and a standard error of 0 over several samples (nothing random happened).
    /// They never change a result or an exit code.
    pub fn warnings(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (q, e) in &self.estimates {
            if e.samples > 1 && e.std_error == 0.0 {
                found.push(format!(
                    "{}: all {} samples gave {} (a standard error of 0): nothing random \
                     happened; is that what these parameters mean?",
                    q.name, e.samples, e.estimate
                ));
                continue;
            }
            if let Some((reference, ReferenceKind::Exact)) = q.reference
                && reference.is_finite()
                && e.std_error > 0.0
            {
                let z = (e.estimate - reference) / e.std_error;
                if z.abs() > 5.0 {
                    found.push(format!(
                        "{}: the estimate {} is {z:.1} standard errors from its exact \
                         reference {reference}; check the parameters (units, such as a \
                         percentage for a fraction) and the model",
                        q.name, e.estimate
                    ));
                }
            }
        }
        found
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
/// that): runs the chunks it lacks, merges them in order, stops at the first check
/// that meets the job's target or after the last chunk, and reports. The result has
/// the same bits as an uninterrupted run. A finished state reports at once.
pub fn resume_on(
    name: &str,
    job: &Job,
    model: &dyn Model,
    executor: &mut dyn Executor,
    mut state: State,
    observer: &mut dyn Observer,
) -> Result<Report, Error> {
    let start = Instant::now();
    let plan = job.plan();
    let quantity = &model.quantities()[0];
    let before = state.wall_seconds;
    if state.stop.is_none() {
        // A state saved at a decision point has taken its decision already; one that
        // reached the end without it (made by hand) takes it now.
        state.fold(job, model.quantities());
        let work = Work { job, model, plan };
        let todo = missing(&state.merger, plan.chunks());
        let mut interrupted = false;
        let mut failed = None;
        executor.execute(&work, &todo, &mut |event| {
            if state.stop.is_some() || interrupted || failed.is_some() {
                return Flow::Stop;
            }
            let (index, moments) = match event {
                Event::Done(index, moments) => (index, moments),
                Event::Restarted => {
                    state.restarts += 1;
                    return Flow::Continue;
                }
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
            state.digests.record(index, &moments);
            state.merger.offer(index, moments);
            if state.fold(job, model.quantities()) > 0 {
                observer.progress(&Progress {
                    samples_done: plan.samples_before(state.merger.next()),
                    samples_total: plan.samples(),
                    moments: state.merger.merged(),
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
                // After the last chunk nothing is left to stop; saying Stop would
                // make some executors abandon workers they could keep for the next
                // run.
                return if state.merger.next() < plan.chunks() {
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
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        state.wall_seconds = before + start.elapsed().as_secs_f64();
        if state.stop.is_none() && !interrupted {
            return Err(Error::Execution(format!(
                "the {} backend finished without chunk {}",
                executor.backend(),
                state.merger.next()
            )));
        }
        observer.checkpoint(&state, true)?;
        if interrupted {
            return Err(Error::Interrupted {
                done: state.merger.next(),
                total: plan.chunks(),
            });
        }
    } else {
        // Nothing left to run, but the executor still takes part: MPI ranks meet in
        // every run to check that they resume the same job from the same point.
        let work = Work { job, model, plan };
        executor.execute(&work, &[], &mut |_| Flow::Stop)?;
    }
    let mut report = Report::new(
        name,
        job,
        model,
        state.merger.merged().clone(),
        executor.backend(),
        executor.workers(),
        state.wall_seconds,
    );
    report.stop_reason = state.stop.unwrap_or(StopReason::Samples);
    report.trace = state.trace;
    report.worker_restarts = state.restarts;
    report.digests = state.digests.prefix(state.merger.next()).to_vec();
    Ok(report)
}

/// The statistics of chunks `0..chunks`, merged in order: one point of the
/// convergence trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    /// Chunks merged.
    pub chunks: u64,
    /// Their statistics.
    pub moments: Moments,
}

/// What a run has finished: the statistics of chunks `0..next` merged in order,
/// chunks finished beyond them, the trace so far, and why it stopped once it has.
/// Enough to resume the run with the same bits; the content of a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "SavedState", from = "SavedState")]
pub struct State {
    merger: InOrder,
    trace: Vec<TracePoint>,
    stop: Option<StopReason>,
    wall_seconds: f64,
    restarts: u64,
    digests: Digests,
}

/// The digest ([`Moments::digest`]) of every chunk a run has finished, by chunk:
/// what `carlo verify --chunks` and `--shard` compare recomputed chunks with. Eight
/// bytes a chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Digests(Vec<u64>);

impl Digests {
    /// Records chunk `index`'s statistics.
    pub fn record(&mut self, index: u64, moments: &Moments) {
        let i = usize::try_from(index).expect("chunk indices fit in memory");
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = moments.digest();
    }

    /// The digests of chunks `0..n`.
    pub fn prefix(&self, n: u64) -> &[u64] {
        &self.0[..(n as usize).min(self.0.len())]
    }

    /// The digests of chunks `0..n` as hex, 16 digits each, to save in a checkpoint.
    fn to_hex(&self, n: u64) -> String {
        self.prefix(n).iter().map(|d| format!("{d:016x}")).collect()
    }

    /// Reads what [`to_hex`](Self::to_hex) wrote.
    fn from_hex(text: &str) -> Option<Self> {
        if !text.len().is_multiple_of(16) {
            return None;
        }
        (0..text.len() / 16)
            .map(|k| u64::from_str_radix(text.get(16 * k..16 * k + 16)?, 16).ok())
            .collect::<Option<Vec<u64>>>()
            .map(Digests)
    }
}

/// How a [`State`] is written: plain fields, chunks waiting as a list.
#[derive(Serialize, Deserialize)]
struct SavedState {
    next: u64,
    merged: Moments,
    waiting: Vec<(u64, Moments)>,
    trace: Vec<TracePoint>,
    stop: Option<StopReason>,
    wall_seconds: f64,
    restarts: u64,
    /// The digests of the merged chunks, as hex (those of the chunks waiting are
    /// computed again when the state is read).
    digests: String,
}

impl From<State> for SavedState {
    fn from(s: State) -> Self {
        SavedState {
            next: s.merger.next(),
            merged: s.merger.merged().clone(),
            waiting: s.merger.waiting().map(|(i, m)| (i, m.clone())).collect(),
            trace: s.trace,
            stop: s.stop,
            wall_seconds: s.wall_seconds,
            restarts: s.restarts,
            digests: s.digests.to_hex(s.merger.next()),
        }
    }
}

impl From<SavedState> for State {
    fn from(s: SavedState) -> Self {
        let mut merger = InOrder::resume(s.next, s.merged);
        // A damaged list is caught by `check` (its length is then wrong).
        let mut digests = Digests::from_hex(&s.digests).unwrap_or_default();
        for (index, moments) in s.waiting {
            digests.record(index, &moments);
            merger.offer(index, moments);
        }
        State {
            merger,
            trace: s.trace,
            stop: s.stop,
            wall_seconds: s.wall_seconds,
            restarts: s.restarts,
            digests,
        }
    }
}

impl State {
    /// Nothing done yet, for a model of `dim` columns.
    pub fn new(dim: usize) -> Self {
        State {
            merger: InOrder::new(dim),
            trace: Vec::new(),
            stop: None,
            wall_seconds: 0.0,
            restarts: 0,
            digests: Digests::default(),
        }
    }

    /// Chunks merged so far (the run resumes at this chunk).
    pub fn chunks_done(&self) -> u64 {
        self.merger.next()
    }

    /// The digest ([`Moments::digest`]) of chunk `index`, once it is finished (merged
    /// or waiting to be): what a determinism check compares a chunk computed again with.
    pub fn digest(&self, index: u64) -> Option<u64> {
        let done = index < self.merger.next() || self.merger.waiting().any(|(i, _)| i == index);
        done.then(|| self.digests.0.get(index as usize).copied())
            .flatten()
    }

    /// Why the run stopped, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop
    }

    /// Seconds spent on the work this state holds, over every session.
    pub fn wall_seconds(&self) -> f64 {
        self.wall_seconds
    }

    /// Checks that this state can belong to a run of `plan` with `dim` columns, so
    /// that a damaged or hand-edited file is refused instead of resumed.
    pub fn check(&self, plan: &Plan, dim: usize) -> Result<(), String> {
        let next = self.merger.next();
        let shape = |what: &str, m: &Moments, count: u64| {
            if m.dim() != dim || m.comoment.len() != dim * dim {
                Err(format!("{what} has {} columns, the model {dim}", m.dim()))
            } else if m.count != count {
                Err(format!("{what} counts {} samples, not {count}", m.count))
            } else if let Some(reason) = m.implausible().filter(|_| count > 0) {
                Err(format!("{what}: {reason}"))
            } else {
                Ok(())
            }
        };
        if next > plan.chunks() {
            return Err(format!(
                "it has {next} chunks merged, the run only {}",
                plan.chunks()
            ));
        }
        shape(
            "the merged prefix",
            self.merger.merged(),
            plan.samples_before(next),
        )?;
        for (index, m) in self.merger.waiting() {
            if index >= plan.chunks() {
                return Err(format!("it holds chunk {index}, beyond the run's last"));
            }
            shape(&format!("chunk {index}"), m, plan.chunk(index).samples)?;
        }
        let mut previous = 0;
        for point in &self.trace {
            if point.chunks <= previous || point.chunks > next {
                return Err(format!("its trace has a point at {} chunks", point.chunks));
            }
            previous = point.chunks;
            shape(
                &format!("the trace point at {} chunks", point.chunks),
                &point.moments,
                plan.samples_before(point.chunks),
            )?;
        }
        if !(self.wall_seconds.is_finite() && self.wall_seconds >= 0.0) {
            return Err(format!("its wall_seconds is {}", self.wall_seconds));
        }
        if (self.digests.prefix(next).len() as u64) < next {
            return Err(format!(
                "it holds the digests of {} of its {next} merged chunks",
                self.digests.prefix(next).len()
            ));
        }
        Ok(())
    }

    /// Folds waiting chunks in order up to each decision point in turn and takes the
    /// decisions due there, until a gap or the stop. Returns the chunks folded.
    fn fold(&mut self, job: &Job, quantities: &[Quantity]) -> u64 {
        let end = job.plan().chunks();
        let mut folded = 0;
        while self.stop.is_none() {
            let next = self.merger.next();
            let point = decision_point(next, end, job);
            folded += self.merger.advance(point);
            if self.merger.next() < point {
                break;
            }
            self.decide(point, end, job, quantities);
        }
        folded
    }

    /// The decisions due after chunks `0..chunks`: a trace point, a target check,
    /// the end.
    fn decide(&mut self, chunks: u64, end: u64, job: &Job, quantities: &[Quantity]) {
        let merged = self.merger.merged();
        let estimate = |q: &Quantity| quantity_estimate(q, merged, job.confidence);
        if let Some(target) = &job.target
            && (target.checks_at(chunks) || chunks == end)
            && target.met(&estimate(&quantities[0]))
            && target.quantities.iter().all(|t| {
                quantities
                    .iter()
                    .filter(|q| q.name == t.quantity)
                    .all(|q| t.met(&estimate(q)))
            })
        {
            self.stop = Some(StopReason::Target);
        } else if chunks == end {
            self.stop = Some(StopReason::Samples);
        }
        if chunks.is_power_of_two() || self.stop.is_some() {
            self.trace.push(TracePoint {
                chunks,
                moments: merged.clone(),
            });
        }
    }
}

/// The first chunk count after `next` where the run decides something: a power of
/// two (a trace point), a multiple of the target's `check_every`, or the end.
fn decision_point(next: u64, end: u64, job: &Job) -> u64 {
    let power = (next + 1).checked_next_power_of_two().unwrap_or(end);
    let check = job.target.as_ref().map_or(end, |t| {
        (next / t.check_every + 1).saturating_mul(t.check_every)
    });
    power.min(check).min(end)
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
    fn decision_points_are_powers_of_two_checks_and_the_end() {
        let mut job = crate::config::Experiment::parse(
            "[simulation]\nsamples = 100\nseed = 1\nchunk_size = 1\n[model]\ntype = \"pi\"\n",
            std::path::Path::new("x.toml"),
            &Default::default(),
            &crate::model::Registry::builtin(),
        )
        .unwrap()
        .job;
        let walk = |job: &Job| {
            let mut points = vec![];
            let mut next = 0;
            while next < 100 {
                next = decision_point(next, 100, job);
                points.push(next);
            }
            points
        };
        assert_eq!(walk(&job), [1, 2, 4, 8, 16, 32, 64, 100]);
        job.target = Some(crate::config::Target {
            rel_error: None,
            abs_error: Some(1e-9),
            check_every: 24,
            quantities: Vec::new(),
        });
        assert_eq!(walk(&job), [1, 2, 4, 8, 16, 24, 32, 48, 64, 72, 96, 100]);
    }

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
