//! carlo's own transcendental functions, so that results depend on the input alone:
//! never on the platform's libm, the compiler, or the instruction set.
//!
//! # Contract
//! - [`exp`], [`ln`], [`inverse_normal_cdf`], [`normal_from_bits`] and
//!   [`normal_cdf`] use only IEEE-754 operations that are exactly specified
//!   (`+ - * /`, `sqrt`, `trunc`, comparisons)
//!   and exact bit manipulation, in one fixed order, with no fused multiply-add: their
//!   bits are a function of the input bits, on every target whose `f64` arithmetic is
//!   IEEE binary64 with round-to-nearest (x86-64, AArch64, ...; not x87-only i586).
//! - The slice forms ([`exp_slice`], [`ln_slice`], [`normals_from_bits`]) return, at
//!   every [`Level`], for every length, exactly the bits of the scalar functions:
//!   the kernels are written once, generic over the lane type, and a vector lane runs
//!   the very operations the scalar code runs (tested on millions of inputs).
//!
//! # Accuracy (measured against mpmath, `testdata/`)
//! | function | bound tested | worst seen, committed points | worst seen, 10^6 dense points |
//! |---|---|---|---|
//! | [`exp`] | 0.52 ulp | 0.503 ulp (3 857 points, 99.9% correctly rounded) | 0.504 ulp |
//! | [`ln`] | 0.52 ulp | 0.500 ulp (3 580 points, all correctly rounded) | 0.503 ulp |
//! | [`inverse_normal_cdf`] | relative 7e-16 | 5.6e-16, 4.6 ulp (1 637 points) | |
//! | [`normal_from_bits`] | relative 7e-16 | 5.3e-16, 3.4 ulp (510 words) | |
//! | [`normal_cdf`] | relative 1e-15 (normal results) | | 7.2e-16 (90 000 points of `[-38.4, 9]`, not committed; 19 committed in its tests) |
//! | [`sin`], [`cos`] | 1 ulp | 0.614, 0.655 ulp (3 278 points each: `|x|` to `f64::MAX`, next to multiples of `pi/2`) | |
//! | [`atan2`] | 1 ulp | 0.4995 ulp (2 580 points, all correctly rounded) | |
//! | [`exp_m1`], [`ln_1p`] | 4 eps relative | 1.39, 1.00 eps (400 points of `±[2^-60, 8]`) | |
//! | [`Complex::exp`] | 2 eps `|w|`, normwise | 1.00 (1 435 points) | |
//! | [`Complex::ln`] | 2 eps relative, each part | re 1.00 (also at `|z| = 1 ± 1e-14`), im correctly rounded (1 700 points) | |
//! | [`Complex::sqrt`] | 2.5 eps relative, each part | 1.07 (1 700 points) | |
//!
//! The trigonometric and complex functions (`trig.rs`, `complex.rs`, `expm1.rs`) are
//! held to the same contract (IEEE `+ - * /`, `sqrt`, exact integer and bit
//! operations, no fused multiply-add, one order); their testdata comes from
//! `testdata/generate_trig.py`.
//!
//! The dense points (`testdata/generate.py dense`, not committed) are uniform on
//! `[-745.1, 709.7]` and `[-50, 50]` for `exp`, log-uniform on `[2^-1000, 2^1000]`,
//! uniform on `[0.5, 2]` and on `1 +- 2^-7` for `ln`.
//!
//! # Choosing the vector path: `CARLO_SIMD`
//! The slice forms run the best instruction set the CPU has (AVX-512F, else AVX2, else
//! scalar), detected once. The environment variable `CARLO_SIMD` (`scalar`, `avx2` or
//! `avx512`), read once per process, forces one, for tests and benchmarks; since
//! every level gives the same bits, it changes only the speed. An unknown or
//! unavailable value is an error from [`simd_level`], for the program to report at
//! startup; the slice forms then run the scalar path (same bits, never a panic).
//! [`Simd`] runs an explicit level in-process.
//!
//! The slice forms are meant for blocks of a few hundred values (a chunk's random
//! words -> normals -> `exp`): the dispatch costs one atomic load per call.

mod complex;
mod dd;
mod exp;
mod expm1;
mod ln;
mod normal;
mod normal_cdf;
mod tables;
#[cfg(test)]
mod tests;
mod trig;
mod trig_tables;
#[cfg(test)]
mod trig_tests;
mod vector;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

pub use complex::Complex;
pub use exp::exp;
pub use expm1::{exp_m1, ln_1p};
pub use ln::ln;
pub use normal::{inverse_normal_cdf, normal_from_bits};
pub use normal_cdf::normal_cdf;
pub use trig::{atan2, cos, sin, sin_cos};

