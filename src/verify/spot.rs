//! Spot-checks: which chunks `carlo verify --chunks K` and `--shard I/N` recompute,
//! and their digests, recomputed.

use std::ops::Range;

use rand::RngExt;

use crate::Error;
use crate::config::Experiment;
use crate::exec::{self, Event, Flow, Work};
use crate::random::stream::{Family, stream};

/// The `k` chunks (of `chunks`) that `carlo verify --chunks k` recomputes for a run
/// of `seed`, ascending: drawn without replacement with `random_range` from stream 1
/// of the seed's auxiliary family (stream 0 is models' calibration), so anyone who
/// checks `k` chunks of a run checks the same ones. All of them when `k >= chunks`.
pub fn spot_chunks(seed: u64, chunks: u64, k: u64) -> Vec<u64> {
    if k >= chunks {
        return (0..chunks).collect();
    }
    let mut rng = stream(seed, Family::Auxiliary, 1);
    let mut picked = std::collections::BTreeSet::new();
    while (picked.len() as u64) < k {
        picked.insert(rng.random_range(0..chunks));
    }
    picked.into_iter().collect()
}

/// The digests of `chunks` (ascending) of `experiment`'s job, computed on its
/// executor.
pub fn recompute(experiment: &Experiment, chunks: &[u64]) -> Result<Vec<u64>, Error> {
    let work = Work {
        job: &experiment.job,
        model: experiment.model.as_ref(),
        plan: experiment.job.plan(),
    };
    // Consecutive chunks as ranges, for the executor.
    let mut todo: Vec<Range<u64>> = Vec::new();
    for &c in chunks {
        match todo.last_mut() {
            Some(r) if r.end == c => r.end += 1,
            _ => todo.push(c..c + 1),
        }
    }
    let mut found = std::collections::BTreeMap::new();
    let mut executor = exec::build(experiment)?;
    executor.execute(&work, &todo, &mut |event| {
        if let Event::Done(index, moments) = event {
            found.insert(index, moments.digest());
        }
        Flow::Continue
    })?;
    chunks
        .iter()
        .map(|c| {
            found.get(c).copied().ok_or_else(|| {
                Error::Execution(format!(
                    "the {} backend finished without chunk {c}",
                    executor.backend()
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_chunks_are_the_seeds_and_distinct() {
        let a = spot_chunks(42, 1000, 10);
        assert_eq!(a, spot_chunks(42, 1000, 10));
        assert_ne!(a, spot_chunks(43, 1000, 10));
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[9] < 1000);
        assert_eq!(spot_chunks(1, 3, 10), [0, 1, 2]);
    }
}
