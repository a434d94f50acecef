//! `type = "python"`: a model written in Python, run by Python worker processes.
//!
//! The `carlo` binary never links libpython. Its `python` entry is a proxy: it reads
//! and checks the parameters ([`PythonParams`]), declares the quantities, and is
//! registered with [`Entry::in_workers`], so its chunks run only in worker
//! processes started as `PYTHON -m carlo._worker` (see [`worker_command`]). Those
//! workers are Python interpreters with carlo's Python package (`pip install
//! ./python`), which answer the worker protocol with an in-process `python` entry
//! built from the same [`PythonParams`]: one definition of the parameters, so a job
//! run from the CLI and from Python has one fingerprint, and a checkpoint or shard
//! partial of one is accepted by the other.
//!
//! Which interpreter: `$CARLO_PYTHON` if set, else `python3` on the `PATH`. It is
//! not part of the job (it decides where the chunks run, not what they compute).
//!
//! What the job knows of the function: its `entry` (a name workers import, or a label
//! for one shipped by value), and `code`, the digest of everything its answer depends
//! on (its code, the globals it reads, bound arguments; never its folder), which only
//! Python can compute. A config gives the entry; when the job is made, the proxy asks
//! the interpreter for the digest ([`Entry::completes`]), which also finds a model that
//! cannot be imported before any worker starts.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Block, Entry, Model, Quantity};
use crate::Error;
use crate::backend::WorkerCommand;
use crate::stats::BlockStats;

/// The environment variable naming the Python interpreter of the workers.
pub const PYTHON_VAR: &str = "CARLO_PYTHON";

/// The interpreter used when [`PYTHON_VAR`] is not set, looked up on the `PATH`.
pub const DEFAULT_PYTHON: &str = "python3";

/// The `[model]` keys of `type = "python"`, shared by the CLI's proxy and the Python
/// package's in-process entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonParams {
    /// The function: `package.module:function`, or `path/to/file.py:function` (a
    /// path relative to the current directory, imported under another module name so
    /// that its `if __name__ == "__main__":` block does not run).
    pub entry: String,
    /// The names of the columns the function returns, in order: one quantity each.
    pub quantities: Vec<String>,
    /// A reference value per quantity name, for the `reference` column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub references: BTreeMap<String, f64>,
    /// Keyword arguments passed to the function on every call.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, serde_json::Value>,
    /// The digest of the function (32 hex digits): its code, the globals it reads and
    /// the arguments bound to it, but not where it lives. Filled in when the job is
    /// made; a worker refuses a function whose digest differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The function travels as a pickle found by its `code` (a lambda, closure,
    /// partial, method, or a function of a script's `__main__` or a notebook), and
    /// `entry` is only its name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_value: bool,
}

/// Hex digits of [`PythonParams::code`].
pub const CODE_DIGITS: usize = 32;

impl PythonParams {
    /// Checks the parameters; errors name the key as `model.KEY`.
    pub fn check(&self) -> Result<(), Error> {
        let (module, function) = self.entry.rsplit_once(':').unwrap_or(("", ""));
        let dotted = |s: &str| !s.is_empty() && s.split('.').all(is_identifier);
        if !(dotted(function) && (dotted(module) || module.ends_with(".py"))) {
            return Err(Error::parameter(
                "model.entry",
                format!(
                    "expected package.module:function or path/to/file.py:function, found {:?}",
                    self.entry
                ),
            ));
        }
        if self.quantities.is_empty() {
            return Err(Error::parameter(
                "model.quantities",
                "must name at least one quantity, such as [\"price\"]",
            ));
        }
        for (i, name) in self.quantities.iter().enumerate() {
            if name.is_empty() || name.chars().any(char::is_control) {
                return Err(Error::parameter(
                    "model.quantities",
                    format!("names must be non-empty and printable, found {name:?}"),
                ));
            }
            if self.quantities[..i].contains(name) {
                return Err(Error::parameter(
                    "model.quantities",
                    format!("names {name:?} twice"),
                ));
            }
        }
        match &self.code {
            Some(code)
                if code.len() != CODE_DIGITS
                    || !code
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                return Err(Error::parameter(
                    "model.code",
                    format!("must be {CODE_DIGITS} lowercase hex digits, found {code:?}"),
                ));
            }
            None if self.by_value => {
                return Err(Error::parameter(
                    "model.by_value",
                    "a function shipped by value is found by its code digest: model.code is \
                     missing",
                ));
            }
            _ => {}
        }
        for (name, value) in &self.references {
            if !self.quantities.contains(name) {
                return Err(Error::parameter(
                    &format!("model.references.{name}"),
                    format!(
                        "is not a quantity of this model{}; its quantities are {}",
                        super::did_you_mean(name, self.quantities.iter().map(String::as_str)),
                        self.quantities.join(", ")
                    ),
                ));
            }
            if !value.is_finite() {
                return Err(Error::parameter(
                    &format!("model.references.{name}"),
                    format!("must be finite, found {value}"),
                ));
            }
        }
        Ok(())
    }

    /// The quantities: column `i` is `quantities[i]`, with its reference if given.
    pub fn quantities(&self) -> Vec<Quantity> {
        self.quantities
            .iter()
            .enumerate()
            .map(|(column, name)| {
                let q = Quantity::new(name.clone(), column);
                match self.references.get(name) {
                    Some(&value) => q.exact(value),
                    None => q,
                }
            })
            .collect()
    }
}