pub use exp::lanes as exp_lanes;
pub use ln::lanes as ln_lanes;
pub use vector::Lanes;

/// A computation written once over [`Lanes`], which [`Simd::run`] instantiates at one
/// level: the way the models' sample loops get their vector forms.
///
/// `run` must be `#[inline(always)]`, and so must everything it calls in its hot loop,
/// so that it is compiled inside the level's `#[target_feature]` entry point.
pub(crate) trait LaneProgram {
    /// What the computation returns.
    type Output;
    /// The computation, on lanes of type `V`.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    unsafe fn run<V: Lanes>(self) -> Self::Output;
}

/// The environment variable that forces a [`Level`]: `scalar`, `avx2` or `avx512`.
pub const SIMD_ENV: &str = "CARLO_SIMD";

/// An instruction set the slice functions can run on. Every level returns the same
/// bits; they differ in speed only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// One value at a time, on any CPU.
    Scalar,
    /// Four lanes: x86-64 with AVX2.
    Avx2,
    /// Eight lanes: x86-64 with AVX-512F.
    Avx512,
}

impl Level {
    /// Every level, slowest first.
    pub const ALL: [Level; 3] = [Level::Scalar, Level::Avx2, Level::Avx512];

    /// The fastest level this CPU supports (detected once).
    pub fn detect() -> Level {
        static DETECTED: OnceLock<Level> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Level::ALL
                .into_iter()
                .rev()
                .find(|l| l.is_available())
                .unwrap_or(Level::Scalar)
        })
    }

    /// The levels this CPU can run, slowest first.
    pub fn available() -> Vec<Level> {
        Level::ALL
            .into_iter()
            .filter(|l| l.is_available())
            .collect()
    }

    /// The name `CARLO_SIMD` takes for the level.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the level.
    #[cfg(target_arch = "x86_64")]
    pub fn is_available(self) -> bool {
        match self {
            Level::Scalar => true,
            Level::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            Level::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
        }
    }

    /// Whether this CPU can run the level.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn is_available(self) -> bool {
        self == Level::Scalar
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = LevelError;

    fn from_str(s: &str) -> Result<Level, LevelError> {
        Level::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| LevelError::Unknown {
                value: s.to_owned(),
            })
    }
}

/// A [`Level`] that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LevelError {
    /// A `CARLO_SIMD` value that names no level.
    #[error("{SIMD_ENV}={value:?} is not a SIMD level (expected scalar, avx2 or avx512)")]
    Unknown {
        /// The value given.
        value: String,
    },
    /// A level this CPU does not support.
    #[error(
        "SIMD level {level} is not available on this CPU (available: {})",
        available_names()
    )]
    Unavailable {
        /// The level asked for.
        level: Level,
    },
}

fn available_names() -> String {
    Level::available()
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The level the slice functions run: `CARLO_SIMD` if set (read once per process),
/// else [`Level::detect`]. An unknown or unavailable `CARLO_SIMD` is an error, for the
/// program to report.
pub fn simd_level() -> Result<Level, LevelError> {
    static CHOSEN: OnceLock<Result<Level, LevelError>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| level_from_env(std::env::var(SIMD_ENV)))
        .clone()
}

/// The level a value of `CARLO_SIMD` asks for.
fn level_from_env(var: Result<String, std::env::VarError>) -> Result<Level, LevelError> {
    match var {
        Ok(value) => Simd::new(value.parse()?).map(Simd::level),
        Err(std::env::VarError::NotPresent) => Ok(Level::detect()),
        Err(std::env::VarError::NotUnicode(value)) => Err(LevelError::Unknown {
            value: value.to_string_lossy().into_owned(),
        }),
    }
}

/// A [`Level`] checked to run on this CPU: the handle to the slice functions at an
/// explicit level (tests and benchmarks compare levels with it in-process).
///
/// ```
/// use carlo::math::{Level, Simd};
/// let bits: Vec<u64> = (0..1000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
/// let mut want = vec![0.0; bits.len()];
/// Simd::new(Level::Scalar)?.normals_from_bits(&bits, &mut want);
/// for level in Level::available() {
///     let mut got = vec![0.0; bits.len()];
///     Simd::new(level)?.normals_from_bits(&bits, &mut got);
///     assert_eq!(got, want);
/// }
/// # Ok::<(), carlo::math::LevelError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simd {
    level: Level,
}

impl Simd {
    /// The handle for `level`, or [`LevelError::Unavailable`].
    pub fn new(level: Level) -> Result<Simd, LevelError> {
        if level.is_available() {
            Ok(Simd { level })
        } else {
            Err(LevelError::Unavailable { level })
        }
    }

