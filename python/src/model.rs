//! The in-process `python` model: calls a Python function for each block.
//!
//! Its parameters are [`PythonParams`], the same struct the `carlo` binary's proxy
//! reads, so a job has one fingerprint wherever it was made. The function is either
//! given (`carlo.run_model` in this process) or resolved from the job (worker
//! processes, and configs run with `carlo.run`) by `carlo._entry.resolve`: imported
//! by its entry and checked against the job's code digest, or unpickled from the
//! file its digest names when it was shipped by value.
//!
//! Each block of a run ([`carlo::random::lanes`]: [`BLOCK`] samples, the last maybe
//! fewer) is one call `function(rng, n, **args)`: `n` is the block's samples and `rng`
//! the block's own stream, its lane 0 ([`Block::lanes`]`().stream(0)`, stream `LANES *
//! b` of the seed's chunk family), so whatever the function draws depends on the block
//! alone, never on the chunk size, the worker or the backend. The blocks of a chunk are
//! called in one acquisition of the GIL ([`Model::simulate_chunk`]). What comes back
//! (a numeric numpy array of shape `(n,)` or `(n, k)`, or a dict of `(n,)` arrays
//! named by the quantities) is checked and its rows folded in sample order into the
//! block's statistics ([`crate::moments`]). An exception becomes the chunk's error,
//! with its traceback; a `KeyboardInterrupt` (or another
//! `BaseException` that is not an `Exception`) is kept to be raised as itself once the
//! run has stopped.
//!
//! Two safeguards that change no result: the **determinism probe** computes the first
//! block a model runs twice, from the same stream, and refuses a model whose two
//! results differ (it draws from something other than its rng, or keeps state between
//! calls); **retries** compute a block again, from its stream's start, after a
//! transient exception (`MemoryError`, `OSError`), when asked.
//!
//! [`BLOCK`]: carlo::random::lanes::BLOCK

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use carlo::Error;
use carlo::model::python::{PythonParams, SUMMARY, check_sweep, documented, sweep_quantities};
use carlo::model::{Block, Chunk, Entry, Model, Quantity, Registry};
use carlo::random::Stream;
use carlo::stats::BlockStats;
use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyException, PyMemoryError, PyOSError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::moments::block_stats;
use crate::rng::Rng;

/// Where a run keeps the first exception that must stop it as itself (Ctrl-C).
pub type Stash = Arc<Mutex<Option<PyErr>>>;

/// How Python models run in this process, beyond what the job says: none of it
/// changes a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Compute the first block twice and compare (the determinism probe).
    pub probe: bool,
    /// Times a block whose call raised a transient exception is computed again.
    pub retries: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            probe: true,
            retries: 0,
        }
    }
}

/// Where the models of a registry come from.
pub struct Source {
    /// The callable of `run_model`, run in this process; `None` resolves the job's.
    pub function: Option<Arc<Py<PyAny>>>,
    /// Folders of by-value models and of per-job options (`CODE.json`), for workers.
    pub dirs: Vec<String>,
    /// Options when no per-job file says otherwise.
    pub options: Options,
    /// In a worker: the object that captures a call's output for the parent
    /// (`carlo._worker.Capture`).
    pub capture: Option<Py<PyAny>>,
}

impl Source {
    /// The models of configs, run in this process with default options.
    pub fn here(function: Option<Arc<Py<PyAny>>>, options: Options) -> Self {
        Source {
            function,
            dirs: Vec::new(),
            options,
            capture: None,
        }
    }
}

/// Python threads running a model's call right now (their `threading.get_ident()`),
/// so that a second Ctrl-C can interrupt them ([`crate::signals`]).
pub static RUNNING: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

/// A model written in Python, run in this process.
pub struct PyModel {
    entry: String,
    function: Arc<Py<PyAny>>,
    kwargs: Py<PyDict>,
    quantities: Vec<Quantity>,
    stash: Stash,
    /// The determinism probe, until the first block has taken it.
    probe: AtomicBool,
    retries: u32,
    capture: Option<Py<PyAny>>,
}

