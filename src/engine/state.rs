//! A run's progress: the exact statistics of the blocks before the last decision
//! point, those of chunks finished beyond it (per decision interval), which blocks are
//! done, the trace, the digests and why it stopped; what a checkpoint saves, and
//! where the run's decisions (trace points, target checks, the end) are taken.
//!
//! Chunks are added in whatever order they finish: their statistics merge exactly
//! ([`ExactSums`]), so a decision sees the same bits however the blocks before it were
//! grouped or ordered. A decision is taken once every block before its point is done.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{StopReason, quantity_estimate};
use crate::config::Job;
use crate::model::Quantity;
use crate::stats::{ChunkStats, ExactSums, Moments};

/// Blocks per digest group: `carlo verify --blocks` recomputes whole groups.
pub const DIGEST_GROUP: u64 = 16;

/// The statistics of blocks `0..blocks`: one point of the convergence trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    /// Blocks merged.
    pub blocks: u64,
    /// Their statistics, rounded once from the exact sums.
    pub moments: Moments,
}

/// What a run has finished: enough to resume it with the same bits; the content of a
/// checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Blocks before the last decision point taken.
    pub(super) decided: u64,
    /// Their exact statistics.
    pub(super) prefix: ExactSums,
    /// Exact statistics of finished chunks beyond `decided`, by the end of their
    /// decision interval.
    pub(super) pending: BTreeMap<u64, ExactSums>,
    /// Blocks finished beyond `decided`: ascending, disjoint, not touching.
    pub(super) done: Vec<Range<u64>>,
    pub(super) trace: Vec<TracePoint>,
    pub(super) stop: Option<StopReason>,
    pub(super) wall_seconds: f64,
    pub(super) restarts: u64,
    pub(super) digests: Digests,
}

/// The digests of a run's blocks, kept per group of [`DIGEST_GROUP`] blocks: a group's
/// digest is the SHA-256 (its first 8 bytes, little-endian) of its blocks' digests in
/// block order, each 8 bytes little-endian. What `carlo verify --blocks` compares
/// recomputed groups with; eight bytes a group.
///
/// The last group of a run ends where the run stopped, which may be inside a group
/// when a target is met: the blocks' own digests are kept for the groups that hold a
/// decision point inside them (the first group, and any a target check cuts), so that
/// such a group's digest can be taken at any of its decision points.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Digests {
    /// Complete groups' digests by group.
    groups: BTreeMap<u64, u64>,
    /// Blocks' digests of the groups not complete yet and of those cut by a decision
    /// point: `(its blocks' digests, 0 where not yet known; which are known as bits)`.
    blocks: BTreeMap<u64, (Vec<u64>, u64)>,
}

impl Digests {
    /// Records the digests of blocks `first..` of `job`'s run.
    pub fn record(&mut self, first: u64, digests: &[u64], job: &Job) {
        let end = job.blocks();
        for (k, &d) in digests.iter().enumerate() {
            let b = first + k as u64;
            let g = b / DIGEST_GROUP;
            let start = g * DIGEST_GROUP;
            let size = (end - start).min(DIGEST_GROUP);
            let (found, known) = self
                .blocks
                .entry(g)
                .or_insert_with(|| (vec![0; size as usize], 0));
            found[(b - start) as usize] = d;
            *known |= 1 << (b - start);
            if known.count_ones() as u64 == size {
                self.groups.insert(g, group_digest(found));
                let cut = job.decision_after(start) < start + size;
                if !cut {
                    self.blocks.remove(&g);
                }
            }
        }
    }

    /// The digest of block `b` ([`crate::stats::BlockStats::digest`]), where its own
    /// digest is kept: for the blocks of a group not complete yet, and of a group that
    /// a decision point cuts, which group 0 (blocks `0..DIGEST_GROUP`) is whenever it
    /// holds more than one block (decisions follow blocks 1, 2, 4, 8 and 16). `None`
    /// for a block not done yet, or one of a group that keeps only its group digest.
    pub fn block(&self, b: u64) -> Option<u64> {
        let g = b / DIGEST_GROUP;
        let (found, known) = self.blocks.get(&g)?;
        let k = b - g * DIGEST_GROUP;
        ((known >> k) & 1 == 1).then(|| found[k as usize])
    }

    /// The digests of the groups of blocks `0..blocks`, the last ending at `blocks`;
    /// `None` if a block's digest is missing.
    pub fn groups(&self, blocks: u64) -> Option<Vec<u64>> {
        (0..blocks.div_ceil(DIGEST_GROUP))
            .map(|g| {
                let start = g * DIGEST_GROUP;
                let size = (blocks - start).min(DIGEST_GROUP);
                match self.blocks.get(&g) {
                    Some((found, known)) => {
                        let mask = if size == 64 {
                            u64::MAX
                        } else {
                            (1 << size) - 1
                        };
                        (known & mask == mask).then(|| group_digest(&found[..size as usize]))
                    }
                    None => self.groups.get(&g).copied(),
                }
            })
            .collect()
    }
}

