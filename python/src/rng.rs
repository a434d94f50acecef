//! `carlo.Rng`: a block's carlo stream, lent to a Python model for one call.
//!
//! Every method draws from the block's own [`Stream`] in Rust, by the documented
//! algorithms of [`crate::distributions`], and returns numpy arrays filled in C order
//! (no re-seeding, no float formatting, no copy on the way out). The stream is moved
//! into the object for the call and taken back after it, so an rng kept past its call
//! refuses to draw. Large arrays are filled without the GIL, so that other threads run
//! meanwhile; an array too large for memory is a `MemoryError`, never an abort.

use carlo::random::Stream;
use numpy::ndarray::{Array, IxDyn};
use numpy::{Element, PyArray};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList, PyTuple};
use rand::Rng as _;

use crate::distributions as d;

/// Values drawn before filling an array lets other threads take the GIL.
const DETACH_AT: usize = 1 << 14;

/// Words turned into normals at a time by the vector path.
const NORMAL_BLOCK: usize = 1024;

/// The random stream of one block, with numpy's `Generator` methods under their
/// numpy names and signatures, so that a function written for a numpy generator runs
/// on a carlo rng unchanged.
///
/// `size` is `None` (one Python number), an int `n` (shape `(n,)`) or a tuple of ints
/// (filled in C order: `random((n, 2))` gives rows of two consecutive draws).
/// Distribution parameters are numbers (not arrays). Each method is a documented
/// sequence of the stream's words, the same on every machine (see the package's
/// docs/python.md).
#[pyclass(module = "carlo", name = "Rng", dict)]
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
                "this rng belongs to a block that has finished: draw only during the \
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
        let len = elements::<T>(&shape)?;
        let mut values = alloc::<T>(len, &shape)?;
        let mut run = || values.extend((0..len).map(|_| draw(stream)));
        if len >= DETACH_AT {
            py.detach(run);
        } else {
            run();
        }
        array(py, &shape, values)
    }

    /// Standard normals times `scale` plus `loc`, in bulk by the vector path
    /// (`carlo::math::normals_from_bits`, the same bits as one at a time).
    fn normals<'py>(
        &mut self,
        py: Python<'py>,
        loc: f64,
        scale: f64,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let stream = self.stream()?;
        let Some(size) = size.filter(|s| !s.is_none()) else {
            return (loc + scale * d::normal(stream)).into_bound_py_any(py);
        };
        let shape = shape(size)?;
        let len = elements::<f64>(&shape)?;
        let mut values = alloc::<f64>(len, &shape)?;
        let mut run = || {
            let mut words = [0u64; NORMAL_BLOCK];
            let mut out = [0.0f64; NORMAL_BLOCK];
            let mut left = len;
            while left > 0 {
                let k = left.min(NORMAL_BLOCK);
                for w in &mut words[..k] {
                    *w = stream.next_u64();
                }
                carlo::math::normals_from_bits(&words[..k], &mut out[..k]);
                if loc == 0.0 && scale == 1.0 {
                    values.extend_from_slice(&out[..k]);
                } else {
                    values.extend(out[..k].iter().map(|z| loc + scale * z));
                }
                left -= k;
            }
        };
        if len >= DETACH_AT {
            py.detach(run);
        } else {
            run();
        }
        array(py, &shape, values)
    }
}

/// One value from a stream.
type Draw = fn(&mut Stream) -> f64;

/// The methods whose call without arguments is a builtin function of the lent rng
/// ([`install_fast`]): what a per-sample Python loop calls.
const FAST: [(&std::ffi::CStr, Draw); 3] = [
    (c"random", d::u53),
    (c"standard_normal", d::normal),
    (c"standard_exponential", d::exponential),
];