/// The quantities of a sweep of a Python model, one block per point: point `j`'s
/// quantity `i` is column `j k + i` (`k` quantities a point), with that point's
/// reference and swept values. The CLI's proxy and the Python package's model lay a
/// sweep out alike, so that their jobs and partials are one.
pub fn sweep_quantities(
    points: &[PythonParams],
    values: &[Vec<serde_json::Value>],
) -> Vec<Quantity> {
    let k = points.first().map_or(0, |p| p.quantities.len());
    points
        .iter()
        .zip(values)
        .enumerate()
        .flat_map(|(j, (p, point))| {
            p.quantities().into_iter().map(move |mut q| {
                q.column += j * k;
                q.point = Some(point.clone());
                q
            })
        })
        .collect()
}

/// Checks that the points of a sweep share what decides the columns: the model and
/// its quantities (only `args` may vary).
pub fn check_sweep(points: &[PythonParams]) -> Result<(), Error> {
    let first = &points[0];
    for p in &points[1..] {
        if p.entry != first.entry || p.quantities != first.quantities || p.code != first.code {
            return Err(Error::parameter(
                "sweep",
                "a sweep of a python model varies its args (sweep.args.NAME); the function \
                 and its quantities are those of every point",
            ));
        }
    }
    Ok(())
}

/// Python's rule for identifiers, as far as a config needs it: a letter or `_`, then
/// letters, digits or `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The `python` model as the `carlo` binary sees it: its quantities, and no way to
/// simulate here.
#[derive(Debug, Clone)]
pub struct PythonProxy {
    quantities: Vec<Quantity>,
}

impl PythonProxy {
    /// The proxy of a Python model with checked parameters.
    pub fn new(params: &PythonParams) -> Result<Self, Error> {
        params.check()?;
        Ok(PythonProxy {
            quantities: params.quantities(),
        })
    }

    /// The proxy of a sweep of a Python model (see [`sweep_quantities`]).
    pub fn sweep(
        points: &[PythonParams],
        values: &[Vec<serde_json::Value>],
    ) -> Result<Self, Error> {
        check_sweep(points)?;
        Ok(PythonProxy {
            quantities: sweep_quantities(points, values),
        })
    }
}

/// What a proxy says when asked to run a chunk itself.
const NOT_HERE: &str = "a python model runs in Python worker processes (backend processes), \
                        not in the carlo program itself";

impl Model for PythonProxy {
    fn dim(&self) -> usize {
        self.quantities.len()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    /// Fails: the model runs only in its Python worker processes.
    fn simulate(&self, _block: &mut Block) -> Result<BlockStats, String> {
        Err(NOT_HERE.to_string())
    }
}

/// The interpreter workers run: `$CARLO_PYTHON`, else `python3`.
pub fn python_program() -> std::ffi::OsString {
    std::env::var_os(PYTHON_VAR)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_PYTHON.into())
}

/// The code a worker runs: `python -c` rather than `-m carlo._worker`, with which
/// runpy warns that the package imported the module first (a warning that would then
/// be the worker's last stderr line in every message about it).
const WORKER_CODE: &str = "from carlo._worker import main; main()";

/// How the workers of a python model start: `PYTHON -c "...carlo._worker..."`. That
/// the interpreter starts and has carlo's package is checked when the job is made
/// ([`complete`]), so a missing one is one clear error before any chunk runs.
pub fn worker_command() -> Result<WorkerCommand, Error> {
    Ok(WorkerCommand {
        program: python_program().into(),
        args: vec!["-c".into(), WORKER_CODE.into()],
    })
}