impl fmt::Debug for PyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyModel")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

/// How a call failed: an exception (kept to decide on a retry), or a message.
enum Failure {
    Raised(PyErr),
    Message(String),
}

impl PyModel {
    /// The model of `params`, calling the source's function if it has one, else the
    /// function the job names.
    pub fn new(params: &PythonParams, source: &Source, stash: Stash) -> Result<Self, Error> {
        params.check()?;
        Python::attach(|py| {
            let function = match &source.function {
                Some(f) => Arc::clone(f),
                None => Arc::new(resolve(py, params, source)?),
            };
            let kwargs = kwargs(py, params).map_err(|e| {
                Error::parameter("model.args", format!("cannot pass them to Python: {e}"))
            })?;
            let options = job_options(params, source);
            Ok(PyModel {
                entry: params.entry.clone(),
                function,
                kwargs,
                quantities: params.quantities(),
                stash,
                probe: AtomicBool::new(options.probe),
                retries: options.retries,
                capture: source.capture.as_ref().map(|c| c.clone_ref(py)),
            })
        })
    }

    /// The error of a block whose call raised `err`: the exception's line, then its
    /// traceback. Interrupts are stashed to be raised as themselves.
    fn raised(&self, py: Python<'_>, err: PyErr) -> String {
        let line = format!("{} raised {}", self.entry, exception_line(py, &err));
        let traceback = format_traceback(py, &err);
        if !err.is_instance_of::<PyException>(py) {
            let mut stash = self.stash.lock().unwrap_or_else(|e| e.into_inner());
            stash.get_or_insert(err);
        }
        match traceback {
            Some(tb) => format!("{line}\n{}", tb.trim_end()),
            None => line,
        }
    }

    /// One call of the function for block `block` of `samples` samples, drawing from
    /// `rng` (the block's stream), its output captured in a worker (and handed to the
    /// parent if `shown`); `rows` gets the samples, row-major.
    fn call<R>(
        &self,
        py: Python<'_>,
        block: u64,
        rng: &mut Stream,
        samples: usize,
        shown: bool,
        rows: &mut dyn FnMut(&[f64]) -> R,
    ) -> Result<R, Failure> {
        let capture = self.capture.as_ref().map(|c| c.bind(py));
        if let Some(c) = capture {
            c.call_method0("begin")
                .map_err(|e| Failure::Message(format!("cannot capture output: {e}")))?;
        }
        let lent =
            Bound::new(py, Rng::lend(rng.clone())).map_err(|e| Failure::Message(e.to_string()))?;
        crate::rng::install_fast(&lent).map_err(|e| Failure::Message(e.to_string()))?;
        let thread = running(py, true);
        let result = self
            .function
            .bind(py)
            .call((&lent, samples), Some(self.kwargs.bind(py)));
        if let Some(id) = thread {
            forget(id);
        }
        if let Some(c) = capture
            && let Err(e) = c.call_method1("end", (block, shown))
        {
            return Err(Failure::Message(format!("cannot forward output: {e}")));
        }
        // The stream comes back and the object can draw no more, whatever happened.
        crate::rng::uninstall_fast(&lent);
        match lent.try_borrow_mut().ok().and_then(|mut r| r.take()) {
            Some(stream) => *rng = stream,
            None => {
                return Err(Failure::Message(format!(
                    "{}: the rng was still in use when the call returned",
                    self.entry
                )));
            }
        }
        let out = result.map_err(Failure::Raised)?;
        self.with_rows(&out, samples as u64, rows)
            .map_err(Failure::Message)
    }

