//! Signals during a run started from Python: Ctrl-C (SIGINT), SIGTERM and SIGHUP.
//!
//! Python runs its signal handlers only on the main thread, between bytecodes, so a
//! run waiting in Rust (or a model stuck on another thread) would never see them. For
//! the run's duration the package installs plain handlers here instead (only where
//! Python's defaults are in place: the caller decides), which count the signals. The
//! first asks the run to stop at the next chunk and save its checkpoint, as the CLI's
//! does; the second stops at once: the threads running the model get a
//! `KeyboardInterrupt` (Python's asynchronous exception), and if the run still has
//! not ended [`GRACE`] later (a model stuck outside Python code), the process exits
//! with 128 + the signal's number, as the CLI does. The previous handlers come back
//! when the run ends.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;

/// Signals received during the current run.
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// The first of them.
static FIRST: AtomicI32 = AtomicI32::new(0);

/// How long a run may take to end after the second signal before the process exits.
pub const GRACE: Duration = Duration::from_secs(2);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only atomics: async-signal-safe.
    let _ = FIRST.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    COUNT.fetch_add(1, Ordering::SeqCst);
}

/// The handlers of a run, and the ones they replaced (restored when dropped).
pub struct Handlers {
    saved: Vec<(libc::c_int, libc::sigaction)>,
}

impl Handlers {
    /// Installs the counting handler for `signals`, after clearing the count.
    pub fn install(signals: &[i32]) -> std::io::Result<Self> {
        COUNT.store(0, Ordering::SeqCst);
        FIRST.store(0, Ordering::SeqCst);
        let mut saved = Vec::new();
        for &signal in signals {
            // SAFETY: a zeroed sigaction is valid; the handler only touches atomics.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) != 0 {
                    let e = std::io::Error::last_os_error();
                    drop(Handlers { saved });
                    return Err(e);
                }
                saved.push((signal, old));
            }
        }
        Ok(Handlers { saved })
    }
}

impl Drop for Handlers {
    fn drop(&mut self) {
        for (signal, old) in self.saved.drain(..).rev() {
            // SAFETY: restoring the action sigaction returned for this signal.
            unsafe {
                libc::sigaction(signal, &old, std::ptr::null_mut());
            }
        }
    }
}

/// Signals received since the handlers were installed.
pub fn count() -> usize {
    COUNT.load(Ordering::SeqCst)
}

/// The first signal received, with its name.
pub fn first() -> Option<(i32, &'static str)> {
    match FIRST.load(Ordering::SeqCst) {
        0 => None,
        s if s == libc::SIGINT => Some((s, "SIGINT")),
        s if s == libc::SIGTERM => Some((s, "SIGTERM")),
        s if s == libc::SIGHUP => Some((s, "SIGHUP")),
        s => Some((s, "a signal")),
    }
}

/// What a [`Watcher`] runs to show queued messages.
pub type Flush = Mutex<dyn FnMut(Python<'_>) + Send>;

/// A thread that watches for the second signal while a run goes on, and meanwhile
/// hands queued messages to `flush` (the run's observer runs only between chunks,
/// which a stuck chunk never reaches).
pub struct Watcher {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching; `flush` runs with the GIL about twice a second once a stop
    /// was asked for.
    pub fn start(flush: Arc<Flush>) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let ended = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("carlo-signals".into())
            .spawn(move || watch(&ended, &flush))
            .ok();
        Watcher { done, thread }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watch(done: &AtomicBool, flush: &Flush) {
    let tick = Duration::from_millis(20);
    let mut since_flush = Duration::ZERO;
    while !done.load(Ordering::SeqCst) {
        std::thread::sleep(tick);
        since_flush += tick;
        if count() >= 1 && since_flush >= Duration::from_millis(500) {
            since_flush = Duration::ZERO;
            Python::attach(|py| {
                if let Ok(mut f) = flush.lock() {
                    f(py);
                }
            });
        }
        if count() < 2 {
            continue;
        }
        interrupt_models();
        let mut waited = Duration::ZERO;
        while waited < GRACE {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(tick);
            waited += tick;
        }
        let signal = first().map_or(libc::SIGINT, |(s, _)| s);
        let line = b"\ninterrupted again, and a chunk does not stop (it is stuck outside \
                     Python code): exiting now\n";
        // SAFETY: writing a buffer to the standard error descriptor, then exiting
        // without running destructors (the run cannot end on its own).
        unsafe {
            libc::write(2, line.as_ptr().cast(), line.len());
            libc::_exit(128 + signal);
        }
    }
}

/// Raises `KeyboardInterrupt` in every Python thread running a model's call.
pub fn interrupt_models() {
    let threads: Vec<u64> = crate::model::RUNNING
        .lock()
        .map(|set| {
            set.as_ref()
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    if threads.is_empty() {
        return;
    }
    Python::attach(|_py| {
        for id in threads {
            // SAFETY: the GIL is held; the exception type is a borrowed constant.
            unsafe {
                pyo3::ffi::PyThreadState_SetAsyncExc(
                    id as std::os::raw::c_long,
                    pyo3::ffi::PyExc_KeyboardInterrupt,
                );
            }
        }
    });
}
