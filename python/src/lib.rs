//! `carlo._carlo`: the Rust side of carlo's Python package.
//!
//! The pure-Python package `carlo` (in `carlo/`) is the API; this module does the
//! work: [`run`] validates a config with carlo's own config layer (keyword arguments
//! become `--set` assignments, so their errors are the file's), runs it on carlo's
//! engine with the GIL released, and returns the summary; [`serve_worker`] is the body
//! of a Python worker process; [`rng::Rng`] is a chunk's stream lent to Python.
//!
//! Every model of `carlo models` runs here, plus `python`, which calls a Python
//! function in this process ([`model`]). Worker processes are Python interpreters
//! running `carlo._worker`, which serve the same registry.

mod errors;
mod model;
mod moments;
mod rng;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use carlo::checkpoint::{self, Checkpoint};
use carlo::config::{Assignment, Experiment, Overrides};
use carlo::engine::{self, Observer, State};
use carlo::backend::WorkerCommand;
use carlo::output::{self, Format, Value};
use carlo::{Error, progress};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString, PyTuple};

use errors::Given;
use model::Stash;

/// The path a config given as a dict is reported under.
const DICT_PATH: &str = "<dict>";

/// Set by the SIGINT handler the package installs during a run: the run stops at
/// the next chunk, like the CLI's first Ctrl-C; a second Ctrl-C raises at once.
#[pyclass(module = "carlo._carlo")]
#[derive(Default)]
struct Interrupt {
    set: AtomicBool,
}

#[pymethods]
impl Interrupt {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// The signal handler.
    fn __call__(&self, _signal: i32, _frame: &Bound<'_, PyAny>) -> PyResult<()> {
        if self.set.swap(true, Ordering::Relaxed) {
            return Err(PyKeyboardInterrupt::new_err(
                "interrupted again: stopping at once",
            ));
        }
        Ok(())
    }

    /// Whether Ctrl-C was pressed.
    fn is_set(&self) -> bool {
        self.set.load(Ordering::Relaxed)
    }
}

/// Binds the engine to the progress bar, the checkpoint file and Ctrl-C.
struct Steering<'a> {
    bar: progress::Bar,
    checkpoint: Option<Checkpoint>,
    interrupt: &'a Interrupt,
    /// An exception a signal handler raised, to raise once the run has stopped.
    raised: Option<PyErr>,
    /// When Python's signal handlers last ran.
    checked: Instant,
}

/// How often the run lets Python's signal handlers run: often enough for Ctrl-C to
/// feel immediate, rarely enough that taking the GIL costs nothing.
const SIGNAL_CHECKS: Duration = Duration::from_millis(20);

impl Observer for Steering<'_> {
    fn progress(&mut self, progress: &engine::Progress<'_>) {
        self.bar.progress(progress);
    }

    fn checkpoint(&mut self, state: &State, last: bool) -> Result<(), Error> {
        match &mut self.checkpoint {
            Some(c) => c.offer(state, last).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Runs Python's signal handlers (ours sets the flag) between chunks, at most
    /// every [`SIGNAL_CHECKS`]: the GIL is taken for a moment, on the thread that
    /// called `run`. (A model running on that thread runs them itself.)
    fn interrupted(&mut self) -> bool {
        if self.raised.is_none() && self.checked.elapsed() >= SIGNAL_CHECKS {
            self.checked = Instant::now();
            if let Err(e) = Python::attach(|py| py.check_signals()) {
                self.raised = Some(e);
            }
        }
        self.raised.is_some() || self.interrupt.is_set()
    }
}

/// Runs a config and returns its summary as a dict of `columns`, `rows` (typed
/// values), and the `csv`, `json` and `table` renderings.
///
/// `config` is a path, or a dict of the TOML's tables. `sets` are `(dotted key,
/// shown as, value)`: each becomes a `--set` assignment. `function` is the function
/// of a `python` model given as an object (`run_model`). `worker` is the command line
/// of a Python worker process.
#[pyfunction]
#[pyo3(signature = (config, sets, worker, interrupt, function=None, checkpoint=None, seed=None, progress=false, quiet=false))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    sets: Vec<(String, String, Bound<'_, PyAny>)>,
    worker: Vec<String>,
    interrupt: &Interrupt,
    function: Option<Py<PyAny>>,
    checkpoint: Option<PathBuf>,
    seed: Option<u64>,
    progress: bool,
    quiet: bool,
) -> PyResult<Py<PyAny>> {
    let mut given = Vec::new();
    for (key, shown, value) in &sets {
        let text = toml_value(value)
            .map_err(|e| PyErr::from_type(e.get_type(py), format!("{shown}: {}", e.value(py))))?
            .to_string();
        let set = Assignment::parse(&format!("{key}={text}"))
            .map_err(|e| PyValueError::new_err(format!("{shown}: {e}")))?;
        given.push(Given {
            set,
            shown: format!("{shown}={}", value.repr()?),
        });
    }
    let overrides = Overrides {
        seed,
        sets: given.iter().map(|g| g.set.clone()).collect(),
        ..Overrides::default()
    };
    let stash: Stash = Arc::default();
    let registry = model::registry(function.map(Arc::new), Arc::clone(&stash));
    let fail = |e: Error| errors::to_py(py, e, &given);
    let mut experiment = match config.cast::<PyDict>() {
        Ok(dict) => {
            let text = toml::to_string(&toml_table(dict)?)
                .map_err(|e| PyValueError::new_err(format!("config: {e}")))?;
            let mut e = Experiment::parse(&text, Path::new(DICT_PATH), &overrides, &registry)
                .map_err(fail)?;
            if e.name == DICT_PATH {
                e.name = e.job.model.kind().to_string();
            }
            e
        }
        Err(_) => {
            let path: PathBuf = config.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "config must be a path or a dict of the config's tables, found {}",
                    config
                        .get_type()
                        .name()
                        .map_or("?".into(), |n| n.to_string())
                ))
            })?;
            Experiment::load(&path, &overrides, &registry).map_err(fail)?
        }
    };
    let (program, args) = worker
        .split_first()
        .ok_or_else(|| PyValueError::new_err("empty worker command"))?;
    experiment.worker_command = Some(WorkerCommand {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
    });
    if !quiet {
        for note in &experiment.notes {
            say(py, &format!("note: {note}"))?;
        }
    }
    // Warnings are said even when quiet, as by the command line.
    for warning in &experiment.warnings {
        say(py, &format!("warning: {warning}"))?;
    }
    let dim = experiment.model.dim();
    let (saver, state) = match &checkpoint {
        Some(path) => {
            let (c, state) =
                Checkpoint::open(path, &experiment.job, dim, checkpoint::DEFAULT_INTERVAL)
                    .map_err(fail)?;
            (Some(c), state)
        }
        None => (None, State::new(dim)),
    };
    let mut steering = Steering {
        bar: progress::Bar::new(progress),
        checkpoint: saver,
        interrupt,
        raised: None,
        checked: Instant::now(),
    };
    let result = py.detach(|| engine::resume(&experiment, state, &mut steering));
    drop(steering.bar);
    let stashed = stash.lock().unwrap_or_else(|e| e.into_inner()).take();
    match result {
        Ok(report) => {
            for warning in report.warnings() {
                say(py, &format!("warning: {warning}"))?;
            }
            summary(py, &report)
        }
        Err(error) => {
            if let Some(raised) = steering.raised.or(stashed) {
                return Err(raised);
            }
            match error {
                Error::Interrupted { done, total } => {
                    let hint = match &checkpoint {
                        Some(path) => format!(
                            "progress saved to {}; the same call again resumes it",
                            path.display()
                        ),
                        None => {
                            "nothing saved (with checkpoint=PATH a run can be resumed)".to_string()
                        }
                    };
                    Err(PyKeyboardInterrupt::new_err(format!(
                        "interrupted after {done} of {total} chunks; {hint}"
                    )))
                }
                other => Err(fail(other)),
            }
        }
    }
}

