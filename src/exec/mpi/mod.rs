//! The MPI executor: the ranks of an `mpirun` job share the chunks as they go.
//!
//! Every rank runs the same `carlo run` and the same engine, and every rank reports
//! the same chunks in the same order to it, so all of them hold the same statistics
//! and take the same decisions; only rank 0 writes outputs ([`super::is_primary`]).
//!
//! **Agreement** ([`agree`]). Before anything else the ranks check that they run the
//! same job, build and chunks; if not, every rank fails alike and nothing is computed.
//!
//! **Hand-out** ([`hub`]). Each rank computes on a thread of its own and keeps
//! [`DEPTH`] batches of consecutive chunks (one running, one waiting), so it never
//! idles between them. Rank 0's main thread is the coordinator: it hands out batches
//! in ascending order as ranks ask for them (guided sizes: a share of what is left, so
//! the last ones are small), collects their statistics (exact `u64` bit patterns),
//! reports them to its engine as they arrive (the engine merges in chunk order, so its
//! checkpoint holds every finished chunk, however slow the rank holding the lowest
//! ones), and sends each rank the chunks reported since it last asked, in the order
//! they were reported. The other ranks report exactly those chunks, in that order, so
//! a stop that rank 0's engine decides (a target met, Ctrl-C, a checkpoint that cannot
//! be written) binds every rank: rank 0 answers every further question with the end.
//!
//! **Stalls** ([`watch`]). Rank 0 watches every rank by the stall policy: the other
//! ranks say, with every question and at least every second while they compute, which
//! chunk their thread runs and its CPU time. A rank that computes is reported; one
//! taken for stuck (no CPU time for the quiet limit, no word at all, past an explicit
//! `--chunk-timeout`) ends the MPI job with exit 1 naming the rank and the chunk, after
//! rank 0's engine saves every chunk it has: never a silent hang.
//!
//! **Never hang.** Every question gets exactly one answer, the other ranks send
//! nothing after the end, and each run uses a communicator of its own. Sends are
//! buffered (`MPI_Bsend`, with room for every message that can be on its way), so no
//! rank waits for a busy one to receive. MPI calls happen on the main threads only
//! (`MPI_THREAD_FUNNELED`); waiting is polling with short sleeps, so idle ranks leave
//! the cores to busy ones on a crowded machine. A rank whose computing thread dies, or
//! that receives a malformed message (both are bugs), aborts the whole MPI job rather
//! than leave the others waiting.

mod agree;
mod hub;
mod watch;

use std::mem::ManuallyDrop;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use mpi::Tag;
use mpi::environment::{Threading, Universe};
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source, Status};
use mpi::topology::{Communicator, SimpleCommunicator};

use super::processes::fault::Faults;
use super::stall::Policy;
use super::stall::cpu::ThreadClock;
use super::stall::pause::Pauses;
use super::{Event, Executor, Flow, Work};
use crate::Error;
use crate::stats::ChunkStats;

use agree::agree;
use hub::{ANSWER_WORDS, Hub, MAX_BATCH, decode, encode, max_record_words, positions, records};
use watch::{NO_CHUNK, Progress, Ranks};

/// Batches a rank holds at once: one running and one waiting, so that asking for the
/// next never leaves its core idle, without hoarding chunks that others could take.
const DEPTH: usize = 2;

/// Questions to rank 0.
const TAG_ASK: Tag = 1;
/// Rank 0's answers.
const TAG_ANSWER: Tag = 2;

/// A question carries a batch's statistics and wants one more batch, answered at once.
const ASK_MORE: u64 = 0;
/// A question carries a batch's statistics (or none: a heartbeat), answered at once.
const ASK_NOTHING: u64 = 1;
/// A question from a rank with nothing left to run, answered when the run ends.
const ASK_END: u64 = 2;

/// Words before a question's statistics: kind, batch start and end, the chunk the
/// asking rank's thread runs and its CPU time in microseconds.
const ASK_HEADER: usize = 5;

/// An answer with a batch to run, or an empty one when none is left.
const ANSWER_GO: u64 = 0;
/// The last answer: stop computing and leave.
const ANSWER_END: u64 = 1;
/// The run has ended but more reported chunks follow: stop computing, ask again.
const ANSWER_DRAIN: u64 = 2;