    /// One call for block `block`, from the block's stream `start`, made again from
    /// the stream's start after a transient exception while retries are left.
    fn attempt<R>(
        &self,
        py: Python<'_>,
        block: u64,
        start: &Stream,
        samples: usize,
        shown: bool,
        rows: &mut dyn FnMut(&[f64]) -> R,
    ) -> Result<R, String> {
        let mut tries = 0;
        loop {
            let mut rng = start.clone();
            match self.call(py, block, &mut rng, samples, shown, rows) {
                Ok(found) => return Ok(found),
                Err(Failure::Raised(err)) if tries < self.retries && transient(py, &err) => {
                    tries += 1;
                    let line = format!(
                        "note: block {block}: {} raised {}; computing it again from its \
                         stream's start (retry {tries} of {})\n",
                        self.entry,
                        exception_line(py, &err),
                        self.retries
                    );
                    // In a worker, for the parent to show; here, on sys.stderr.
                    let _ = match &self.capture {
                        Some(c) => c.bind(py).call_method1("note", (block, line)),
                        None => py
                            .import("sys")
                            .and_then(|sys| sys.getattr("stderr"))
                            .and_then(|e| e.call_method1("write", (line,))),
                    };
                }
                Err(Failure::Raised(err)) => return Err(self.raised(py, err)),
                Err(Failure::Message(m)) => return Err(m),
            }
        }
    }

    /// The statistics of block `block`: [`attempt`](Self::attempt) with its rows
    /// folded into [`BlockStats`].
    fn statistics(
        &self,
        py: Python<'_>,
        block: u64,
        start: &Stream,
        samples: usize,
        shown: bool,
    ) -> Result<BlockStats, String> {
        self.attempt(py, block, start, samples, shown, &mut |rows| {
            self.stats_of(rows, &self.quantities)
        })?
    }

    /// The statistics of block `block`, computed twice and compared when the probe
    /// is still to be taken (the first block this model computes).
    fn probed(
        &self,
        py: Python<'_>,
        block: u64,
        start: &Stream,
        samples: usize,
    ) -> Result<BlockStats, String> {
        let first = self.statistics(py, block, start, samples, true)?;
        if self.probe.swap(false, Ordering::Relaxed) {
            let second = self.statistics(py, block, start, samples, false)?;
            if first.digest() != second.digest() {
                return Err(self.unstable(block, &first, &second));
            }
        }
        Ok(first)
    }

