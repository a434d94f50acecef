//! carlo's errors as Python exceptions (the classes of `carlo._errors`).
//!
//! - bad input (config, keyword argument, checkpoint of another job): `ConfigError`,
//!   a `ValueError`; an error about a value given as a keyword argument names the
//!   argument instead of the command line's `--set` flag;
//! - a chunk that failed (the model raised, or returned bad samples), in this process
//!   or in a worker: `ChunkError`, a `RuntimeError` with the chunk's index in `.chunk`;
//! - anything else while running: `CarloError`, a `RuntimeError`.

use carlo::Error;
use carlo::config::Assignment;
use pyo3::prelude::*;

/// A keyword argument turned into a config assignment, to name it in errors.
#[derive(Debug, Clone)]
pub struct Given {
    /// The assignment it became.
    pub set: Assignment,
    /// How the user wrote it (`samples=100`).
    pub shown: String,
}

/// The Python exception of `error`; `given` are the keyword arguments of the call.
pub fn to_py(py: Python<'_>, error: Error, given: &[Given]) -> PyErr {
    let (class, message, chunk) = match &error {
        Error::Flag { flag, reason } if flag == "--set" => {
            let message = given
                .iter()
                .find_map(|g| {
                    reason
                        .strip_prefix(&format!("{}: ", g.set))
                        .map(|rest| format!("{}: {rest}", g.shown))
                })
                .unwrap_or_else(|| reason.clone());
            ("ConfigError", message, None)
        }
        e if e.is_input() => ("ConfigError", e.to_string(), None),
        Error::Chunk { index, message } => {
            let class = if message.starts_with(PROBE) {
                "DeterminismError"
            } else {
                "ChunkError"
            };
            (class, error.to_string(), Some(*index))
        }
        Error::Execution(message) => match failed_chunk(message) {
            Some(index) if message.contains(&format!("chunk {index}: {PROBE}")) => {
                ("DeterminismError", message.clone(), Some(index))
            }
            Some(index) => ("ChunkError", message.clone(), Some(index)),
            None => ("CarloError", message.clone(), None),
        },
        other => ("CarloError", other.to_string(), None),
    };
    make(py, class, &message, chunk)
}

/// How the determinism probe's messages begin.
const PROBE: &str = "determinism probe:";

/// An instance of the class `name` of `carlo._errors`.
fn make(py: Python<'_>, class: &str, message: &str, chunk: Option<u64>) -> PyErr {
    let made = py.import("carlo._errors").and_then(|m| {
        let class = m.getattr(class)?;
        match chunk {
            Some(index) => class.call1((message, index)),
            None => class.call1((message,)),
        }
    });
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// A `carlo.DeterminismError` saying `message`, about a block of chunk `chunk`.
pub fn determinism(message: &str, chunk: u64) -> PyErr {
    Python::attach(|py| make(py, "DeterminismError", message, Some(chunk)))
}

/// A `carlo.ConfigError` saying `message`.
pub fn config_error(py: Python<'_>, message: &str) -> PyErr {
    make(py, "ConfigError", message, None)
}

/// A `carlo._errors.Terminated` for a run stopped by `signal` (SIGTERM, SIGHUP),
/// which the package turns back into that signal once it has said `message`.
pub fn terminated(py: Python<'_>, message: &str, signal: i32) -> PyErr {
    let made = py
        .import("carlo._errors")
        .and_then(|m| m.getattr("Terminated")?.call1((message, signal)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// The chunk a worker's error names: the processes executor reports a worker's error
/// reply as `worker process PROGRAM (pid N): chunk I: ...`, and a chunk that took
/// down workers again and again as `chunk I took down a worker process ...`.
pub fn failed_chunk(message: &str) -> Option<u64> {
    let first = message.lines().next()?;
    let number = |rest: &str| -> Option<u64> {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    if let Some(rest) = first.strip_prefix("chunk ") {
        return number(rest).filter(|_| rest.contains(" took down a worker"));
    }
    let (_, rest) = first.split_once("): chunk ")?;
    let index = number(rest)?;
    rest[index.to_string().len()..]
        .starts_with(':')
        .then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_found_in_worker_errors() {
        let cases = [
            (
                "worker process /usr/bin/python3 (pid 12): chunk 7: m:f raised ValueError: x\nTraceback",
                Some(7),
            ),
            (
                "chunk 3 took down a worker process 3 times; the last one (pid 9) ...",
                Some(3),
            ),
            (
                "worker process python3 (pid 12): model.entry: cannot load",
                None,
            ),
            ("worker process python3 (pid 12): chunk 7 of 9", None),
            ("no worker process is left", None),
        ];
        for (message, chunk) in cases {
            assert_eq!(failed_chunk(message), chunk, "{message}");
        }
    }
}
