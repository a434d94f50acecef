//! Checking a colleague's number: a summary, read back with the job it names, run
//! again and compared bit for bit.
//!
//! A summary file comes with its job (`<stem>.job.toml` beside a CSV summary, or the
//! `job` of every row of a JSON summary) and the digest of each of its chunks
//! (`<stem>.chunks`). [`Claim::read`] reads them and checks that they belong together
//! (the summary's `fingerprint` is its job's); [`Claim::compare`] tells which columns
//! of which quantities a new run reproduces; [`spot_chunks`] picks the chunks a
//! spot-check recomputes, from the seed.

use std::path::{Path, PathBuf};

use rand::RngExt;

use crate::Error;
use crate::config::{Experiment, Job, Overrides};
use crate::engine::Report;
use crate::model::Registry;
use crate::output::{digests_path, job_path};
use crate::random::stream::{Family, stream};

/// The columns `carlo verify` compares: the result, bit for bit.
pub const COMPARED: [&str; 5] = ["estimate", "std_error", "ci_low", "ci_high", "samples"];

/// One quantity's row of a summary, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRow {
    /// The quantity.
    pub quantity: String,
    /// The compared columns' values, as the summary writes them (shortest round-trip
    /// form for floats), in the order of [`COMPARED`].
    pub values: Vec<String>,
}

/// What a summary claims, with the job it names.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The summary file.
    pub path: PathBuf,
    /// The summary's fingerprint, which is its job's.
    pub fingerprint: String,
    /// Its rows.
    pub rows: Vec<ClaimedRow>,
    /// The file the job is read from in messages (the job file, or the JSON summary).
    pub job_path: PathBuf,
    /// The digest of each chunk, when the summary has its `.chunks` file.
    pub digests: Option<Vec<u64>>,
}

/// One column of one quantity that a new run did not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The quantity.
    pub quantity: String,
    /// The column.
    pub column: String,
    /// What the summary says.
    pub claimed: String,
    /// What the new run computed.
    pub recomputed: String,
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Syntax {
        path: path.to_path_buf(),
        message: reason.into(),
    }
}

/// The string a summary writes for a float or a count: the same for the same bits.
fn written(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) if n.is_u64() => n.to_string(),
        serde_json::Value::Number(n) => format!("{}", n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Claim {
    /// Reads the summary at `path` (CSV or JSON), its job and its chunk digests, and
    /// checks that they belong together: the summary's `fingerprint` must be the
    /// job's, with the job read as a config by `registry`. Returns the claim and the
    /// job's experiment. Every problem is an input error (exit 2) naming the file.
    pub fn read(path: &Path, registry: &Registry) -> Result<(Self, Experiment), Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let json = text.trim_start().starts_with('[');
        if let Some(theirs) = made_by(&text, json) {
            let ours = env!("CARGO_PKG_VERSION");
            let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
            if minor(&theirs) != minor(ours) {
                return Err(bad(
                    path,
                    format!(
                        "it was made by carlo {theirs}, whose bits carlo {ours} does not \
                         compute (0.3.0 moved to blocks on lanes, xoshiro256++/lanes-v1, \
                         and exact merging); verify it with carlo {theirs}, or run its job \
                         again with this carlo for a new result"
                    ),
                ));
            }
        }
        let (name, fingerprint, rows, job) = if json {
            read_json(path, &text)?
        } else {
            read_csv(path, &text)?
        };
        if fingerprint.is_empty() {
            return Err(bad(
                path,
                "it has no fingerprint column, so nothing says which job it came from \
                 (carlo before 0.2 did not write one)",
            ));
        }
        let (job_toml, job_path) = match job {
            Some(job) => (job.to_toml(&name), path.to_path_buf()),
            None => {
                let file = job_path(path);
                let toml = std::fs::read_to_string(&file).map_err(|e| {
                    bad(
                        path,
                        format!(
                            "its job file {} cannot be read ({e}); a summary written to a \
                             file has one beside it, and a JSON summary carries its job",
                            file.display()
                        ),
                    )
                })?;
                (toml, file)
            }
        };
        let experiment = Experiment::parse(&job_toml, &job_path, &Overrides::default(), registry)?;
        let theirs = experiment.job.fingerprint();
        if theirs != fingerprint {
            return Err(Error::Mismatch(format!(
                "{} says it is of job {fingerprint}, but its job ({}) is {theirs}: one of \
                 them was edited, or they are of different runs",
                path.display(),
                job_path.display()
            )));
        }
        let digests = match std::fs::read_to_string(digests_path(path)) {
            Ok(text) => Some(read_digests(&digests_path(path), &text)?),
            Err(_) => None,
        };
        let claim = Claim {
            path: path.to_path_buf(),
            fingerprint,
            rows,
            job_path,
            digests,
        };
        Ok((claim, experiment))
    }

    /// The columns of `report` that differ from the claim, quantity by quantity; a
    /// quantity one has and the other lacks is a mismatch of every column.
    pub fn compare(&self, report: &Report) -> Vec<Mismatch> {
        let sheet = crate::output::summary(report);
        let mut found = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            // The k-th row of a quantity matches the k-th recomputed one: a sweep has
            // one `price` row per point, in the same order.
            let k = self.rows[..i]
                .iter()
                .filter(|r| r.quantity == row.quantity)
                .count();
            let r = (0..sheet.rows.len())
                .filter(|&r| {
                    matches!(sheet.get(r, "quantity"), Some(crate::output::Value::Text(q)) if *q == row.quantity)
                })
                .nth(k);
            for (c, column) in COMPARED.iter().enumerate() {
                let recomputed = r
                    .and_then(|r| sheet.get(r, column))
                    .map_or_else(|| "(no such quantity)".to_string(), crate::output::cell);
                if recomputed != row.values[c] {
                    found.push(Mismatch {
                        quantity: row.quantity.clone(),
                        column: (*column).to_string(),
                        claimed: row.values[c].clone(),
                        recomputed,
                    });
                }
            }
        }
        found
    }
}

