//! One worker process as the parent sees it: the child, its pipes, and a thread
//! keeping its last stderr line.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::protocol::{self, Reply};
use crate::Error;
use crate::backend::WorkerCommand;
use crate::exec::stall::{Phase, Watch};

/// What the parent learns from a worker's standard output.
#[derive(Debug)]
pub(super) enum Event {
    /// Worker `id` sent a line: a reply, or why it is not one.
    Message {
        id: u64,
        reply: Result<Reply, String>,
    },
    /// Worker `id` closed its standard output: it died or is about to.
    Closed { id: u64 },
}

/// A running worker.
#[derive(Debug)]
pub(super) struct Worker {
    /// Chunks sent and not yet answered, oldest first. The worker answers in order,
    /// so the front is the chunk it is running.
    pub in_flight: VecDeque<u64>,
    /// Its current chunk (the front one, since its last answer, or since the chunk
    /// was sent if it was idle, or since it said it was ready) or its start (since
    /// the hello was sent), as the stall policy watches it.
    pub watch: Watch,
    /// Whether it answered the current hello (its model is built).
    pub ready: bool,
    /// Chunks it has answered since it was greeted.
    pub answered: u64,
    process: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    /// Received bytes of a line not yet complete.
    partial: Vec<u8>,
    last_stderr: Arc<Mutex<String>>,
    stderr_closed: Receiver<()>,
}

impl Worker {
    /// Starts a worker with `start`; `id` names its threads.
    pub(crate) fn spawn(start: &WorkerCommand, id: u64) -> Result<Self, Error> {
        let program = &start.program;
        let mut command = Command::new(program);
        command
            .args(&start.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut process = command.spawn().map_err(|e| {
            Error::Execution(format!(
                "cannot start worker process {}: {e}",
                program.display()
            ))
        })?;
        let stdin = process.stdin.take();
        let stdout = process.stdout.take().expect("stdout is piped");
        let stderr = process.stderr.take().expect("stderr is piped");
        let last_stderr = Arc::new(Mutex::new(String::new()));
        let (closed_tx, stderr_closed) = mpsc::channel();
        let last = Arc::clone(&last_stderr);
        std::thread::Builder::new()
            .name(format!("carlo-stderr-{id}"))
            .spawn(move || {
                keep_last_line(stderr, &last);
                let _ = closed_tx.send(());
            })
            .map_err(|e| Error::Execution(format!("cannot start a reader thread: {e}")))?;
        Ok(Worker {
            in_flight: VecDeque::new(),
            watch: Watch::new(Phase::Starting),
            ready: false,
            answered: 0,
            process,
            stdin,
            stdout,
            partial: Vec::new(),
            last_stderr,
            stderr_closed,
        })
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The descriptor of its standard output, to poll.
    pub(crate) fn stdout_fd(&self) -> RawFd {
        self.stdout.as_raw_fd()
    }

    /// Reads what its standard output holds (call only when a poll says it is
    /// readable, or this blocks) and returns the events of the complete lines, ending
    /// with [`Event::Closed`] at end of file. A line cut short by the end of file
    /// means the worker died while writing it: that is its death, not a malformed
    /// message.
    pub(crate) fn receive(&mut self, id: u64) -> Vec<Event> {
        let mut buf = [0; 8192];
        let n = match self.stdout.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Vec::new(),
            Ok(0) | Err(_) => return vec![Event::Closed { id }],
            Ok(n) => n,
        };
        self.partial.extend_from_slice(&buf[..n]);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(end) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let line = &self.partial[start..=start + end];
            events.push(Event::Message {
                id,
                reply: protocol::decode(line),
            });
            start += end + 1;
        }
        self.partial.drain(..start);
        events
    }

    /// Sends one line. A worker that cannot be written to is dead or dying: it is
    /// killed, and its closed output then reports it as any other death.
    pub(crate) fn send(&mut self, line: &str) {
        let sent = match &mut self.stdin {
            Some(stdin) => stdin.write_all(line.as_bytes()).is_ok(),
            None => false,
        };
        if !sent {
            self.stdin = None;
            let _ = self.process.kill();
        }
    }

    /// Kills and reaps the worker; returns how it ended and its last stderr line.
    pub(crate) fn bury(mut self) -> (Option<ExitStatus>, String) {
        self.stdin = None;
        let _ = self.process.kill();
        let status = self.process.wait().ok();
        // The stderr thread ends at end of file, which follows the process's death
        // unless something it started still holds the pipe: wait a little, not forever.
        let _ = self.stderr_closed.recv_timeout(Duration::from_secs(1));
        let line = self
            .last_stderr
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        (status, line)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin alone would let the worker finish its chunk first; a worker
        // being dropped has nothing left to say, so it is killed and reaped now.
        self.stdin = None;
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Reads a worker's stderr to its end, keeping the last non-blank line.
fn keep_last_line(stderr: impl Read, last: &Mutex<String>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if !line.trim().is_empty()
            && let Ok(mut last) = last.lock()
        {
            *last = line;
        }
    }
}

/// How a process ended, in words.
pub(super) fn describe(status: Option<ExitStatus>) -> String {
    #[cfg(unix)]
    if let Some(signal) = status.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s)) {
        let name = match signal {
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGSEGV => " (SIGSEGV)",
            libc::SIGBUS => " (SIGBUS)",
            libc::SIGTERM => " (SIGTERM)",
            libc::SIGINT => " (SIGINT)",
            _ => "",
        };
        return format!("was killed by signal {signal}{name}");
    }
    match status.and_then(|s| s.code()) {
        Some(code) => format!("exited with code {code}"),
        None => "ended in an unknown way".to_string(),
    }
}

/// On Linux, asks the kernel to SIGKILL the child when its parent dies, even by
/// SIGKILL, when no destructor runs. (The request is tied to the spawning thread;
/// carlo spawns workers from the thread that runs the executor.)
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = libc::pid_t::try_from(std::process::id()).expect("pids fit in pid_t");
    // SAFETY: the closure runs in the child between fork and exec; it only makes
    // async-signal-safe system calls and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before the request took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Elsewhere, workers still stop when their stdin closes at the parent's exit.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}
