//! Output: summaries as CSV, JSON or a table for people, written in one place.
//!
//! A summary is a [`Sheet`]: named columns and rows of [`Value`]s. Exporters turn a
//! sheet into bytes; [`write`](fn@write) does the I/O, atomically for files.

mod files;
mod render;
mod temporary;

use std::io::Write;

use std::path::{Path, PathBuf};

use crate::Error;
use crate::config::Destination;
use crate::engine::Report;
use crate::random::lanes::METHOD as DERIVATION;
use crate::random::qmc::RQMC_DERIVATION;
use crate::random::sampler::Sampler;

pub(crate) use files::{check_outputs, is_special, saves, saving, write_file, write_files};
pub(crate) use render::cell;
pub use render::{Format, render};
pub(crate) use temporary::temporary_in;

/// The columns every summary starts with, in this order (the DESIGN contract).
pub const SUMMARY_COLUMNS: [&str; 18] = [
    "name",
    "model",
    "quantity",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "confidence",
    "samples",
    "reference",
    "seed",
    "backend",
    "workers",
    "chunk_size",
    "wall_seconds",
    "samples_per_second",
    "rng",
    "version",
];

/// Columns that follow [`SUMMARY_COLUMNS`], in this order.
///
/// - `variance_reduction`: estimated variance of the plain estimator over that of the
///   one used (1 without variance reduction), so a user sees what a technique bought.
/// - `reference_kind`: `exact` (closed form), `quadrature` (recursive quadrature
///   over the dates, within 1e-9) or empty.
/// - `approx_reference`: an approximation that is not a reference (for example the
///   American price beside a Bermudan estimate, or the continuous-monitoring barrier
///   price with the Broadie-Glasserman-Kou shift where the quadrature is out of reach).
/// - `stop_reason`: `samples` (all drawn) or `target` (the target error was met).
/// - `worker_restarts`: worker processes that died or stalled and were replaced
///   (their chunks ran again, so the result is unchanged; 0 when none).
/// - `fingerprint`: the job's fingerprint ([`crate::config::Job::fingerprint`]): the
///   hash of everything that decides the bits, which the job file beside the summary
///   (and the JSON summary's `job`) spells out.
/// - `normal`: how the model turns its stream's words into standard normals
///   ([`crate::random::NORMAL_METHOD`] for the built-in option models), empty for a
///   model that draws none (pi) or draws them its own way (a Python model). Like
///   `rng`, a name that changes whenever the bits would.
pub const EXTRA_COLUMNS: [&str; 7] = [
    "variance_reduction",
    "reference_kind",
    "approx_reference",
    "stop_reason",
    "worker_restarts",
    "fingerprint",
    "normal",
];

/// Columns that follow [`EXTRA_COLUMNS`] in the summary of a run with `sampler =
/// "sobol"` (absent from plain Monte Carlo summaries, which keep their shape):
/// `sampler` (`sobol`) and `replicates` (the number of independent randomizations
/// whose means the interval is made of). The `rng` column of such a run names the
/// quasi-Monte Carlo derivation, [`RQMC_DERIVATION`].
pub const SAMPLER_COLUMNS: [&str; 2] = ["sampler", "replicates"];

// Then, only when some row has one, `note`: what the row's estimate could not do
// ([`crate::engine::note`]: a control variate that was dropped).
//
// Then, in the summary of a run with a sweep, one column per swept `[model]` key,
// named for the key (`strike`), holding the value at the row's point (the midpoint
// for a `dprice_dKEY` finite difference).

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A float, written in Rust's shortest round-trip form.
    Float(f64),
    /// A whole number.
    Int(u64),
    /// Text.
    Text(String),
    /// Nothing (an empty CSV field, `null` in JSON).
    Empty,
}

impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Value::Empty, Value::Float)
    }
}

/// A table of named columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
}

impl Sheet {
    /// The value of `column` in row `row`, if the column exists.
    pub fn get(&self, row: usize, column: &str) -> Option<&Value> {
        let c = self.columns.iter().position(|&name| name == column)?;
        self.rows.get(row).map(|r| &r[c])
    }
}

