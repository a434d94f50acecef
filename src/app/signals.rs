//! Signals that stop a run cleanly: Ctrl-C (SIGINT), SIGTERM and SIGHUP (sent by
//! batch schedulers and by dropped ssh sessions), and SIGUSR1 (Slurm's warning
//! before a time limit, `sbatch --signal=USR1@60`).
//!
//! The first of them asks the run to stop between chunks; the run then saves its
//! checkpoint, prints how to resume and exits with 128 + the signal's number (130
//! for Ctrl-C, 143 for SIGTERM). A second one exits with 128 + its number, but never
//! in the middle of a save: a write in progress (a checkpoint, a summary and its job
//! file) completes first, and a run that keeps a checkpoint and has not saved since
//! the first signal gets [`GRACE`] to do so (it saves within a fraction of a second
//! unless a chunk blocks its engine), so that two quick Ctrl-Cs never lose what the
//! first one was saving.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// The signals that stop a run, with their names.
pub(super) const STOPPING: [(i32, &str); 4] = [
    (signal_hook::consts::SIGINT, "SIGINT"),
    (signal_hook::consts::SIGTERM, "SIGTERM"),
    (signal_hook::consts::SIGHUP, "SIGHUP"),
    (signal_hook::consts::SIGUSR1, "SIGUSR1"),
];

/// How long a second signal waits for the first one's save, at most.
pub(super) const GRACE: Duration = Duration::from_secs(3);

/// Whether a stopping signal has arrived, and which came first.
#[derive(Debug, Clone)]
pub(super) struct Stop {
    requested: Arc<AtomicBool>,
    first: Arc<AtomicUsize>,
}

impl Stop {
    /// Installs the handlers: a thread that receives the signals. `saves` says
    /// whether the run keeps a checkpoint, which a second signal gives its grace.
    pub(crate) fn install(saves: bool) -> Result<Self, Error> {
        let mut signals = signal_hook::iterator::Signals::new(STOPPING.map(|(s, _)| s))
            .map_err(|e| Error::Execution(format!("cannot handle stopping signals: {e}")))?;
        let requested = Arc::new(AtomicBool::new(false));
        let first = Arc::new(AtomicUsize::new(0));
        let stop = Stop {
            requested: Arc::clone(&requested),
            first: Arc::clone(&first),
        };
        std::thread::Builder::new()
            .name("carlo-signals".into())
            .spawn(move || {
                let mut saves_at_first = 0;
                for signal in signals.forever() {
                    if !requested.load(Ordering::SeqCst) {
                        // Which signal first, before the run can see that one came.
                        first.store(signal as usize, Ordering::SeqCst);
                        saves_at_first = crate::output::saves();
                        requested.store(true, Ordering::SeqCst);
                        continue;
                    }
                    // A second signal: exit, once what is being saved is saved.
                    let start = Instant::now();
                    while crate::output::saving()
                        || (saves
                            && crate::output::saves() == saves_at_first
                            && start.elapsed() < GRACE)
                    {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    std::process::exit(128 + signal);
                }
            })
            .map_err(|e| Error::Execution(format!("cannot start the signal thread: {e}")))?;
        Ok(stop)
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