/// Longest sleep between two looks for a message.
const MAX_NAP: Duration = Duration::from_millis(1);

/// How often rank 0 tells its engine it is idle while no chunk arrives, so that a
/// stopping signal is acted on at once: under `mpirun`, a SIGTERM is followed by a
/// SIGKILL a second later.
const IDLE: Duration = Duration::from_millis(100);

/// This process's rank in `MPI_COMM_WORLD`, once MPI is initialized.
static RANK: OnceLock<i32> = OnceLock::new();

/// This process's rank, if it started MPI.
pub(super) fn rank() -> Option<i32> {
    RANK.get().copied()
}

/// Runs chunks on the ranks of `MPI_COMM_WORLD`. MPI is initialized when the executor
/// is built and finalized when it is dropped, which can happen once per process.
pub(crate) struct Mpi {
    universe: ManuallyDrop<Universe>,
    chunk_timeout: Option<Duration>,
    /// Set when a run ended the MPI job: finalizing would wait for a stuck rank, so
    /// the process exits without it and `mpirun` ends the others.
    failed: bool,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let world = self.universe.world();
        f.debug_struct("Mpi")
            .field("rank", &world.rank())
            .field("size", &world.size())
            .finish()
    }
}

impl Mpi {
    /// Initializes MPI; fails if this process already did.
    pub(crate) fn new() -> Result<Self, Error> {
        // Chunks run on a thread of their own while the main thread talks to the
        // other ranks: funneled, since only the main thread calls MPI.
        let (universe, _) =
            mpi::initialize_with_threading(Threading::Funneled).ok_or_else(|| {
                Error::Execution(
                    "MPI can be started only once per process (the mpi backend runs one job per mpirun)"
                        .into(),
                )
            })?;
        let _ = RANK.set(universe.world().rank());
        Ok(Mpi {
            universe: ManuallyDrop::new(universe),
            chunk_timeout: None,
            failed: false,
        })
    }

    /// The same executor with the user's hard limit on a chunk, if any (see
    /// [`super::stall`]).
    pub fn chunk_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.chunk_timeout = timeout;
        self
    }
}

impl Drop for Mpi {
    fn drop(&mut self) {
        if !self.failed {
            // SAFETY: dropped once, here; finalizes MPI.
            unsafe { ManuallyDrop::drop(&mut self.universe) };
        }
    }
}

impl Executor for Mpi {
    fn backend(&self) -> &'static str {
        "mpi"
    }

    fn workers(&self) -> usize {
        self.universe.world().size() as usize
    }

    fn execute(
        &mut self,
        work: &Work<'_>,
        todo: &[Range<u64>],
        done: &mut dyn FnMut(Event) -> Flow,
    ) -> Result<(), Error> {
        let world = self.universe.world();
        let faults = Faults::from_env();
        let policy = Policy::new(self.chunk_timeout);
        let problem = faults.as_ref().err().or(policy.as_ref().err());
        agree(&world, work, todo, problem)?;
        // Every rank saw the same identities, none with a problem.
        let (faults, policy) = (faults?, policy?);
        let total: u64 = todo.iter().map(|r| r.end - r.start).sum();
        if total == 0 {
            return Ok(());
        }
        // Room for every message that can be on its way at once: rank 0 has at most
        // one answer out per rank, the others one question (twice that, for slack).
        let ranks = world.size() as usize;
        let record = max_record_words(work.model.dim(), work.plan.chunk_blocks());
        let envelope = 1024; // more than MPI_BSEND_OVERHEAD
        let buffer = if world.rank() == 0 {
            // An answer holds whole records up to ANSWER_WORDS, or one larger record
            // (a batch's chunks absorbed into one).
            (ranks - 1) * 2 * ((3 + ANSWER_WORDS + MAX_BATCH as usize * record) * 8 + envelope)
        } else {
            2 * ((ASK_HEADER + MAX_BATCH as usize * record) * 8 + envelope)
        };
        self.universe.set_buffer_size(buffer);
        let run = Run {
            comm: world.duplicate(),
            todo,
            total,
            stop: AtomicBool::new(false),
            progress: Progress::new(),
        };
        let outcome = std::thread::scope(|scope| {
            let (batches, to_lane) = mpsc::channel();
            let (from_lane, finished) = mpsc::channel();
            let (stop, faults, progress) = (&run.stop, &faults, &run.progress);
            let worker = scope
                .spawn(move || compute(work, todo, faults, stop, progress, to_lane, from_lane));
            let lane = Lane {
                batches,
                finished,
                held: 0,
            };
            let outcome = if run.comm.rank() == 0 {
                run.coordinate(lane, policy, done)
            } else {
                run.follow(lane, &policy, done);
                Ok(())
            };
            run.stop.store(true, Ordering::Relaxed);
            if let Err(why) = &outcome
                && run.progress.chunk().is_some()
            {
                // This rank's own thread is in a chunk it may never leave: it cannot
                // be waited for. The engine saves what it has; then this process ends
                // the MPI job.
                done(Event::Fatal(why.clone()));
                crate::say!("error: {why}");
                std::process::exit(1);
            }
            // The lane's sender is gone with `lane`, so the thread ends after its chunk.
            if worker.join().is_err() {
                run.fail("the thread running chunks panicked");
            }
            outcome
        });
        match outcome {
            Ok(()) => {
                // Waits until the buffered messages are delivered: every one has a
                // receiver.
                self.universe.detach_buffer();
                Ok(())
            }
            Err(why) => {
                self.failed = true;
                Err(Error::Execution(why))
            }
        }
    }
}