/// Gives the rng of a block its fast `random()`, `standard_normal()` and
/// `standard_exponential()`: for each, a builtin function (CPython's vectorcall
/// protocol, as `random.random` is) bound to this rng in its instance dict, which
/// shadows the method. Called without arguments it draws one value at the cost of a
/// builtin call; with arguments it calls the method. It draws the same words as the
/// method, in call order with every other method. [`uninstall_fast`] removes them
/// (they refer to the rng: a cycle) when the call returns.
///
/// Hand-written against the C API, on purpose: a PyO3 method of an abi3 module for
/// CPython 3.9 is called with a tuple of arguments, which made `rng.random()` 1.5x
/// slower than `random.random()` in a per-sample loop.
pub fn install_fast(rng: &Bound<'_, Rng>) -> PyResult<()> {
    let py = rng.py();
    let dict = rng.as_any().getattr(pyo3::intern!(py, "__dict__"))?;
    for (k, def) in fast_defs().iter().enumerate() {
        // SAFETY: `def` lives for the program; the new function holds a reference to
        // the rng, which stays alive while it does.
        let f = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyCFunction_NewEx(*def, rng.as_ptr(), std::ptr::null_mut()),
            )?
        };
        dict.set_item(FAST[k].0.to_str().unwrap_or_default(), f)?;
    }
    Ok(())
}

/// Removes what [`install_fast`] put in the rng's dict.
pub fn uninstall_fast(rng: &Bound<'_, Rng>) {
    if let Ok(dict) = rng.as_any().getattr(pyo3::intern!(rng.py(), "__dict__")) {
        let _ = dict.call_method0("clear");
    }
}

/// The method definitions of the fast functions, made once and kept for the
/// program's life (CPython keeps pointers to them).
struct Defs([*mut pyo3::ffi::PyMethodDef; 3]);
// SAFETY: the definitions are written once, before any use, and only read after.
unsafe impl Send for Defs {}
unsafe impl Sync for Defs {}

fn fast_defs() -> &'static [*mut pyo3::ffi::PyMethodDef; 3] {
    static DEFS: std::sync::OnceLock<Defs> = std::sync::OnceLock::new();
    &DEFS
        .get_or_init(|| {
            // METH_FASTCALL | METH_KEYWORDS: `fn(self, args, nargs, kwnames)`. The
            // stable ABI lists it from 3.10, CPython has had it since 3.7; PyO3 hides
            // the constant below 3.10, so it is spelt out.
            const FASTCALL_KEYWORDS: std::os::raw::c_int = 0x0080 | 0x0002;
            type Fast = unsafe extern "C" fn(
                *mut pyo3::ffi::PyObject,
                *const *mut pyo3::ffi::PyObject,
                pyo3::ffi::Py_ssize_t,
                *mut pyo3::ffi::PyObject,
            ) -> *mut pyo3::ffi::PyObject;
            let functions: [Fast; 3] = [fast::<0>, fast::<1>, fast::<2>];
            Defs(std::array::from_fn(|k| {
                let def = pyo3::ffi::PyMethodDef {
                    ml_name: FAST[k].0.as_ptr(),
                    // SAFETY: CPython calls `ml_meth` with the signature its flags
                    // name; the union's field only changes the pointer's Rust type.
                    ml_meth: pyo3::ffi::PyMethodDefPointer {
                        PyCFunctionWithKeywords: unsafe {
                            std::mem::transmute::<Fast, pyo3::ffi::PyCFunctionWithKeywords>(
                                functions[k],
                            )
                        },
                    },
                    ml_flags: FASTCALL_KEYWORDS,
                    ml_doc: c"Draws one value without arguments; otherwise as the method.".as_ptr(),
                };
                Box::into_raw(Box::new(def))
            }))
        })
        .0
}