/// The digest of a group whose blocks' digests are `blocks`, in block order.
pub fn group_digest(blocks: &[u64]) -> u64 {
    let mut hasher = Sha256::new();
    for d in blocks {
        hasher.update(d.to_le_bytes());
    }
    let hash = hasher.finalize();
    u64::from_le_bytes(hash[..8].try_into().expect("SHA-256 has 32 bytes"))
}

impl State {
    /// Nothing done yet, for a model of `dim` columns.
    pub fn new(dim: usize) -> Self {
        State {
            decided: 0,
            prefix: ExactSums::new(dim),
            pending: BTreeMap::new(),
            done: Vec::new(),
            trace: Vec::new(),
            stop: None,
            wall_seconds: 0.0,
            restarts: 0,
            digests: Digests::default(),
        }
    }

    /// The digest of block `b`, where this state keeps it: every block of the first
    /// digest group (`0..DIGEST_GROUP`) once done, unless the run has a single block;
    /// see [`Digests::block`]. `None` for a block not done yet.
    pub fn block_digest(&self, b: u64) -> Option<u64> {
        self.digests.block(b)
    }

    /// Blocks merged into the decided prefix.
    pub fn blocks_done(&self) -> u64 {
        self.decided
    }

    /// Why the run stopped, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop
    }

    /// Seconds spent on the work this state holds, over every session.
    pub fn wall_seconds(&self) -> f64 {
        self.wall_seconds
    }

    /// The exact statistics of the decided prefix.
    pub fn prefix(&self) -> &ExactSums {
        &self.prefix
    }

    /// Whether block range `blocks` is already done (or decided).
    fn is_done(&self, blocks: &Range<u64>) -> bool {
        blocks.end <= self.decided
            || self
                .done
                .iter()
                .any(|r| r.start <= blocks.start && blocks.end <= r.end)
    }

    /// The blocks in `self.decided..end` not done yet, as ascending ranges.
    pub fn todo(&self, end: u64) -> Vec<Range<u64>> {
        let mut todo = Vec::new();
        let mut from = self.decided;
        for r in &self.done {
            if r.start >= end {
                break;
            }
            if r.start > from {
                todo.push(from..r.start);
            }
            from = from.max(r.end);
        }
        if from < end {
            todo.push(from..end);
        }
        todo
    }

    /// Adds a finished chunk's statistics. A chunk already added (a worker that died
    /// after reporting) is ignored, so it counts once. Returns whether it was added.
    pub(super) fn add(&mut self, chunk: ChunkStats, job: &Job) -> bool {
        if self.is_done(&chunk.blocks) {
            return false;
        }
        self.digests.record(chunk.blocks.start, &chunk.digests, job);
        for (end, sums) in chunk.parts {
            match self.pending.get_mut(&end) {
                Some(s) => s.merge(&sums),
                None => {
                    self.pending.insert(end, sums);
                }
            }
        }
        insert_range(&mut self.done, chunk.blocks);
        true
    }

    /// Takes the decisions whose blocks are all done, in order, until one that is not
    /// or the stop. Returns the blocks newly decided.
    pub(super) fn fold(&mut self, job: &Job, quantities: &[Quantity]) -> u64 {
        let before = self.decided;
        let end = job.blocks();
        while self.stop.is_none() && self.decided < end {
            let point = job.decision_after(self.decided);
            let covered = self
                .done
                .first()
                .is_some_and(|r| r.start <= self.decided && point <= r.end);
            if !covered {
                break;
            }
            if let Some(sums) = self.pending.remove(&point) {
                self.prefix.merge(&sums);
            }
            let first = &mut self.done[0];
            first.start = point;
            if first.start == first.end {
                self.done.remove(0);
            }
            self.decided = point;
            self.decide(point, end, job, quantities);
        }
        self.decided - before
    }

    /// The decisions due after blocks `0..blocks`: a trace point, a target check,
    /// the end.
    fn decide(&mut self, blocks: u64, end: u64, job: &Job, quantities: &[Quantity]) {
        let merged = self.prefix.moments();
        let estimate = |q: &Quantity| quantity_estimate(q, &merged, job.confidence);
        // The target of the first quantity, and every quantity's own target.
        if let Some(target) = &job.target
            && (target.checks_at(blocks) || blocks == end)
            && target.met(&estimate(&quantities[0]))
            && target.quantities.iter().all(|t| {
                quantities
                    .iter()
                    .filter(|q| q.name == t.quantity)
                    .all(|q| t.met(&estimate(q)))
            })
        {
            self.stop = Some(StopReason::Target);
        } else if blocks == end {
            self.stop = Some(StopReason::Samples);
        }
        if blocks.is_power_of_two() || self.stop.is_some() {
            self.trace.push(TracePoint {
                blocks,
                moments: merged,
            });
        }
    }

    /// Checks that this state can belong to a run of `job` with `dim` columns, so that
    /// a damaged or hand-edited file is refused instead of resumed.
    pub fn check(&self, job: &Job, dim: usize) -> Result<(), String> {
        let end = job.blocks();
        if self.decided > end {
            return Err(format!(
                "it has {} blocks decided, the run only {end}",
                self.decided
            ));
        }
        let samples = |blocks: &Range<u64>| {
            (blocks.end * crate::random::lanes::BLOCK as u64).min(job.samples)
                - (blocks.start * crate::random::lanes::BLOCK as u64).min(job.samples)
        };
        let shape = |what: &str, s: &ExactSums, count: Option<u64>| {
            s.check(dim, true)
                .map_err(|e| format!("{what}: {e}"))
                .and_then(|()| match count {
                    Some(c) if s.count() != c => {
                        Err(format!("{what} counts {} samples, not {c}", s.count()))
                    }
                    _ => Ok(()),
                })
        };
        shape(
            "the decided prefix",
            &self.prefix,
            Some(samples(&(0..self.decided))),
        )?;
        let mut last = self.decided;
        for r in &self.done {
            if r.start < last || r.start >= r.end || r.end > end {
                return Err(format!("its finished blocks {r:?} are out of order"));
            }
            last = r.end;
        }
        for (point, sums) in &self.pending {
            if *point <= self.decided || *point > end {
                return Err(format!("it holds statistics for blocks before {point}"));
            }
            shape(&format!("the blocks before {point}"), sums, None)?;
        }
        let mut previous = 0;
        for point in &self.trace {
            if point.blocks <= previous || point.blocks > self.decided {
                return Err(format!("its trace has a point at {} blocks", point.blocks));
            }
            previous = point.blocks;
            if let Some(reason) = point.moments.implausible() {
                return Err(format!(
                    "its trace point at {} blocks: {reason}",
                    point.blocks
                ));
            }
        }
        if !(self.wall_seconds.is_finite() && self.wall_seconds >= 0.0) {
            return Err(format!("its wall_seconds is {}", self.wall_seconds));
        }
        Ok(())
    }
}

