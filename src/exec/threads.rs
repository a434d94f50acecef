//! The threads executor: a local rayon pool of exactly the requested size.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::stall::Timing;
use super::{Event, Executor, Flow, Queue, Work};
use crate::Error;

/// How often the calling thread looks up while no chunk finishes: to tell the engine
/// it is idle, and to look for stuck chunks.
const TICK: Duration = Duration::from_secs(1);

/// Runs chunks on a private rayon pool (not the global one, whose size can be set
/// only once per process). Each pool thread takes the next chunk from a shared
/// ascending queue, so a slow chunk never stalls the others, and sends its statistics
/// to the calling thread, which reports them.
///
/// A thread stuck in a chunk cannot be stopped from outside, so a chunk that runs
/// past the chunk timeout (see [`super::stall`]) gets a warning that says so and
/// that Ctrl-C saves the progress; threads take no chunk [`super::window`] or more
/// beyond the lowest unfinished one, so memory stays flat meanwhile.
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

/// The chunks the threads are running, with when each started, and how far ahead
/// of the lowest of them a thread may start another.
struct Running {
    started: Mutex<BTreeMap<u64, Instant>>,
    changed: Condvar,
    window: u64,
}

impl Running {
    /// Takes the next chunk from `queue` once it lies within the window of the
    /// lowest running chunk; `None` when the queue is empty or `stop` is set.
    fn take(&self, queue: &Queue<'_>, stop: &AtomicBool) -> Option<u64> {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let next = queue.peek()?;
            let lowest = started.keys().next().copied().unwrap_or(next);
            if next < lowest + self.window {
                let index = queue.pop()?;
                started.insert(index, Instant::now());
                return Some(index);
            }
            started = self
                .changed
                .wait_timeout(started, TICK)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Marks chunk `index` finished; returns how long it ran.
    fn finish(&self, index: u64) -> Duration {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        let took = started
            .remove(&index)
            .map_or(Duration::ZERO, |t| t.elapsed());
        self.changed.notify_all();
        took
    }

    /// The running chunk that has run longest, with its time so far.
    fn oldest(&self) -> Option<(u64, Duration)> {
        let started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started
            .iter()
            .map(|(&i, t)| (i, t.elapsed()))
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
            changed: Condvar::new(),
            window: super::window(threads),
        };
        let (tx, rx) = mpsc::channel();
        let mut failed = None;
        let mut timing = Timing::new(self.chunk_timeout);
        // `in_place_scope` keeps this closure on the calling thread, which only
        // receives; the pool's threads do all the simulating.
        self.pool.in_place_scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (queue, stop, running) = (&queue, &stop, &running);
                let faults = &faults;
                scope.spawn(move |_| {
                    let mut cursor = work.cursor();
                    while let Some(index) = running.take(queue, stop) {
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
            let mut warned = None;
            let mut stopped_at: Option<Instant> = None;
            loop {
                let event = match rx.recv_timeout(TICK) {
                    Ok((index, took, Ok(moments))) => {
                        timing.record(took);
                        Event::Done(index, moments)
                    }
                    Ok((_, _, Err(e))) => {
                        failed.get_or_insert(e);
                        stop.store(true, Ordering::Relaxed);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some((index, ran)) = running.oldest()
                            && ran > timing.limit()
                            && warned != Some(index)
                        {
                            warned = Some(index);
                            crate::say!(
                                "warning: chunk {index} has run for {:.1} s on a thread, over \
                                 {}; a thread cannot be stopped from outside: press Ctrl-C to \
                                 stop the run (with --checkpoint its progress is saved), or use \
                                 the processes backend, which replaces stuck workers",
                                ran.as_secs_f64(),
                                timing.describe()
                            );
                        }
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
                    running.changed.notify_all();
                    stopped_at = Some(Instant::now());
                }
            }
        });
        failed.map_or(Ok(()), Err)
    }
}