/// The fast function `K` of [`FAST`], bound to an rng (`slf`).
unsafe extern "C" fn fast<const K: usize>(
    slf: *mut pyo3::ffi::PyObject,
    args: *const *mut pyo3::ffi::PyObject,
    nargs: pyo3::ffi::Py_ssize_t,
    kwnames: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: `slf` is the rng the function was made for, alive while it is.
    let this = unsafe { Borrowed::from_ptr(py, slf) };
    if nargs == 0
        && kwnames.is_null()
        && let Ok(rng) = this.cast::<Rng>()
        && let Ok(mut rng) = rng.try_borrow_mut()
        && let Some(stream) = rng.stream.as_mut()
    {
        // SAFETY: a plain C API call with the GIL held.
        return unsafe { pyo3::ffi::PyFloat_FromDouble((FAST[K].1)(stream)) };
    }
    let result = (|| -> PyResult<Bound<'_, PyAny>> {
        let count = usize::try_from(nargs).unwrap_or(0);
        let names = if kwnames.is_null() {
            None
        } else {
            // SAFETY: `kwnames` is a live tuple of strings when not null.
            Some(
                unsafe { Borrowed::from_ptr(py, kwnames) }
                    .to_owned()
                    .cast_into::<PyTuple>()?,
            )
        };
        let given = count + names.as_ref().map_or(0, |n| n.len());
        // SAFETY: CPython passes `nargs` positional values then one per keyword name.
        let values: Vec<Bound<'_, PyAny>> = (0..given)
            .map(|i| unsafe { Borrowed::from_ptr(py, *args.add(i)) }.to_owned())
            .collect();
        let mut positional = vec![this.to_owned()];
        positional.extend(values[..count].iter().cloned());
        let keywords = pyo3::types::PyDict::new(py);
        if let Some(names) = names {
            for (name, value) in names.iter().zip(&values[count..]) {
                keywords.set_item(name, value)?;
            }
        }
        let method = py
            .get_type::<Rng>()
            .getattr(FAST[K].0.to_str().unwrap_or_default())?;
        method.call(PyTuple::new(py, positional)?, Some(&keywords))
    })();
    match result {
        Ok(value) => value.into_ptr(),
        Err(e) => {
            e.restore(py);
            std::ptr::null_mut()
        }
    }
}

/// The number of values of `shape`, refused when their bytes could not be addressed.
fn elements<T>(shape: &[usize]) -> PyResult<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .filter(|&n| {
            n.checked_mul(std::mem::size_of::<T>())
                .is_some_and(|b| b <= isize::MAX as usize)
        })
        .ok_or_else(|| {
            PyMemoryError::new_err(format!(
                "size {} is too large: its values would not fit in memory",
                shape_text(shape)
            ))
        })
}

/// An empty vector with room for `len` values, or a `MemoryError`.
fn alloc<T>(len: usize, shape: &[usize]) -> PyResult<Vec<T>> {
    let mut values = Vec::new();
    values.try_reserve_exact(len).map_err(|_| {
        PyMemoryError::new_err(format!(
            "cannot allocate an array of size {} ({} bytes)",
            shape_text(shape),
            len.saturating_mul(std::mem::size_of::<T>())
        ))
    })?;
    Ok(values)
}

fn array<'py, T: Element>(
    py: Python<'py>,
    shape: &[usize],
    values: Vec<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let array = Array::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(PyArray::from_owned_array(py, array).into_any())
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("{n}"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An int or a tuple of ints, as numpy takes `size`.
fn shape(size: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let dim = |d: &Bound<'_, PyAny>| -> PyResult<usize> {
        if !d.is_instance_of::<PyInt>() && !d.hasattr("__index__")? {
            return Err(PyTypeError::new_err(format!(
                "size must be an int or a tuple of ints, found {}",
                d.get_type().name()?
            )));
        }
        if let Ok(n) = d.extract::<usize>() {
            return Ok(n);
        }
        match d.extract::<i128>() {
            Ok(n) if n < 0 => Err(PyValueError::new_err(format!(
                "size must not be negative, found {n}"
            ))),
            _ => Err(PyMemoryError::new_err(format!(
                "size {d} is too large: its values would not fit in memory"
            ))),
        }
    };
    match size.cast::<PyTuple>() {
        Ok(tuple) => tuple.iter().map(|d| dim(&d)).collect(),
        Err(_) => Ok(vec![dim(size)?]),
    }
}

/// A distribution parameter: a number (a Python or numpy scalar).
fn number(value: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    if value.hasattr("__len__")? {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a number, found {}: carlo's rng takes scalar parameters (draw \
             the standard variates with size=... and transform them with numpy)",
            value.get_type().name()?
        )));
    }
    value.extract::<f64>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a number, found {}",
            value
                .get_type()
                .name()
                .map_or("?".into(), |n| n.to_string())
        ))
    })
}

