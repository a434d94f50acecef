//! Merging partials into the report of one run, after checking that they belong to
//! one run and hold every chunk exactly once.
//!
//! Merging streams: the headers of every partial are read and checked first (same
//! job, no overlap, no gap), then each partial's chunks are read in chunk order and
//! folded one at a time, so memory does not depend on how many chunks there are.
//! Each partial's file is opened once for its header and closed again: small
//! partials keep their chunks in memory until their turn (up to [`MEMORY_BUDGET`]
//! bytes for all of them), larger ones are opened a second time. So `carlo merge`
//! holds one file open at a time however many partials it merges, and a merge of
//! 10,000 one-chunk partials opens 10,000 files, not 20,000.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::partial::{Header, Parked, Reader};
use crate::Error;
use crate::engine::Report;
use crate::model::Registry;
use crate::random::lanes::METHOD as DERIVATION;
use crate::stats::{ChunkStats, ExactSums};
use sha2::{Digest, Sha256};

/// Bytes of chunk lines that [`Partials::open`] keeps in memory, for all partials
/// together, so that their files need not be opened again: 64 MiB, about a million
/// one-column chunks.
pub const MEMORY_BUDGET: u64 = 64 << 20;

/// The partials of one run, each file opened once, its header read and checked:
/// ready to [`merge`](Partials::merge).
#[derive(Debug)]
pub struct Partials {
    parked: Vec<Parked>,
    /// Each partial's header, in the order given.
    headers: Vec<Header>,
}

/// A partial that holds the same chunks as another one: a shard that ran twice.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// The partial that is merged.
    pub kept: PathBuf,
    /// The one that holds the same chunks, checked to have the same bits and then
    /// left out.
    pub dropped: PathBuf,
    /// The shard, `I/N`.
    pub shard: String,
}

impl Partials {
    /// Opens the partials at `paths` one after the other and reads their headers,
    /// refusing a file that is no partial of this carlo or is inconsistent in itself.
    pub fn open(paths: &[PathBuf]) -> Result<Self, Error> {
        Self::open_within(paths, MEMORY_BUDGET)
    }

    /// [`open`](Self::open), keeping at most `budget` bytes of chunk lines in memory.
    fn open_within(paths: &[PathBuf], mut budget: u64) -> Result<Self, Error> {
        if paths.is_empty() {
            return Err(Error::Merge("no partials given".into()));
        }
        let mut parked = Vec::with_capacity(paths.len());
        let mut headers = Vec::with_capacity(paths.len());
        for path in paths {
            let reader = Reader::open(path)?;
            check_one(path, &reader.header)?;
            headers.push(reader.header.clone());
            parked.push(reader.park(&mut budget)?);
        }
        Ok(Partials { parked, headers })
    }

    /// The headers, in the order the partials were given.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Partials that hold exactly the chunks of another one (a shard rerun that
    /// wrote its partial under another name, or a file given twice): each is
    /// merged once, after [`merge`](Self::merge) has checked that both hold the same
    /// bits. Partials that overlap otherwise are refused by `merge`.
    pub fn duplicates(&self) -> Vec<Duplicate> {
        let mut found = Vec::new();
        let mut holder: Option<usize> = None;
        for i in self.order() {
            let h = &self.headers[i];
            if h.block_start == h.block_end {
                continue;
            }
            match holder {
                Some(k)
                    if (h.block_start, h.block_end)
                        == (self.headers[k].block_start, self.headers[k].block_end) =>
                {
                    found.push(Duplicate {
                        kept: self.parked[k].path().to_path_buf(),
                        dropped: self.parked[i].path().to_path_buf(),
                        shard: format!("{}/{}", h.shard, h.shards),
                    });
                }
                _ => holder = Some(i),
            }
        }
        found
    }

