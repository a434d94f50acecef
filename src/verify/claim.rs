//! Reading what a summary claims: its rows and columns as written, the job it names
//! (the job file beside a CSV summary, the `job` inside a JSON one) and the digests
//! of its chunks (`<stem>.chunks`), each checked against the others.
//!
//! Every problem with these files is bad input (exit 2) that names the file: a
//! summary that is not one, a job that is not a config, digests of another job or
//! too few of them. Nothing here panics on what a file holds: a `null` or a huge
//! integer in a JSON job is refused like any other damage.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::config::{Experiment, Job, Overrides};
use crate::engine::DIGEST_GROUP;
use crate::model::Registry;
use crate::output::{digests_path, job_path};

/// A cell of a summary as read: text from a CSV file, a JSON value from a JSON one.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// An empty CSV field, a JSON `null` or a missing key.
    Empty,
    /// A CSV field, or a JSON string.
    Text(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// Any other JSON value (an array, an object, a boolean), as JSON text.
    Other(String),
}

impl Cell {
    fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Cell::Empty,
            serde_json::Value::String(s) => Cell::Text(s.clone()),
            serde_json::Value::Number(n) => Cell::Number(n.clone()),
            other => Cell::Other(other.to_string()),
        }
    }

    /// The cell as a summary would show it, for messages.
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => "(empty)".into(),
            Cell::Text(s) | Cell::Other(s) => super::compare::short(s),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// A summary as read, with the job it names.
#[derive(Debug)]
pub struct Claim {
    /// The summary file.
    pub path: PathBuf,
    /// Its columns, in its order.
    pub columns: Vec<String>,
    /// Its rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// The fingerprint its rows name, which is its job's.
    pub fingerprint: String,
    /// Where the job was read (the job file, or the JSON summary itself).
    pub job_path: PathBuf,
    /// The job, built into an experiment (on carlo's default `[execution]`: a job
    /// file has none).
    pub experiment: Experiment,
    /// The digests of the run's chunks, if the summary has its `.chunks` file.
    pub digests: Option<Digests>,
}

/// The group digests kept beside a summary.
#[derive(Debug)]
pub struct Digests {
    /// The file.
    pub path: PathBuf,
    /// One digest per chunk of the run, in chunk order.
    pub values: Vec<u64>,
}

/// The error for a damaged input file.
pub(super) fn bad(path: &Path, reason: impl Into<String>) -> Error {
    Error::Syntax {
        path: path.to_path_buf(),
        message: reason.into(),
    }
}

/// What a job's model runs besides carlo, in words, when it runs code of its own in
/// worker processes (a Python model imports its module): `None` for carlo's models
/// and for text that is not a job (reading it then says what is wrong). Said before
/// the job is read, because reading a Python model's job already imports its module
/// to digest its code.
pub fn foreign_code(job: &str, registry: &Registry) -> Option<String> {
    let table: toml::Table = job.parse().ok()?;
    let model = table.get("model")?.as_table()?;
    let kind = model.get("type")?.as_str()?;
    if !registry.get(kind)?.runs_in_workers() {
        return None;
    }
    let code = match model.get("entry").and_then(|e| e.as_str()) {
        Some(entry) => {
            let module = entry.rsplit_once(':').map_or(entry, |(m, _)| m);
            format!(
                "imports the Python module `{module}` (model.entry = \"{entry}\") and runs \
                 its code"
            )
        }
        None => "runs the code it names".into(),
    };
    Some(format!(
        "this job's model (type {kind}) runs code of its own in worker processes: \
         verifying {code}; verify only a job whose code you trust"
    ))
}

