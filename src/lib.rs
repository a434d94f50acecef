//! carlo: a Monte Carlo engine whose answer does not depend on where it ran.
//!
//! A run is a [`config::Job`] (model, samples, seed, chunk size, confidence). Its
//! samples are cut into chunks; chunk `i` draws from random stream `i` alone
//! ([`random::stream`](mod@random::stream)), and chunk statistics are merged in chunk order ([`stats::InOrder`]), so
//! the same job gives the same bits on every backend and worker count.
//!
//! # Quick start
//!
//! ```
//! use std::path::Path;
//! use carlo::config::{Experiment, Overrides};
//! use carlo::model::Registry;
//!
//! let config = r#"
//!     [simulation]
//!     samples = 1_000_000
//!     seed = 42
//!     [model]
//!     type = "pi"
//! "#;
//! let experiment = Experiment::parse(config, Path::new("pi.toml"), &Overrides::default(), &Registry::builtin())?;
//! let report = carlo::engine::run(&experiment, &mut carlo::engine::Quiet)?;
//! let (quantity, pi) = &report.estimates[0];
//! assert_eq!(quantity.name, "pi");
//! assert!((pi.estimate - std::f64::consts::PI).abs() < 4.0 * pi.std_error);
//! # Ok::<(), carlo::Error>(())
//! ```
//!
//! Data flows one way: [`config`] -> the chunk plan -> [`exec`] runs [`model`] chunks
//! on [`random`] streams -> [`stats`] -> [`engine`] -> [`output`]. The models carlo
//! ships are in [`models`]; what a model implements is [`model::Model`].

#![deny(missing_docs)]

/// Writes one line to standard error. A closed or full stderr is ignored: a message
/// carlo cannot deliver must never change a run's outcome (its exit code, its files),
/// where `eprintln!` would panic.
pub(crate) fn stderr_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

/// `eprintln!` that never panics (see [`stderr_line`]).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::stderr_line(format_args!($($arg)*))
    };
}
pub(crate) use say;

pub mod app;
pub mod backend;
pub mod checkpoint;
pub mod config;
pub mod coverage;
pub mod engine;
mod error;
pub mod exec;
#[doc(hidden)]
pub mod fuzzing;
pub mod math;
pub mod model;
pub mod models;
pub mod output;
pub(crate) mod plan;
pub mod progress;
pub mod random;
pub(crate) mod scale;
pub(crate) mod shard;
pub mod stats;
pub(crate) mod trace;
pub(crate) mod verify;

pub use error::Error;