    /// Hands what the function returned for a block of `n` samples to `rows`, as
    /// `n` rows of one value per quantity (without a copy when it is a C-ordered
    /// float64 array).
    fn with_rows<R>(
        &self,
        out: &Bound<'_, PyAny>,
        n: u64,
        rows: &mut dyn FnMut(&[f64]) -> R,
    ) -> Result<R, String> {
        let k = self.quantities.len();
        let names = || {
            let names: Vec<&str> = self.quantities.iter().map(|q| q.name.as_ref()).collect();
            names.join(", ")
        };
        if let Ok(dict) = out.cast::<PyDict>() {
            return self.named(dict, n).map(|data| rows(&data));
        }
        let Ok(array) = out.cast::<PyUntypedArray>() else {
            let kind = out.get_type().name().map_or("?".into(), |n| n.to_string());
            return Err(format!(
                "{} returned a {kind}; it must return a numpy array of shape (n,) or \
                 (n, {k}) (one column per quantity: {}), or a dict of (n,) arrays named by \
                 the quantities",
                self.entry,
                names()
            ));
        };
        let shape = array.shape().to_vec();
        let wanted = if k == 1 {
            format!("({n},) or ({n}, 1)")
        } else {
            format!("({n}, {k})")
        };
        let ok = match shape[..] {
            [rows] => k == 1 && rows as u64 == n,
            [rows, columns] => rows as u64 == n && columns == k,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{} returned an array of shape {} for a block of {n} samples; \
                 it must be {wanted} (quantities: {})",
                self.entry,
                shape_text(&shape),
                names()
            ));
        }
        let floats = self.float64(array.as_any())?;
        let view = floats.as_array();
        let data = view.as_standard_layout();
        let data = data.as_slice().expect("a standard layout is contiguous");
        Ok(rows(data))
    }

    /// The rows of a dict of named columns.
    fn named(&self, dict: &Bound<'_, PyDict>, n: u64) -> Result<Vec<f64>, String> {
        let k = self.quantities.len();
        for key in dict.keys() {
            let known = key
                .extract::<String>()
                .is_ok_and(|key| self.quantities.iter().any(|q| q.name == key));
            if !known {
                let names: Vec<&str> = self.quantities.iter().map(|q| q.name.as_ref()).collect();
                return Err(format!(
                    "{} returned a dict with the key {}, which is not a quantity; its \
                     quantities are {}",
                    self.entry,
                    key.repr().map_or("?".into(), |r| r.to_string()),
                    names.join(", ")
                ));
            }
        }
        let rows = usize::try_from(n).map_err(|_| "too many samples".to_string())?;
        let mut data = vec![0.0f64; rows * k];
        for (c, q) in self.quantities.iter().enumerate() {
            let Some(value) = dict.get_item(q.name.as_ref()).ok().flatten() else {
                return Err(format!(
                    "{} returned a dict without the quantity {:?}",
                    self.entry, q.name
                ));
            };
            let column = self
                .float64(&value)
                .map_err(|e| format!("{e} (quantity {})", q.name))?;
            if column.shape() != [rows] {
                return Err(format!(
                    "{} returned an array of shape {} for quantity {} in a block of {n} \
                     samples; it must be ({n},)",
                    self.entry,
                    shape_text(column.shape()),
                    q.name
                ));
            }
            let view = column.as_array();
            for (r, &x) in view.iter().enumerate() {
                data[r * k + c] = x;
            }
        }
        Ok(data)
    }

    /// `value` as a float64 array: float64 as it is, other numbers (integers, bools,
    /// float32) converted by numpy; anything else refused.
    fn float64<'py>(
        &self,
        value: &Bound<'py, PyAny>,
    ) -> Result<numpy::PyReadonlyArrayDyn<'py, f64>, String> {
        let py = value.py();
        let converted = (|| -> PyResult<Bound<'py, PyAny>> {
            let numpy = py.import("numpy")?;
            let array = numpy.call_method1("asarray", (value,))?;
            let kind: String = array.getattr("dtype")?.getattr("kind")?.extract()?;
            if !"biuf".contains(kind.as_str()) || kind.is_empty() {
                let dtype = array.getattr("dtype")?.str()?.to_string();
                return Err(pyo3::exceptions::PyTypeError::new_err(dtype));
            }
            if kind == "f"
                && array
                    .getattr("dtype")?
                    .getattr("itemsize")?
                    .extract::<usize>()?
                    == 8
            {
                return Ok(array);
            }
            array.call_method1("astype", (numpy.getattr("float64")?,))
        })();
        let array = converted.map_err(|e| {
            let dtype = e.value(py).to_string();
            format!(
                "{} returned an array of dtype {dtype}; it must hold numbers (floats, \
                 integers or bools)",
                self.entry
            )
        })?;
        array
            .cast_into::<PyArrayDyn<f64>>()
            .map(|a| a.readonly())
            .map_err(|e| e.to_string())
    }

    /// The statistics of a block's rows of the columns `quantities` name.
    fn stats_of(&self, data: &[f64], quantities: &[Quantity]) -> Result<BlockStats, String> {
        block_stats(data, quantities.len()).map_err(|bad| {
            format!(
                "{} returned {} in row {} (quantity {}); every sample must be finite",
                self.entry, bad.value, bad.row, quantities[bad.column].name
            )
        })
    }

    /// What the probe says when the two computations of block `block` differ.
    fn unstable(&self, block: u64, first: &BlockStats, second: &BlockStats) -> String {
        format!(
            "determinism probe: block {block} computed twice from the same stream gave \
             different results (digests {:016x} and {:016x}): {} draws random numbers \
             from something other than the rng it is given (np.random.default_rng(), \
             np.random.*, random.*, a generator kept between calls) or keeps state \
             between calls. carlo's rule: draw every random number from rng \
             (rng.numpy() gives a numpy Generator seeded from it) and compute a block \
             from rng, n and the arguments alone; then every backend gives the same \
             bits (probe=False turns this check off)",
            first.digest(),
            second.digest(),
            self.entry
        )
    }
}

