//! Checking a colleague's number: `carlo verify`, the whole job.
//!
//! A summary comes with its job (`<stem>.job.toml` beside a CSV summary, or the `job`
//! of every row of a JSON summary) and the digest of each of its chunks
//! (`<stem>.chunks`). A [`Check`] reads them and checks that they belong together
//! ([`claim`]: the summary's fingerprint is its job's, the digests are of that job and
//! as many as its run has chunks), recomputes the run or some of its chunks, and
//! compares ([`compare`]): every column the job decides, rows matched by label, values
//! as numbers bit for bit. Its [`Verdict`] says what was checked, and the application
//! prints it.
//!
//! What a verdict means: a whole check recomputes every chunk and compares every
//! value the job decides (estimate, standard error, interval, samples, seed,
//! confidence, model, reference, version, the labels...). A spot-check (`--chunks K`,
//! `--shard I/N`) recomputes some chunks and compares their digests with the ones kept
//! beside the summary: it shows that this build computes those chunks as the run did,
//! not that the summary's estimate is theirs; only a whole check recomputes that.
//! A check needs no secret and proves no authorship: the checksums and fingerprints
//! catch accidents and mix-ups, and anyone can write a summary, job and digests that
//! agree (recomputing is what settles it).

pub mod claim;
pub mod compare;
pub mod spot;

use std::path::Path;

use crate::Error;
use crate::backend::Backend;
use crate::engine::{self, Observer};
use crate::model::Registry;
use crate::plan::split;
use crate::shard::Shard;

pub use claim::Claim;

use crate::engine::DIGEST_GROUP;
pub use spot::spot_chunks;

/// What to recompute, and where.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The backend to recompute on (default: carlo's, as the job file has no
    /// `[execution]`).
    pub backend: Option<Backend>,
    /// Its workers (0: one per core).
    pub workers: Option<u64>,
    /// Recompute only some chunks.
    pub spot: Option<Spot>,
}

/// A spot-check: which chunks to recompute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spot {
    /// `--chunks K`: `K` chunks chosen by the seed ([`spot_chunks`]).
    Chunks(u64),
    /// `--shard I/N`: one share of the chunks.
    Shard(Shard),
}

/// A check, read and ready to recompute.
#[derive(Debug)]
pub struct Check {
    claim: Claim,
    /// The chunks a spot-check recomputes; `None` for the whole run.
    chunks: Option<Vec<u64>>,
    /// Where the `[execution]` comes from, in words.
    execution: String,
}

/// What a check found.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// One line per row or chunk checked, for people.
    pub lines: Vec<String>,
    /// What differs, briefly (`price estimate`, `chunk 7`); empty when everything
    /// checked is the same.
    pub differences: Vec<String>,
    /// What was checked, in words (`3 rows x 20 columns ...`).
    pub checked: String,
    /// Whether the whole run was recomputed (not a spot-check).
    pub whole: bool,
}