fn check(ok: bool, message: impl FnOnce() -> String) -> PyResult<()> {
    if ok {
        Ok(())
    } else {
        Err(PyValueError::new_err(message()))
    }
}

#[pymethods]
impl Rng {
    /// Uniform floats in [0, 1): the top 53 bits of a word times 2^-53, as
    /// `rng.random::<f64>()` in Rust (the draw of carlo's built-in pi).
    #[pyo3(signature = (size=None))]
    fn random<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, d::u53)
    }

    /// Uniform floats in [low, high): `low + (high - low) u`, `u` as `random`'s.
    #[pyo3(signature = (low=None, high=None, size=None))]
    fn uniform<'py>(
        &mut self,
        py: Python<'py>,
        low: Option<&Bound<'py, PyAny>>,
        high: Option<&Bound<'py, PyAny>>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let low = low.map_or(Ok(0.0), |v| number(v, "low"))?;
        let high = high.map_or(Ok(1.0), |v| number(v, "high"))?;
        check((high - low).is_finite(), || {
            format!("uniform: high - low must be finite, found low={low}, high={high}")
        })?;
        let width = high - low;
        self.fill(py, size, move |s| low + width * d::u53(s))
    }

    /// Normal floats: `loc + scale z`, `z` a standard normal by inversion of one word
    /// (carlo's `normal_from_bits`).
    #[pyo3(signature = (loc=None, scale=None, size=None))]
    fn normal<'py>(
        &mut self,
        py: Python<'py>,
        loc: Option<&Bound<'py, PyAny>>,
        scale: Option<&Bound<'py, PyAny>>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let loc = loc.map_or(Ok(0.0), |v| number(v, "loc"))?;
        let scale = scale.map_or(Ok(1.0), |v| number(v, "scale"))?;
        check(scale >= 0.0, || {
            format!("normal: scale must be >= 0, found {scale}")
        })?;
        self.normals(py, loc, scale, size)
    }

    /// Standard normal floats (see `normal`).
    #[pyo3(signature = (size=None))]
    fn standard_normal<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.normals(py, 0.0, 1.0, size)
    }

    /// Log-normal floats: `exp(mean + sigma z)`, with carlo's `exp`.
    #[pyo3(signature = (mean=None, sigma=None, size=None))]
    fn lognormal<'py>(
        &mut self,
        py: Python<'py>,
        mean: Option<&Bound<'py, PyAny>>,
        sigma: Option<&Bound<'py, PyAny>>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mean = mean.map_or(Ok(0.0), |v| number(v, "mean"))?;
        let sigma = sigma.map_or(Ok(1.0), |v| number(v, "sigma"))?;
        check(sigma >= 0.0, || {
            format!("lognormal: sigma must be >= 0, found {sigma}")
        })?;
        self.fill(py, size, move |s| {
            carlo::math::exp(mean + sigma * d::normal(s))
        })
    }

    /// Exponential floats of mean `scale`: `scale (-ln u)`, `u` in (0, 1).
    #[pyo3(signature = (scale=None, size=None))]
    fn exponential<'py>(
        &mut self,
        py: Python<'py>,
        scale: Option<&Bound<'py, PyAny>>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let scale = scale.map_or(Ok(1.0), |v| number(v, "scale"))?;
        check(scale >= 0.0, || {
            format!("exponential: scale must be >= 0, found {scale}")
        })?;
        self.fill(py, size, move |s| scale * d::exponential(s))
    }

    /// Standard exponential floats (see `exponential`).
    #[pyo3(signature = (size=None))]
    fn standard_exponential<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, d::exponential)
    }

    /// Gamma floats of `shape` and `scale`: Marsaglia and Tsang's method.
    #[pyo3(signature = (shape, scale=None, size=None))]
    fn gamma<'py>(
        &mut self,
        py: Python<'py>,
        shape: &Bound<'py, PyAny>,
        scale: Option<&Bound<'py, PyAny>>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let k = number(shape, "shape")?;
        let scale = scale.map_or(Ok(1.0), |v| number(v, "scale"))?;
        check(k >= 0.0 && k.is_finite(), || {
            format!("gamma: shape must be >= 0, found {k}")
        })?;
        check(scale >= 0.0, || {
            format!("gamma: scale must be >= 0, found {scale}")
        })?;
        self.fill(py, size, move |s| {
            if k == 0.0 {
                0.0
            } else {
                scale * d::standard_gamma(s, k)
            }
        })
    }

    /// Gamma floats of `shape` and scale 1 (see `gamma`).
    #[pyo3(signature = (shape, size=None))]
    fn standard_gamma<'py>(
        &mut self,
        py: Python<'py>,
        shape: &Bound<'py, PyAny>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.gamma(py, shape, None, size)
    }

    /// Chi-square floats of `df` degrees of freedom: `2 G(df / 2)`.
    #[pyo3(signature = (df, size=None))]
    fn chisquare<'py>(
        &mut self,
        py: Python<'py>,
        df: &Bound<'py, PyAny>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let df = number(df, "df")?;
        check(df > 0.0 && df.is_finite(), || {
            format!("chisquare: df must be > 0, found {df}")
        })?;
        self.fill(py, size, move |s| 2.0 * d::standard_gamma(s, df / 2.0))
    }

    /// Beta floats of shapes `a` and `b`: `X / (X + Y)` of gamma variates.
    #[pyo3(signature = (a, b, size=None))]
    fn beta<'py>(
        &mut self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        b: &Bound<'py, PyAny>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (a, b) = (number(a, "a")?, number(b, "b")?);
        check(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite(), || {
            format!("beta: a and b must be > 0, found a={a}, b={b}")
        })?;
        self.fill(py, size, move |s| d::beta(s, a, b))
    }

    /// Poisson integers (int64) of mean `lam`: multiplication below 10, Hörmann's
    /// PTRS from 10 up (numpy's algorithms).
    #[pyo3(signature = (lam=None, size=None))]
    fn poisson<'py>(
        &mut self,
        py: Python<'py>,
        lam: Option<&Bound<'py, PyAny>>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lam = lam.map_or(Ok(1.0), |v| number(v, "lam"))?;
        // numpy's bound: beyond it the int64 result could overflow.
        check((0.0..=9.2e18 - 10.0 * 3.04e9).contains(&lam), || {
            format!("poisson: lam must be >= 0 and at most about 9.2e18, found {lam}")
        })?;
        self.fill(py, size, move |s| d::poisson(s, lam))
    }

    /// Binomial integers (int64) of `n` trials of probability `p`: inversion for
    /// `n min(p, 1 - p) <= 30`, else BTPE (numpy's algorithms).
    #[pyo3(signature = (n, p, size=None))]
    fn binomial<'py>(
        &mut self,
        py: Python<'py>,
        n: i64,
        p: &Bound<'py, PyAny>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = number(p, "p")?;
        check(n >= 0, || format!("binomial: n must be >= 0, found {n}"))?;
        check((0.0..=1.0).contains(&p), || {
            format!("binomial: p must be in [0, 1], found {p}")
        })?;
        self.fill(py, size, move |s| d::binomial(s, n, p))
    }

    /// Geometric integers (int64) >= 1 of success probability `p`, by inversion.
    #[pyo3(signature = (p, size=None))]
    fn geometric<'py>(
        &mut self,
        py: Python<'py>,
        p: &Bound<'py, PyAny>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let p = number(p, "p")?;
        check(p > 0.0 && p <= 1.0, || {
            format!("geometric: p must be in (0, 1], found {p}")
        })?;
        self.fill(py, size, move |s| d::geometric(s, p))
    }

    /// Integers (int64) in [low, high), or [low, high] with `endpoint=True`;
    /// `integers(high)` is [0, high). rand's `random_range` (Canon's method: a 64-bit
    /// widening multiply, and a second word when the first lies near a boundary;
    /// biased for at most 1 in 2^64 values).
    #[pyo3(signature = (low, high=None, size=None, dtype=None, endpoint=false))]
    fn integers<'py>(
        &mut self,
        py: Python<'py>,
        low: i64,
        high: Option<i64>,
        size: Option<&Bound<'py, PyAny>>,
        dtype: Option<&Bound<'py, PyAny>>,
        endpoint: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(dtype) = dtype.filter(|d| !d.is_none()) {
            let numpy = py.import("numpy")?;
            let wanted = numpy.call_method1("dtype", (dtype,))?;
            if !wanted.eq(numpy.getattr("int64")?)? {
                return Err(PyTypeError::new_err(format!(
                    "integers: dtype must be int64, found {}",
                    wanted.str()?
                )));
            }
        }
        let (low, high) = match high {
            Some(high) => (low, high),
            None => (0, low),
        };
        if endpoint {
            check(low <= high, || {
                format!(
                    "integers(low, high, endpoint=True) needs low <= high, found low={low}, high={high}"
                )
            })?;
            return self.fill(py, size, move |s| {
                use rand::RngExt;
                s.random_range(low..=high)
            });
        }
        check(low < high, || {
            format!("integers(low, high) needs low < high, found low={low}, high={high}")
        })?;
        self.fill(py, size, move |s| {
            use rand::RngExt;
            s.random_range(low..high)
        })
    }

    /// Elements of `a` (a sequence or array, or `range(a)` for an int), `size` of
    /// them: with replacement, `integers(0, len(a))` each, or by inversion of the
    /// cumulative `p`; without, the first draws of a Fisher-Yates shuffle (or,
    /// with `p`, weighted draws from what is left). `shuffle` is accepted for numpy's
    /// signature: the order is the order drawn.
    #[pyo3(signature = (a, size=None, replace=true, p=None, shuffle=true))]
    fn choice<'py>(
        &mut self,
        py: Python<'py>,
        a: &Bound<'py, PyAny>,
        size: Option<&Bound<'py, PyAny>>,
        replace: bool,
        p: Option<&Bound<'py, PyAny>>,
        shuffle: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = shuffle;
        let numpy = py.import("numpy")?;
        let (n, items) = if a.is_instance_of::<PyInt>() {
            let n: i64 = a.extract()?;
            check(n >= 0, || {
                format!("choice: a must be a non-negative int, found {n}")
            })?;
            (n as usize, None)
        } else {
            let items = numpy.call_method1("asarray", (a,))?;
            let ndim: usize = items.getattr("ndim")?.extract()?;
            check(ndim >= 1, || {
                "choice: a must be a sequence or an int".to_string()
            })?;
            (items.len()?, Some(items))
        };
        let shape = match size.filter(|s| !s.is_none()) {
            Some(s) => Some(shape(s)?),
            None => None,
        };
        let k = match &shape {
            Some(shape) => elements::<u64>(shape)?,
            None => 1,
        };
        check(n > 0 || k == 0, || {
            "choice: a cannot be empty unless no sample is taken".into()
        })?;
        let cumulative = match p.filter(|p| !p.is_none()) {
            None => None,
            Some(p) => {
                let weights: Vec<f64> = numpy
                    .call_method1("asarray", (p, numpy.getattr("float64")?))?
                    .call_method0("ravel")?
                    .extract()?;
                check(weights.len() == n, || {
                    format!(
                        "choice: p has {} probabilities for {n} elements",
                        weights.len()
                    )
                })?;
                check(weights.iter().all(|w| w.is_finite() && *w >= 0.0), || {
                    "choice: probabilities must be finite and >= 0".to_string()
                })?;
                let mut total = 0.0;
                let cumulative: Vec<f64> = weights
                    .iter()
                    .map(|w| {
                        total += w;
                        total
                    })
                    .collect();
                check((total - 1.0).abs() <= 1.5e-8, || {
                    format!("choice: probabilities must sum to 1, found {total}")
                })?;
                Some(cumulative)
            }
        };
        let stream = self.stream()?;
        let indices: Vec<usize> = if replace {
            match &cumulative {
                None => (0..k)
                    .map(|_| d::below(stream, n as u64) as usize)
                    .collect(),
                Some(c) => (0..k).map(|_| d::weighted(stream, c)).collect(),
            }
        } else {
            check(k <= n, || {
                format!("choice: cannot take {k} samples from {n} elements without replacement")
            })?;
            match &cumulative {
                None => d::sample_without_replacement(stream, n, k),
                Some(c) => {
                    let mut weights: Vec<f64> = c
                        .iter()
                        .scan(0.0, |last, &c| {
                            let w = c - *last;
                            *last = c;
                            Some(w)
                        })
                        .collect();
                    let nonzero = weights.iter().filter(|&&w| w > 0.0).count();
                    check(k <= nonzero, || {
                        format!(
                            "choice: only {nonzero} elements have a non-zero probability, {k} asked for without replacement"
                        )
                    })?;
                    let mut chosen = Vec::with_capacity(k);
                    for _ in 0..k {
                        let mut total = 0.0;
                        let cumulative: Vec<f64> = weights
                            .iter()
                            .map(|w| {
                                total += w;
                                total
                            })
                            .collect();
                        let i = d::weighted(stream, &cumulative);
                        weights[i] = 0.0;
                        chosen.push(i);
                    }
                    chosen
                }
            }
        };
        let indices: Vec<i64> = indices.into_iter().map(|i| i as i64).collect();
        let picked: Bound<'py, PyAny> = match &shape {
            None => indices[0].into_bound_py_any(py)?,
            Some(shape) => array(py, shape, indices)?,
        };
        match items {
            None => Ok(picked),
            Some(items) => items.get_item(picked),
        }
    }

    /// A permuted copy: of `range(x)` for an int, else of the array along its first
    /// axis (Fisher-Yates from the top).
    fn permutation<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let numpy = py.import("numpy")?;
        if x.is_instance_of::<PyInt>() {
            let n: i64 = x.extract()?;
            check(n >= 0, || format!("permutation: x must be >= 0, found {n}"))?;
            let order = d::permutation(self.stream()?, n as usize);
            let values: Vec<i64> = order.into_iter().map(|i| i as i64).collect();
            return array(py, &[values.len()], values);
        }
        let items = numpy.call_method1("asarray", (x,))?;
        let ndim: usize = items.getattr("ndim")?.extract()?;
        check(ndim >= 1, || {
            "permutation: x must be an int or an array".to_string()
        })?;
        let order = d::permutation(self.stream()?, items.len()?);
        let order: Vec<i64> = order.into_iter().map(|i| i as i64).collect();
        let len = order.len();
        items.get_item(array(py, &[len], order)?)
    }

    /// Shuffles `x` (a list or an array, along its first axis) in place, as
    /// `permutation` orders it.
    fn shuffle<'py>(&mut self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<()> {
        let n = x.len()?;
        let order = d::permutation(self.stream()?, n);
        if let Ok(list) = x.cast::<PyList>() {
            let items: Vec<Bound<'py, PyAny>> = order
                .iter()
                .map(|&i| list.get_item(i))
                .collect::<PyResult<_>>()?;
            for (i, item) in items.into_iter().enumerate() {
                list.set_item(i, item)?;
            }
            return Ok(());
        }
        let order: Vec<i64> = order.into_iter().map(|i| i as i64).collect();
        let permuted = x.get_item(array(py, &[n], order)?)?;
        x.set_item(py.Ellipsis(), permuted)
    }

    /// The generator's raw 64-bit words, as uint64.
    #[pyo3(signature = (size=None))]
    fn bits<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.fill(py, size, |s| s.next_u64())
    }

    /// A numpy `Generator` (PCG64) seeded with 256 bits (four words) drawn from this
    /// stream, for numpy's other distributions. Reproducible and block-local like the
    /// rest, but its numbers are numpy's (its algorithms may change between numpy
    /// versions): prefer the methods above where they fit.
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
            Some(_) => "<carlo.Rng of a running block>",
            None => "<carlo.Rng of a finished block>",
        }
    }
}
