//! The processes executor: chunks run in `carlo worker` child processes.
//!
//! Why processes when threads have no GIL: a model that crashes, aborts or runs out of
//! memory takes down one worker, not the run (the worker is replaced and its chunks run
//! again); each worker has its own memory; and the line protocol of [`protocol`] is the
//! same job-plus-chunk-indices exchange that shards and clusters need.
//!
//! The parent keeps [`DEPTH`] chunks in flight per worker (or [`DEPTH_VAR`]'s), handed out from one
//! ascending queue, so a worker's pipe never idles and a slow worker never stalls the
//! others. A worker that dies is buried (killed and reaped), its unfinished chunks go
//! back to the front of the queue, and a fresh worker takes its place. The chunk it was
//! running is charged with the death; a chunk charged [`MAX_FAILURES`] times ends the
//! run. Workers never outlive the parent: they stop on stdin EOF, the parent kills and
//! reaps them when the executor is dropped, and on Linux the kernel kills them if the
//! parent is killed.

mod child;
pub mod fault;
pub mod protocol;
mod worker;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::stall::cpu;
use super::stall::pause::Pauses;
use super::stall::{Phase, Policy, TICK, Timing, Verdict};
use super::{Event as Report, Executor, Flow, Queue, Work};
use crate::Error;
use crate::backend::WorkerCommand;
use crate::config::Job;
use crate::stats::ChunkStats;
use child::{Event, Worker};
use protocol::{Reply, Request};

pub use worker::{serve, serve_stdio};

/// Chunks sent to a worker ahead of its answers: two keep its pipe busy (it starts the
/// next chunk while the parent handles the last answer) without hoarding chunks that
/// an idle worker could take. [`DEPTH_VAR`] changes it, to measure.
pub const DEPTH: usize = 2;

/// The variable that sets the chunks in flight per worker (1 to [`MAX_DEPTH`]) instead
/// of [`DEPTH`]: a measuring knob (benches/scaling-16.sh), since a parent that answers
/// late on a machine whose every core runs a worker leaves workers idle unless they
/// hold more than one chunk ahead. It changes who computes a chunk, never the result.
pub const DEPTH_VAR: &str = "CARLO_WORKER_DEPTH";

/// The most chunks in flight per worker [`DEPTH_VAR`] may ask for.
pub const MAX_DEPTH: usize = 16;

/// The chunks in flight per worker: [`DEPTH_VAR`] if set, else [`DEPTH`].
fn depth_from_env() -> Result<usize, Error> {
    let invalid = |reason: String| Error::Flag {
        flag: DEPTH_VAR.into(),
        reason,
    };
    match std::env::var(DEPTH_VAR) {
        Err(std::env::VarError::NotPresent) => Ok(DEPTH),
        Err(std::env::VarError::NotUnicode(_)) => Err(invalid("is not valid UTF-8".into())),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(depth) if (1..=MAX_DEPTH).contains(&depth) => Ok(depth),
            _ => Err(invalid(format!(
                "expected the chunks in flight per worker, 1 to {MAX_DEPTH}, found {text:?}"
            ))),
        },
    }
}

/// Deaths a chunk may cause before the run gives up on it.
pub const MAX_FAILURES: u32 = 3;

/// Why a worker is replaced.
enum Death {
    /// It exited or was killed from outside.
    Died,
    /// The stall policy took it for stuck (see [`super::stall`]), and it was killed
    /// here: why, in words.
    Stalled(String),
}

/// Runs chunks in worker processes of the `carlo` executable.
#[derive(Debug)]
pub struct Processes {
    command: WorkerCommand,
    size: usize,
    /// Live workers by id; ascending ids make the hand-out order reproducible.
    pool: BTreeMap<u64, Worker>,
    /// The hello the live workers were given, if any.
    hello: Option<(Job, String)>,
    next_id: u64,
    /// Events read from workers and not yet handled.
    inbox: VecDeque<Event>,
    /// Workers that died and were replaced, over the executor's life.
    restarts: u64,
    /// The chunk timeout the user gave, if any.
    chunk_timeout: Option<Duration>,
    /// Chunks in flight per worker.
    depth: usize,
}