/// `(3,)` or `(3, 2)`: a shape as numpy writes it.
fn shape_text(shape: &[usize]) -> String {
    let shown: Vec<String> = shape.iter().map(ToString::to_string).collect();
    match shown.len() {
        1 => format!("({},)", shown[0]),
        _ => format!("({})", shown.join(", ")),
    }
}

/// Whether an exception may be retried: `MemoryError` and `OSError` (which includes
/// `TimeoutError`, `ConnectionError` and the errors of files and pipes).
fn transient(py: Python<'_>, err: &PyErr) -> bool {
    err.is_instance_of::<PyMemoryError>(py) || err.is_instance_of::<PyOSError>(py)
}

/// Records (or forgets) the calling thread as running a model; returns its id.
fn running(py: Python<'_>, start: bool) -> Option<u64> {
    let id: u64 = py
        .import("threading")
        .and_then(|t| t.call_method0("get_ident"))
        .and_then(|i| i.extract())
        .ok()?;
    if start {
        let mut set = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        set.get_or_insert_with(HashSet::new).insert(id);
    }
    Some(id)
}

fn forget(id: u64) {
    let mut set = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(set) = set.as_mut() {
        set.remove(&id);
    }
}

/// The stream a Python model's call for a block draws from: the block's lane 0
/// (stream `LANES * b` of the seed), the same on every backend and in every chunk.
fn block_stream(block: &mut Block) -> Stream {
    block.lanes().stream(0)
}

impl Model for PyModel {
    fn dim(&self) -> usize {
        self.quantities.len()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        let start = block_stream(block);
        Python::attach(|py| self.probed(py, block.index(), &start, block.samples()))
    }

    /// The chunk's blocks in one acquisition of the GIL, one call each.
    fn simulate_chunk(&self, chunk: &mut Chunk<'_>) -> Result<(), String> {
        Python::attach(|py| {
            for b in chunk.blocks() {
                let mut block = chunk.block(b);
                let start = block_stream(&mut block);
                let stats = self.probed(py, b, &start, block.samples())?;
                chunk.record(b, stats)?;
            }
            Ok(())
        })
    }
}

/// A sweep of a Python model: the function called once per point on the same block
/// stream (common random numbers), each point with its own arguments, its columns
/// side by side in the layout of [`sweep_quantities`].
pub struct PySweep {
    points: Vec<PyModel>,
    quantities: Vec<Quantity>,
    k: usize,
    probe: AtomicBool,
}

impl fmt::Debug for PySweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PySweep")
            .field("points", &self.points.len())
            .finish_non_exhaustive()
    }
}

impl PySweep {
    /// The sweep of `points` (the parameters of each, checked alike but for args),
    /// whose swept values are `values`.
    pub fn new(
        points: &[PythonParams],
        values: &[Vec<serde_json::Value>],
        source: &Source,
        stash: &Stash,
    ) -> Result<Self, Error> {
        check_sweep(points)?;
        let models = points
            .iter()
            .map(|p| PyModel::new(p, source, Arc::clone(stash)))
            .collect::<Result<Vec<_>, _>>()?;
        let probe = models
            .first()
            .is_some_and(|m| m.probe.swap(false, Ordering::Relaxed));
        for m in &models {
            m.probe.store(false, Ordering::Relaxed);
        }
        Ok(PySweep {
            k: points[0].quantities.len(),
            quantities: sweep_quantities(points, values),
            points: models,
            probe: AtomicBool::new(probe),
        })
    }

