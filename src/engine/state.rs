//! A run's progress: the statistics merged in chunk order, chunks finished ahead of
//! their turn, the trace, the chunk digests and why it stopped; what a checkpoint
//! saves, and where the run's decisions (trace points, target checks, the end) are
//! taken.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{StopReason, quantity_estimate};
use crate::config::Job;
use crate::model::Quantity;
use crate::plan::Plan;
use crate::stats::{InOrder, Moments};

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
    pub(super) merger: InOrder,
    pub(super) trace: Vec<TracePoint>,
    pub(super) stop: Option<StopReason>,
    pub(super) wall_seconds: f64,
    pub(super) restarts: u64,
    pub(super) digests: Digests,
}

/// The digest ([`Moments::digest`]) of every chunk a run has finished, by chunk:
/// what `carlo verify --chunks` and `--shard` compare recomputed chunks with. Eight
/// bytes a chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Digests(Vec<u64>);

impl Digests {
    /// Records chunk `index`'s statistics.
    pub(crate) fn record(&mut self, index: u64, moments: &Moments) {
        let i = usize::try_from(index).expect("chunk indices fit in memory");
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = moments.digest();
    }

    /// The digests of chunks `0..n`.
    pub(crate) fn prefix(&self, n: u64) -> &[u64] {
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
    pub(crate) fn check(&self, plan: &Plan, dim: usize) -> Result<(), String> {
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
    pub(super) fn fold(&mut self, job: &Job, quantities: &[Quantity]) -> u64 {
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
        // The target of the first quantity, and every quantity's own target.
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
pub(super) fn missing(merger: &InOrder, end: u64) -> Vec<Range<u64>> {
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
