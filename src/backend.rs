//! How a run is launched: the backend that runs its chunks, and the command that
//! starts a worker process.
//!
//! Plain data below both the config (which names a backend) and the executors (which
//! run it), so that neither imports the other for it, and a model that runs only in
//! worker processes (the Python proxy) can say how they start.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where chunks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// One chunk after another on the calling thread.
    Sequential,
    /// A local pool of threads.
    Threads,
    /// Worker processes of the carlo executable.
    Processes,
    /// MPI ranks started by `mpirun`; only in builds with the `mpi` feature.
    Mpi,
}

impl Backend {
    /// The name used in configs, flags and the `backend` column.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sequential => "sequential",
            Backend::Threads => "threads",
            Backend::Processes => "processes",
            Backend::Mpi => "mpi",
        }
    }

    /// Whether this build of carlo can run the backend.
    pub fn is_available(self) -> bool {
        self != Backend::Mpi || cfg!(feature = "mpi")
    }
}

/// Why [`Backend::Mpi`] is refused in a build without the `mpi` feature.
pub const MPI_MISSING: &str =
    "carlo was built without the mpi feature; rebuild with --features mpi";

/// Number of cores this process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How to start one worker process: a program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<std::ffi::OsString>,
}

impl WorkerCommand {
    /// `program worker`: a carlo program's worker.
    pub fn carlo(program: impl Into<PathBuf>) -> Self {
        WorkerCommand {
            program: program.into(),
            args: vec!["worker".into()],
        }
    }

    /// `THIS_PROGRAM worker`.
    pub fn this_program() -> Result<Self, Error> {
        let program = std::env::current_exe().map_err(|e| {
            Error::Execution(format!(
                "cannot find this program's executable for workers: {e}"
            ))
        })?;
        Ok(Self::carlo(program))
    }
}
