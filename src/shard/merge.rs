//! Merging partials into the report of one run, after checking that they belong to
//! one run and hold every chunk exactly once.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::Partial;
use crate::Error;
use crate::engine::Report;
use crate::model::{Context, Registry};
use crate::rng::DERIVATION;
use crate::stats::InOrder;

/// The report of the run whose partials are `parts` (each with the file it came
/// from, for messages): the same estimates, bit for bit, as one run of the job.
///
/// The `backend` is `shards`, `workers` the number of partials, and `wall_seconds`
/// the longest shard's (shards are meant to run at the same time).
///
/// Refuses, naming the files or chunks: a partial whose content is inconsistent
/// (altered or of another stream derivation), partials of different jobs or seeds,
/// partials that overlap, and chunks that no partial holds.
pub fn merge(parts: &[(PathBuf, Partial)], registry: &Registry) -> Result<Report, Error> {
    let Some((first_path, first)) = parts.first() else {
        return Err(Error::Merge("no partials given".into()));
    };
    for (path, part) in parts {
        check_one(path, part)?;
        if part.fingerprint != first.fingerprint {
            return Err(Error::Merge(format!(
                "{} and {} are partials of different runs ({}); merge only the shards of one config and seed",
                first_path.display(),
                path.display(),
                differences(first, part)
            )));
        }
    }
    let job = &first.job;
    // One model for every partial: they hold one job, checked above.
    let model = registry
        .build(&job.model, &Context::new(job.seed))
        .map_err(|e| bad(first_path, "job", e.to_string()))?;
    for (path, part) in parts {
        check_statistics(path, part, model.dim())?;
    }
    let chunks = job.plan().chunks();
    let mut order: Vec<&(PathBuf, Partial)> = parts.iter().collect();
    order.sort_by_key(|(_, p)| (p.chunk_start, p.chunk_end));
    let mut merger = InOrder::new(model.dim());
    let mut holder: Option<&(PathBuf, Partial)> = None;
    let mut missing = Vec::new();
    for entry in order {
        let (path, part) = entry;
        if part.chunk_start == part.chunk_end {
            continue; // a shard of a run with fewer chunks than shards
        }
        if let Some((prev_path, prev)) = holder
            && part.chunk_start < prev.chunk_end
        {
            return Err(Error::Merge(format!(
                "{} and {} overlap: both hold {}",
                prev_path.display(),
                path.display(),
                chunk_list(std::slice::from_ref(
                    &(part.chunk_start..prev.chunk_end.min(part.chunk_end))
                ))
            )));
        }
        if part.chunk_start > merger.next() {
            missing.push(merger.next()..part.chunk_start);
        }
        // Chunks arrive in ascending order with no overlap, so a gap leaves later
        // chunks waiting; resuming after the gap keeps folding them in order while the
        // missing ranges are collected for one message.
        if part.chunk_start > merger.next() {
            merger = InOrder::resume(part.chunk_start, merger.merged().clone());
        }
        for stats in &part.chunks {
            merger.insert(stats.chunk, stats.moments());
        }
        holder = Some(entry);
    }
    if merger.next() < chunks {
        missing.push(merger.next()..chunks);
    }
    if !missing.is_empty() {
        return Err(Error::Merge(format!(
            "{} of the run's {chunks} chunks (0-{}) {} missing{}; merge needs the partial of every shard",
            chunk_list(&missing),
            chunks - 1,
            if missing.len() == 1 && missing[0].end - missing[0].start == 1 {
                "is"
            } else {
                "are"
            },
            shards_holding(&missing, parts)
        )));
    }
    let wall = parts
        .iter()
        .map(|(_, p)| p.wall_seconds)
        .fold(0.0, f64::max);
    Ok(Report::new(
        &first.name,
        job,
        model.as_ref(),
        merger.merged().clone(),
        "shards",
        parts.len(),
        wall,
    ))
}

