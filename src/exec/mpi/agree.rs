//! Agreement: before MPI ranks share work, they check that they run the same job, the
//! same carlo build and the same chunks (which depend on the checkpoint each resumed
//! from). One exchange of bytes whose size depends on nothing else, so ranks that
//! disagree on everything can still take part; if any rank differs, or cannot run at
//! all, every rank returns the same input error naming the ranks and what differs.

use std::collections::BTreeMap;
use std::ops::Range;

use mpi::datatype::{Equivalence, PartitionMut};
use mpi::topology::Communicator;
use mpi::traits::CommunicatorCollectives;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::exec::Work;

/// What ranks must share besides the job: the carlo version, the worker protocol and
/// the stream derivation, in one line.
pub(crate) fn build_id() -> String {
    format!(
        "carlo {} (worker protocol {}, streams {}, mpi)",
        env!("CARGO_PKG_VERSION"),
        crate::exec::processes::protocol::VERSION,
        crate::random::lanes::METHOD,
    )
}

/// What every rank must have in common with the others before they share work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Identity {
    /// [`build_id`].
    build: String,
    /// The job's fingerprint.
    fingerprint: String,
    /// The job itself, to name what differs.
    job: serde_json::Value,
    /// The chunks to run, in words.
    todo: String,
    /// A hash of the exact chunk ranges to run.
    todo_hash: String,
    /// Why this rank cannot run, if it cannot.
    problem: Option<String>,
}

impl Identity {
    fn of(work: &Work<'_>, todo: &[Range<u64>], problem: Option<&Error>) -> Self {
        let mut hash = Sha256::new();
        for r in todo {
            hash.update(r.start.to_le_bytes());
            hash.update(r.end.to_le_bytes());
        }
        let digest = hash.finalize();
        Identity {
            build: build_id(),
            fingerprint: work.job.fingerprint(),
            job: serde_json::to_value(work.job).expect("a job always serializes"),
            todo: describe_todo(todo),
            todo_hash: digest[..8].iter().map(|b| format!("{b:02x}")).collect(),
            problem: problem.map(|e| e.to_string()),
        }
    }
}

/// The chunks of `todo` for people: `chunks 0..101`, `chunks 5..9, 12..20`, or a count.
fn describe_todo(todo: &[Range<u64>]) -> String {
    let total: u64 = todo.iter().map(|r| r.end - r.start).sum();
    match todo {
        [] => "no chunks".into(),
        [_] | [_, _] | [_, _, _] => {
            let ranges: Vec<String> = todo.iter().map(|r| format!("{r:?}")).collect();
            format!("chunks {}", ranges.join(", "))
        }
        [first, .., last] => format!(
            "{total} chunks in {} ranges from {} to {}",
            todo.len(),
            first.start,
            last.end
        ),
    }
}

/// Exchanges every rank's [`Identity`] and fails, on every rank alike, unless all are
/// the same and none has a problem.
pub(super) fn agree(
    world: &impl Communicator,
    work: &Work<'_>,
    todo: &[Range<u64>],
    problem: Option<&Error>,
) -> Result<(), Error> {
    let mine = serde_json::to_vec(&Identity::of(work, todo, problem))
        .expect("an identity always serializes");
    let all = gather_all(world, &mine)?;
    let mismatch = |reason| Error::Flag {
        flag: "--backend mpi".into(),
        reason,
    };
    let mut identities = Vec::with_capacity(all.len());
    for (r, bytes) in all.iter().enumerate() {
        match serde_json::from_slice(bytes) {
            Ok(id) => identities.push(id),
            Err(e) => {
                return Err(mismatch(format!(
                    "MPI rank {r} describes itself in a form this {} cannot read ({e}): \
                     are all ranks the same carlo?",
                    build_id()
                )));
            }
        }
    }
    disagreement(&identities).map_or(Ok(()), |reason| Err(mismatch(reason)))
}

/// Why the ranks with these identities must not run together, if they must not.
fn disagreement(ranks: &[Identity]) -> Option<String> {
    const SHOWN: usize = 3;
    let zero = &ranks[0];
    let mut reasons = Vec::new();
    for (r, id) in ranks.iter().enumerate() {
        if let Some(problem) = &id.problem {
            reasons.push(format!("rank {r} cannot run: {problem}"));
        }
    }
    for (r, id) in ranks.iter().enumerate().skip(1) {
        let mut what = Vec::new();
        if id.build != zero.build {
            what.push(format!("rank {r} runs {}, rank 0 {}", id.build, zero.build));
        }
        if id.fingerprint != zero.fingerprint || id.job != zero.job {
            let keys = differences(&id.job, &zero.job);
            let mut shown: Vec<String> = keys
                .iter()
                .take(SHOWN)
                .map(|(key, here, there)| format!("rank {r} has {key} {here}, rank 0 {there}"))
                .collect();
            if keys.len() > SHOWN {
                shown.push(format!("{} more settings differ", keys.len() - SHOWN));
            }
            what.push(format!(
                "{} (job fingerprint {} on rank {r}, {} on rank 0)",
                shown.join(", "),
                id.fingerprint,
                zero.fingerprint
            ));
        }
        if id.todo_hash != zero.todo_hash {
            what.push(format!(
                "rank {r} was asked to run {}, rank 0 {} (resumed from different checkpoints?)",
                id.todo, zero.todo
            ));
        }
        if !what.is_empty() {
            reasons.push(what.join("; "));
        }
    }
    if reasons.is_empty() {
        return None;
    }
    let count = reasons.len();
    if count > 2 * SHOWN {
        reasons.truncate(2 * SHOWN);
        reasons.push(format!("and {} more", count - 2 * SHOWN));
    }
    Some(format!(
        "the {} MPI ranks do not agree, so none of them runs: {}",
        ranks.len(),
        reasons.join("; ")
    ))
}

