//! The in-process `python` model: calls a Python function for each chunk.
//!
//! Its parameters are [`PythonParams`], the same struct the `carlo` binary's proxy
//! reads, so a job has one fingerprint wherever it was made. The function is either
//! given (`carlo.run_model` in this process) or imported from the entry (worker
//! processes, and configs run with `carlo.run`), through `carlo._entry.load`.
//!
//! A chunk calls `function(rng, n, **args)` with the GIL held, checks what comes back
//! (a float64 numpy array of shape `(n,)` or `(n, k)`) and turns it into statistics
//! ([`crate::moments`]). An exception becomes the chunk's error, with its traceback;
//! a `KeyboardInterrupt` (or another `BaseException` that is not an `Exception`) is
//! kept to be raised as itself once the run has stopped.

use std::fmt;
use std::sync::{Arc, Mutex};

use carlo::Error;
use carlo::model::python::{PythonParams, SUMMARY, documented};
use carlo::model::{Entry, Model, Quantity, Registry};
use carlo::random::Stream;
use carlo::stats::Moments;
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::moments::chunk_moments;
use crate::rng::Rng;

/// Where a run keeps the first exception that must stop it as itself (Ctrl-C).
pub type Stash = Arc<Mutex<Option<PyErr>>>;

/// A model written in Python, run in this process.
pub struct PyModel {
    entry: String,
    function: Arc<Py<PyAny>>,
    kwargs: Py<PyDict>,
    quantities: Vec<Quantity>,
    stash: Stash,
}

impl fmt::Debug for PyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyModel")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl PyModel {
    /// The model of `params`, calling `function` if given, else the function its
    /// entry names.
    pub fn new(
        params: &PythonParams,
        function: Option<Arc<Py<PyAny>>>,
        stash: Stash,
    ) -> Result<Self, Error> {
        params.check()?;
        Python::attach(|py| {
            let function = match function {
                Some(f) => f,
                None => Arc::new(load(py, &params.entry)?),
            };
            let kwargs = kwargs(py, params).map_err(|e| {
                Error::parameter("model.args", format!("cannot pass them to Python: {e}"))
            })?;
            Ok(PyModel {
                entry: params.entry.clone(),
                function,
                kwargs,
                quantities: params.quantities(),
                stash,
            })
        })
    }

    /// The error of a chunk whose call raised `err`: the exception's line, then its
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

    /// The statistics of what the function returned for a chunk of `n` samples.
    fn statistics(&self, out: &Bound<'_, PyAny>, n: u64) -> Result<Moments, String> {
        let k = self.quantities.len();
        let names = || {
            let names: Vec<&str> = self.quantities.iter().map(|q| q.name.as_ref()).collect();
            names.join(", ")
        };
        let Ok(array) = out.cast::<PyUntypedArray>() else {
            let kind = out.get_type().name().map_or("?".into(), |n| n.to_string());
            return Err(format!(
                "{} returned a {kind}; it must return a numpy float64 array of shape \
                 (n,) or (n, {k}) (one column per quantity: {})",
                self.entry,
                names()
            ));
        };
        let py = out.py();
        if !array.dtype().is_equiv_to(&numpy::dtype::<f64>(py)) {
            return Err(format!(
                "{} returned an array of dtype {}; it must be float64 (use \
                 .astype(numpy.float64))",
                self.entry,
                array.dtype()
            ));
        }
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
            let shown: Vec<String> = shape.iter().map(ToString::to_string).collect();
            let shown = match shown.len() {
                1 => format!("({},)", shown[0]),
                _ => format!("({})", shown.join(", ")),
            };
            return Err(format!(
                "{} returned an array of shape {shown} for a chunk of {n} samples; \
                 it must be {wanted} (quantities: {})",
                self.entry,
                names()
            ));
        }
        let array = array
            .cast::<PyArrayDyn<f64>>()
            .map_err(|e| e.to_string())?
            .readonly();
        let view = array.as_array();
        let data = view.as_standard_layout();
        let data = data.as_slice().expect("a standard layout is contiguous");
        chunk_moments(data, k).map_err(|bad| {
            format!(
                "{} returned {} in row {} (quantity {}); every sample must be finite",
                self.entry, bad.value, bad.row, self.quantities[bad.column].name
            )
        })
    }
}

impl Model for PyModel {
    fn dim(&self) -> usize {
        self.quantities.len()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    /// # Panics
    /// When the function fails; the engine calls
    /// [`try_simulate`](Model::try_simulate) instead.
    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        self.try_simulate(rng, samples)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_simulate(&self, rng: &mut Stream, samples: u64) -> Result<Moments, String> {
        Python::attach(|py| {
            let lent = Bound::new(py, Rng::lend(rng.clone())).map_err(|e| e.to_string())?;
            let result = self
                .function
                .bind(py)
                .call((&lent, samples), Some(self.kwargs.bind(py)));
            // The stream comes back and the object can draw no more, whatever happened.
            match lent.try_borrow_mut().ok().and_then(|mut r| r.take()) {
                Some(stream) => *rng = stream,
                None => {
                    return Err(format!(
                        "{}: the rng was still in use when the call returned",
                        self.entry
                    ));
                }
            }
            let out = result.map_err(|e| self.raised(py, e))?;
            self.statistics(&out, samples)
        })
    }
}

/// The function `entry` names, imported by `carlo._entry.load`.
pub fn load(py: Python<'_>, entry: &str) -> Result<Py<PyAny>, Error> {
    py.import("carlo._entry")
        .and_then(|m| m.call_method1("load", (entry,)))
        .map(Bound::unbind)
        .map_err(|e| {
            let mut reason = exception_line(py, &e);
            if !e.is_instance_of::<pyo3::exceptions::PyImportError>(py)
                && let Some(tb) = format_traceback(py, &e)
            {
                reason = format!("{reason}\n{}", tb.trim_end());
            }
            Error::parameter("model.entry", format!("cannot load {entry}: {reason}"))
        })
}

/// `params.args` as Python keyword arguments, decoded from JSON as a worker decodes
/// them, so that a run in this process passes the same values.
fn kwargs(py: Python<'_>, params: &PythonParams) -> PyResult<Py<PyDict>> {
    let json = serde_json::to_string(&params.args).expect("JSON values serialize");
    let decoded = py.import("json")?.call_method1("loads", (json,))?;
    Ok(decoded.cast_into::<PyDict>()?.unbind())
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

/// The registry of this package: carlo's built-in models, and `python` run in this
/// process, calling `function` when given (else importing each entry).
pub fn registry(function: Option<Arc<Py<PyAny>>>, stash: Stash) -> Registry {
    let mut registry = Registry::new();
    for entry in Registry::builtin().entries() {
        if entry.kind() != "python" {
            registry.register(entry.clone());
        }
    }
    registry.register(documented(Entry::new(
        "python",
        SUMMARY,
        move |p: &PythonParams, _| PyModel::new(p, function.clone(), Arc::clone(&stash)),
    )));
    registry
}
