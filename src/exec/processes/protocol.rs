//! The worker protocol: one JSON object per line over a worker's stdin and stdout.
//!
//! ```text
//! parent -> worker   {"type":"hello","v":1,"job":{...}}        once, and again for a new job
//!                    {"type":"chunk","index":7,"blocks":{"start":112,"end":128},"attempt":0}
//! worker -> parent   {"type":"ready","v":1}                     answers a hello
//!                    {"type":"done","index":7,"stats":{"blocks":..,"parts":[..],"digests":[..]}}
//!                    {"type":"error","message":"...","input":false}  then the worker exits
//! ```
//!
//! A worker answers requests in the order it received them. A chunk's statistics
//! travel in carlo's one encoding of them (`stats::codec`: the count and the
//! floats' IEEE-754 bit patterns, as hex), so every value, NaN and infinities
//! included, arrives with exactly the bits it left with: a chunk computed in a worker
//! must merge to the same bits as one computed in the parent. `attempt` counts
//! the workers that chunk has already taken down; only fault injection reads it.
//!
//! The version `v` is checked on both sides before anything else in the message is
//! read, so a mismatched worker says so instead of failing on a renamed field.

use serde::{Deserialize, Serialize};

use crate::config::Job;
use crate::stats::ChunkStats;

/// The protocol version this build speaks.
pub(crate) const VERSION: u32 = 3;

/// A message from the parent to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum Request {
    /// Run chunks of this job from now on. `job` stays raw JSON until `v` is checked.
    Hello {
        /// Protocol version of the parent.
        v: u32,
        /// The job, as serialized by [`Request::hello`].
        job: serde_json::Value,
    },
    /// Run one chunk of the current job.
    Chunk {
        /// The chunk's index in the parent's plan (for replies and fault injection).
        index: u64,
        /// Its blocks.
        blocks: std::ops::Range<u64>,
        /// How many workers this chunk has taken down so far.
        attempt: u32,
    },
}

/// A message from a worker to the parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum Reply {
    /// The worker accepted a hello.
    Ready {
        /// Protocol version of the worker.
        v: u32,
    },
    /// A chunk's statistics.
    Done {
        /// The chunk's index.
        index: u64,
        /// Its statistics.
        stats: ChunkStats,
    },
    /// The worker cannot go on; it exits after sending this.
    Error {
        /// What went wrong.
        message: String,
        /// Whether the job itself is at fault (a parameter only the worker can check,
        /// a module a Python model cannot import): bad input, exit 2, rather than a
        /// failure while running. Absent means false.
        #[serde(default)]
        input: bool,
    },
}

impl Request {
    /// The hello that hands `job` to a worker.
    pub(crate) fn hello(job: &Job) -> Self {
        Request::Hello {
            v: VERSION,
            job: serde_json::to_value(job).expect("a job always serializes"),
        }
    }

    /// The job of a hello, once its version is known to be ours.
    pub(crate) fn job(v: u32, job: serde_json::Value) -> Result<Job, String> {
        if v != VERSION {
            return Err(format!(
                "the parent speaks worker protocol version {v}, this worker speaks version {VERSION}: \
                 parent and workers must be the same carlo build"
            ));
        }
        let job: Job = serde_json::from_value(job)
            .map_err(|e| format!("the hello carries an invalid job: {e}"))?;
        job.check_plan()
            .map_err(|e| format!("the hello carries an invalid job: {e}"))?;
        Ok(job)
    }
}

impl Reply {
    /// The reply carrying chunk `index`'s statistics.
    pub(crate) fn done(index: u64, stats: ChunkStats) -> Self {
        Reply::Done { index, stats }
    }
}

/// A message as one line, newline included.
pub(crate) fn encode<T: Serialize>(message: &T) -> String {
    let mut line = serde_json::to_string(message).expect("protocol messages always serialize");
    line.push('\n');
    line
}

/// Parses one received line. `line` must be complete: a line cut short by the end of
/// the stream is a truncated message and gives an error, like any malformed one.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(line: &[u8]) -> Result<T, String> {
    let Some(body) = line.strip_suffix(b"\n") else {
        return Err(format!(
            "truncated message (the stream ended mid-line): {}",
            excerpt(line)
        ));
    };
    serde_json::from_slice(body).map_err(|e| format!("malformed message ({e}): {}", excerpt(body)))
}

