//! Executors: where chunks run.
//!
//! An [`Executor`] runs a set of chunks and reports each chunk's statistics as soon
//! as it is done, in any order; the engine merges them exactly, so the order never
//! matters. Executors know nothing of options or pi: they see a [`Work`] (a model
//! behind a trait object, the plan and the seed) and chunk indices of the plan.

#[cfg(feature = "mpi")]
mod mpi;
pub mod processes;
mod sequential;
pub mod stall;
mod threads;

use std::ops::Range;

use crate::Error;
use crate::backend::Backend;
use crate::backend::WorkerCommand;
use crate::config::{Experiment, Job};
use crate::model::{Chunk, Model};
use crate::plan::Plan;
use crate::random::lanes::LaneCursor;
use crate::stats::{BlockStats, ChunkStats, ExactSums};

#[cfg(feature = "mpi")]
pub(crate) use mpi::Mpi;
pub use processes::Processes;
pub use sequential::Sequential;
pub use threads::Threads;

/// What an executor tells the engine.
#[derive(Debug)]
pub enum Event {
    /// Chunk `index` of the plan finished with these statistics.
    Done(u64, ChunkStats),
    /// Nothing finished for a while (about a second): the engine may stop the run,
    /// for example on Ctrl-C while a chunk is stuck.
    Idle,
    /// A worker died or stalled and was replaced; its chunks run again (the result
    /// is unchanged, but the summary counts it in `worker_restarts`).
    Restarted,
    /// The executor cannot go on, and cannot return either: a thread of this
    /// process is stuck in a chunk that nothing can stop, and an MPI job must end
    /// (why, in words). The engine saves what it has and answers [`Flow::Stop`];
    /// the executor then ends the process.
    Fatal(String),
}

/// What the engine answers after each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Start no more chunks; chunks already running may still be reported.
    Stop,
}

/// Everything an executor needs to run chunks.
#[derive(Debug, Clone, Copy)]
pub struct Work<'a> {
    /// The job, for executors that rebuild the model elsewhere (worker processes).
    pub job: &'a Job,
    /// The model, for executors that run it in this process.
    pub model: &'a dyn Model,
    /// The chunk plan.
    pub plan: &'a Plan,
}

impl Work<'_> {
    /// Runs chunk `index` of the plan. `cursor` must belong to this job's seed; it
    /// makes ascending visits cheap.
    ///
    /// Fails with [`Error::Chunk`] when the model fails, or when its statistics are
    /// not finite (a NaN or infinite sample): an estimate made of them would be
    /// meaningless, and the chunk is where to look.
    pub fn run_chunk(&self, cursor: &mut LaneCursor, index: u64) -> Result<ChunkStats, Error> {
        run_blocks(self.job, self.model, self.plan.chunk(index), cursor)
            .map_err(|message| Error::Chunk { index, message })
    }

    /// A cursor over this job's blocks.
    pub fn cursor(&self) -> LaneCursor {
        LaneCursor::new(self.job.seed)
    }
}