/// One `execute` of the agreed job on a communicator of its own.
struct Run<'a> {
    comm: SimpleCommunicator,
    todo: &'a [Range<u64>],
    /// Chunks of `todo`; batches are ranges of positions `0..total` in it.
    total: u64,
    /// Tells the computing thread to abandon its batches.
    stop: AtomicBool,
    /// What the computing thread is doing.
    progress: Progress,
}

/// The main thread's end of the computing thread.
struct Lane {
    batches: Sender<Range<u64>>,
    finished: Receiver<Finished>,
    /// Batches sent and not finished.
    held: usize,
}

/// A batch's statistics, [`encode`]d in chunk order, with each chunk's time.
struct Finished {
    batch: Range<u64>,
    words: Vec<u64>,
    took: Vec<Duration>,
}

impl Lane {
    /// Hands the thread a batch.
    fn give(&mut self, batch: Range<u64>) {
        // The thread ends only when told to stop or when this sender is dropped.
        let _ = self.batches.send(batch);
        self.held += 1;
    }

    /// A batch the thread has finished, if any.
    fn try_finished(&mut self, run: &Run<'_>) -> Option<Finished> {
        match self.finished.try_recv() {
            Ok(f) => {
                self.held -= 1;
                Some(f)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => run.fail("the thread running chunks stopped"),
        }
    }
}

/// The computing thread of a rank: runs the batches it is given, in order, until its
/// lane is closed or it is told to stop, saying which chunk it runs in `progress`.
fn compute(
    work: &Work<'_>,
    todo: &[Range<u64>],
    faults: &Faults,
    stop: &AtomicBool,
    progress: &Progress,
    batches: Receiver<Range<u64>>,
    finished: Sender<Finished>,
) {
    if let Some(clock) = ThreadClock::current() {
        let _ = progress.clock.set(clock);
    }
    let mut cursor = work.cursor();
    for batch in batches {
        let mut words = Vec::new();
        let mut took = Vec::new();
        // Consecutive chunks of the batch travel as one record: (first index, chunks,
        // their statistics absorbed into one).
        let mut record: Option<(u64, u64, ChunkStats)> = None;
        for index in positions(todo, batch.clone()) {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            progress.chunk.store(index, Ordering::Relaxed);
            let start = Instant::now();
            faults.before_chunk(index, 0);
            let result = work.run_chunk(&mut cursor, index);
            progress.chunk.store(NO_CHUNK, Ordering::Relaxed);
            match result {
                Ok(stats) => match &mut record {
                    Some((first, n, r))
                        if *first + *n == index && r.blocks.end == stats.blocks.start =>
                    {
                        r.absorb(stats);
                        *n += 1;
                    }
                    _ => {
                        if let Some((first, n, r)) = record.replace((index, 1, stats)) {
                            encode(&mut words, first, n, &r);
                        }
                    }
                },
                Err(e) => {
                    // This thread makes no MPI calls; the rank's main thread sees it
                    // gone and ends the job.
                    crate::say!("error: {e}");
                    return;
                }
            }
            took.push(start.elapsed());
        }
        if let Some((first, n, r)) = record {
            encode(&mut words, first, n, &r);
        }
        if finished.send(Finished { batch, words, took }).is_err() {
            return;
        }
    }
}

impl Run<'_> {
    /// Ends the whole MPI job: for what only a bug can cause, since returning would
    /// leave the other ranks waiting for this one.
    fn fail(&self, why: &str) -> ! {
        crate::say!("error: MPI rank {}: {why}", self.comm.rank());
        self.comm.abort(1)
    }

