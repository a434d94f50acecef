//! The MPI executor: the ranks of an `mpirun` job split the chunks between them.
//!
//! Every rank runs the same `carlo run` and the same engine. The chunks to run are
//! taken in rounds; in each round every rank runs its contiguous share on one core,
//! then all ranks exchange the statistics of the round (one `MPI_Allgatherv` of plain
//! `u64` words) and report every chunk of the round, in rank order, to the engine. So
//! every rank merges the same statistics in the same chunk order and reaches the same
//! decisions (early stopping included); only rank 0 writes outputs
//! ([`super::is_primary`]). The exchange is a few dozen bytes per chunk, which is why
//! a replicated merge costs nothing next to the simulation.

use std::ops::Range;
use std::sync::OnceLock;

use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::Communicator;
use mpi::traits::{CommunicatorCollectives, Root};

use super::processes::fault::Faults;
use super::{Executor, Flow, Work};
use crate::Error;
use crate::plan::split;
use crate::stats::Moments;

/// Chunks each rank runs per round. Rounds bound memory and let rank 0's progress
/// bar move; each costs one exchange, a few microseconds next to the ~1 s of work
/// that 512 chunks of the default size take for pi.
const ROUND_PER_RANK: u64 = 512;

/// This process's rank in `MPI_COMM_WORLD`, once MPI is initialized.
static RANK: OnceLock<i32> = OnceLock::new();

/// This process's rank, if it started MPI.
pub(super) fn rank() -> Option<i32> {
    RANK.get().copied()
}

/// Runs chunks on the ranks of `MPI_COMM_WORLD`. MPI is initialized when the executor
/// is built and finalized when it is dropped, which can happen once per process.
pub struct Mpi {
    universe: Universe,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let world = self.universe.world();
        f.debug_struct("Mpi")
            .field("rank", &world.rank())
            .field("size", &world.size())
            .finish()
    }
}

impl Mpi {
    /// Initializes MPI; fails if this process already did.
    pub fn new() -> Result<Self, Error> {
        let universe = mpi::initialize().ok_or_else(|| {
            Error::Execution(
                "MPI can be started only once per process (the mpi backend runs one job per mpirun)"
                    .into(),
            )
        })?;
        let _ = RANK.set(universe.world().rank());
        Ok(Mpi { universe })
    }
}

impl Executor for Mpi {
    fn backend(&self) -> &'static str {
        "mpi"
    }

    fn workers(&self) -> usize {
        self.universe.world().size() as usize
    }

    fn execute(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(u64, Moments) -> Flow,
    ) -> Result<(), Error> {
        let world = self.universe.world();
        let (rank, size) = (world.rank() as u64, world.size() as u64);
        let dim = work.model.dim();
        let total: u64 = todo.iter().map(|r| r.end - r.start).sum();
        let round = ROUND_PER_RANK * size;
        let mut cursor = work.cursor();
        let faults = Faults::from_env()?;
        let mut from = 0;
        while from < total {
            let to = (from + round).min(total);
            let mine = split(from..to, rank, size);
            let mut words = Vec::new();
            for index in positions(todo, mine) {
                faults.before_chunk(index, 0);
                encode(&mut words, index, &work.run_chunk(&mut cursor, index));
            }
            let all = exchange(&world, &words)?;
            let mut stop = false;
            for (index, moments) in decode(&all, dim)? {
                if done(index, moments) == Flow::Stop {
                    stop = true;
                    break;
                }
            }
            // Rank 0's decision binds every rank, so that a stop that depends on
            // something local (a signal) can never leave ranks in different rounds.
            let mut stop_word = u8::from(stop);
            world.process_at_rank(0).broadcast_into(&mut stop_word);
            if stop_word != 0 {
                break;
            }
            from = to;
        }
        Ok(())
    }
}

/// The chunk indices at positions `wanted` of the chunks listed by `todo`.
fn positions(todo: &[Range<u64>], wanted: Range<u64>) -> impl Iterator<Item = u64> + '_ {
    let mut offset = 0;
    todo.iter().flat_map(move |range| {
        let len = range.end - range.start;
        let (lo, hi) = (
            wanted.start.clamp(offset, offset + len),
            wanted.end.clamp(offset, offset + len),
        );
        let base = range.start - offset;
        offset += len;
        lo + base..hi + base
    })
}

/// Appends a chunk's statistics as `u64` words: index, count, then the bits of the
/// means and of the co-moments. Bits, not values, so the exchange is exact.
fn encode(words: &mut Vec<u64>, index: u64, m: &Moments) {
    words.extend([index, m.count]);
    words.extend(m.mean.iter().chain(&m.comoment).map(|x| x.to_bits()));
}

/// The chunks [`encode`]d into `words`, for statistics of `dim` columns.
fn decode(words: &[u64], dim: usize) -> Result<Vec<(u64, Moments)>, Error> {
    let stride = 2 + dim + dim * dim;
    if !words.len().is_multiple_of(stride) {
        return Err(Error::Execution(format!(
            "MPI exchange of {} words is not whole chunks of {stride} words",
            words.len()
        )));
    }
    Ok(words
        .chunks_exact(stride)
        .map(|w| {
            let floats = |s: &[u64]| s.iter().map(|&b| f64::from_bits(b)).collect();
            let moments = Moments {
                count: w[1],
                mean: floats(&w[2..2 + dim]),
                comoment: floats(&w[2 + dim..]),
            };
            (w[0], moments)
        })
        .collect())
}

/// Every rank's `words`, concatenated in rank order, on every rank.
fn exchange(world: &impl Communicator, words: &[u64]) -> Result<Vec<u64>, Error> {
    let too_big = || Error::Execution("an MPI round holds more than 2^31 words".into());
    let count = i32::try_from(words.len()).map_err(|_| too_big())?;
    let mut counts = vec![0i32; world.size() as usize];
    world.all_gather_into(&count, &mut counts[..]);
    let mut displs = Vec::with_capacity(counts.len());
    let mut sum = 0i32;
    for &c in &counts {
        displs.push(sum);
        sum = sum.checked_add(c).ok_or_else(too_big)?;
    }
    let mut all = vec![0u64; sum as usize];
    {
        let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        world.all_gather_varcount_into(words, &mut partition);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_walk_ranges() {
        let todo = [0..2, 5..6, 9..12];
        let got: Vec<u64> = positions(&todo, 1..5).collect();
        assert_eq!(got, [1, 5, 9, 10]);
    }

    #[test]
    fn encoding_is_exact() {
        let m = Moments {
            count: 7,
            mean: vec![f64::NAN, -0.0],
            comoment: vec![1e-310, f64::INFINITY, 3.5, -1.0],
        };
        let mut words = Vec::new();
        encode(&mut words, 42, &m);
        let back = decode(&words, 2).unwrap();
        assert_eq!(back[0].0, 42);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back[0].1.mean), bits(&m.mean));
        assert_eq!(bits(&back[0].1.comoment), bits(&m.comoment));
    }
}