/// Writes a line to Python's `sys.stderr` (which a notebook shows).
fn say(py: Python<'_>, line: &str) -> PyResult<()> {
    let stderr = py.import("sys")?.getattr("stderr")?;
    if !stderr.is_none() {
        stderr.call_method1("write", (format!("{line}\n"),))?;
        stderr.call_method0("flush")?;
    }
    Ok(())
}

/// The summary of `report`, as `run` returns it.
fn summary(py: Python<'_>, report: &engine::Report) -> PyResult<Py<PyAny>> {
    let sheet = output::summary(report);
    let rows = PyList::empty(py);
    for row in &sheet.rows {
        let values = PyList::empty(py);
        for value in row {
            match value {
                Value::Float(f) => values.append(*f)?,
                Value::Int(i) => values.append(*i)?,
                Value::Text(s) => values.append(s)?,
                Value::Empty => values.append(py.None())?,
            }
        }
        rows.append(values)?;
    }
    let text = |format| String::from_utf8_lossy(&output::render(&sheet, format)).into_owned();
    let out = PyDict::new(py);
    out.set_item("columns", sheet.columns.clone())?;
    out.set_item("rows", rows)?;
    out.set_item("csv", text(Format::Csv))?;
    out.set_item("json", text(Format::Json))?;
    out.set_item("table", text(Format::Table))?;
    out.set_item("fingerprint", report.job.fingerprint())?;
    Ok(out.into_any().unbind())
}

/// A Python value as a TOML value: bools, ints, floats, strings, lists and tuples,
/// dicts with string keys.
fn toml_value(value: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        return Ok(toml::Value::Table(toml_table(dict)?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| toml_value(&item?))
            .collect::<PyResult<Vec<_>>>()
            .map(toml::Value::Array);
    }
    if value.hasattr("__index__")? {
        return value
            .extract::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| {
                PyValueError::new_err(format!(
                    "{value} does not fit a config integer (-2^63 to 2^63 - 1)"
                ))
            });
    }
    if value.hasattr("__float__")? {
        // numpy's float32 and other float-like scalars.
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.hasattr("__fspath__")? {
        return Ok(toml::Value::String(
            value.extract::<PathBuf>()?.display().to_string(),
        ));
    }
    Err(PyTypeError::new_err(format!(
        "{} is not a config value (bool, int, float, str, list or dict)",
        value.repr()?
    )))
}

fn toml_table(dict: &Bound<'_, PyDict>) -> PyResult<toml::Table> {
    let mut table = toml::Table::new();
    for (key, value) in dict.iter() {
        let key: String = key
            .extract()
            .map_err(|_| PyTypeError::new_err(format!("config keys are strings, found {key}")))?;
        let py = dict.py();
        let value = toml_value(&value)
            .map_err(|e| PyErr::from_type(e.get_type(py), format!("{key}: {}", e.value(py))))?;
        table.insert(key, value);
    }
    Ok(table)
}

/// The module.
#[pymodule]
fn _carlo(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(worker::serve_worker, m)?)?;
    m.add_class::<rng::Rng>()?;
    m.add_class::<Interrupt>()?;
    m.add("DERIVATION", carlo::random::DERIVATION)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
