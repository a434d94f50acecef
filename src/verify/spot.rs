//! Spot-checks: which chunks `carlo verify --chunks K` and `--shard I/N` recompute,
//! and their digests, recomputed.

use std::ops::Range;

use rand::RngExt;

use crate::Error;
use crate::config::Experiment;
use crate::engine::{DIGEST_GROUP, group_digest};
use crate::exec::{self, Event, Flow, Work};
use crate::plan::Plan;
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

/// The digests of digest groups `groups` (ascending; groups of [`DIGEST_GROUP`]
/// blocks, the last ending at block `blocks`, where the run stopped) of
/// `experiment`'s job, computed on its executor.
pub fn recompute(experiment: &Experiment, groups: &[u64], blocks: u64) -> Result<Vec<u64>, Error> {
    let job = &experiment.job;
    let ranges: Vec<Range<u64>> = groups
        .iter()
        .map(|&g| g * DIGEST_GROUP..((g + 1) * DIGEST_GROUP).min(blocks))
        .collect();
    let plan = Plan::resume(job.samples, DIGEST_GROUP, ranges);
    let work = Work {
        job,
        model: experiment.model.as_ref(),
        plan: &plan,
    };
    let mut found = std::collections::BTreeMap::new();
    let mut executor = exec::build(experiment)?;
    let all = 0..plan.chunks();
    executor.execute(&work, std::slice::from_ref(&all), &mut |event| {
        if let Event::Done(_, stats) = event {
            found.insert(
                stats.blocks.start / DIGEST_GROUP,
                group_digest(&stats.digests),
            );
        }
        Flow::Continue
    })?;
    groups
        .iter()
        .map(|g| {
            found.get(g).copied().ok_or_else(|| {
                Error::Execution(format!(
                    "the {} backend finished without the blocks of digest group {g}",
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
