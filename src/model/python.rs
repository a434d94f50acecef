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

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

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
}

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

/// How the workers of a python model start: `PYTHON -m carlo._worker`, after
/// checking that `PYTHON` starts and has carlo's Python package, so that a missing
/// interpreter or package is one clear error before any chunk runs.
pub fn worker_command() -> Result<WorkerCommand, Error> {
    let program = python_program();
    let shown = program.to_string_lossy().into_owned();
    let hint = format!(
        "python models run in Python worker processes; set {PYTHON_VAR} to a Python that \
         has carlo's package (pip install ./python from carlo's repository)"
    );
    let probe = Command::new(&program)
        .args(["-c", "import carlo._worker"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Execution(format!("cannot start {shown} ({e}); {hint}")))?;
    if !probe.status.success() {
        let stderr = String::from_utf8_lossy(&probe.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(Error::Execution(format!(
            "{shown} cannot import carlo ({}); {hint}",
            last.unwrap_or("it exited without a message").trim()
        )));
    }
    Ok(WorkerCommand {
        program: program.into(),
        args: vec!["-m".into(), "carlo._worker".into()],
    })
}

/// The registry entry of `type = "python"` in programs without Python.
pub(crate) fn entry() -> Entry {
    documented(Entry::new("python", SUMMARY, |p: &PythonParams, _| {
        PythonProxy::new(p)
    }))
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