impl Claim {
    /// Reads the summary at `path` (CSV, or JSON when it starts with `[`), its job
    /// and its group digests, and checks that they belong together.
    ///
    /// `warn` hears, before the job is read, that its model runs code carlo does not
    /// hold (see [`foreign_code`]): reading such a job already loads that code.
    pub fn read(
        path: &Path,
        registry: &Registry,
        warn: &mut dyn FnMut(&str),
    ) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| bad(path, "not a carlo summary (it is not UTF-8 text)"))?;
        let (columns, rows, job) = if text.trim_start().starts_with('[') {
            let ((columns, rows), job) = read_json(path, &text)?;
            (columns, rows, Some(job))
        } else {
            let (columns, rows) = read_csv(path, &text)?;
            (columns, rows, None)
        };
        let at = |name: &str| columns.iter().position(|c| c == name);
        if let Some(v) = at("version") {
            let theirs = text_of(&rows[0][v]);
            let ours = env!("CARGO_PKG_VERSION");
            let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
            if !theirs.is_empty() && minor(&theirs) != minor(ours) {
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
        let Some(fp) = at("fingerprint") else {
            return Err(bad(
                path,
                "it has no fingerprint column, so nothing says which job it came from \
                 (carlo before 0.2 did not write one)",
            ));
        };
        let fingerprint = text_of(&rows[0][fp]);
        if rows.iter().any(|r| text_of(&r[fp]) != fingerprint) {
            return Err(bad(path, "its rows name different fingerprints"));
        }
        let name = at("name").map(|c| text_of(&rows[0][c])).unwrap_or_default();
        let (job_toml, job_path) = match job {
            Some(job) => {
                let toml = job
                    .to_toml(&name)
                    .map_err(|why| bad(path, format!("its job is damaged: {why}")))?;
                (toml, path.to_path_buf())
            }
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
        if let Some(warning) = foreign_code(&job_toml, registry) {
            warn(&warning);
        }
        let experiment = Experiment::parse(&job_toml, &job_path, &Overrides::default(), registry)?;
        let theirs = experiment.job.fingerprint();
        if theirs != fingerprint {
            return Err(Error::Mismatch(format!(
                "{} says it is of job {}, but its job ({}) is {theirs}: one of them was \
                 edited, or they are of different runs",
                path.display(),
                super::compare::short(&fingerprint),
                job_path.display()
            )));
        }
        let digests = read_digests(&digests_path(path), &experiment.job)?;
        Ok(Claim {
            path: path.to_path_buf(),
            columns,
            rows,
            fingerprint,
            job_path,
            experiment,
            digests,
        })
    }

    /// The blocks the claimed run decided: those whose samples add up to the
    /// `samples` the summary states (a run stopped at a target decided fewer than
    /// the job's), or every block of the job when it states none that fits.
    pub fn blocks(&self) -> u64 {
        let job = &self.experiment.job;
        let block = crate::random::lanes::BLOCK as u64;
        self.columns
            .iter()
            .position(|c| c == "samples")
            .and_then(|c| text_of(&self.rows[0][c]).parse::<u64>().ok())
            .filter(|&n| n > 0 && (n == job.samples || (n < job.samples && n % block == 0)))
            .map_or_else(|| job.blocks(), |n| n.div_ceil(block))
    }

    /// The digest groups of the claimed run: one per [`DIGEST_GROUP`] blocks it
    /// decided, the last ending where it stopped.
    pub fn groups(&self) -> u64 {
        self.blocks().div_ceil(DIGEST_GROUP)
    }
}

/// A cell's text, for the columns read as text (name, fingerprint, samples).
fn text_of(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) | Cell::Other(s) => s.clone(),
        Cell::Number(n) => n.to_string(),
    }
}

/// A summary's columns and rows.
pub(crate) type Table = (Vec<String>, Vec<Vec<Cell>>);

pub(crate) fn read_csv(path: &Path, text: &str) -> Result<Table, Error> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| bad(path, format!("not a carlo summary ({})", csv_error(&e))))?
        .iter()
        .map(str::to_string)
        .collect();
    for needed in ["quantity", "name"] {
        if !columns.iter().any(|c| c == needed) {
            return Err(bad(
                path,
                format!("not a carlo summary (no {needed} column)"),
            ));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| bad(path, format!("damaged summary ({})", csv_error(&e))))?;
        rows.push(
            record
                .iter()
                .map(|f| match f {
                    "" => Cell::Empty,
                    f => Cell::Text(f.to_string()),
                })
                .collect(),
        );
    }
    if rows.is_empty() {
        return Err(bad(path, "not a carlo summary (no rows)"));
    }
    Ok((columns, rows))
}