    /// Block `block`'s statistics: every point's call from the block's stream
    /// `start`, their columns side by side.
    fn compute(
        &self,
        py: Python<'_>,
        block: u64,
        start: &Stream,
        samples: usize,
        shown: bool,
    ) -> Result<BlockStats, String> {
        let (k, width) = (self.k, self.quantities.len());
        let mut data = vec![0.0f64; samples * width];
        for (j, model) in self.points.iter().enumerate() {
            model.attempt(py, block, start, samples, shown, &mut |rows| {
                for (r, row) in rows.chunks_exact(k).enumerate() {
                    data[r * width + j * k..r * width + (j + 1) * k].copy_from_slice(row);
                }
            })?;
        }
        self.points[0].stats_of(&data, &self.quantities)
    }

    /// [`compute`](Self::compute), twice and compared for the first block.
    fn probed(
        &self,
        py: Python<'_>,
        block: u64,
        start: &Stream,
        samples: usize,
    ) -> Result<BlockStats, String> {
        let first = self.compute(py, block, start, samples, true)?;
        if self.probe.swap(false, Ordering::Relaxed) {
            let second = self.compute(py, block, start, samples, false)?;
            if first.digest() != second.digest() {
                return Err(self.points[0].unstable(block, &first, &second));
            }
        }
        Ok(first)
    }
}

impl Model for PySweep {
    fn dim(&self) -> usize {
        self.quantities.len()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        let start = block_stream(block);
        Python::attach(|py| self.probed(py, block.index(), &start, block.samples()))
    }

    /// The chunk's blocks in one acquisition of the GIL.
    fn simulate_chunk(&self, chunk: &mut Chunk<'_>) -> Result<(), String> {
        Python::attach(|py| {
            for b in chunk.blocks() {
                let mut block = chunk.block(b);
                let start = block_stream(&mut block);
                let stats = self.probed(py, b, &start, block.samples())?;
                chunk.record(b, stats)?;
            }
            Ok(())
        })
    }
}

/// The options of a job's model in a worker: `DIR/CODE.json` in the first of the
/// source's folders that has it, else the source's.
fn job_options(params: &PythonParams, source: &Source) -> Options {
    let Some(code) = &params.code else {
        return source.options;
    };
    source
        .dirs
        .iter()
        .map(|dir| Path::new(dir).join(format!("{code}.json")))
        .find_map(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(source.options)
}

/// The callable of a job's model, resolved by `carlo._entry.resolve` (its output
/// captured in a worker, as a call's).
fn resolve(py: Python<'_>, params: &PythonParams, source: &Source) -> Result<Py<PyAny>, Error> {
    let capture = source.capture.as_ref().map(|c| c.bind(py));
    if let Some(c) = capture {
        let _ = c.call_method0("begin");
    }
    let found = py.import("carlo._entry").and_then(|m| {
        m.call_method1(
            "resolve",
            (
                &params.entry,
                params.code.as_deref(),
                params.by_value,
                source.dirs.clone(),
            ),
        )
    });
    if let Some(c) = capture {
        let _ = c.call_method1("end", (py.None(),));
    }
    found.map(Bound::unbind).map_err(|e| {
        let mut reason = exception_line(py, &e);
        let plain = e.is_instance_of::<pyo3::exceptions::PyImportError>(py)
            || e.is_instance_of::<pyo3::exceptions::PyLookupError>(py);
        if !plain && let Some(tb) = format_traceback(py, &e) {
            reason = format!("{reason}\n{}", tb.trim_end());
        }
        Error::parameter(
            "model.entry",
            format!("cannot load {}: {reason}", params.entry),
        )
    })
}

/// `params.args` as Python keyword arguments: the JSON values as Python's `json`
/// module would decode them (the same in this process and in a worker).
fn kwargs(py: Python<'_>, params: &PythonParams) -> PyResult<Py<PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in &params.args {
        dict.set_item(key, json_to_python(py, value)?)?;
    }
    Ok(dict.unbind())
}

