//! Signals that stop a run cleanly.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::Error;

/// A flag that the first Ctrl-C (SIGINT) sets, so that the run stops between chunks
/// and saves its checkpoint; a second Ctrl-C exits at once with 130.
pub(super) fn ctrl_c() -> Result<Arc<AtomicBool>, Error> {
    use signal_hook::{consts::SIGINT, flag};
    let interrupt = Arc::new(AtomicBool::new(false));
    // The shutdown hook is registered first so that it sees the flag as it was
    // before this signal: it exits only if an earlier Ctrl-C had already set it.
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&interrupt))
        .and_then(|_| flag::register(SIGINT, Arc::clone(&interrupt)))
        .map_err(|e| Error::Execution(format!("cannot handle Ctrl-C: {e}")))?;
    Ok(interrupt)
}