/// The statistics of `blocks` of `job`'s run by `model`: each block's, checked (its
/// sample count, its columns, finite values), digested and merged exactly into the
/// part of its decision interval ([`crate::stats::ChunkStats`]).
pub fn run_blocks(
    job: &Job,
    model: &dyn Model,
    blocks: Range<u64>,
    cursor: &mut LaneCursor,
) -> Result<ChunkStats, String> {
    let dim = model.dim();
    let mut out = ChunkStats::new(blocks.clone());
    let mut current: Option<(u64, ExactSums)> = None;
    let mut next = blocks.start;
    let mut sink = |b: u64, stats: BlockStats| -> Result<(), String> {
        let samples = (job.samples - b * crate::random::lanes::BLOCK as u64)
            .min(crate::random::lanes::BLOCK as u64);
        if b != next || stats.count != samples || stats.dim() != dim {
            return Err(format!(
                "the model reported block {b} with {} samples and {} columns where block \
                 {next} of {samples} samples and {dim} columns was due (a bug in the model)",
                stats.count,
                stats.dim()
            ));
        }
        if let Some(column) = stats.non_finite_column() {
            let name = model
                .quantities()
                .iter()
                .find(|q| q.column == column)
                .map_or_else(
                    || format!("column {column}"),
                    |q| format!("quantity {}", q.name),
                );
            return Err(format!(
                "the model produced a NaN or infinite sample ({name}) in block {b}; the \
                 parameters may be outside what the model can compute"
            ));
        }
        next += 1;
        out.digests.push(stats.digest());
        let end = job.decision_after(b);
        match &mut current {
            Some((e, sums)) if *e == end => stats.add_to(sums),
            _ => {
                if let Some(part) = current.take() {
                    out.parts.push(part);
                }
                let mut sums = ExactSums::new(dim);
                stats.add_to(&mut sums);
                current = Some((end, sums));
            }
        }
        Ok(())
    };
    model.simulate_chunk(&mut Chunk::new(
        blocks.clone(),
        job.samples,
        cursor,
        &mut sink,
    ))?;
    if next != blocks.end {
        return Err(format!(
            "the model stopped at block {next} of the chunk's {blocks:?} (a bug in the model)"
        ));
    }
    out.parts.extend(current);
    Ok(out)
}

/// A place where chunks run.
///
/// # Contract
/// - [`execute`](Executor::execute) runs every chunk in `todo` (sorted, disjoint
///   ranges) exactly once, unless `done` returns [`Flow::Stop`], and calls `done` on
///   the calling thread with [`Event::Done`] for each chunk's index and statistics,
///   in any order, and with [`Event::Idle`] about every second while nothing
///   finishes.
/// - It need not keep any order: chunks merge exactly, so a stuck chunk must hold
///   back nothing but itself.
/// - The statistics of a chunk must be those of [`Work::run_chunk`], bit for bit:
///   where a chunk runs must never change what it computes.
/// - After `Stop`, no new chunk is started and `execute` returns once running chunks
///   are finished or abandoned; it must not hang.
/// - The engine calls it once per run, with an empty `todo` when nothing is left to
///   run (a finished checkpoint), so that executors whose workers must meet (MPI
///   ranks) always do.
pub trait Executor {
    /// The `backend` column.
    fn backend(&self) -> &'static str;

    /// The `workers` column.
    fn workers(&self) -> usize;

    /// Runs the chunks of `todo`; see the trait's contract.
    fn execute(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(Event) -> Flow,
    ) -> Result<(), Error>;
}

/// The executor an experiment asks for: its backend with its workers. Worker
/// processes are started with the experiment's worker command when it has one (a
/// model that runs only in its own workers), else as `THIS_PROGRAM worker`.
pub fn build(experiment: &Experiment) -> Result<Box<dyn Executor>, Error> {
    let workers = experiment.workers;
    Ok(match experiment.backend {
        Backend::Sequential => Box::new(Sequential),
        Backend::Threads => {
            Box::new(Threads::new(workers)?.chunk_timeout(experiment.chunk_timeout))
        }
        Backend::Processes => {
            let command = match &experiment.worker_command {
                Some(command) => command.clone(),
                None => WorkerCommand::this_program()?,
            };
            Box::new(
                Processes::with_command(command, workers)?.chunk_timeout(experiment.chunk_timeout),
            )
        }
        #[cfg(feature = "mpi")]
        Backend::Mpi => Box::new(Mpi::new()?.chunk_timeout(experiment.chunk_timeout)),
        #[cfg(not(feature = "mpi"))]
        Backend::Mpi => {
            return Err(Error::Flag {
                flag: "--backend".into(),
                reason: crate::backend::MPI_MISSING.into(),
            });
        }
    })
}

/// Whether this process writes the run's outputs: true except in MPI ranks other
/// than rank 0, which compute and merge like rank 0 but must leave the writing to it.
pub fn is_primary() -> bool {
    #[cfg(feature = "mpi")]
    return mpi::rank().is_none_or(|rank| rank == 0);
    #[cfg(not(feature = "mpi"))]
    true
}