impl Processes {
    /// `workers` worker processes of this executable (0: one per available core).
    /// Only a program whose `main` runs `carlo::app::main` (which answers `worker`)
    /// can use it; elsewhere (tests, benchmarks, other binaries) use
    /// [`with_program`](Self::with_program).
    pub fn new(workers: usize) -> Result<Self, Error> {
        Self::with_command(WorkerCommand::this_program()?, workers)
    }

    /// `workers` worker processes running `program worker` (0: one per available
    /// core). `program` must be a carlo program of this build, for example
    /// `env!("CARGO_BIN_EXE_carlo")` in tests and benchmarks. Workers start at the
    /// first run, not here. Fails if `CARLO_FAULT` or [`DEPTH_VAR`] is set but
    /// invalid.
    pub fn with_program(program: impl Into<PathBuf>, workers: usize) -> Result<Self, Error> {
        Self::with_command(WorkerCommand::carlo(program), workers)
    }

    /// `workers` worker processes started by `command` (0: one per available core):
    /// any program that serves [`protocol`] on its standard input and output, such as
    /// a Python interpreter running carlo's Python worker.
    pub fn with_command(command: WorkerCommand, workers: usize) -> Result<Self, Error> {
        fault::Faults::from_env()?;
        let depth = depth_from_env()?;
        Ok(Processes {
            command,
            size: match workers {
                0 => crate::backend::available_cores(),
                n => n,
            },
            pool: BTreeMap::new(),
            hello: None,
            next_id: 0,
            inbox: VecDeque::new(),
            restarts: 0,
            chunk_timeout: None,
            depth,
        })
    }