    /// The partials by chunk range, then in the order given.
    fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.headers.len()).collect();
        order.sort_by_key(|&i| (self.headers[i].block_start, self.headers[i].block_end, i));
        order
    }

    /// The report of the run whose partials these are: the same estimates, bit for
    /// bit, as one run of the job.
    ///
    /// The `backend` is `shards`, `workers` the number of partials merged (a
    /// duplicate counts once), and `wall_seconds` the longest shard's (shards are
    /// meant to run at the same time).
    ///
    /// Refuses, naming the files or chunks: a partial whose content is inconsistent
    /// or edited (its checksum), partials of different jobs or seeds, partials that
    /// overlap (unless they hold the same chunks with the same bits: see
    /// [`duplicates`](Self::duplicates)), and chunks no partial holds.
    pub fn merge(self, registry: &Registry) -> Result<Report, Error> {
        let headers = &self.headers;
        let path = |i: usize| self.parked[i].path();
        let first = &headers[0];
        for (i, header) in headers.iter().enumerate() {
            if header.fingerprint != first.fingerprint {
                return Err(Error::Merge(format!(
                    "{} and {} are partials of different runs ({}); merge only the shards of one config and seed",
                    path(0).display(),
                    path(i).display(),
                    differences(first, header)
                )));
            }
        }
        let job = &first.job;
        // One model for every partial: they hold one job, checked above.
        let model = job
            .build_model(registry)
            .map_err(|e| bad(path(0), "job", e.to_string()))?;
        let chunks = job.blocks();
        let order = self.order();
        // Overlaps and gaps, from the headers alone, before reading a chunk. Each
        // partial merged is a holder; a duplicate of one is checked against it.
        let mut covered = 0;
        let mut holders: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut missing = Vec::new();
        for &i in &order {
            let h = &headers[i];
            if h.block_start == h.block_end {
                continue; // a shard of a run with fewer chunks than shards
            }
            if let Some((prev, twins)) = holders.last_mut() {
                let p = &headers[*prev];
                if (h.block_start, h.block_end) == (p.block_start, p.block_end) {
                    twins.push(i);
                    continue;
                }
                if h.block_start < p.block_end {
                    return Err(Error::Merge(format!(
                        "{} and {} overlap: both hold {}",
                        path(*prev).display(),
                        path(i).display(),
                        chunk_list(std::slice::from_ref(
                            &(h.block_start..p.block_end.min(h.block_end))
                        ))
                    )));
                }
            }
            if h.block_start > covered {
                missing.push(covered..h.block_start);
            }
            covered = h.block_end;
            holders.push((i, Vec::new()));
        }
        if covered < chunks {
            missing.push(covered..chunks);
        }
        if !missing.is_empty() {
            return Err(Error::Merge(format!(
                "{} of the run's {chunks} blocks (0-{}) {} missing{}; merge needs the partial of every shard",
                chunk_list(&missing),
                chunks - 1,
                if missing.len() == 1 && missing[0].end - missing[0].start == 1 {
                    "is"
                } else {
                    "are"
                },
                shards_holding(&missing, headers)
            )));
        }
        // Partials of shards with no chunks (more shards than chunks) are read for
        // their checksums, and count as merged.
        let empty: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| headers[i].block_start == headers[i].block_end)
            .collect();
        let merged_partials = holders.len() + empty.len();
        // The chunks, in order, one partial after another.
        let dim = model.dim();
        let mut merged = ExactSums::new(dim);
        let mut kept = crate::engine::Digests::default();
        let mut wall: f64 = 0.0;
        let mut restarts = 0;
        let mut parked: Vec<Option<Parked>> = self.parked.into_iter().map(Some).collect();
        let mut take = |i: usize| parked[i].take().expect("each partial is read once");
        let holding = empty.into_iter().map(|i| (i, Vec::new()));
        for (i, twins) in holding.chain(holders) {
            let h = &headers[i];
            let mut reader = take(i).resume()?;
            let mut own = Content::new(dim);
            while let Some(stats) = reader.next_chunk(dim)? {
                kept.record(stats.blocks.start, &stats.digests, job);
                own.add(&stats, dim);
            }
            merged.merge(&own.sums);
            if let Some(trailer) = reader.trailer() {
                wall = wall.max(trailer.wall_seconds);
                restarts = u64::saturating_add(restarts, trailer.worker_restarts);
            }
            // A twin holds the same blocks: the same bits exactly when its exact sums
            // and every block's digest are the same, whatever chunks either was cut
            // into. Compared as they stream, in memory that does not grow with the run.
            let own = own.finish();
            for twin in twins {
                let mut other = take(twin).resume()?;
                let mut theirs = Content::new(dim);
                while let Some(stats) = other.next_chunk(dim)? {
                    theirs.add(&stats, dim);
                }
                let same = theirs.finish() == own;
                if !same {
                    return Err(Error::Merge(format!(
                        "{} and {} both hold {} (shard {}/{}), with different statistics: \
                         they were computed by different builds or altered; rerun that shard",
                        reader.path().display(),
                        other.path().display(),
                        chunk_list(std::slice::from_ref(&(h.block_start..h.block_end))),
                        headers[twin].shard,
                        headers[twin].shards
                    )));
                }
            }
        }
        let mut report = Report::new(
            &first.name,
            job,
            model.as_ref(),
            merged.moments(),
            "shards",
            merged_partials,
            wall,
        );
        report.worker_restarts = restarts;
        report.digests = kept.groups(job.blocks()).unwrap_or_default();
        Ok(report)
    }
}