/// The summary of a report: one row per quantity.
pub fn summary(report: &Report) -> Sheet {
    let rate = if report.wall_seconds > 0.0 {
        report.samples() as f64 / report.wall_seconds
    } else {
        f64::NAN
    };
    // A sobol run's numbers come from its scrambled points (whose scrambles are drawn
    // from the streams of `DERIVATION`, as the recipe says).
    let rng = match report.job.sampler {
        Sampler::Mc => DERIVATION,
        Sampler::Sobol { .. } => RQMC_DERIVATION,
    };
    let has_notes = report
        .estimates
        .iter()
        .any(|(_, e)| crate::engine::note(e).is_some());
    let rows = report
        .estimates
        .iter()
        .map(|(q, e)| {
            let mut row = vec![
                Value::Text(report.name.clone()),
                Value::Text(report.job.model.kind().to_string()),
                Value::Text(q.name.to_string()),
                Value::Float(e.estimate),
                Value::Float(e.std_error),
                Value::Float(e.ci_low),
                Value::Float(e.ci_high),
                Value::Float(e.confidence),
                Value::Int(e.samples),
                // A formula that broke down at these parameters gives no reference
                // (the run said so when it started).
                finite(q.reference.map(|(value, _)| value)),
                Value::Int(report.job.seed),
                Value::Text(report.backend.clone()),
                Value::Int(report.workers as u64),
                Value::Int(report.job.chunk_size),
                Value::Float(report.wall_seconds),
                Value::Float(rate),
                Value::Text(rng.to_string()),
                Value::Text(env!("CARGO_PKG_VERSION").to_string()),
                Value::Float(e.variance_ratio),
                q.reference
                    .filter(|(value, _)| value.is_finite())
                    .map_or(Value::Empty, |(_, kind)| Value::Text(kind.name().into())),
                finite(q.approx_reference),
                Value::Text(report.stop_reason.name().into()),
                Value::Int(report.worker_restarts),
                Value::Text(report.job.fingerprint()),
                report
                    .normal
                    .map_or(Value::Empty, |name| Value::Text(name.into())),
            ];
            if let Some(r) = report.job.sampler.replicates() {
                row.push(Value::Text(report.job.sampler.name().into()));
                row.push(Value::Int(r));
            }
            if has_notes {
                row.push(crate::engine::note(e).map_or(Value::Empty, Value::Text));
            }
            for k in 0..report.job.sweep.len() {
                row.push(match q.point.as_ref().and_then(|p| p.get(k)) {
                    Some(serde_json::Value::Number(n)) => n
                        .as_u64()
                        .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
                    Some(serde_json::Value::String(t)) => Value::Text(t.clone()),
                    Some(other) => Value::Text(other.to_string()),
                    None => Value::Empty,
                });
            }
            row
        })
        .collect();
    let mut columns: Vec<&'static str> = SUMMARY_COLUMNS
        .iter()
        .chain(&EXTRA_COLUMNS)
        .copied()
        .collect();
    if report.job.sampler.replicates().is_some() {
        columns.extend(SAMPLER_COLUMNS);
    }
    if has_notes {
        columns.push("note");
    }
    // One column per swept key, named for it (`strike`), last.
    // A key of a table (a Python model's `args.p`) is named for its last part.
    columns.extend(
        report
            .job
            .sweep
            .iter()
            .map(|k| column_name(k.key.rsplit('.').next().unwrap_or(&k.key))),
    );
    Sheet { columns, rows }
}

/// `key` as a column name that lives as long as the program: each distinct swept key
/// is stored once (a sheet's columns are `&'static str`, and model keys are few).
fn column_name(key: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&name) = names.get(key) {
        return name;
    }
    let name: &'static str = Box::leak(key.to_string().into_boxed_str());
    names.insert(name);
    name
}

/// A report's summary as bytes in `format`. The JSON form also carries the whole job
/// in each row (`"job"`), so that a JSON summary alone says how to reproduce it.
pub fn render_summary(report: &Report, format: Format) -> Vec<u8> {
    let sheet = summary(report);
    if format != Format::Json {
        return render(&sheet, format);
    }
    let job = serde_json::to_value(&report.job).expect("a job always serializes");
    let mut rows: Vec<serde_json::Value> =
        serde_json::from_slice(&render(&sheet, Format::Json)).expect("rendered JSON reads back");
    for row in &mut rows {
        if let serde_json::Value::Object(map) = row {
            map.insert("job".into(), job.clone());
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&rows).expect("JSON values always serialize");
    bytes.push(b'\n');
    bytes
}

/// Where the job file of the summary at `summary` goes: beside it, `<stem>.job.toml`.
pub fn job_path(summary: &Path) -> PathBuf {
    summary.with_file_name(format!("{}.job.toml", stem(summary)))
}

/// Where the group digests of the summary at `summary` go: beside it,
/// `<stem>.chunks`.
pub fn digests_path(summary: &Path) -> PathBuf {
    summary.with_file_name(format!("{}.chunks", stem(summary)))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "summary".into(), |s| s.to_string_lossy().into_owned())
}

/// The group digests file: a comment line saying what it holds, then the digest of
/// each chunk in chunk order, 16 hex digits a line (17 bytes a chunk).
pub fn digests_file(report: &Report) -> Vec<u8> {
    let mut text = format!(
        "# carlo digests of job {}: {} groups of {} blocks, one a line in block order; each \
         is the first 8 bytes (little-endian) of the SHA-256 of its blocks' digests, each \
         that of a block's count and sums. `carlo verify --chunks K` checks K groups \
         against them.\n",
        report.job.fingerprint(),
        report.digests.len(),
        crate::engine::DIGEST_GROUP
    );
    for d in &report.digests {
        text.push_str(&format!("{d:016x}\n"));
    }
    text.into_bytes()
}

/// A value, or an empty cell for none or a non-finite one.
fn finite(value: Option<f64>) -> Value {
    value.filter(|v| v.is_finite()).into()
}

/// Writes `bytes` to `dest`: a file as `write_file` does (atomically, folders
/// created), standard output directly, where a closed pipe (`carlo run ... | head`) is
/// not an error.
pub fn write(dest: &Destination, bytes: &[u8]) -> Result<(), Error> {
    match dest {
        Destination::Stdout => write_stdout(bytes),
        Destination::File(path) => write_file(path, bytes),
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "standard output".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}