    /// The statistics of `batch` from `words`, checked against the chunks it holds.
    fn check(&self, batch: &Range<u64>, words: &[u64]) {
        let records = records(words);
        let ok = batch.start <= batch.end
            && batch.end <= self.total
            && records.as_ref().is_some_and(|r| {
                // The records' chunks, in order, are the batch's.
                let held = r
                    .iter()
                    .flat_map(|&(first, n, _)| first..first.saturating_add(n));
                held.eq(positions(self.todo, batch.clone()))
            });
        if !ok {
            self.fail(&format!(
                "malformed statistics for positions {batch:?} ({} words)",
                words.len()
            ));
        }
    }

    /// Reports the chunks of a finished batch to this rank's engine, in the batch's
    /// order, and logs them for the other ranks; after a stop, nothing more. The
    /// words are whole records, checked when received.
    fn report(&self, hub: &mut Hub, words: &[u64], done: &mut dyn FnMut(Event) -> Flow) {
        for (index, chunks, record) in records(words).unwrap_or_default() {
            if hub.ended {
                return;
            }
            let record = &words[record];
            let stats =
                decode(record).unwrap_or_else(|e| self.fail(&format!("chunk {index}: {e}")));
            hub.log(record, chunks);
            if done(Event::Done(index, stats)) == Flow::Stop {
                hub.ended = true;
            }
        }
        if hub.complete() {
            hub.ended = true;
        }
    }

