//! Merging partials into the report of one run, after checking that they belong to
//! one run and hold every chunk exactly once.
//!
//! Merging streams: the headers of every partial are read and checked first (same
//! job, no overlap, no gap), then each partial's chunks are read in chunk order and
//! folded one at a time, so memory does not depend on how many chunks or partials
//! there are.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::partial::{Header, Reader};
use crate::Error;
use crate::engine::Report;
use crate::model::Registry;
use crate::rng::DERIVATION;
use crate::stats::Moments;

/// The report of the run whose partials are the files `paths`: the same estimates,
/// bit for bit, as one run of the job.
///
/// The `backend` is `shards`, `workers` the number of partials, and `wall_seconds`
/// the longest shard's (shards are meant to run at the same time).
///
/// Refuses, naming the files or chunks: a partial whose content is inconsistent or
/// edited (its checksum), of another carlo version or stream derivation, partials
/// of different jobs or seeds, partials that overlap, and chunks no partial holds.
pub fn merge(paths: &[PathBuf], registry: &Registry) -> Result<Report, Error> {
    let Some(first_path) = paths.first() else {
        return Err(Error::Merge("no partials given".into()));
    };
    let headers = paths
        .iter()
        .map(|path| {
            let header = Reader::open(path)?.header;
            check_one(path, &header)?;
            Ok(header)
        })
        .collect::<Result<Vec<Header>, Error>>()?;
    let first = &headers[0];
    for (path, header) in paths.iter().zip(&headers) {
        if header.fingerprint != first.fingerprint {
            return Err(Error::Merge(format!(
                "{} and {} are partials of different runs ({}); merge only the shards of one config and seed",
                first_path.display(),
                path.display(),
                differences(first, header)
            )));
        }
    }
    let job = &first.job;
    // One model for every partial: they hold one job, checked above.
    let model = registry
        .build_job(job)
        .map_err(|e| bad(first_path, "job", e.to_string()))?;
    let chunks = job.plan().chunks();
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by_key(|&i| (headers[i].chunk_start, headers[i].chunk_end));
    // Overlaps and gaps, from the headers alone, before reading a chunk.
    let mut covered = 0;
    let mut holder: Option<usize> = None;
    let mut missing = Vec::new();
    for &i in &order {
        let h = &headers[i];
        if h.chunk_start == h.chunk_end {
            continue; // a shard of a run with fewer chunks than shards
        }
        if let Some(prev) = holder
            && h.chunk_start < headers[prev].chunk_end
        {
            return Err(Error::Merge(format!(
                "{} and {} overlap: both hold {}",
                paths[prev].display(),
                paths[i].display(),
                chunk_list(std::slice::from_ref(
                    &(h.chunk_start..headers[prev].chunk_end.min(h.chunk_end))
                ))
            )));
        }
        if h.chunk_start > covered {
            missing.push(covered..h.chunk_start);
        }
        covered = h.chunk_end;
        holder = Some(i);
    }
    if covered < chunks {
        missing.push(covered..chunks);
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
            shards_holding(&missing, &headers)
        )));
    }
    // The chunks, in order, one partial after another.
    let dim = model.dim();
    let mut merged = Moments::empty(dim);
    let mut wall: f64 = 0.0;
    let mut restarts = 0;
    let mut digests = Vec::new();
    for &i in &order {
        let mut reader = Reader::open(&paths[i])?;
        while let Some((_, moments)) = reader.next_chunk(dim)? {
            digests.push(moments.digest());
            merged.merge(&moments);
        }
        if let Some(trailer) = reader.trailer() {
            wall = wall.max(trailer.wall_seconds);
            restarts += trailer.worker_restarts;
        }
    }
    let mut report = Report::new(
        &first.name,
        job,
        model.as_ref(),
        merged,
        "shards",
        paths.len(),
        wall,
    );
    report.worker_restarts = restarts;
    report.digests = digests;
    Ok(report)
}

/// Where `carlo merge` writes without `--out`: the summary path the partials record
/// when they all agree on it and it is a relative path inside the current folder,
/// else `results/<name>.csv` for the run's name. A partial's content alone never
/// sends the summary elsewhere (an absolute path or `..`): that takes `--out`.
pub fn default_summary(headers: &[Header]) -> Result<PathBuf, String> {
    let first = headers.first().ok_or("no partials given")?;
    let safe = |p: &Path| {
        p.is_relative()
            && p.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
            && p.file_name().is_some()
    };
    if let Some(summary) = &first.summary
        && headers.iter().all(|h| h.summary.as_ref() == Some(summary))
        && safe(summary)
    {
        return Ok(summary.clone());
    }
    let name = &first.name;
    if name.is_empty()
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name == ".."
        || name == "."
    {
        return Err(format!(
            "the partials name the run {name:?}, which is no file name; give --out"
        ));
    }
    Ok(Path::new("results").join(format!("{name}.csv")))
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

/// Checks that a partial's header is consistent in itself and readable by this
/// carlo.
fn check_one(path: &Path, header: &Header) -> Result<(), Error> {
    let bad = |key: &str, reason: String| bad(path, key, reason);
    if header.rng != DERIVATION {
        return Err(bad(
            "rng",
            format!(
                "streams derived with '{}', but this carlo uses '{DERIVATION}'",
                header.rng
            ),
        ));
    }
    if header.job.fingerprint() != header.fingerprint || header.job.seed != header.seed {
        return Err(bad(
            "fingerprint",
            "does not match the job the file holds: the file was altered".into(),
        ));
    }
    let plan = header.job.plan();
    if header.chunk_start > header.chunk_end || header.chunk_end > plan.chunks() {
        return Err(bad(
            "chunk_end",
            format!(
                "chunks {}..{} do not fit a run of {} chunks",
                header.chunk_start,
                header.chunk_end,
                plan.chunks()
            ),
        ));
    }
    Ok(())
}

/// What differs between the jobs of two partials, for a message.
fn differences(a: &Header, b: &Header) -> String {
    let json = |h: &Header| serde_json::to_value(&h.job).expect("a job always serializes");
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
fn shards_holding(missing: &[Range<u64>], headers: &[Header]) -> String {
    let count = headers[0].shards;
    if headers.iter().any(|h| h.shards != count) {
        return String::new();
    }
    let plan = headers[0].job.plan();
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
