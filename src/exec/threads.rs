//! The threads executor: a local rayon pool of exactly the requested size.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::{Executor, Flow, Queue, Work};
use crate::Error;
use crate::stats::Moments;

/// Runs chunks on a private rayon pool (not the global one, whose size can be set
/// only once per process). Each pool thread takes the next chunk from a shared
/// ascending queue, so a slow chunk never stalls the others, and sends its statistics
/// to the calling thread, which reports them.
#[derive(Debug)]
pub struct Threads {
    pool: rayon::ThreadPool,
}

impl Threads {
    /// A pool of `workers` threads; 0 means one per available core.
    pub fn new(workers: usize) -> Result<Self, Error> {
        let workers = match workers {
            0 => crate::config::available_cores(),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("carlo-worker-{i}"))
            .build()
            .map_err(|e| Error::Execution(format!("cannot start {workers} threads: {e}")))?;
        Ok(Threads { pool })
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
        done: &mut dyn FnMut(u64, Moments) -> Flow,
    ) -> Result<(), Error> {
        let queue = Queue::new(todo);
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        let mut failed = None;
        // `in_place_scope` keeps this closure on the calling thread, which only
        // receives; the pool's threads do all the simulating.
        self.pool.in_place_scope(|scope| {
            for _ in 0..self.pool.current_num_threads() {
                let tx = tx.clone();
                let (queue, stop) = (&queue, &stop);
                scope.spawn(move |_| {
                    let mut cursor = work.cursor();
                    while !stop.load(Ordering::Relaxed) {
                        let Some(index) = queue.pop() else { break };
                        if tx
                            .send((index, work.run_chunk(&mut cursor, index)))
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (index, moments) in rx {
                let flow = match moments {
                    Ok(moments) => done(index, moments),
                    Err(e) => {
                        failed = Some(e);
                        Flow::Stop
                    }
                };
                if flow == Flow::Stop {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
        });
        failed.map_or(Ok(()), Err)
    }
}