    /// Rank 0: hands out batches, collects statistics, reports them as they arrive
    /// and forwards what it reported, until its engine stops or every chunk is
    /// reported, watching the ranks by the stall `policy`. Returns why the MPI job
    /// must end, if a rank was taken for stuck.
    fn coordinate(
        &self,
        mut lane: Lane,
        policy: Policy,
        done: &mut dyn FnMut(Event) -> Flow,
    ) -> Result<(), String> {
        let ranks = self.comm.size() as usize;
        let mut hub = Hub::new(ranks, self.total);
        let mut watch = Ranks::new(ranks, policy);
        let mut nap = Nap::new();
        let mut last_look = Instant::now();
        let mut last_news = Instant::now();
        loop {
            let mut busy = false;
            // This rank's own lane (after the end, its thread stops on its own).
            while !hub.ended
                && let Some(f) = lane.try_finished(self)
            {
                self.own_finished(&mut hub, &mut watch, f, done);
                busy = true;
            }
            while lane.held < DEPTH
                && let Some(batch) = hub.hand_out()
            {
                watch.handed(0);
                lane.give(batch);
            }
            // Questions from the other ranks.
            while let Some(probed) = self
                .comm
                .any_process()
                .immediate_matched_probe_with_tag(TAG_ASK)
            {
                busy = true;
                let (words, status): (Vec<u64>, Status) = probed.matched_receive_vec();
                let from = status.source_rank() as usize;
                if words.len() < ASK_HEADER || hub.gone[from] || hub.parked[from] {
                    self.fail(&format!("unexpected question from rank {from}"));
                }
                let (kind, batch) = (words[0], words[1]..words[2]);
                watch.heard(from, words[3], words[4]);
                if !batch.is_empty() {
                    watch.returned(from, batch.end - batch.start);
                    if !hub.ended {
                        self.check(&batch, &words[ASK_HEADER..]);
                        self.report(&mut hub, &words[ASK_HEADER..], done);
                    }
                }
                match kind {
                    ASK_END if !hub.ended => hub.parked[from] = true,
                    ASK_MORE => {
                        let batch = hub.hand_out().unwrap_or(0..0);
                        if !batch.is_empty() {
                            watch.handed(from);
                        }
                        self.answer(&mut hub, from, batch);
                    }
                    ASK_NOTHING | ASK_END => self.answer(&mut hub, from, 0..0),
                    _ => self.fail(&format!("unknown question {kind} from rank {from}")),
                }
            }
            if busy {
                last_news = Instant::now();
            } else if !hub.ended && last_news.elapsed() >= IDLE {
                // Nothing for a while: the engine may stop the run (a signal).
                last_news = Instant::now();
                if done(Event::Idle) == Flow::Stop {
                    hub.ended = true;
                }
            }
            if !hub.ended && last_look.elapsed() >= watch.period() {
                last_look = Instant::now();
                watch.heard(
                    0,
                    self.progress.chunk.load(Ordering::Relaxed),
                    self.progress.cpu_micros(),
                );
                if let Some(why) = watch.look() {
                    return Err(why);
                }
            }
            if hub.ended {
                self.stop.store(true, Ordering::Relaxed);
                for r in 1..hub.parked.len() {
                    if hub.parked[r] {
                        hub.parked[r] = false;
                        self.answer(&mut hub, r, 0..0);
                    }
                }
                if hub.gone.iter().all(|&g| g) {
                    return Ok(());
                }
            }
            hub.trim();
            if busy {
                nap.reset();
            } else if lane.held > 0 && !hub.ended {
                // Wake up at once when this rank's own batch is done.
                match lane.finished.recv_timeout(nap.next()) {
                    Ok(f) => {
                        lane.held -= 1;
                        self.own_finished(&mut hub, &mut watch, f, done);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        self.fail("the thread running chunks stopped")
                    }
                }
            } else {
                std::thread::sleep(nap.next());
            }
        }
    }

    /// A batch rank 0's own thread finished: timed, and reported.
    fn own_finished(
        &self,
        hub: &mut Hub,
        watch: &mut Ranks,
        f: Finished,
        done: &mut dyn FnMut(Event) -> Flow,
    ) {
        for took in &f.took {
            watch.timing.record(*took);
        }
        watch.returned(0, f.batch.end - f.batch.start);
        self.report(hub, &f.words, done);
    }

    /// Sends rank `to` its answer: a batch (empty for none) and the chunks reported
    /// since its last answer. Buffered, so that rank 0 never waits for a rank that is
    /// busy computing.
    fn answer(&self, hub: &mut Hub, to: usize, batch: Range<u64>) {
        let (kind, batch, reported) = hub.answer(to, batch);
        let mut words = Vec::with_capacity(3 + reported.len());
        words.extend([kind, batch.start, batch.end]);
        words.extend_from_slice(reported);
        self.comm
            .process_at_rank(to as i32)
            .buffered_send_with_tag(&words[..], TAG_ANSWER);
    }