/// What a partial holds, as it streams by: the exact sums of its blocks and a hash of
/// their digests in block order; equal for two partials exactly when they hold the
/// same blocks with the same bits, however each was cut into chunks.
struct Content {
    sums: ExactSums,
    digests: Sha256,
}

impl Content {
    fn new(dim: usize) -> Self {
        Content {
            sums: ExactSums::new(dim),
            digests: Sha256::new(),
        }
    }

    fn add(&mut self, stats: &ChunkStats, dim: usize) {
        for d in &stats.digests {
            self.digests.update(d.to_le_bytes());
        }
        self.sums.merge(&stats.total(dim));
    }

    /// The sums' canonical words and the digests' hash.
    fn finish(&self) -> (Vec<u64>, Vec<u8>) {
        (
            self.sums.to_words(),
            self.digests.clone().finalize().to_vec(),
        )
    }
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
    let blocks = header.job.blocks();
    if header.block_start > header.block_end || header.block_end > blocks {
        return Err(bad(
            "block_end",
            format!(
                "blocks {}..{} do not fit a run of {blocks} blocks",
                header.block_start, header.block_end,
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
            1 => format!("block {}", r.start),
            _ => format!("blocks {}-{}", r.start, r.end - 1),
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
    let blocks = headers[0].job.blocks();
    let shards: Vec<String> = (0..count)
        .filter(|&s| {
            let share = crate::plan::split(0..blocks, s, count);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Destination, Job};
    use crate::model::ModelSpec;
    use crate::models::PiParams;
    use crate::shard::Writer;

    fn job() -> Job {
        Job {
            samples: 6 * 4096 + 25,
            seed: 3,
            chunk_size: 2 * 4096,
            confidence: 0.95,
            model: ModelSpec::new("pi", &PiParams {}),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        }
    }

    /// Writes the 7 blocks of `job()` as `shards` partials in `dir`, a block a chunk.
    fn partials(dir: &Path, shards: u64) -> Vec<PathBuf> {
        let job = job();
        let model = job.build_model(&Registry::builtin()).unwrap();
        (0..shards)
            .map(|s| {
                let path = dir.join(format!("p{s}.json"));
                let range = crate::plan::split(0..job.blocks(), s, shards);
                let header = Header::new("pi", &job, (s, shards), range.clone(), None);
                let mut w = Writer::create(&Destination::File(path.clone()), &header).unwrap();
                let mut cursor = crate::random::lanes::LaneCursor::new(job.seed);
                for b in range {
                    let stats =
                        crate::exec::run_blocks(&job, model.as_ref(), b..b + 1, &mut cursor)
                            .unwrap();
                    w.push(&stats).unwrap();
                }
                w.finish("sequential", 1, 0.1, 0).unwrap();
                path
            })
            .collect()
    }

    fn bits(report: &Report) -> Vec<u64> {
        report
            .moments
            .mean
            .iter()
            .chain(&report.moments.comoment)
            .map(|x| x.to_bits())
            .collect()
    }

    #[test]
    fn partials_read_again_from_their_files_merge_to_the_same_bits() {
        let dir = tempfile::tempdir().unwrap();
        let paths = partials(dir.path(), 3);
        let registry = Registry::builtin();
        let kept = Partials::open(&paths).unwrap().merge(&registry).unwrap();
        // No memory at all: every file is opened a second time.
        let reread = Partials::open_within(&paths, 0)
            .unwrap()
            .merge(&registry)
            .unwrap();
        // Memory for the first partial only.
        let first = std::fs::metadata(&paths[0]).unwrap().len();
        let some = Partials::open_within(&paths, first)
            .unwrap()
            .merge(&registry)
            .unwrap();
        assert_eq!(kept.moments.count, job().samples);
        assert_eq!(bits(&kept), bits(&reread));
        assert_eq!(bits(&kept), bits(&some));
    }

    #[test]
    fn a_partial_replaced_between_its_header_and_its_chunks_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = partials(dir.path(), 2);
        let partials_of_3 = partials(&dir.path().join("3"), 3);
        let opened = Partials::open_within(&paths, 0).unwrap();
        // A shard of another layout lands at the same path before the chunks are read.
        std::fs::copy(&partials_of_3[0], &paths[0]).unwrap();
        let err = opened.merge(&Registry::builtin()).unwrap_err().to_string();
        assert!(err.contains("changed while it was being merged"), "{err}");
        // Kept in memory, it is merged as it was read.
        let paths = partials(dir.path(), 2);
        let opened = Partials::open(&paths).unwrap();
        std::fs::copy(&partials_of_3[0], &paths[0]).unwrap();
        assert_eq!(
            opened.merge(&Registry::builtin()).unwrap().moments.count,
            job().samples
        );
    }
}