impl Verdict {
    /// Whether everything checked is the same.
    pub fn reproduced(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Lines of detail a verdict lists at most (a summary of 200,000 forged rows must not
/// print 200,000 lines).
const MAX_LINES: usize = 60;

impl Check {
    /// Reads the summary at `path` with its job and digests (see [`Claim::read`]) and
    /// settles what to recompute. Bad input (exit 2, naming the file or the flag):
    /// damaged files, a spot-check without digests or with the wrong number of them,
    /// and a spot-check that would check nothing (`--chunks 0`, an empty share).
    ///
    /// `warn` hears what must be said before anything runs, before the job is read
    /// (see [`Claim::read`]): that the job's model runs code carlo does not hold.
    pub fn prepare(
        path: &Path,
        options: &Options,
        registry: &Registry,
        warn: &mut dyn FnMut(&str),
    ) -> Result<Self, Error> {
        let mut claim = Claim::read(path, registry, warn)?;
        let experiment = &mut claim.experiment;
        let mut chosen = Vec::new();
        if let Some(backend) = options.backend {
            if !backend.is_available() {
                return Err(Error::Flag {
                    flag: "--backend".into(),
                    reason: crate::backend::MPI_MISSING.into(),
                });
            }
            experiment.backend = backend;
            chosen.push("--backend");
        }
        if let Some(workers) = options.workers {
            experiment.workers = match workers {
                0 => crate::backend::available_cores(),
                n => usize::try_from(n).unwrap_or(usize::MAX).min(4096),
            };
            chosen.push("--workers");
        }
        let execution = match chosen.as_slice() {
            [] => "carlo's default [execution]: a job file has none; --backend and \
                   --workers choose"
                .to_string(),
            flags => format!("{} from the command line", flags.join(" and ")),
        };
        let total = claim.groups();
        if let Some(d) = &claim.digests
            && d.values.len() as u64 != total
        {
            return Err(claim::bad(
                &d.path,
                format!(
                    "it holds {} digests, but the summary's run has {total} digest groups \
                     (of {DIGEST_GROUP} blocks): it is damaged or truncated, or of another run",
                    d.values.len()
                ),
            ));
        }
        let chunks = match options.spot {
            None => None,
            Some(spot) => {
                let flag = match spot {
                    Spot::Chunks(_) => "--chunks",
                    Spot::Shard(_) => "--shard",
                };
                let refuse = |reason: String| Error::Flag {
                    flag: flag.into(),
                    reason,
                };
                if claim.digests.is_none() {
                    return Err(refuse(format!(
                        "compares groups of blocks with the digests kept beside the summary, and {} \
                         has none ({}); verify the whole run without it",
                        path.display(),
                        crate::output::digests_path(path).display()
                    )));
                }
                let picked: Vec<u64> = match spot {
                    Spot::Chunks(0) => {
                        return Err(refuse(
                            "0 groups would check nothing; give at least 1".into(),
                        ));
                    }
                    Spot::Chunks(k) => spot_chunks(claim.experiment.job.seed, total, k),
                    Spot::Shard(shard) => split(0..total, shard.index, shard.count).collect(),
                };
                if picked.is_empty() {
                    return Err(refuse(format!(
                        "share {} of the run's {total} digest groups is empty, so it would check \
                         nothing; use at most {total} shards",
                        match spot {
                            Spot::Shard(s) => s.to_string(),
                            Spot::Chunks(k) => k.to_string(),
                        }
                    )));
                }
                Some(picked)
            }
        };
        Ok(Check {
            claim,
            chunks,
            execution,
        })
    }

    /// The check in words, before it runs: the summary, its job and where it is
    /// recomputed.
    pub fn describe(&self) -> String {
        let e = &self.claim.experiment;
        let what = match &self.chunks {
            None => "the whole run".to_string(),
            Some(c) => format!("{} of its {} digest groups", c.len(), self.claim.groups()),
        };
        format!(
            "{}: job {} ({}); recomputing {what} on {} x{} ({})",
            self.claim.path.display(),
            self.claim.fingerprint,
            self.claim.job_path.display(),
            e.backend.name(),
            e.workers,
            self.execution
        )
    }

    /// The summary being checked.
    pub fn summary(&self) -> &Path {
        &self.claim.path
    }

    /// Recomputes and compares, with `observer` watching the run (a progress bar).
    pub fn run(self, observer: &mut dyn Observer) -> Result<Verdict, Error> {
        match &self.chunks {
            None => self.whole(observer),
            Some(chunks) => self.spot(chunks),
        }
    }

    fn whole(&self, observer: &mut dyn Observer) -> Result<Verdict, Error> {
        let experiment = &self.claim.experiment;
        let report = engine::run(experiment, observer)?;
        let sheet = crate::output::summary(&report);
        let mut labels = vec!["quantity"];
        let keys: Vec<String> = experiment.job.sweep.iter().map(|k| k.key.clone()).collect();
        labels.extend(keys.iter().map(String::as_str));
        let comparison = compare::compare(&self.claim, &sheet, &labels);
        let mut lines = Vec::new();
        let mut differences: Vec<String> = Vec::new();
        for d in &comparison.differences {
            if lines.len() < MAX_LINES {
                lines.push(format!(
                    "  {:<24} {:<18} {}  DIFFERS: recomputed {}",
                    d.row, d.column, d.claimed, d.recomputed
                ));
            }
            differences.push(format!("{} {}", d.row, d.column));
        }
        if comparison.differences.len() > MAX_LINES {
            lines.push(format!(
                "  ... and {} more differences",
                comparison.differences.len() - MAX_LINES
            ));
        }
        if comparison.differences.is_empty() {
            lines.push(format!(
                "  {} x {} columns: the same ({})",
                rows(comparison.rows),
                comparison.columns.len(),
                comparison.columns.join(", ")
            ));
        }
        if !comparison.ignored.is_empty() {
            lines.push(format!(
                "  not compared: {} (carlo writes no such column for this job)",
                comparison.ignored.join(", ")
            ));
        }
        let mut checked = format!(
            "{} x {} columns, every value the job decides",
            rows(comparison.rows),
            comparison.columns.len()
        );
        if let Some(d) = &self.claim.digests {
            let differ = report
                .digests
                .iter()
                .zip(&d.values)
                .filter(|(a, b)| a != b)
                .count()
                + report.digests.len().abs_diff(d.values.len());
            if differ > 0 {
                lines.push(format!(
                    "  digests ({}): {differ} of {} differ from the recomputed groups of blocks",
                    d.path.display(),
                    d.values.len()
                ));
                differences.push(format!("{differ} group digests"));
            } else {
                checked.push_str(&format!(", and its {} group digests", d.values.len()));
            }
        }
        Ok(Verdict {
            lines,
            differences,
            checked,
            whole: true,
        })
    }

    fn spot(&self, chunks: &[u64]) -> Result<Verdict, Error> {
        let digests = self
            .claim
            .digests
            .as_ref()
            .expect("a spot-check is prepared with digests");
        let recomputed = spot::recompute(&self.claim.experiment, chunks, self.claim.blocks())?;
        let mut lines = Vec::new();
        let mut differences = Vec::new();
        for (index, digest) in chunks.iter().zip(&recomputed) {
            let kept = digests.values[*index as usize];
            if kept == *digest {
                if lines.len() < MAX_LINES {
                    lines.push(format!("  group {index:<10} {kept:016x}  same"));
                }
            } else {
                if lines.len() < MAX_LINES {
                    lines.push(format!(
                        "  group {index:<10} {kept:016x}  DIFFERS: recomputed {digest:016x}"
                    ));
                }
                differences.push(format!("group {index}"));
            }
        }
        let total = digests.values.len();
        Ok(Verdict {
            lines,
            differences,
            checked: format!(
                "{} of the run's {total} group digests (a spot-check: it shows this build \
                 computes those blocks as the run did, not that the summary's estimate is \
                 theirs; verify without --chunks or --shard recomputes the estimate)",
                chunks.len()
            ),
            whole: false,
        })
    }
}

/// `n rows`, or `1 row`.
fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}
