//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong in carlo.
///
/// [`Error::is_input`] tells a bad input (exit code 2: fix the config or the flags)
/// from a failure while running (exit code 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A config is not valid TOML or does not have the expected shape.
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// What the parser said, with the line it points at.
        message: String,
    },
    /// A config value is out of range or inconsistent.
    #[error("{}: {}{key}: {reason}", path.display(), at.map_or(String::new(), |(l, c)| format!("line {l}, column {c}: ")))]
    Config {
        /// The config file.
        path: PathBuf,
        /// The offending key, as `table.key`.
        key: String,
        /// What is wrong and what is allowed.
        reason: String,
        /// Line and column of the value, when known.
        at: Option<(usize, usize)>,
    },
    /// A model parameter is invalid (raised by model constructors, which know no
    /// file; the config layer turns it into [`Error::Config`]).
    #[error("{key}: {reason}")]
    Parameter {
        /// The offending key, as `model.key`.
        key: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A command-line value is invalid.
    #[error("{flag}: {reason}")]
    Flag {
        /// The flag, as `--name`.
        flag: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// An output of a run cannot go where it was asked to go (found before the run).
    #[error("{what} {}: {reason}", path.display())]
    Output {
        /// Which output: a flag such as `--trace`, or `the summary`.
        what: String,
        /// Its path.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// An output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Shard partials that do not make up one run (different runs, overlapping or
    /// missing chunks); the message names the files or chunks.
    #[error("cannot merge: {0}")]
    Merge(String),
    /// A chunk failed: its model raised an error or produced non-finite samples.
    #[error("chunk {index}: {message}")]
    Chunk {
        /// The chunk.
        index: u64,
        /// What went wrong, as the model said it.
        message: String,
    },
    /// Files that must belong together do not: a summary and the job it names.
    #[error("{0}")]
    Mismatch(String),
    /// The executor failed while running chunks.
    #[error("{0}")]
    Execution(String),
    /// A worker process refused the job as bad input (a parameter only it can check,
    /// a module a Python model cannot import); the message is the worker's.
    #[error("{0}")]
    Input(String),
    /// A checkpoint cannot be used for this run: damaged, of another version, or
    /// written by a run with another config or seed.
    #[error("{}: {reason}", path.display())]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The run was interrupted (Ctrl-C) before it finished; the binary exits 130.
    #[error("interrupted after {done} of {total} blocks")]
    Interrupted {
        /// Blocks decided when it stopped.
        done: u64,
        /// Blocks of the whole run.
        total: u64,
    },
}

impl Error {
    /// True when the user's input is at fault (exit code 2), false for failures
    /// while running (exit code 1).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            Error::Read { .. }
                | Error::Syntax { .. }
                | Error::Config { .. }
                | Error::Parameter { .. }
                | Error::Flag { .. }
                | Error::Output { .. }
                | Error::Checkpoint { .. }
                | Error::Merge(_)
                | Error::Mismatch(_)
                | Error::Input(_)
        )
    }

    /// A parameter error with its key.
    pub fn parameter(key: &str, reason: impl Into<String>) -> Self {
        Error::Parameter {
            key: key.to_string(),
            reason: reason.into(),
        }
    }
}

/// A number as a message shows it: Rust's shortest form (`0.2`, `100`), or scientific
/// notation beyond what a reader takes in at a glance (`1e300`, not 301 digits;
/// `1.5e-12`).
pub(crate) fn shown(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-6..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(shown(0.2), "0.2");
        assert_eq!(shown(100.0), "100");
        assert_eq!(shown(1e300), "1e300");
        assert_eq!(shown(-2.5e-12), "-2.5e-12");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(f64::INFINITY), "inf");
    }
}
