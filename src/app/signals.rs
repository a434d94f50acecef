//! Signals that stop a run cleanly: Ctrl-C (SIGINT), SIGTERM and SIGHUP (sent by
//! batch schedulers and by dropped ssh sessions), and SIGUSR1 (Slurm's warning
//! before a time limit, `sbatch --signal=USR1@60`).
//!
//! The first of them asks the run to stop between chunks; the run then saves its
//! checkpoint, prints how to resume and exits with 128 + the signal's number (130
//! for Ctrl-C, 143 for SIGTERM). A second one exits at once, with the same rule.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::Error;

/// The signals that stop a run, with their names.
pub(super) const STOPPING: [(i32, &str); 4] = [
    (signal_hook::consts::SIGINT, "SIGINT"),
    (signal_hook::consts::SIGTERM, "SIGTERM"),
    (signal_hook::consts::SIGHUP, "SIGHUP"),
    (signal_hook::consts::SIGUSR1, "SIGUSR1"),
];

/// Whether a stopping signal has arrived, and which came first.
#[derive(Debug, Clone)]
pub(super) struct Stop {
    requested: Arc<AtomicBool>,
    first: Arc<AtomicUsize>,
}

impl Stop {
    /// Installs the handlers.
    pub(crate) fn install() -> Result<Self, Error> {
        use signal_hook::flag;
        let requested = Arc::new(AtomicBool::new(false));
        let first = Arc::new(AtomicUsize::new(0));
        for (signal, name) in STOPPING {
            let code = 128 + u32::try_from(signal).expect("signal numbers are small");
            // The shutdown hook is registered first so that it sees the flag as it
            // was before this signal: it exits only if an earlier one had set it.
            flag::register_conditional_shutdown(signal, code as i32, Arc::clone(&requested))
                .and_then(|_| flag::register(signal, Arc::clone(&requested)))
                .and_then(|_| {
                    // Only the first signal is kept: a handler that runs later finds
                    // the slot taken.
                    let first = Arc::clone(&first);
                    // SAFETY: the handler only does an atomic compare-exchange, which
                    // is async-signal-safe.
                    unsafe {
                        signal_hook::low_level::register(signal, move || {
                            let _ = first.compare_exchange(
                                0,
                                signal as usize,
                                Ordering::SeqCst,
                                Ordering::SeqCst,
                            );
                        })
                    }
                })
                .map_err(|e| Error::Execution(format!("cannot handle {name}: {e}")))?;
        }
        Ok(Stop { requested, first })
    }

    /// True once a stopping signal has arrived.
    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// The first stopping signal that arrived, with its name.
    pub(crate) fn signal(&self) -> Option<(i32, &'static str)> {
        let first = self.first.load(Ordering::SeqCst) as i32;
        STOPPING.into_iter().find(|(s, _)| *s == first)
    }
}