/// A CSV error in words, without the reader's internals.
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {} has {len} fields where the header has {expected_len}",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "line {} is not UTF-8 text",
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        _ => e.to_string(),
    }
}

pub(crate) fn read_json(path: &Path, text: &str) -> Result<(Table, Job), Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            path,
            format!(
                "not a carlo summary (not JSON: {} at line {}, column {})",
                json_problem(&e),
                e.line(),
                e.column()
            ),
        )
    })?;
    let serde_json::Value::Array(list) = value else {
        return Err(bad(path, "not a carlo summary (not a JSON list of rows)"));
    };
    let mut objects = Vec::with_capacity(list.len());
    for (i, row) in list.into_iter().enumerate() {
        match row {
            serde_json::Value::Object(map) => objects.push(map),
            _ => {
                return Err(bad(
                    path,
                    format!("not a carlo summary (row {} is not an object)", i + 1),
                ));
            }
        }
    }
    let Some(first) = objects.first() else {
        return Err(bad(path, "not a carlo summary (no rows)"));
    };
    let columns: Vec<String> = first.keys().filter(|k| *k != "job").cloned().collect();
    let raw_job = first
        .get("job")
        .ok_or_else(|| bad(path, "its rows carry no job"))?;
    if objects.iter().any(|r| r.get("job") != Some(raw_job)) {
        return Err(bad(path, "its rows carry different jobs"));
    }
    let job: Job = serde_json::from_value(raw_job.clone()).map_err(|e| {
        bad(
            path,
            format!(
                "its job is damaged ({})",
                super::compare::short(&e.to_string())
            ),
        )
    })?;
    let rows = objects
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| row.get(c).map_or(Cell::Empty, Cell::from_json))
                .collect()
        })
        .collect();
    Ok(((columns, rows), job))
}

/// What is wrong with JSON text, in words.
fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends too soon",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Data => "an unexpected value",
        serde_json::error::Category::Io => "a read error",
    }
}

/// The first line of a digests file, up to the job's fingerprint.
const DIGESTS_HEADER: &str = "# carlo digests of job ";

/// Reads the group digests at `path`, if the file is there: a comment line naming
/// the job's fingerprint, then 16 hex digits a line. Refused (exit 2, naming the
/// file) when it names another job or is damaged; whether it holds as many digests
/// as the run has chunks is checked by the caller, which knows that count.
pub(crate) fn read_digests(path: &Path, job: &Job) -> Result<Option<Digests>, Error> {
    let text = match std::fs::read(path) {
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| bad(path, "damaged digests (not UTF-8 text)"))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    read_digests_text(path, &text, job).map(Some)
}

/// The digests in `text`, the content of the digests file at `path` (see
/// [`read_digests`]).
pub(crate) fn read_digests_text(path: &Path, text: &str, job: &Job) -> Result<Digests, Error> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let Some(rest) = header.strip_prefix(DIGESTS_HEADER) else {
        return Err(bad(
            path,
            "not carlo digests (its first line does not name a job)",
        ));
    };
    let theirs: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    if theirs != job.fingerprint() {
        return Err(Error::Mismatch(format!(
            "{}: the digests of job {}, but the summary's job is {}",
            path.display(),
            super::compare::short(&theirs),
            job.fingerprint()
        )));
    }
    let mut values = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let digest = (line.len() == 16)
            .then(|| u64::from_str_radix(line, 16).ok())
            .flatten()
            .ok_or_else(|| bad(path, format!("line {} is not a chunk digest", i + 2)))?;
        values.push(digest);
    }
    Ok(Digests {
        path: path.to_path_buf(),
        values,
    })
}
