//! One worker process as the parent sees it: the child, a thread reading its replies
//! and a thread keeping its last stderr line.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::protocol::{self, Reply};
use crate::Error;

/// What a worker's reader thread tells the parent.
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
    process: Child,
    stdin: Option<ChildStdin>,
    last_stderr: Arc<Mutex<String>>,
    stderr_closed: Receiver<()>,
}

impl Worker {
    /// Starts `program worker`, whose replies become events on `events` tagged with
    /// `id`: unique among the workers an executor ever starts, so that events from a
    /// replaced worker are recognised as stale.
    pub fn spawn(program: &Path, id: u64, events: Sender<Event>) -> Result<Self, Error> {
        let mut command = Command::new(program);
        command
            .arg("worker")
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
        let thread = |name: &str| std::thread::Builder::new().name(format!("carlo-{name}-{id}"));
        // Replies are parsed on this thread, off the thread that merges.
        thread("replies")
            .spawn(move || read_replies(stdout, id, &events))
            .map_err(|e| Error::Execution(format!("cannot start a reader thread: {e}")))?;
        let last_stderr = Arc::new(Mutex::new(String::new()));
        let (closed_tx, stderr_closed) = mpsc::channel();
        let last = Arc::clone(&last_stderr);
        thread("stderr")
            .spawn(move || {
                keep_last_line(stderr, &last);
                let _ = closed_tx.send(());
            })
            .map_err(|e| Error::Execution(format!("cannot start a reader thread: {e}")))?;
        Ok(Worker {
            in_flight: VecDeque::new(),
            process,
            stdin,
            last_stderr,
            stderr_closed,
        })
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Sends one line. A worker that cannot be written to is dead or dying: it is
    /// killed, and its closed output then reports it as any other death.
    pub fn send(&mut self, line: &str) {
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
    pub fn bury(mut self) -> (Option<ExitStatus>, String) {
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

/// Decodes each line of a worker's stdout into an event, until the stream ends or
/// the parent stops listening.
fn read_replies(stdout: impl Read, id: u64, events: &Sender<Event>) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let reply = protocol::decode(&line);
                // A partial line means the worker died while writing it: that is
                // reported as its death, below, not as a malformed message.
                let truncated = reply.is_err() && !line.ends_with(b"\n");
                if truncated || events.send(Event::Message { id, reply }).is_err() {
                    break;
                }
            }
        }
    }
    let _ = events.send(Event::Closed { id });
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