    /// The same executor with the chunk timeout given by the user, if any (else it
    /// is derived from the chunk times; see [`super::stall`]).
    pub fn chunk_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.chunk_timeout = timeout;
        self
    }

    /// The program the workers run.
    pub fn program(&self) -> &Path {
        &self.command.program
    }

    /// Workers that died and were replaced so far, over every run.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Process ids of the live workers.
    pub fn pids(&self) -> Vec<u32> {
        self.pool.values().map(Worker::pid).collect()
    }

    /// Kills and reaps every worker.
    fn shut_down(&mut self) {
        self.pool.clear();
        self.hello = None;
        // Events of the dead workers would otherwise be read by the next run.
        self.inbox.clear();
    }

    /// Starts a worker, greets it with the current hello and returns its id.
    fn spawn(&mut self) -> Result<u64, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let mut worker = Worker::spawn(&self.command, id)?;
        if let Some((_, line)) = &self.hello {
            worker.send(line);
        }
        self.pool.insert(id, worker);
        Ok(id)
    }

    /// Starts missing workers and makes sure every worker runs `job`.
    fn prepare(&mut self, job: &Job) -> Result<(), Error> {
        if self.hello.as_ref().is_none_or(|(j, _)| j != job) {
            let line = protocol::encode(&Request::hello(job));
            for worker in self.pool.values_mut() {
                worker.ready = false;
                worker.watch.restart(Phase::Starting);
                worker.send(&line);
            }
            self.hello = Some((job.clone(), line));
        }
        while self.pool.len() < self.size {
            self.spawn()?;
        }
        Ok(())
    }

    /// The loop of one run: hand out chunks, report answers, replace the dead.
    fn drive(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(Report) -> Flow,
    ) -> Result<Flow, Error> {
        let mut schedule = Schedule::new(work.plan, todo);
        if schedule.unreported == 0 {
            return Ok(Flow::Continue);
        }
        let policy = Policy::new(self.chunk_timeout)?;
        let mut timing = Timing::new();
        let mut pauses = Pauses::new(policy.period());
        self.prepare(work.job)?;
        self.fill_all(&mut schedule);
        let mut last_news = Instant::now();
        let mut last_look = Instant::now();
        while schedule.unreported > 0 {
            let event = self.next_event(policy.period())?;
            // The whole job was stopped (Ctrl-Z, scontrol suspend): not the workers'
            // time.
            let stopped = pauses.look();
            if !stopped.is_zero() {
                for worker in self.pool.values_mut() {
                    worker.watch.shift(stopped);
                }
            }
            if last_look.elapsed() >= policy.period() {
                last_look = Instant::now();
                for (id, why) in self.look_at_workers(&policy, &timing) {
                    self.replace(id, &mut schedule, Death::Stalled(why))?;
                    if done(Report::Restarted) == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
            }
            let Some(event) = event else {
                if last_news.elapsed() >= TICK {
                    last_news = Instant::now();
                    if done(Report::Idle) == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                continue;
            };
            last_news = Instant::now();
            match event {
                Event::Message { id, reply } if self.pool.contains_key(&id) => {
                    let reply = reply.map_err(|e| self.fail(id, &e))?;
                    if let Some((index, moments)) = self.accept(id, reply, work, &mut timing)? {
                        schedule.unreported -= 1;
                        if done(Report::Done(index, moments)) == Flow::Stop {
                            return Ok(Flow::Stop);
                        }
                        self.fill_all(&mut schedule);
                    }
                }
                Event::Closed { id } if self.pool.contains_key(&id) => {
                    self.replace(id, &mut schedule, Death::Died)?;
                    if done(Report::Restarted) == Flow::Stop {
                        return Ok(Flow::Stop);
                    }
                }
                // From a worker already buried: nothing left to learn.
                Event::Message { .. } | Event::Closed { .. } => {}
            }
        }
        Ok(Flow::Continue)
    }

    /// Looks at every worker that is starting or running a chunk, by the stall
    /// policy: says what runs long, and returns the workers taken for stuck, with
    /// why.
    fn look_at_workers(&mut self, policy: &Policy, timing: &Timing) -> Vec<(u64, String)> {
        let mut stuck = Vec::new();
        for (&id, w) in &mut self.pool {
            if w.ready && w.in_flight.is_empty() {
                continue;
            }
            let pid = w.pid();
            let (cpu, state) = match cpu::process(pid) {
                Some((cpu, state)) => (Some(cpu), Some(cpu::state_name(state))),
                None => (None, None),
            };
            let what = match (w.watch.phase(), w.in_flight.front()) {
                (Phase::Starting, _) => format!(
                    "worker process {pid}, starting (building its model: an import, a \
                     calibration)"
                ),
                (_, Some(chunk)) => format!("chunk {chunk} on worker process {pid}"),
                (_, None) => format!("worker process {pid}"),
            };
            match w.watch.look(cpu, state, policy, timing, &what) {
                Verdict::Fine => {}
                Verdict::Slow(why) => crate::say!("warning: {why}"),
                Verdict::Stuck(why) => stuck.push((id, why)),
            }
        }
        stuck
    }

    /// The next event from any worker, waiting at most `wait` for one.
    fn next_event(&mut self, wait: Duration) -> Result<Option<Event>, Error> {
        if self.inbox.is_empty() {
            self.poll(wait)?;
        }
        Ok(self.inbox.pop_front())
    }

    /// Waits until some workers' standard outputs are readable and reads them into
    /// the inbox.
    ///
    /// Hand-written on `poll(2)` rather than a reader thread per worker: this is the
    /// parent's per-chunk path, and waking one thread instead of two per answer is
    /// what keeps the parent's share of the cores small next to its workers'.
    fn poll(&mut self, wait: Duration) -> Result<(), Error> {
        let ids: Vec<u64> = self.pool.keys().copied().collect();
        let mut fds: Vec<libc::pollfd> = self
            .pool
            .values()
            .map(|w| libc::pollfd {
                fd: w.stdout_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if fds.is_empty() {
            // Unreachable while chunks are unreported (their workers are alive or
            // replaced), but waiting on nothing would hang forever.
            return Err(Error::Execution("no worker process is left".into()));
        }
        let count = libc::nfds_t::try_from(fds.len()).expect("the pool size fits");
        // SAFETY: `fds` is a live, exclusively borrowed array of `count` pollfds.
        let millis = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        if unsafe { libc::poll(fds.as_mut_ptr(), count, millis) } < 0 {
            let e = std::io::Error::last_os_error();
            return match e.kind() {
                // A signal (Ctrl-C, for example): the caller decides at the next chunk.
                std::io::ErrorKind::Interrupted => Ok(()),
                _ => Err(Error::Execution(format!(
                    "cannot wait for worker processes: {e}"
                ))),
            };
        }
        for (id, fd) in ids.into_iter().zip(&fds) {
            if fd.revents != 0 {
                let worker = self.pool.get_mut(&id).expect("polled a live worker");
                self.inbox.extend(worker.receive(id));
            }
        }
        Ok(())
    }

    /// Checks a reply from worker `id`; returns the chunk it completes, if any.
    fn accept(
        &mut self,
        id: u64,
        reply: Reply,
        work: &Work<'_>,
        timing: &mut Timing,
    ) -> Result<Option<(u64, ChunkStats)>, Error> {
        match reply {
            Reply::Ready { v } if v == protocol::VERSION => {
                // Its model is built: from now on its chunks are watched, the first
                // with its own allowance (a JIT, a table built on first use).
                let worker = self.pool.get_mut(&id).expect("a live worker");
                worker.ready = true;
                worker.answered = 0;
                worker.watch.restart(Phase::First);
                Ok(None)
            }
            Reply::Ready { v } => Err(self.fail(
                id,
                &format!(
                    "it speaks protocol version {v}, this carlo speaks version {}",
                    protocol::VERSION
                ),
            )),
            Reply::Error {
                message,
                input: false,
            } => Err(self.fail(id, &message)),
            // The job is at fault, not the worker: bad input (exit 2), as if found
            // here, saying where it was found.
            Reply::Error {
                message,
                input: true,
            } => {
                let pid = self.pool[&id].pid();
                Err(Error::Input(format!("{message} (in worker process {pid})")))
            }
            Reply::Done {
                index,
                stats: moments,
            } => {
                let expected = self.pool[&id].in_flight.front().copied();
                if expected != Some(index) {
                    let asked = expected.map_or("nothing".into(), |i| format!("chunk {i}"));
                    return Err(self.fail(
                        id,
                        &format!("it answered chunk {index} when asked for {asked}"),
                    ));
                }
                let samples = work.plan.chunk_samples(index);
                if moments.count() != samples || moments.blocks != work.plan.chunk(index) {
                    return Err(self.fail(
                        id,
                        &format!(
                            "chunk {index} has {samples} samples, it answered {}",
                            moments.count()
                        ),
                    ));
                }
                moments
                    .check(work.model.dim(), false)
                    .map_err(|e| self.fail(id, &e))?;
                let worker = self.pool.get_mut(&id).expect("checked above");
                worker.in_flight.pop_front();
                // A first chunk's warm-up says nothing of the others' times.
                if worker.watch.phase() == Phase::Steady {
                    timing.record(worker.watch.ran());
                }
                worker.answered += 1;
                worker.watch.restart(Phase::Steady);
                Ok(Some((index, moments)))
            }
        }
    }

    /// The error for a worker that broke the protocol (retrying would not help).
    fn fail(&self, id: u64, what: &str) -> Error {
        Error::Execution(format!(
            "worker process {} (pid {}): {what}",
            self.command.program.display(),
            self.pool[&id].pid()
        ))
    }

    /// Sends every worker chunks until each has its depth in flight or none are left.
    fn fill_all(&mut self, schedule: &mut Schedule<'_>) {
        let ids: Vec<u64> = self.pool.keys().copied().collect();
        for id in ids {
            self.fill(id, schedule);
        }
    }

    /// Sends worker `id` chunks until it has its depth in flight or none are left.
    fn fill(&mut self, id: u64, schedule: &mut Schedule<'_>) {
        let worker = self.pool.get_mut(&id).expect("filling a live worker");
        while worker.in_flight.len() < self.depth {
            let Some(index) = schedule.next() else {
                break;
            };
            let attempt = schedule.failures.get(&index).copied().unwrap_or(0);
            // An idle worker starts a chunk now; one still starting goes on being
            // watched as starting.
            if worker.in_flight.is_empty() && worker.ready {
                let phase = if worker.answered == 0 {
                    Phase::First
                } else {
                    Phase::Steady
                };
                worker.watch.restart(phase);
            }
            worker.in_flight.push_back(index);
            worker.send(&protocol::encode(&Request::Chunk {
                index,
                blocks: schedule.plan.chunk(index),
                attempt,
            }));
        }
    }

    /// Buries worker `id` (dead, or stuck and killed here), charges its current
    /// chunk, requeues its chunks and starts a replacement if chunks wait.
    fn replace(&mut self, id: u64, schedule: &mut Schedule<'_>, death: Death) -> Result<(), Error> {
        let worker = self.pool.remove(&id).expect("replacing a live worker");
        let (pid, in_flight) = (worker.pid(), worker.in_flight.clone());
        let (status, last_line) = worker.bury();
        let stderr = match last_line.as_str() {
            "" => "it wrote nothing to stderr".to_string(),
            line => format!("its last stderr line: {line}"),
        };
        let what = match &death {
            Death::Died => child::describe(status),
            Death::Stalled(why) => format!("was taken for stuck and killed ({why})"),
        };
        self.restarts += 1;
        if let Some(&chunk) = in_flight.front() {
            let failures = schedule.failures.entry(chunk).or_insert(0);
            *failures += 1;
            if *failures >= MAX_FAILURES {
                let verb = match death {
                    Death::Died => "took down a worker process",
                    Death::Stalled(_) => "stalled a worker process",
                };
                return Err(Error::Execution(format!(
                    "chunk {chunk} {verb} {failures} times; the last one (pid {pid}) {what}, \
                     {stderr}"
                )));
            }
        }
        // A recovered crash changes no result, but it is a bug or a resource limit
        // the user must hear about, as it happens.
        let running = match &death {
            // Its reason names the chunk, or says it was starting.
            Death::Stalled(_) => String::new(),
            Death::Died => in_flight
                .front()
                .map_or(" between chunks".to_string(), |c| {
                    format!(" running chunk {c}")
                }),
        };
        crate::say!(
            "warning: worker process {pid} {what}{running}; {stderr}; its chunks run again \
             on a new worker (the result is unchanged)"
        );
        schedule.retry.extend(in_flight.into_iter().map(Reverse));
        if !schedule.retry.is_empty() || schedule.fresh_left() {
            self.spawn()?;
            // Idle workers may take requeued chunks too.
            self.fill_all(schedule);
        }
        Ok(())
    }
}

impl Executor for Processes {
    fn backend(&self) -> &'static str {
        "processes"
    }

    fn workers(&self) -> usize {
        self.size
    }

    fn execute(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(Report) -> Flow,
    ) -> Result<(), Error> {
        match self.drive(work, todo, done) {
            Ok(Flow::Continue) => Ok(()),
            // Chunks still in flight are abandoned: killing their workers is the
            // prompt way to stop, and the next run starts fresh ones.
            Ok(Flow::Stop) => {
                self.shut_down();
                Ok(())
            }
            Err(e) => {
                self.shut_down();
                Err(e)
            }
        }
    }
}

/// Which chunks of one run remain to hand out and report.
struct Schedule<'a> {
    /// The plan the chunk indices refer to: a request names a chunk's blocks.
    plan: &'a crate::plan::Plan,
    fresh: Queue<'a>,
    /// Chunks of dead workers, lowest first: decisions wait for them.
    retry: BinaryHeap<Reverse<u64>>,
    /// Deaths each chunk caused.
    failures: HashMap<u64, u32>,
    /// Chunks handed out from `fresh` so far, and how many it has.
    handed: u64,
    total: u64,
    /// Chunks not yet reported.
    unreported: u64,
}

impl<'a> Schedule<'a> {
    fn new(plan: &'a crate::plan::Plan, todo: &'a [Range<u64>]) -> Self {
        let total = todo.iter().map(|r| r.end - r.start).sum();
        Schedule {
            plan,
            fresh: Queue::new(todo),
            retry: BinaryHeap::new(),
            failures: HashMap::new(),
            handed: 0,
            total,
            unreported: total,
        }
    }

    /// The next chunk to hand out: a requeued one first, else a fresh one. Nothing
    /// waits for order (chunks merge exactly as they finish), so a stuck chunk holds
    /// back nothing but itself.
    fn next(&mut self) -> Option<u64> {
        if let Some(Reverse(index)) = self.retry.pop() {
            return Some(index);
        }
        let index = self.fresh.pop()?;
        self.handed += 1;
        Some(index)
    }

    fn fresh_left(&self) -> bool {
        self.handed < self.total
    }
}