/// What [`complete`] runs: loads the model as a worker would and prints its digest.
const PROBE_CODE: &str = "import sys, carlo._entry as e; e.cli(sys.argv[1:])";

/// How long the interpreter may go without using any CPU time while it loads the
/// model before it is taken for hung: a module that waits at import (a lock, a
/// network share, input) is caught within this, one that computes (a JIT, a table)
/// is left to work.
pub const IMPORT_IDLE: Duration = Duration::from_secs(60);

/// Fills in `params.code` (or checks it): runs the interpreter, which loads the model
/// as a worker would (importing its module, or finding its pickle) and prints its
/// digest. A model that cannot be loaded is an error naming `model.entry` (exit code
/// 2); an interpreter that does not start or lacks carlo's package, a run-time error.
pub fn complete(params: &mut PythonParams) -> Result<(), Error> {
    let program = python_program();
    let shown = program.to_string_lossy().into_owned();
    let hint = format!(
        "python models run in Python worker processes; set {PYTHON_VAR} to a Python that \
         has carlo's package (pip install ./python from carlo's repository)"
    );
    let mut child = Command::new(&program)
        .args(["-c", PROBE_CODE, &params.entry])
        .arg(params.code.as_deref().unwrap_or(""))
        .arg(if params.by_value { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Execution(format!("cannot start {shown} ({e}); {hint}")))?;
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    let readers = (
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = { out }.read_to_string(&mut s);
            s
        }),
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = { err }.read_to_string(&mut s);
            s
        }),
    );
    let status = wait_while_busy(&mut child, IMPORT_IDLE);
    if let Ok(s) = readers.0.join() {
        stdout = s;
    }
    if let Ok(s) = readers.1.join() {
        stderr = s;
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("it exited without a message")
        .trim()
        .to_string();
    match status {
        None => Err(Error::parameter(
            "model.entry",
            format!(
                "loading {} made no progress for {} s (no CPU time used): its module hangs \
                 at import (waiting on a lock, a network share, input?); it was stopped",
                params.entry,
                IMPORT_IDLE.as_secs()
            ),
        )),
        Some(0) => {
            let digest = stdout.trim().to_string();
            if params.code.is_none() {
                params.code = Some(digest);
            }
            params.check()
        }
        Some(2) => Err(Error::parameter("model.entry", last)),
        Some(_) => Err(Error::Execution(format!(
            "{shown} cannot import carlo ({last}); {hint}"
        ))),
    }
}

/// Waits for `child` to exit and returns its exit code (`Some(-1)` when killed by a
/// signal); kills it and returns `None` once it has used no CPU time for `idle`.
/// Where CPU time cannot be read (not Linux), `idle` bounds the whole wait ten times
/// over instead.
fn wait_while_busy(child: &mut std::process::Child, idle: Duration) -> Option<i32> {
    let pid = child.id();
    let mut last_cpu = cpu_ticks(pid);
    let mut since = Instant::now();
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status.code().unwrap_or(-1)),
            Ok(None) => {}
            Err(_) => return Some(-1),
        }
        std::thread::sleep(Duration::from_millis(20));
        let cpu = cpu_ticks(pid);
        if cpu.is_some() && cpu != last_cpu {
            last_cpu = cpu;
            since = Instant::now();
        }
        let hung = match cpu {
            Some(_) => since.elapsed() > idle,
            None => started.elapsed() > 10 * idle,
        };
        if hung {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    }
}

/// The CPU time (user and system, in clock ticks) process `pid` has used, on Linux.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// The registry entry of `type = "python"` in programs without Python.
pub(crate) fn entry() -> Entry {
    documented(Entry::new("python", SUMMARY, |p: &PythonParams, _| {
        PythonProxy::new(p)
    }))
    .completes(complete)
    .sweeps(|points: &[PythonParams], values, _, _| {
        Ok(Box::new(PythonProxy::sweep(points, values)?) as Box<dyn Model>)
    })
    .in_workers(|_| worker_command())
}

/// The one-line summary of `type = "python"`.
pub const SUMMARY: &str =
    "a function written in Python, run in Python worker processes (pip install ./python)";

