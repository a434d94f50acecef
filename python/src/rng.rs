//! `carlo.Rng`: a chunk's carlo stream, lent to a Python model for one call.
//!
//! Every method draws from the chunk's own [`Stream`] in Rust, exactly as a Rust
//! model draws, and returns numpy arrays filled in C order (no re-seeding, no float
//! formatting, no copy on the way out). The stream is moved into the object for the
//! call and taken back after it, so an rng kept past its call refuses to draw.
//! Large arrays are filled without the GIL, so that other threads run meanwhile.

use carlo::random::Stream;
use numpy::ndarray::{Array, IxDyn};
use numpy::{Element, PyArray};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyTuple};
use rand::{Rng as _, RngExt};

/// Values drawn before filling an array lets other threads take the GIL.
const DETACH_AT: usize = 1 << 14;

/// The random stream of one chunk.
///
/// Draw with `random`, `normal`, `exponential`, `integers` and `bits` (numpy's
/// `standard_normal` and `standard_exponential` are aliases, and `random` and
/// `integers` take numpy's arguments, so a function written for numpy's `Generator`
/// with those runs on either); `size` is
/// `None` (one Python number), an int `n` (shape `(n,)`) or a tuple of ints (filled
/// in C order: `random((n, 2))` gives rows of two consecutive draws).
#[pyclass(module = "carlo", name = "Rng")]
pub struct Rng {
    stream: Option<Stream>,
}

impl Rng {
    /// An rng lending `stream`.
    pub fn lend(stream: Stream) -> Self {
        Rng {
            stream: Some(stream),
        }
    }

    /// The stream back, after the call; the object can draw no more.
    pub fn take(&mut self) -> Option<Stream> {
        self.stream.take()
    }

    fn stream(&mut self) -> PyResult<&mut Stream> {
        self.stream.as_mut().ok_or_else(|| {
            PyValueError::new_err(
                "this rng belongs to a chunk that has finished: draw only during the \
                 simulate(rng, n) call it was given to",
            )
        })
    }

    /// `size` values of `draw` as a numpy array, or one value as a Python object.
    fn fill<'py, T: Element + Copy + Send + IntoPyObject<'py>>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
        draw: impl Fn(&mut Stream) -> T + Send + Sync,
    ) -> PyResult<Bound<'py, PyAny>> {
        let stream = self.stream()?;
        let Some(size) = size.filter(|s| !s.is_none()) else {
            return draw(stream).into_bound_py_any(py);
        };
        let shape = shape(size)?;
        let len = shape
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .ok_or_else(|| PyValueError::new_err(format!("size {shape:?} is too large")))?;
        let mut values = Vec::with_capacity(len);
        let mut run = || values.extend((0..len).map(|_| draw(stream)));
        if len >= DETACH_AT {
            py.detach(run);
        } else {
            run();
        }
        let array = Array::from_shape_vec(IxDyn(&shape), values).expect("len is the product");
        Ok(PyArray::from_owned_array(py, array).into_any())
    }
}

/// An int or a tuple of ints, as numpy takes `size`.
fn shape(size: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let dim = |d: &Bound<'_, PyAny>| -> PyResult<usize> {
        if !d.is_instance_of::<PyInt>() {
            return Err(PyTypeError::new_err(format!(
                "size must be an int or a tuple of ints, found {}",
                d.get_type().name()?
            )));
        }
        d.extract::<usize>()
            .map_err(|_| PyValueError::new_err(format!("size must not be negative, found {d}")))
    };
    match size.cast::<PyTuple>() {
        Ok(tuple) => tuple.iter().map(|d| dim(&d)).collect(),
        Err(_) => Ok(vec![dim(size)?]),
    }
}

#[pymethods]
impl Rng {
    /// Uniform floats in [0, 1): 53 random bits each, as `rng.random::<f64>()` in
    /// Rust (the draw of carlo's built-in pi).
    #[pyo3(signature = (size=None))]
    fn random<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, |s| s.random::<f64>())
    }

    /// Standard normal floats: the ziggurat of `carlo::random::normal`, which draws
    /// what rand_distr's `StandardNormal` draws.
    #[pyo3(signature = (size=None))]
    fn normal<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, carlo::random::normal)
    }

    /// The same as `normal`, under numpy's name, so that a function written for
    /// numpy's `Generator` runs on a carlo rng unchanged.
    #[pyo3(signature = (size=None))]
    fn standard_normal<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.normal(py, size)
    }

    /// The same as `exponential`, under numpy's name.
    #[pyo3(signature = (size=None))]
    fn standard_exponential<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.exponential(py, size)
    }

    /// Exponential floats of rate 1: rand_distr's `Exp1`, a ziggurat (Doornik's
    /// ZIGNOR variant over 256 layers of exponential tables, 64 bits a candidate)
    /// whose tail beyond the last layer `R` is drawn exactly as `R - ln(u)`.
    #[pyo3(signature = (size=None))]
    fn exponential<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, |s| s.sample::<f64, _>(rand_distr::Exp1))
    }

    /// Integers in [low, high) as int64: rand's `random_range(low..high)` (Canon's
    /// method: a 64-bit widening multiply, and a second draw when the first lies
    /// near a boundary; biased for at most 1 in 2^64 values).
    #[pyo3(signature = (low, high, size=None))]
    fn integers<'py>(
        &mut self,
        py: Python<'py>,
        low: i64,
        high: i64,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if low >= high {
            return Err(PyValueError::new_err(format!(
                "integers(low, high) needs low < high, found low={low}, high={high}"
            )));
        }
        self.fill(py, size, move |s| s.random_range(low..high))
    }

    /// The generator's raw 64-bit outputs, as uint64.
    #[pyo3(signature = (size=None))]
    fn bits<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, |s| s.next_u64())
    }

    /// A numpy `Generator` (PCG64) seeded with 256 bits drawn from this stream, for
    /// numpy's other distributions. Reproducible and chunk-local like the rest, but
    /// its numbers are numpy's, not carlo's: prefer the methods above where they fit.
    fn numpy<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stream = self.stream()?;
        let entropy: Vec<u64> = (0..4).map(|_| stream.next_u64()).collect();
        let random = py.import("numpy.random")?;
        let seed = random.getattr("SeedSequence")?.call1((entropy,))?;
        let bits = random.getattr("PCG64")?.call1((seed,))?;
        random.getattr("Generator")?.call1((bits,))
    }

    fn __repr__(&self) -> &'static str {
        match self.stream {
            Some(_) => "<carlo.Rng of a running chunk>",
            None => "<carlo.Rng of a finished chunk>",
        }
    }
}
