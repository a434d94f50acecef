//! Fault injection for tests: the `CARLO_FAULT` environment variable.
//!
//! Worker processes and MPI ranks read it (they inherit the environment) and
//! misbehave on purpose, so that tests can check that a crashing or slow worker never
//! changes the result. A comma-separated list of:
//!
//! - `abort-at:CHUNK`: the first worker to start chunk `CHUNK` aborts (SIGABRT). The
//!   chunk's attempt counter, sent by the parent, makes it once per run: the worker that
//!   runs it again computes it normally.
//! - `abort-always:CHUNK`: every worker that starts chunk `CHUNK` aborts, so the run
//!   ends with an error naming the chunk.
//! - `sleep-at:CHUNK:MILLISECONDS`: every worker sleeps that long before chunk `CHUNK`.
//! - `stall-at:CHUNK`: the first worker to start chunk `CHUNK` hangs (sleeps for a
//!   day), as a model stuck waiting would; the one that runs it again does not.
//! - `busy-at:CHUNK:MILLISECONDS`: every worker computes (burns CPU) that long
//!   before chunk `CHUNK`, as a slow chunk or a JIT warming up would: busy, not stuck.
//! - `stall-at-start`: every worker process hangs before it answers its first
//!   hello, as a model whose build (a Python import) never returns.
//! - `warm-up:MILLISECONDS`: every worker process waits that long (sleeping) before
//!   its first chunk, as a model that loads a table on first use.
//!
//! Worker processes, MPI ranks and the threads backend act on it; the sequential
//! backend ignores it.

use std::time::Duration;

use crate::Error;

/// The environment variable.
pub(crate) const VAR: &str = "CARLO_FAULT";

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    AbortAt(u64),
    AbortAlways(u64),
    SleepAt(u64, Duration),
    StallAt(u64),
    BusyAt(u64, Duration),
    StallAtStart,
    WarmUp(Duration),
}

/// The faults a worker injects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    /// The faults `CARLO_FAULT` asks for; none when it is unset or empty.
    pub(crate) fn from_env() -> Result<Self, Error> {
        match std::env::var(VAR) {
            Err(std::env::VarError::NotPresent) => Ok(Faults::default()),
            Err(std::env::VarError::NotUnicode(_)) => Err(invalid("is not valid UTF-8".into())),
            Ok(text) => Self::parse(&text).map_err(invalid),
        }
    }

    /// Parses a fault list such as `abort-at:3,sleep-at:5:100`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let number = |s: &str, what: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("expected {what} as a whole number, found {s:?}"))
        };
        let mut faults = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let parts: Vec<&str> = item.split(':').collect();
            faults.push(match parts[..] {
                ["abort-at", chunk] => Fault::AbortAt(number(chunk, "a chunk index")?),
                ["abort-always", chunk] => Fault::AbortAlways(number(chunk, "a chunk index")?),
                ["stall-at", chunk] => Fault::StallAt(number(chunk, "a chunk index")?),
                ["stall-at-start"] => Fault::StallAtStart,
                ["warm-up", ms] => {
                    Fault::WarmUp(Duration::from_millis(number(ms, "milliseconds")?))
                }
                ["busy-at", chunk, ms] => Fault::BusyAt(
                    number(chunk, "a chunk index")?,
                    Duration::from_millis(number(ms, "milliseconds")?),
                ),
                ["sleep-at", chunk, ms] => Fault::SleepAt(
                    number(chunk, "a chunk index")?,
                    Duration::from_millis(number(ms, "milliseconds")?),
                ),
                _ => {
                    return Err(format!(
                        "unknown fault {item:?}; expected abort-at:CHUNK, abort-always:CHUNK, \
                         stall-at:CHUNK, sleep-at:CHUNK:MILLISECONDS, \
                         busy-at:CHUNK:MILLISECONDS, stall-at-start or warm-up:MILLISECONDS, \
                         comma-separated"
                    ));
                }
            });
        }
        Ok(Faults(faults))
    }

    /// Acts out the faults for chunk `index` on its `attempt`-th try (0 first): may
    /// sleep, or abort the process after saying why on stderr.
    pub(crate) fn before_chunk(&self, index: u64, attempt: u32) {
        for fault in &self.0 {
            match *fault {
                Fault::SleepAt(at, pause) if at == index => std::thread::sleep(pause),
                Fault::StallAt(at) if at == index && attempt == 0 => {
                    std::thread::sleep(Duration::from_secs(86_400));
                }
                Fault::AbortAt(at) if at == index && attempt == 0 => abort(index, "abort-at"),
                Fault::AbortAlways(at) if at == index => abort(index, "abort-always"),
                Fault::BusyAt(at, busy) if at == index => burn(busy),
                _ => {}
            }
        }
    }

    /// Acts out the faults before a worker process's first chunk: may wait.
    pub fn before_first_chunk(&self) {
        for fault in &self.0 {
            if let Fault::WarmUp(pause) = *fault {
                std::thread::sleep(pause);
            }
        }
    }

    /// Acts out the faults before a worker process answers a hello: may hang.
    pub fn before_hello(&self) {
        if self.0.contains(&Fault::StallAtStart) {
            std::thread::sleep(Duration::from_secs(86_400));
        }
    }
}

/// Computes for `busy`: a loop the optimizer cannot remove, on this thread's core.
fn burn(busy: Duration) {
    let start = std::time::Instant::now();
    let mut x = 1u64;
    while start.elapsed() < busy {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
}

fn abort(index: u64, kind: &str) -> ! {
    crate::say!("carlo worker: {VAR}={kind}:{index}: aborting at chunk {index}");
    std::process::abort()
}

fn invalid(reason: String) -> Error {
    Error::Flag {
        flag: VAR.into(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        assert_eq!(Faults::parse("").unwrap(), Faults::default());
        assert_eq!(
            Faults::parse("abort-at:3, abort-always:4,sleep-at:5:250,busy-at:6:7,stall-at-start")
                .unwrap(),
            Faults(vec![
                Fault::AbortAt(3),
                Fault::AbortAlways(4),
                Fault::SleepAt(5, Duration::from_millis(250)),
                Fault::BusyAt(6, Duration::from_millis(7)),
                Fault::StallAtStart,
            ])
        );
    }

    #[test]
    fn refuses_nonsense() {
        for text in [
            "abort",
            "abort-at:x",
            "abort-at:-1",
            "sleep-at:1",
            "crash:1",
            "abort-at:1:2",
        ] {
            assert!(Faults::parse(text).is_err(), "{text}");
        }
    }
}