/// Adds `r` to the ascending, disjoint, non-touching ranges `set`.
fn insert_range(set: &mut Vec<Range<u64>>, r: Range<u64>) {
    let at = set.partition_point(|x| x.end < r.start);
    let mut merged = r;
    while at < set.len() && set[at].start <= merged.end {
        let x = set.remove(at);
        merged = merged.start.min(x.start)..merged.end.max(x.end);
    }
    set.insert(at, merged);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(samples: u64, check_every: Option<u64>) -> Job {
        let mut job = crate::config::Experiment::parse(
            &format!("[simulation]\nsamples = {samples}\nseed = 1\n[model]\ntype = \"pi\"\n"),
            std::path::Path::new("x.toml"),
            &Default::default(),
            &crate::model::Registry::builtin(),
        )
        .unwrap()
        .job;
        job.target = check_every.map(|c| crate::config::Target {
            rel_error: None,
            abs_error: Some(1e-9),
            check_every: c,
            quantities: Vec::new(),
        });
        job
    }

    #[test]
    fn decision_points_are_powers_of_two_checks_and_the_end() {
        let walk = |job: &Job| {
            let mut points = vec![];
            let mut next = 0;
            while next < job.blocks() {
                next = job.decision_after(next);
                points.push(next);
            }
            points
        };
        let j = job(100 * 4096, None);
        assert_eq!(walk(&j), [1, 2, 4, 8, 16, 32, 64, 100]);
        let j = job(100 * 4096, Some(24));
        assert_eq!(walk(&j), [1, 2, 4, 8, 16, 24, 32, 48, 64, 72, 96, 100]);
    }

    #[test]
    fn ranges_merge_when_they_touch() {
        let mut set = Vec::new();
        for r in [5..7, 1..2, 9..10, 2..5, 7..9] {
            insert_range(&mut set, r);
        }
        assert_eq!(set, vec![1..10; 1]);
        let mut set = vec![0..1, 4..5];
        insert_range(&mut set, 2..3);
        assert_eq!(set, [0..1, 2..3, 4..5]);
    }

    #[test]
    fn todo_skips_finished_blocks() {
        let mut s = State::new(1);
        s.done = vec![3..5, 7..8];
        assert_eq!(s.todo(9), vec![0..3, 5..7, 8..9]);
        assert_eq!(s.todo(4), vec![0..3]);
    }
}