/// The settings (`seed`, `model.type`, ...) whose values differ between two jobs, with
/// both values. When the model types differ, their other keys are not listed.
fn differences(
    here: &serde_json::Value,
    there: &serde_json::Value,
) -> Vec<(String, String, String)> {
    fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    let key = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(&key, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", here, &mut a);
    flatten("", there, &mut b);
    let models_differ = a.get("model.type") != b.get("model.type");
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let unset = "unset".to_string();
    let mut found: Vec<(String, String, String)> = keys
        .into_iter()
        .filter(|key| !(models_differ && key.starts_with("model.") && *key != "model.type"))
        .filter_map(|key| {
            let (x, y) = (a.get(key).unwrap_or(&unset), b.get(key).unwrap_or(&unset));
            (x != y).then(|| (key.clone(), x.clone(), y.clone()))
        })
        .collect();
    // The model type first: it explains the rest.
    found.sort_by_key(|(key, _, _)| key != "model.type");
    found
}

/// Every rank's `items`, in rank order, on every rank. Two collectives whose sizes
/// depend on nothing but the lengths, so ranks that disagree on everything else can
/// still take part.
fn gather_all<T: Equivalence + Default + Clone>(
    world: &impl Communicator,
    items: &[T],
) -> Result<Vec<Vec<T>>, Error> {
    let too_big = || Error::Execution("an MPI exchange of more than 2^31 items".into());
    let count = i32::try_from(items.len()).map_err(|_| too_big())?;
    let mut counts = vec![0i32; world.size() as usize];
    world.all_gather_into(&count, &mut counts[..]);
    let mut displs = Vec::with_capacity(counts.len());
    let mut sum = 0i32;
    for &c in &counts {
        displs.push(sum);
        sum = sum.checked_add(c).ok_or_else(too_big)?;
    }
    let mut all = vec![T::default(); sum as usize];
    {
        let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        world.all_gather_varcount_into(items, &mut partition);
    }
    Ok(counts
        .iter()
        .zip(&displs)
        .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(job: serde_json::Value) -> Identity {
        Identity {
            build: build_id(),
            fingerprint: "f0".into(),
            job,
            todo: "chunks 0..101".into(),
            todo_hash: "h0".into(),
            problem: None,
        }
    }

    #[test]
    fn agreeing_ranks_have_nothing_to_say() {
        let job = serde_json::json!({"seed": 7, "model": {"type": "pi"}});
        let id = identity(job);
        assert_eq!(disagreement(&[id.clone(), id.clone(), id]), None);
    }

    #[test]
    fn disagreements_name_ranks_and_settings() {
        let zero = identity(serde_json::json!({"seed": 7, "samples": 10, "model": {"type": "pi"}}));
        let mut seed =
            identity(serde_json::json!({"seed": 8, "samples": 10, "model": {"type": "pi"}}));
        seed.fingerprint = "f1".into();
        let mut model = identity(serde_json::json!({
            "seed": 7, "samples": 10, "model": {"type": "european", "spot": 100.0}
        }));
        model.fingerprint = "f2".into();
        let mut resumed = zero.clone();
        resumed.todo = "chunks 50..101".into();
        resumed.todo_hash = "h3".into();
        let mut broken = zero.clone();
        broken.problem = Some("CARLO_FAULT: nonsense".into());
        let why = disagreement(&[zero, seed, model, resumed, broken]).unwrap();
        for expected in [
            "the 5 MPI ranks do not agree",
            "rank 1 has seed 8, rank 0 7 (job fingerprint f1 on rank 1, f0 on rank 0)",
            "rank 2 has model.type \"european\", rank 0 \"pi\" (job fingerprint f2",
            "rank 3 was asked to run chunks 50..101, rank 0 chunks 0..101",
            "rank 4 cannot run: CARLO_FAULT: nonsense",
        ] {
            assert!(why.contains(expected), "{expected:?} not in {why}");
        }
        assert!(!why.contains("spot"), "{why}");
    }

    #[test]
    fn todo_descriptions() {
        assert_eq!(describe_todo(&[0..101, 200..201][..1]), "chunks 0..101");
        assert_eq!(describe_todo(&[2..3, 5..9]), "chunks 2..3, 5..9");
        assert_eq!(
            describe_todo(&[0..1, 2..3, 4..5, 6..10]),
            "7 chunks in 4 ranges from 0 to 10"
        );
    }
}
