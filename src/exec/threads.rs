//! The threads executor: a local rayon pool of exactly the requested size.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use super::stall::cpu::ThreadClock;
use super::stall::pause::Pauses;
use super::stall::{Phase, Policy, TICK, Timing, Verdict, Watch};
use super::{Event, Executor, Flow, Queue, Work};
use crate::Error;

/// Runs chunks on a private rayon pool (not the global one, whose size can be set
/// only once per process). Each pool thread takes the next chunk from a shared
/// ascending queue, so a slow chunk never stalls the others, and sends its statistics
/// to the calling thread, which reports them.
///
/// A thread stuck in a chunk cannot be stopped from outside: the stall policy (see
/// [`super::stall`]) reports a chunk that runs long, or that makes no progress, with
/// what to do (Ctrl-C saves the progress; the processes backend replaces stuck
/// workers). The other threads go on meanwhile: chunks merge exactly as they
/// finish, so nothing waits for order and memory stays flat.
#[derive(Debug)]
pub struct Threads {
    pool: rayon::ThreadPool,
    chunk_timeout: Option<Duration>,
}

impl Threads {
    /// A pool of `workers` threads; 0 means one per available core.
    pub fn new(workers: usize) -> Result<Self, Error> {
        let workers = match workers {
            0 => crate::backend::available_cores(),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("carlo-worker-{i}"))
            .build()
            .map_err(|e| Error::Execution(format!("cannot start {workers} threads: {e}")))?;
        Ok(Threads {
            pool,
            chunk_timeout: None,
        })
    }

    /// The same pool with the chunk timeout given by the user, if any (else it is
    /// derived from the chunk times).
    pub fn chunk_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.chunk_timeout = timeout;
        self
    }
}

/// The chunks the threads are running, with when each started and the clock of the
/// thread running it.
struct Running {
    started: Mutex<BTreeMap<u64, (Instant, Option<ThreadClock>)>>,
}

impl Running {
    /// Takes the next chunk from `queue`; `None` when the queue is empty or `stop` is
    /// set.
    fn take(
        &self,
        queue: &Queue<'_>,
        stop: &AtomicBool,
        clock: Option<ThreadClock>,
    ) -> Option<u64> {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let index = queue.pop()?;
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started.insert(index, (Instant::now(), clock));
        Some(index)
    }

    /// Marks chunk `index` finished; returns how long it ran.
    fn finish(&self, index: u64) -> Duration {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started
            .remove(&index)
            .map_or(Duration::ZERO, |(t, _)| t.elapsed())
    }

    /// The running chunks, with when each started and its thread's clock.
    fn running(&self) -> Vec<(u64, Instant, Option<ThreadClock>)> {
        let started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started.iter().map(|(&i, &(t, c))| (i, t, c)).collect()
    }

    /// The running chunk that has run longest, with its time so far.
    fn oldest(&self) -> Option<(u64, Duration)> {
        self.running()
            .into_iter()
            .map(|(i, t, _)| (i, t.elapsed()))
            .max_by_key(|&(_, d)| d)
    }
}

impl Executor for Threads {
    fn backend(&self) -> &'static str {
        "threads"
    }

    fn workers(&self) -> usize {
        self.pool.current_num_threads()
    }

    fn execute(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(Event) -> Flow,
    ) -> Result<(), Error> {
        let threads = self.pool.current_num_threads();
        let faults = super::processes::fault::Faults::from_env()?;
        let queue = Queue::new(todo);
        let stop = AtomicBool::new(false);
        let running = Running {
            started: Mutex::new(BTreeMap::new()),
        };
        let (tx, rx) = mpsc::channel();
        let mut failed = None;
        let policy = Policy::new(self.chunk_timeout)?;
        let mut timing = Timing::new();
        let mut pauses = Pauses::new(policy.period());
        // The running chunks as the stall policy watches them.
        let mut watches: HashMap<u64, Watch> = HashMap::new();
        // `in_place_scope` keeps this closure on the calling thread, which only
        // receives; the pool's threads do all the simulating.
        self.pool.in_place_scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (queue, stop, running) = (&queue, &stop, &running);
                let faults = &faults;
                scope.spawn(move |_| {
                    let mut cursor = work.cursor();
                    let clock = ThreadClock::current();
                    while let Some(index) = running.take(queue, stop, clock) {
                        faults.before_chunk(index, 0);
                        let result = work.run_chunk(&mut cursor, index);
                        let took = running.finish(index);
                        if tx.send((index, took, result)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut stopped_at: Option<Instant> = None;
            let mut last_look = Instant::now();
            loop {
                let received = rx.recv_timeout(policy.period());
                let paused = pauses.look();
                if last_look.elapsed() >= policy.period() || !paused.is_zero() {
                    last_look = Instant::now();
                    look_at_threads(&running, &mut watches, paused, &policy, &timing);
                }
                let event = match received {
                    Ok((index, took, Ok(moments))) => {
                        let first = watches
                            .remove(&index)
                            .is_some_and(|w| w.phase() == Phase::First);
                        if !first {
                            timing.record(took);
                        }
                        Event::Done(index, moments)
                    }
                    Ok((_, _, Err(e))) => {
                        failed.get_or_insert(e);
                        stop.store(true, Ordering::Relaxed);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some(since) = stopped_at
                            && since.elapsed() > 2 * TICK
                            && let Some((index, ran)) = running.oldest()
                        {
                            stopped_at = Some(Instant::now() + Duration::from_secs(3600));
                            crate::say!(
                                "stopping: waiting for chunk {index} (running for {:.1} s) to \
                                 finish on its thread; press Ctrl-C again to exit now",
                                ran.as_secs_f64()
                            );
                        }
                        Event::Idle
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                if stop.load(Ordering::Relaxed) {
                    // Stopped: drain what the threads finish, report nothing more.
                    continue;
                }
                if done(event) == Flow::Stop {
                    stop.store(true, Ordering::Relaxed);
                    stopped_at = Some(Instant::now());
                }
            }
        });
        failed.map_or(Ok(()), Err)
    }
}

/// Looks at the running chunks by the stall policy (`paused`: time the whole job was
/// stopped since the last look, which does not count) and says what runs long or
/// makes no progress: a thread cannot be stopped from outside, so that is all it
/// can do, with what the user can.
fn look_at_threads(
    running: &Running,
    watches: &mut HashMap<u64, Watch>,
    paused: Duration,
    policy: &Policy,
    timing: &Timing,
) {
    let now = running.running();
    watches.retain(|index, _| now.iter().any(|(i, _, _)| i == index));
    for (index, started, clock) in now {
        let watch = watches.entry(index).or_insert_with(|| {
            // The first chunks of a run warm up (a JIT, a table): their own allowance.
            let phase = if timing.recorded() == 0 {
                Phase::First
            } else {
                Phase::Steady
            };
            let mut w = Watch::new(phase);
            w.backdate(started);
            w
        });
        watch.shift(paused);
        let cpu = clock.and_then(|c| c.read());
        let what = format!("chunk {index} on a thread");
        match watch.look(cpu, None, policy, timing, &what) {
            Verdict::Fine => {}
            Verdict::Slow(why) => crate::say!("warning: {why}"),
            Verdict::Stuck(why) => {
                watch.told_stuck();
                crate::say!(
                    "warning: {why}; a thread cannot be stopped from outside: press Ctrl-C \
                     to stop the run (with --checkpoint its progress is saved; a second \
                     Ctrl-C exits at once), or use the processes backend, which replaces \
                     stuck workers"
                )
            }
        }
    }
}