    /// The handle for [`simd_level`], or scalar if that is an error.
    pub fn current() -> Simd {
        static CURRENT: OnceLock<Simd> = OnceLock::new();
        *CURRENT.get_or_init(|| Simd {
            level: simd_level().unwrap_or(Level::Scalar),
        })
    }

    /// The level this handle runs.
    pub fn level(self) -> Level {
        self.level
    }

    /// Runs `program` on this level's lanes.
    pub(crate) fn run<P: LaneProgram>(self, program: P) -> P::Output {
        match self.level {
            // SAFETY: a `Simd` holds only levels detected on this CPU.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { x86::run_avx512(program) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { x86::run_avx2(program) },
            // SAFETY: scalar lanes.
            _ => unsafe { program.run::<f64>() },
        }
    }

    /// `x = exp(x)` for every element.
    pub fn exp_slice(self, xs: &mut [f64]) {
        match self.level {
            // SAFETY: a `Simd` holds only levels detected on this CPU.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { x86::exp_avx512(xs) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { x86::exp_avx2(xs) },
            // SAFETY: scalar lanes.
            _ => unsafe { map_in_place::<f64, ExpKernel>(xs, 0.0) },
        }
    }

    /// `x = ln(x)` for every element.
    pub fn ln_slice(self, xs: &mut [f64]) {
        match self.level {
            // SAFETY: a `Simd` holds only levels detected on this CPU.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { x86::ln_avx512(xs) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { x86::ln_avx2(xs) },
            // SAFETY: scalar lanes.
            _ => unsafe { map_in_place::<f64, LnKernel>(xs, 1.0) },
        }
    }

    /// `out[i] = normal_from_bits(bits[i])` for every element.
    ///
    /// # Panics
    /// If the slices differ in length.
    pub fn normals_from_bits(self, bits: &[u64], out: &mut [f64]) {
        assert_eq!(
            bits.len(),
            out.len(),
            "normals_from_bits: {} words for {} outputs",
            bits.len(),
            out.len()
        );
        match self.level {
            // SAFETY: a `Simd` holds only levels detected on this CPU.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { x86::normals_avx512(bits, out) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { x86::normals_avx2(bits, out) },
            // SAFETY: scalar lanes.
            _ => unsafe { map_bits::<f64, NormalKernel>(bits, out, 0) },
        }
    }
}

/// `x = exp(x)` for every element, at [`Simd::current`]'s level.
pub fn exp_slice(xs: &mut [f64]) {
    Simd::current().exp_slice(xs)
}

/// `x = ln(x)` for every element, at [`Simd::current`]'s level.
pub fn ln_slice(xs: &mut [f64]) {
    Simd::current().ln_slice(xs)
}

/// `out[i] = normal_from_bits(bits[i])` for every element, at [`Simd::current`]'s level.
///
/// # Panics
/// If the slices differ in length.
pub fn normals_from_bits(bits: &[u64], out: &mut [f64]) {
    Simd::current().normals_from_bits(bits, out)
}

/// The widest vector, in lanes.
const MAX_LANES: usize = 8;

/// A lane-wise function for the slice drivers: a type, not a closure, so that it is
/// always inlined into the `#[target_feature]` entry point (a closure called at two
/// sites was compiled out of line, reloading its constants at every call).
trait Kernel {
    /// The function on every lane.
    unsafe fn apply<V: Lanes>(v: V) -> V;
}

struct ExpKernel;
struct LnKernel;
struct NormalKernel;

impl Kernel for ExpKernel {
    #[inline(always)]
    unsafe fn apply<V: Lanes>(v: V) -> V {
        // SAFETY: the caller guarantees V's instruction set.
        unsafe { exp::lanes(v) }
    }
}

impl Kernel for LnKernel {
    #[inline(always)]
    unsafe fn apply<V: Lanes>(v: V) -> V {
        // SAFETY: as above.
        unsafe { ln::lanes(v) }
    }
}

impl Kernel for NormalKernel {
    #[inline(always)]
    unsafe fn apply<V: Lanes>(v: V) -> V {
        // SAFETY: as above.
        unsafe { normal::from_bits_lanes(v) }
    }
}

/// `K` over `xs` in place, `V::LANES` at a time; the last partial vector goes through
/// a buffer padded with `pad` (a value on the fast path).
///
/// Hand-written: the loop the vector kernels are instantiated in. One call site of
/// the kernel (the tail only swaps the pointer), so it is inlined once, and the tail
/// stays on the vector path instead of a second, scalar loop.
#[inline(always)]
unsafe fn map_in_place<V: Lanes, K: Kernel>(xs: &mut [f64], pad: f64) {
    const { assert!(V::LANES <= MAX_LANES) };
    let n = xs.len();
    let mut buf = [pad; MAX_LANES];
    let mut i = 0;
    while i < n {
        let left = n - i;
        let p = if left >= V::LANES {
            // SAFETY: i < n.
            unsafe { xs.as_mut_ptr().add(i) }
        } else {
            buf[..left].copy_from_slice(&xs[i..]);
            buf.as_mut_ptr()
        };
        // SAFETY: p covers V::LANES values; the caller guarantees V's instruction set.
        unsafe { K::apply(V::load(p)).store(p) };
        if left < V::LANES {
            xs[i..].copy_from_slice(&buf[..left]);
        }
        i += V::LANES;
    }
}