/// The error for a partial whose `key` is wrong.
fn bad(path: &Path, key: &str, reason: String) -> Error {
    Error::Config {
        path: path.to_path_buf(),
        key: key.into(),
        reason,
        at: None,
    }
}

/// Checks that a partial is consistent in itself and readable by this carlo.
fn check_one(path: &Path, part: &Partial) -> Result<(), Error> {
    let bad = |key: &str, reason: String| bad(path, key, reason);
    if part.rng != DERIVATION {
        return Err(bad(
            "rng",
            format!(
                "streams derived with '{}', but this carlo uses '{DERIVATION}'",
                part.rng
            ),
        ));
    }
    if part.job.fingerprint() != part.fingerprint || part.job.seed != part.seed {
        return Err(bad(
            "fingerprint",
            "does not match the job the file holds: the file was altered".into(),
        ));
    }
    let plan = part.job.plan();
    if part.chunk_start > part.chunk_end || part.chunk_end > plan.chunks() {
        return Err(bad(
            "chunk_end",
            format!(
                "chunks {}..{} do not fit a run of {} chunks",
                part.chunk_start,
                part.chunk_end,
                plan.chunks()
            ),
        ));
    }
    if part.chunks.len() as u64 != part.chunk_end - part.chunk_start {
        return Err(bad(
            "chunks",
            format!(
                "holds {} chunks, but chunks {}..{} are {}",
                part.chunks.len(),
                part.chunk_start,
                part.chunk_end,
                part.chunk_end - part.chunk_start
            ),
        ));
    }
    Ok(())
}

/// Checks that a partial's statistics are those of its chunks, with `dim` columns.
fn check_statistics(path: &Path, part: &Partial, dim: usize) -> Result<(), Error> {
    let plan = part.job.plan();
    for (stats, index) in part.chunks.iter().zip(part.chunk_start..) {
        if stats.chunk != index
            || stats.count != plan.chunk(index).samples
            || stats.mean.len() != dim
            || stats.comoment.len() != dim * dim
        {
            return Err(bad(
                path,
                "chunks",
                format!("the statistics of chunk {index} are not those of this job's chunk"),
            ));
        }
    }
    Ok(())
}

/// What differs between the jobs of two partials, for a message.
fn differences(a: &Partial, b: &Partial) -> String {
    let json = |p: &Partial| serde_json::to_value(&p.job).expect("a job always serializes");
    let diffs: Vec<String> = crate::config::job_differences(&json(a), &json(b))
        .into_iter()
        .map(|(key, x, y)| format!("{key} {x} vs {y}"))
        .collect();
    if diffs.is_empty() {
        format!("fingerprint {} vs {}", a.fingerprint, b.fingerprint)
    } else {
        diffs.join(", ")
    }
}

/// `chunk 3`, `chunks 3-7`, or several of them joined with commas.
fn chunk_list(ranges: &[Range<u64>]) -> String {
    let items: Vec<String> = ranges
        .iter()
        .map(|r| match r.end - r.start {
            1 => format!("chunk {}", r.start),
            _ => format!("chunks {}-{}", r.start, r.end - 1),
        })
        .collect();
    items.join(", ")
}

/// ` (the share of shard 2/4)` when the partials agree on a shard count, naming the
/// shards whose shares hold missing chunks.
fn shards_holding(missing: &[Range<u64>], parts: &[(PathBuf, Partial)]) -> String {
    let count = parts[0].1.shards;
    if parts.iter().any(|(_, p)| p.shards != count) {
        return String::new();
    }
    let plan = parts[0].1.job.plan();
    let shards: Vec<String> = (0..count)
        .filter(|&s| {
            let share = plan.share(s, count);
            missing
                .iter()
                .any(|m| m.start < share.end && share.start < m.end)
        })
        .map(|s| format!("{}/{count}", s + 1))
        .collect();
    match shards.len() {
        0 => String::new(),
        1 => format!(" (the share of shard {})", shards[0]),
        _ => format!(" (the shares of shards {})", shards.join(", ")),
    }
}
