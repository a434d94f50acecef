//! Executors: where chunks run.
//!
//! An [`Executor`] runs a set of chunks and reports each chunk's statistics as soon
//! as it is done, in any order; the engine merges them in chunk order. Executors know
//! nothing of options or pi: they see a [`Work`] (a model behind a trait object, the
//! plan and the seed) and chunk indices.

#[cfg(feature = "mpi")]
mod mpi;
pub mod processes;
mod sequential;
mod threads;

use std::ops::Range;

use crate::Error;
use crate::config::{Backend, Job};
use crate::model::Model;
use crate::plan::Plan;
use crate::rng::{Cursor, Family};
use crate::stats::Moments;

#[cfg(feature = "mpi")]
pub use mpi::Mpi;
pub use processes::Processes;
pub use sequential::Sequential;
pub use threads::Threads;

/// What the engine answers after each finished chunk.
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
    pub plan: Plan,
}

impl Work<'_> {
    /// Runs chunk `index` on its own stream. `cursor` must belong to this job's seed
    /// and the chunk family; it makes ascending visits cheap.
    pub fn run_chunk(&self, cursor: &mut Cursor, index: u64) -> Moments {
        let mut rng = cursor.stream(index);
        self.model
            .simulate(&mut rng, self.plan.chunk(index).samples)
    }

    /// A cursor over this job's chunk streams.
    pub fn cursor(&self) -> Cursor {
        Cursor::new(self.job.seed, Family::Chunk)
    }
}

/// A place where chunks run.
///
/// # Contract
/// - [`execute`](Executor::execute) runs every chunk in `todo` (sorted, disjoint
///   ranges) exactly once, unless `done` returns [`Flow::Stop`], and calls `done` on
///   the calling thread with each chunk's index and statistics, in any order.
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
        done: &mut dyn FnMut(u64, Moments) -> Flow,
    ) -> Result<(), Error>;
}

/// The executor for `backend` with `workers` workers.
pub fn build(backend: Backend, workers: usize) -> Result<Box<dyn Executor>, Error> {
    Ok(match backend {
        Backend::Sequential => Box::new(Sequential),
        Backend::Threads => Box::new(Threads::new(workers)?),
        Backend::Processes => Box::new(Processes::new(workers)?),
        #[cfg(feature = "mpi")]
        Backend::Mpi => Box::new(Mpi::new()?),
        #[cfg(not(feature = "mpi"))]
        Backend::Mpi => {
            return Err(Error::Flag {
                flag: "--backend".into(),
                reason: crate::config::MPI_MISSING.into(),
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
        let mut k = self
            .taken
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
}