/// `out = K(bits)`, `V::LANES` at a time, as [`map_in_place`]; the last partial
/// vector is padded with the word `pad`.
#[inline(always)]
unsafe fn map_bits<V: Lanes, K: Kernel>(bits: &[u64], out: &mut [f64], pad: u64) {
    const { assert!(V::LANES <= MAX_LANES) };
    assert_eq!(bits.len(), out.len());
    let n = bits.len();
    let mut wbuf = [pad; MAX_LANES];
    let mut obuf = [0.0f64; MAX_LANES];
    let mut i = 0;
    while i < n {
        let left = n - i;
        let (w, o) = if left >= V::LANES {
            // SAFETY: i < n = both lengths.
            unsafe { (bits.as_ptr().add(i), out.as_mut_ptr().add(i)) }
        } else {
            wbuf[..left].copy_from_slice(&bits[i..]);
            (wbuf.as_ptr(), obuf.as_mut_ptr())
        };
        // SAFETY: w and o cover V::LANES values; the caller guarantees V's
        // instruction set.
        unsafe { K::apply(V::load_bits(w)).store(o) };
        if left < V::LANES {
            out[i..].copy_from_slice(&obuf[..left]);
        }
        i += V::LANES;
    }
}

/// A word whose uniform is central (u = 1/2 - 2^-54): padding for the first pass.
const CENTRAL_WORD: u64 = ((1 << 52) - 1) << 11;
/// A word whose uniform is in the near tail (u = 2^-7): padding for the second.
const TAIL_WORD: u64 = 1 << 57;

/// [`Simd::normals_from_bits`] for the vector levels.
///
/// Hand-written: about 15% of uniforms fall in AS 241's tails, which need `ln`, `sqrt`
/// and another rational, and a vector with a single tail lane would pay for all of
/// its lanes. So each block takes two passes: the central formula on every lane,
/// noting the tail lanes; then the tail lanes packed together, computed with the full
/// kernel and scattered back. Every lane still performs exactly its scalar operations.
#[inline(always)]
unsafe fn normals_sorted<V: Lanes>(bits: &[u64], out: &mut [f64]) {
    const BLOCK: usize = 512;
    const { assert!(V::LANES <= MAX_LANES) };
    assert_eq!(bits.len(), out.len());
    let mut tail_words = [0u64; BLOCK];
    let mut tail_at = [0u32; BLOCK];
    let mut tail_out = [0.0f64; BLOCK];
    for (ws, xs) in bits.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
        let n = ws.len();
        let mut tails = 0;
        let mut wbuf = [CENTRAL_WORD; MAX_LANES];
        let mut obuf = [0.0f64; MAX_LANES];
        let mut i = 0;
        while i < n {
            let left = n - i;
            let (w, o) = if left >= V::LANES {
                // SAFETY: i < n = both lengths.
                unsafe { (ws.as_ptr().add(i), xs.as_mut_ptr().add(i)) }
            } else {
                wbuf[..left].copy_from_slice(&ws[i..]);
                (wbuf.as_ptr(), obuf.as_mut_ptr())
            };
            // SAFETY: w and o cover V::LANES values; the caller guarantees V's
            // instruction set.
            let mut mask = unsafe {
                let (x, tail) = normal::central_lanes(V::load_bits(w));
                x.store(o);
                V::mask_bits(tail)
            };
            // padding lanes are central: every bit is a lane of `ws`
            while mask != 0 {
                let at = i + mask.trailing_zeros() as usize;
                tail_words[tails] = ws[at];
                tail_at[tails] = at as u32;
                tails += 1;
                mask &= mask - 1;
            }
            if left < V::LANES {
                xs[i..].copy_from_slice(&obuf[..left]);
            }
            i += V::LANES;
        }
        // SAFETY: the caller guarantees V's instruction set.
        unsafe {
            map_bits::<V, NormalKernel>(&tail_words[..tails], &mut tail_out[..tails], TAIL_WORD)
        };
        for (&at, &x) in tail_at[..tails].iter().zip(&tail_out[..tails]) {
            xs[at as usize] = x;
        }
    }
}
