//! The body of a Python worker process (`python -m carlo._worker`): carlo's worker
//! protocol on the process's original standard input and output, served by
//! [`carlo::exec::processes::serve`] with this package's registry.
//!
//! Before serving, the protocol's pipes are moved to new descriptors and the
//! standard ones are pointed elsewhere: standard output to standard error, standard
//! input to `/dev/null`. A model that prints (Python's `print`, a C library writing
//! to descriptor 1) then writes to the worker's stderr, where the parent keeps the
//! last line for its messages, and can never corrupt a protocol line.
//!
//! Like `carlo worker`, it ignores SIGINT, SIGTERM and SIGHUP: they reach the whole
//! process group, and the parent decides what they mean. It ends when its input ends, which happens
//! however the parent ends; on Linux the parent also has the kernel kill it if the
//! parent dies.

use std::fs::File;
use std::io::BufReader;
use std::os::fd::FromRawFd;
use std::sync::Arc;

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

use crate::model;

/// Serves the worker protocol until the parent closes the input; raises if the
/// parent sent something the worker cannot serve (after telling the parent).
/// By-value models and per-job options are found in `dirs`; `capture` (a
/// `carlo._worker.Capture`) forwards each chunk's output to the parent.
#[pyfunction]
#[pyo3(signature = (dirs=Vec::new(), capture=None))]
pub fn serve_worker(py: Python<'_>, dirs: Vec<String>, capture: Option<Py<PyAny>>) -> PyResult<()> {
    let (input, output) = take_standard_streams()?;
    // SAFETY: setting a signal's disposition to "ignore" installs no handler code.
    unsafe {
        // The signals that stop a run reach the whole process group (a terminal's
        // Ctrl-C, a scheduler's SIGTERM); the parent saves and ends the run.
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    keep_freed_memory();
    let source = model::Source {
        function: None,
        dirs,
        options: model::Options::default(),
        capture,
    };
    let registry = model::registry(Arc::new(source), Arc::default());
    py.detach(|| carlo::exec::processes::serve(BufReader::new(input), output, &registry))
        .map_err(|e| PyOSError::new_err(format!("carlo worker: {e}")))
}

/// Keeps memory freed by one chunk for the next. A numpy model allocates temporaries
/// of megabytes per chunk; glibc's defaults map such blocks afresh, or hand the freed
/// heap back to the system, at every chunk, and the page faults that follow made a
/// numpy pi three times slower on a process's main thread (where a worker runs its
/// model). A worker is carlo's own process, so it may keep up to these sizes.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator thresholds; no allocation is running.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// Moves standard input and output to new descriptors, returned as files, and points
/// descriptor 0 at `/dev/null` and descriptor 1 at standard error.
fn take_standard_streams() -> PyResult<(File, File)> {
    let fail =
        |what: &str| PyOSError::new_err(format!("{what}: {}", std::io::Error::last_os_error()));
    // SAFETY: plain descriptor calls on descriptors this process owns; each new
    // descriptor is owned by exactly one `File`.
    unsafe {
        let input = libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3);
        let output = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
        if input < 0 || output < 0 {
            return Err(fail("cannot duplicate the standard streams"));
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null < 0 || libc::dup2(null, 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(fail("cannot redirect the standard streams"));
        }
        libc::close(null);
        Ok((File::from_raw_fd(input), File::from_raw_fd(output)))
    }
}
