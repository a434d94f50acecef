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

/// Writes one line to standard error, or to this thread's sink while
/// [`divert_messages`] runs. A closed or full stderr is ignored: a message carlo
/// cannot deliver must never change a run's outcome (its exit code, its files), where
/// `eprintln!` would panic.
pub(crate) fn stderr_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let diverted = DIVERTED.with(|sink| match sink.borrow_mut().as_mut() {
        Some(sink) => {
            sink(&line.to_string());
            true
        }
        None => false,
    });
    if !diverted {
        let mut err = std::io::stderr().lock();
        let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
    }
}

/// A sink for the messages of [`divert_messages`].
type Sink = Box<dyn FnMut(&str)>;

thread_local! {
    static DIVERTED: std::cell::RefCell<Option<Sink>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the messages carlo writes on this thread's behalf (a recovered
/// worker crash, a stuck chunk, notes and warnings: one line each, without the
/// newline) given to `sink` instead of standard error. For programs that show them
/// elsewhere, such as the Python package, which makes its warnings Python warnings.
/// The executors write from the thread that runs the engine, so a run's messages
/// reach the sink of the thread that started it; nested calls restore the outer sink.
pub fn divert_messages<R>(sink: impl FnMut(&str) + 'static, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Sink>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            DIVERTED.with(|sink| *sink.borrow_mut() = outer);
        }
    }
    let outer = DIVERTED.with(|s| s.borrow_mut().replace(Box::new(sink)));
    let _restore = Restore(outer);
    f()
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
pub mod verify;

pub use error::Error;