/// `entry` with the documented keys of [`PythonParams`], for every program that
/// registers a `python` entry.
pub fn documented(entry: Entry) -> Entry {
    entry
        .key(
            "entry",
            "string, required",
            "module:function or file.py:function; called as function(rng, n, **args)",
        )
        .key(
            "quantities",
            "list of strings, required",
            "names of the columns the function returns, in order",
        )
        .key(
            "references",
            "table, default {}",
            "reference value per quantity name (the reference column)",
        )
        .key(
            "args",
            "table, default {}",
            "keyword arguments passed to the function",
        )
        .key(
            "code",
            "string, filled in",
            "digest of the function's code, globals read and bound arguments (computed by Python)",
        )
        .key(
            "by_value",
            "bool, default false",
            "the function travels pickled, found by its code digest (set by run_model)",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(entry: &str, quantities: &[&str]) -> PythonParams {
        PythonParams {
            entry: entry.into(),
            quantities: quantities.iter().map(|s| s.to_string()).collect(),
            references: BTreeMap::new(),
            args: BTreeMap::new(),
            code: None,
            by_value: false,
        }
    }

    #[test]
    fn entries_name_a_module_or_file_and_a_function() {
        for good in [
            "pi:simulate",
            "models.pi:simulate",
            "examples/python/pi_model.py:pi",
            "m:Class.method",
            "_x1:_f",
        ] {
            params(good, &["x"]).check().unwrap();
        }
        for bad in [
            "pi", "pi:", ":f", "a-b:f", "m:1f", "m:f g", "m..n:f", "m:f.",
        ] {
            let err = params(bad, &["x"]).check().unwrap_err().to_string();
            assert!(err.starts_with("model.entry:"), "{bad}: {err}");
        }
    }

    #[test]
    fn quantities_and_references_are_checked() {
        let err = params("m:f", &[]).check().unwrap_err().to_string();
        assert!(err.contains("model.quantities"), "{err}");
        let err = params("m:f", &["a", "a"]).check().unwrap_err().to_string();
        assert!(err.contains("twice"), "{err}");
        let mut p = params("m:f", &["price", "delta"]);
        p.references.insert("prize".into(), 1.0);
        let err = p.check().unwrap_err().to_string();
        assert!(
            err.contains("model.references.prize") && err.contains("did you mean `price`"),
            "{err}"
        );
        p.references.clear();
        p.references.insert("delta".into(), 0.5);
        p.check().unwrap();
        let q = p.quantities();
        assert_eq!((q[0].name.as_ref(), q[0].reference), ("price", None));
        assert_eq!(q[1].column, 1);
        assert_eq!(q[1].reference.map(|r| r.0), Some(0.5));
    }

    #[test]
    fn errors_in_tables_point_at_the_table() {
        use crate::config::{Assignment, Experiment, Overrides};
        let text = "[simulation]\nsamples = 10\nseed = 1\n[model]\ntype = \"python\"\n\
                    entry = \"m:f\"\nquantities = [\"x\"]\nreferences = { y = 1.0 }\n";
        let parse = |overrides: &Overrides| {
            let path = std::path::Path::new("p.toml");
            Experiment::parse(text, path, overrides, &super::super::Registry::builtin())
                .unwrap_err()
                .to_string()
        };
        let err = parse(&Overrides::default());
        assert!(
            err.contains("line 8") && err.contains("model.references.y: is not a quantity"),
            "{err}"
        );
        let set = Overrides {
            sets: vec![Assignment::parse("model.references={ z = 2.0 }").unwrap()],
            ..Overrides::default()
        };
        let err = parse(&set);
        assert!(
            err.starts_with("--set: model.references={ z = 2.0 }:"),
            "{err}"
        );
    }

    #[test]
    fn the_proxy_runs_nothing_itself() {
        let proxy = PythonProxy::new(&params("m:f", &["a", "b"])).unwrap();
        assert_eq!(proxy.dim(), 2);
        let lanes = crate::random::lanes::LaneCursor::new(1).lanes(0);
        assert!(proxy.simulate(&mut Block::new(0, 10, lanes)).is_err());
    }

    #[test]
    fn empty_tables_stay_out_of_the_job() {
        // The fingerprint hashes the serialized parameters: a model without
        // references or args serializes without those keys, wherever it was made.
        let spec = super::super::ModelSpec::new("python", &params("m:f", &["x"]));
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"{"type":"python","entry":"m:f","quantities":["x"]}"#
        );
    }
}