/// This process's rank among those an MPI launcher started (`OMPI_COMM_WORLD_RANK`
/// and the like), known before MPI starts, or after it; `None` outside a launcher.
pub fn rank_of_launch() -> Option<u64> {
    #[cfg(feature = "mpi")]
    if let Some(rank) = mpi::rank() {
        return u64::try_from(rank).ok();
    }
    mpi_launch()?;
    [
        "OMPI_COMM_WORLD_RANK",
        "PMI_RANK",
        "PMIX_RANK",
        "MV2_COMM_WORLD_RANK",
    ]
    .into_iter()
    .find_map(|name| std::env::var(name).ok()?.trim().parse::<u64>().ok())
}

/// The MPI launcher this process was started by, if any, and how many processes it
/// started: the variable that says so and its value (`OMPI_COMM_WORLD_SIZE=4`).
/// A run started N times by `mpirun` without the mpi backend would compute the whole
/// job N times.
pub fn mpi_launch() -> Option<(&'static str, u64)> {
    [
        "OMPI_COMM_WORLD_SIZE",
        "PMI_SIZE",
        "PMIX_SIZE",
        "MV2_COMM_WORLD_SIZE",
        "MPI_LOCALNRANKS",
    ]
    .into_iter()
    .find_map(|name| {
        let size = std::env::var(name).ok()?.trim().parse::<u64>().ok()?;
        Some((name, size))
    })
}

/// Hands out the chunks of sorted ranges one at a time, in ascending order, to any
/// number of threads.
#[derive(Debug)]
pub struct Queue<'a> {
    todo: &'a [Range<u64>],
    taken: std::sync::atomic::AtomicU64,
}

impl<'a> Queue<'a> {
    /// A queue over `todo`.
    pub fn new(todo: &'a [Range<u64>]) -> Self {
        Queue {
            todo,
            taken: 0.into(),
        }
    }

    /// The next chunk, or `None` when all are handed out.
    pub fn pop(&self) -> Option<u64> {
        let k = self
            .taken
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.at(k)
    }

    /// The chunk [`pop`](Self::pop) would return next, without taking it (callers
    /// that take from several threads must hold a lock around both).
    pub fn peek(&self) -> Option<u64> {
        self.at(self.taken.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The chunk at position `k` of the queue.
    fn at(&self, mut k: u64) -> Option<u64> {
        for range in self.todo {
            let len = range.end - range.start;
            if k < len {
                return Some(range.start + k);
            }
            k -= len;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_walks_ranges_in_order() {
        let todo = [0..2, 5..6, 9..11];
        let q = Queue::new(&todo);
        let got: Vec<u64> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(got, [0, 1, 5, 9, 10]);
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn chunks_absorbed_in_order_are_the_one_chunk_that_spans_them() {
        use crate::model::ModelSpec;
        use crate::models::PiParams;
        // Four blocks: decision points after 1, 2 and 4 blocks, so the pieces below
        // share some intervals and not others.
        let job = Job {
            samples: 3 * 4096 + 10,
            seed: 11,
            chunk_size: 4096,
            confidence: 0.95,
            model: ModelSpec::new("pi", &PiParams {}),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        };
        let model = job.build_model(&crate::model::Registry::builtin()).unwrap();
        let mut cursor = LaneCursor::new(job.seed);
        let mut run = |blocks| run_blocks(&job, model.as_ref(), blocks, &mut cursor).unwrap();
        let whole = run(0..4);
        for cuts in [[0, 1, 3, 4], [0, 2, 3, 4], [0, 1, 2, 4]] {
            let mut absorbed = run(cuts[0]..cuts[1]);
            absorbed.absorb(run(cuts[1]..cuts[2]));
            absorbed.absorb(run(cuts[2]..cuts[3]));
            assert_eq!(absorbed, whole, "{cuts:?}");
        }
    }
}