type Read = (String, String, Vec<ClaimedRow>, Option<Job>);

/// The carlo version in a summary's `version` column (of its first row), if it has one.
fn made_by(text: &str, json: bool) -> Option<String> {
    if json {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(text).ok()?;
        return rows.first()?.get("version")?.as_str().map(str::to_string);
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let at = reader.headers().ok()?.iter().position(|h| h == "version")?;
    let record = reader.records().next()?.ok()?;
    record.get(at).map(str::to_string)
}

fn read_csv(path: &Path, text: &str) -> Result<Read, Error> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| bad(path, format!("not a carlo summary ({e})")))?
        .clone();
    let at = |name: &str| headers.iter().position(|h| h == name);
    let (Some(quantity), Some(name)) = (at("quantity"), at("name")) else {
        return Err(bad(
            path,
            "not a carlo summary (no quantity or name column)",
        ));
    };
    let columns: Vec<usize> = COMPARED
        .iter()
        .map(|c| at(c).ok_or_else(|| bad(path, format!("not a carlo summary (no {c} column)"))))
        .collect::<Result<_, _>>()?;
    let fp = at("fingerprint");
    let (mut run, mut fingerprint, mut rows) = (String::new(), String::new(), Vec::new());
    for record in reader.records() {
        let record = record.map_err(|e| bad(path, format!("damaged summary ({e})")))?;
        run = record.get(name).unwrap_or_default().to_string();
        if let Some(f) = fp {
            let this = record.get(f).unwrap_or_default().to_string();
            if !fingerprint.is_empty() && this != fingerprint {
                return Err(bad(path, "its rows name different fingerprints"));
            }
            fingerprint = this;
        }
        rows.push(ClaimedRow {
            quantity: record.get(quantity).unwrap_or_default().to_string(),
            values: columns
                .iter()
                .map(|&c| record.get(c).unwrap_or_default().to_string())
                .collect(),
        });
    }
    if rows.is_empty() {
        return Err(bad(path, "not a carlo summary (no rows)"));
    }
    Ok((run, fingerprint, rows, None))
}

fn read_json(path: &Path, text: &str) -> Result<Read, Error> {
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).map_err(|e| bad(path, format!("not a carlo summary ({e})")))?;
    let first = rows
        .first()
        .ok_or_else(|| bad(path, "not a carlo summary (no rows)"))?;
    let job = first
        .get("job")
        .ok_or_else(|| bad(path, "its rows carry no job"))?;
    let job: Job = serde_json::from_value(job.clone())
        .map_err(|e| bad(path, format!("its job is damaged ({e})")))?;
    let text_of = |row: &serde_json::Map<String, serde_json::Value>, key: &str| {
        row.get(key).map(written).unwrap_or_default()
    };
    let fingerprint = text_of(first, "fingerprint");
    let claimed = rows
        .iter()
        .map(|row| ClaimedRow {
            quantity: text_of(row, "quantity"),
            values: COMPARED.iter().map(|c| text_of(row, c)).collect(),
        })
        .collect();
    Ok((text_of(first, "name"), fingerprint, claimed, Some(job)))
}

/// Reads a `.chunks` file: a comment line, then 16 hex digits a line.
fn read_digests(path: &Path, text: &str) -> Result<Vec<u64>, Error> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            u64::from_str_radix(l.trim(), 16).map_err(|_| {
                bad(
                    path,
                    format!("line {} of its chunk digests is not a digest", i + 2),
                )
            })
        })
        .collect()
}

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