/// The start of a bad line, printable, for error messages.
fn excerpt(line: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelSpec;
    use crate::models::PiParams;

    fn job() -> Job {
        Job {
            samples: 1000,
            seed: u64::MAX,
            chunk_size: 4096,
            confidence: 0.95,
            model: ModelSpec::new("pi", &PiParams {}),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        }
    }

    #[test]
    fn hello_round_trips_the_job() {
        let line = encode(&Request::hello(&job()));
        match decode::<Request>(line.as_bytes()).unwrap() {
            Request::Hello { v, job: raw } => assert_eq!(Request::job(v, raw).unwrap(), job()),
            other => panic!("decoded {other:?}"),
        }
    }

    /// Statistics of a chunk of two blocks whose values span many binades.
    fn stats() -> ChunkStats {
        let mut sums = crate::stats::ExactSums::new(2);
        sums.add_block(
            3,
            &[0.1 + 0.2, -1e-300],
            &[1e300, 5e-324],
            &[3.0, -0.0, 1e-10],
        );
        sums.add_block(
            2,
            &[std::f64::consts::PI, 0.0],
            &[-1.0, 2.0],
            &[1.0, 2.0, 3.0],
        );
        ChunkStats {
            blocks: 4..6,
            parts: vec![(6, sums)],
            digests: vec![u64::MAX, 0],
        }
    }

    #[test]
    fn statistics_keep_every_bit() {
        let line = encode(&Reply::done(5, stats()));
        let Reply::Done { index, stats: back } = decode(line.as_bytes()).unwrap() else {
            panic!("not a done reply: {line}");
        };
        assert_eq!(index, 5);
        assert_eq!(back, stats());
        assert_eq!(back.parts[0].1.to_words(), stats().parts[0].1.to_words());
    }

    #[test]
    fn truncated_lines_are_errors() {
        let line = encode(&Reply::done(5, stats()));
        for cut in [0, 1, line.len() / 2, line.len() - 1] {
            let err = decode::<Reply>(&line.as_bytes()[..cut]).unwrap_err();
            assert!(err.starts_with("truncated message"), "{cut}: {err}");
        }
        // Cut short but terminated: the JSON itself is incomplete.
        let err = decode::<Reply>(b"{\"type\":\"done\",\"index\":3,\"co\n").unwrap_err();
        assert!(err.starts_with("malformed message"), "{err}");
    }

    #[test]
    fn malformed_lines_are_errors() {
        let cases: [&[u8]; 9] = [
            b"\n",
            b"running 3 tests\n",
            b"{}\n",
            b"{\"type\":\"finished\",\"index\":1}\n",
            b"{\"type\":\"done\",\"index\":-1,\"stats\":\"\"}\n",
            b"{\"type\":\"done\",\"index\":1,\"stats\":\"0000000000000001\"}\n",
            b"{\"type\":\"ready\",\"v\":1,\"extra\":true}\n",
            b"{\"type\":\"ready\"}\n",
            b"\xff\xfe{\"type\":\"ready\",\"v\":1}\n",
        ];
        for line in cases {
            let err = decode::<Reply>(line).unwrap_err();
            assert!(err.starts_with("malformed message"), "{line:?}: {err}");
        }
        assert!(decode::<Request>(b"{\"type\":\"chunk\",\"index\":1}\n").is_err());
    }

    #[test]
    fn excerpts_are_short() {
        let long = format!("{}\n", "x".repeat(1000));
        let err = decode::<Reply>(long.as_bytes()).unwrap_err();
        assert!(err.len() < 200, "{err}");
        assert!(err.ends_with("..."), "{err}");
    }

    #[test]
    fn other_versions_are_refused_before_the_job_is_read() {
        let err = Request::job(VERSION + 1, serde_json::json!({"renamed": 1})).unwrap_err();
        assert!(err.contains("version"), "{err}");
        assert!(Request::job(VERSION, serde_json::json!({"renamed": 1})).is_err());
        // A job no config could give (chunks of nothing) is refused, not planned.
        let mut empty = serde_json::to_value(job()).unwrap();
        empty["samples"] = 0.into();
        let err = Request::job(VERSION, empty).unwrap_err();
        assert!(err.contains("samples = 0"), "{err}");
    }
}
