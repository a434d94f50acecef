//! Output: summaries as CSV, JSON or a table for people, written in one place.
//!
//! A summary is a [`Sheet`]: named columns and rows of [`Value`]s. Exporters turn a
//! sheet into bytes; [`write`] does the I/O, atomically for files.

mod files;
mod render;

use std::io::Write;

use crate::Error;
use crate::config::Destination;
use crate::engine::Report;
use crate::rng::DERIVATION;

pub use files::{check_outputs, check_writable, same_file, write_file};
pub use render::{Format, render};

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
/// - `reference_kind`: `exact` (closed form), `tree` (binomial lattice) or empty.
/// - `approx_reference`: an approximation that is not a reference (for example the
///   continuous-monitoring barrier price with the Broadie-Glasserman-Kou shift).
/// - `stop_reason`: `samples` (all drawn) or `target` (the target error was met).
/// - `worker_restarts`: worker processes that died or stalled and were replaced
///   (their chunks ran again, so the result is unchanged; 0 when none).
pub const EXTRA_COLUMNS: [&str; 5] = [
    "variance_reduction",
    "reference_kind",
    "approx_reference",
    "stop_reason",
    "worker_restarts",
];

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
    let rows = report
        .estimates
        .iter()
        .map(|(q, e)| {
            vec![
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
                Value::Text(DERIVATION.to_string()),
                Value::Text(env!("CARGO_PKG_VERSION").to_string()),
                Value::Float(e.variance_ratio),
                q.reference
                    .filter(|(value, _)| value.is_finite())
                    .map_or(Value::Empty, |(_, kind)| Value::Text(kind.name().into())),
                finite(q.approx_reference),
                Value::Text(report.stop_reason.name().into()),
                Value::Int(report.worker_restarts),
            ]
        })
        .collect();
    Sheet {
        columns: SUMMARY_COLUMNS
            .iter()
            .chain(&EXTRA_COLUMNS)
            .copied()
            .collect(),
        rows,
    }
}

/// A value, or an empty cell for none or a non-finite one.
fn finite(value: Option<f64>) -> Value {
    value.filter(|v| v.is_finite()).into()
}

/// Writes `bytes` to `dest`: a file as [`write_file`] does (atomically, folders
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