/// A JSON value as a Python object: null, bool, int (of any size), float, str, list,
/// dict.
fn json_to_python<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::IntoPyObjectExt;
    use serde_json::Value;
    match value {
        Value::Null => Ok(py.None().into_bound(py)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_bound_py_any(py),
            (None, Some(u)) => u.into_bound_py_any(py),
            _ => n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py),
        },
        Value::String(s) => s.into_bound_py_any(py),
        Value::Array(items) => {
            let list = pyo3::types::PyList::empty(py);
            for item in items {
                list.append(json_to_python(py, item)?)?;
            }
            Ok(list.into_any())
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_python(py, v)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

/// `TypeName: message`, one line.
pub fn exception_line(py: Python<'_>, err: &PyErr) -> String {
    let kind = err
        .get_type(py)
        .name()
        .map_or_else(|_| "exception".to_string(), |n| n.to_string());
    let message = err
        .value(py)
        .str()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let message = message.lines().next().unwrap_or("").to_string();
    if message.is_empty() {
        kind
    } else {
        format!("{kind}: {message}")
    }
}

/// The formatted traceback of `err`, as Python prints it.
pub fn format_traceback(py: Python<'_>, err: &PyErr) -> Option<String> {
    let lines = py
        .import("traceback")
        .ok()?
        .call_method1(
            "format_exception",
            (err.get_type(py), err.value(py), err.traceback(py)),
        )
        .ok()?;
    let lines: Vec<String> = lines.extract().ok()?;
    Some(lines.concat())
}

/// The digest of the job's model as `carlo._entry.complete` computes it: the code
/// key a config does not give, or the given one checked.
fn complete(params: &mut PythonParams, dirs: &[String]) -> Result<(), Error> {
    Python::attach(|py| {
        let code: String = py
            .import("carlo._entry")
            .and_then(|m| {
                m.call_method1(
                    "complete",
                    (
                        &params.entry,
                        params.code.as_deref(),
                        params.by_value,
                        dirs.to_vec(),
                    ),
                )
            })
            .and_then(|c| c.extract())
            .map_err(|e| {
                Error::parameter(
                    "model.entry",
                    format!("cannot load {}: {}", params.entry, exception_line(py, &e)),
                )
            })?;
        params.code = Some(code);
        params.check()
    })
}

/// The registry of this package: carlo's built-in models, and `python` run in this
/// process, with the models of `source`.
pub fn registry(source: Arc<Source>, stash: Stash) -> Registry {
    let mut registry = Registry::new();
    for entry in Registry::builtin().entries() {
        if entry.kind() != "python" {
            registry.register(entry.clone());
        }
    }
    let dirs = source.dirs.clone();
    let given = source.function.is_some();
    let (sweep_source, sweep_stash) = (Arc::clone(&source), Arc::clone(&stash));
    registry.register(
        documented(Entry::new("python", SUMMARY, move |p: &PythonParams, _| {
            PyModel::new(p, &source, Arc::clone(&stash))
        }))
        .sweeps(move |points: &[PythonParams], values, _, _| {
            let sweep = PySweep::new(points, values, &sweep_source, &sweep_stash)?;
            Ok(Box::new(sweep) as Box<dyn Model>)
        })
        .completes(move |p: &mut PythonParams| {
            // run_model's job comes with its digest, computed from the very callable.
            if given && p.code.is_some() {
                return Ok(());
            }
            complete(p, &dirs)
        }),
    );
    registry
}

#[cfg(test)]
mod tests {
    use super::*;
    use carlo::random::lanes::{BLOCK, LANES, LaneCursor};
    use carlo::random::{Family, stream};

    #[test]
    fn a_block_call_draws_from_the_blocks_lane_zero_stream() {
        for seed in [0, 42, u64::MAX] {
            let mut cursor = LaneCursor::new(seed);
            // Far blocks too, and out of order, as chunks reach them.
            for b in [0, 1, 2, 7, 100, 3, 4097] {
                let mut block = Block::new(b, BLOCK, cursor.lanes(b));
                assert_eq!(
                    block_stream(&mut block),
                    stream(seed, Family::Chunk, LANES as u64 * b),
                    "seed {seed}, block {b}"
                );
            }
        }
    }
}