    /// Ranks other than 0: asks rank 0 for batches, runs them, sends their statistics
    /// back, and reports the chunks rank 0 reported, until rank 0 says the run ended.
    /// While it computes it asks at least every `heartbeat`, saying which chunk it
    /// runs, so that rank 0 can tell it from a stuck rank.
    fn follow(&self, mut lane: Lane, policy: &Policy, done: &mut dyn FnMut(Event) -> Flow) {
        let heartbeat = policy.period();
        let mut more = true; // rank 0 may have batches left
        let mut listening = true; // the engine has not said stop
        loop {
            let want = more && lane.held < DEPTH;
            let finished = if want {
                lane.try_finished(self)
            } else if lane.held > 0 {
                // Nothing to ask for: wait for the running batch, a heartbeat at most.
                match lane.finished.recv_timeout(heartbeat) {
                    Ok(f) => {
                        lane.held -= 1;
                        Some(f)
                    }
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => {
                        self.fail("the thread running chunks stopped")
                    }
                }
            } else {
                None
            };
            let kind = if more && lane.held < DEPTH {
                ASK_MORE
            } else if lane.held > 0 || finished.is_some() {
                ASK_NOTHING
            } else {
                ASK_END
            };
            let mut words = vec![
                kind,
                0,
                0,
                self.progress.chunk.load(Ordering::Relaxed),
                self.progress.cpu_micros(),
            ];
            if let Some(f) = finished {
                words[1] = f.batch.start;
                words[2] = f.batch.end;
                words.extend_from_slice(&f.words);
            }
            // Buffered, like the answers: a send never waits for the other side.
            self.comm
                .process_at_rank(0)
                .buffered_send_with_tag(&words[..], TAG_ASK);
            // A question that waits for the end is answered only then.
            let answer = self.await_answer((kind != ASK_END).then_some(policy));
            if answer.len() < 3 {
                self.fail("an answer from rank 0 without its header");
            }
            let Some(chunks) = records(&answer[3..]) else {
                self.fail("an answer from rank 0 that is not whole chunks");
            };
            for (index, _, range) in chunks {
                let stats = decode(&answer[3..][range])
                    .unwrap_or_else(|e| self.fail(&format!("chunk {index} from rank 0: {e}")));
                if listening && done(Event::Done(index, stats)) == Flow::Stop {
                    // Rank 0 decides when the run ends; a stop here is the same one
                    // (its engine saw the same chunks) or local (Ctrl-C), which
                    // must not leave rank 0 without this rank's batches.
                    listening = false;
                }
            }
            match (answer[0], answer[1]..answer[2]) {
                (ANSWER_END, _) => return,
                (ANSWER_DRAIN, _) => {
                    // Batches in hand are no longer needed: the thread drops them.
                    self.stop.store(true, Ordering::Relaxed);
                    lane.held = 0;
                    more = false;
                }
                (ANSWER_GO, batch) if batch.is_empty() => more = false,
                (ANSWER_GO, batch) if batch.end <= self.total => lane.give(batch),
                (kind, batch) => self.fail(&format!("unknown answer {kind} {batch:?} from rank 0")),
            }
        }
    }

    /// Rank 0's answer to the question just sent, looked for between naps: the
    /// computing thread has a batch in hand, so a short wait costs nothing, and a
    /// busy wait would take its core. Rank 0 answers at once (but a question that
    /// waits for the end, `policy` `None`); one that has not answered for the
    /// policy's quiet limit (time the whole job was stopped not counted) is stopped
    /// or gone, and this rank ends the MPI job rather than wait forever.
    fn await_answer(&self, policy: Option<&Policy>) -> Vec<u64> {
        let mut nap = Nap::new();
        let mut pauses = Pauses::new(MAX_NAP + IDLE);
        let mut waited = Duration::ZERO;
        let mut last = Instant::now();
        loop {
            if let Some(probed) = self
                .comm
                .process_at_rank(0)
                .immediate_matched_probe_with_tag(TAG_ANSWER)
            {
                return probed.matched_receive_vec().0;
            }
            std::thread::sleep(nap.next());
            let stopped = pauses.look();
            waited += last.elapsed().saturating_sub(stopped);
            last = Instant::now();
            if policy.is_some_and(|p| waited > p.quiet) {
                self.fail(&format!(
                    "rank 0 has not answered for {:.1} s (stopped, or its node gone); \
                     the MPI job ends here rather than wait forever",
                    waited.as_secs_f64()
                ));
            }
        }
    }
}

/// Growing sleeps while nothing happens: 20 µs, doubling up to [`MAX_NAP`].
struct Nap(Duration);

impl Nap {
    fn new() -> Self {
        Nap(Duration::from_micros(10))
    }

    fn reset(&mut self) {
        *self = Nap::new();
    }

    fn next(&mut self) -> Duration {
        self.0 = (self.0 * 2).min(MAX_NAP);
        self.0
    }
}
