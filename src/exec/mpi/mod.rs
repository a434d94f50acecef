//! The MPI executor: the ranks of an `mpirun` job share the chunks as they go.
//!
//! Every rank runs the same `carlo run` and the same engine, and every rank reports
//! the same chunks in the same order to it, so all of them hold the same statistics
//! and take the same decisions; only rank 0 writes outputs ([`super::is_primary`]).
//!
//! **Agreement** ([`agree`]). Before anything else the ranks check that they run the
//! same job, build and chunks; if not, every rank fails alike and nothing is computed.
//!
//! **Hand-out.** Each rank computes on a thread of its own and keeps [`DEPTH`] batches
//! of consecutive chunks (one running, one waiting), so it never idles between them.
//! Rank 0's main thread is the coordinator: it hands out batches in ascending order as
//! ranks ask for them (guided sizes: a share of what is left, so the last ones are
//! small), collects their statistics (exact `u64` bit patterns), reports them to its
//! engine in chunk order, and sends each rank the chunks reported since it last
//! asked. The other ranks report exactly those chunks, in that order, so a stop that
//! rank 0's engine decides (a target met, Ctrl-C, a checkpoint that cannot be written)
//! binds every rank: rank 0 answers every further question with the end. A slow rank
//! only holds up the chunks it has in hand; the others keep taking new ones.
//!
//! **Never hang.** Every question gets exactly one answer, the other ranks send
//! nothing after the end, and each run uses a communicator of its own. Sends are
//! buffered (`MPI_Bsend`, with room for every message that can be on its way), so no
//! rank waits for a busy one to receive. MPI calls happen on the main threads only
//! (`MPI_THREAD_FUNNELED`); waiting is polling with short sleeps, so idle ranks leave
//! the cores to busy ones on a crowded machine. A rank whose computing thread dies, or
//! that receives a malformed message (both are bugs), aborts the whole MPI job rather
//! than leave the others waiting.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::Duration;

use mpi::Tag;
use mpi::environment::{Threading, Universe};
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source, Status};
use mpi::topology::{Communicator, SimpleCommunicator};

mod agree;

use super::processes::fault::Faults;
use super::{Event, Executor, Flow, Work};
use crate::Error;
use crate::stats::ChunkStats;

use agree::agree;

/// Batches a rank holds at once: one running and one waiting, so that asking for the
/// next never leaves its core idle, without hoarding chunks that others could take.
const DEPTH: usize = 2;

/// Chunks in a batch, at most. A batch costs one question and one answer; 64 chunks of
/// pi at the default size are about 10 ms of work, and rank 0 answers each question in
/// microseconds.
const MAX_BATCH: u64 = 64;

/// A batch takes `1 / (GUIDE * ranks)` of the chunks not yet handed out (guided
/// self-scheduling), so that the last batches are small and the ranks finish together.
const GUIDE: u64 = 4;

/// Words of reported chunks in one answer, about: 128 KiB, 4096 chunks of pi. A
/// rank that fell behind catches up over several answers.
const ANSWER_WORDS: usize = 1 << 14;

/// Questions to rank 0.
const TAG_ASK: Tag = 1;
/// Rank 0's answers.
const TAG_ANSWER: Tag = 2;

/// A question carries a batch's statistics and wants one more batch, answered at once.
const ASK_MORE: u64 = 0;
/// A question carries a batch's statistics (or none), answered at once.
const ASK_NOTHING: u64 = 1;
/// A question from a rank with nothing left to run, answered when the run ends.
const ASK_END: u64 = 2;

/// An answer with a batch to run, or an empty one when none is left.
const ANSWER_GO: u64 = 0;
/// The last answer: stop computing and leave.
const ANSWER_END: u64 = 1;
/// The run has ended but more reported chunks follow: stop computing, ask again.
const ANSWER_DRAIN: u64 = 2;

/// Longest sleep between two looks for a message.
const MAX_NAP: Duration = Duration::from_millis(1);

/// This process's rank in `MPI_COMM_WORLD`, once MPI is initialized.
static RANK: OnceLock<i32> = OnceLock::new();

/// This process's rank, if it started MPI.
pub(super) fn rank() -> Option<i32> {
    RANK.get().copied()
}

/// Runs chunks on the ranks of `MPI_COMM_WORLD`. MPI is initialized when the executor
/// is built and finalized when it is dropped, which can happen once per process.
pub(crate) struct Mpi {
    universe: Universe,
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
        Ok(Mpi { universe })
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
        agree(&world, work, todo, faults.as_ref().err())?;
        // Every rank saw the same identities, none with a problem.
        let faults = faults?;
        let total: u64 = todo.iter().map(|r| r.end - r.start).sum();
        if total == 0 {
            return Ok(());
        }
        // Room for every message that can be on its way at once: rank 0 has at most
        // one answer out per rank, the others one question (twice that, for slack).
        let ranks = world.size() as usize;
        let record = max_record_words(work);
        let envelope = 1024; // more than MPI_BSEND_OVERHEAD
        let buffer = if world.rank() == 0 {
            (ranks - 1) * 2 * ((3 + ANSWER_WORDS.max(record)) * 8 + envelope)
        } else {
            2 * ((3 + MAX_BATCH as usize * record) * 8 + envelope)
        };
        self.universe.set_buffer_size(buffer);
        let run = Run {
            comm: world.duplicate(),
            todo,
            total,
            stop: AtomicBool::new(false),
        };
        std::thread::scope(|scope| {
            let (batches, to_lane) = mpsc::channel();
            let (from_lane, finished) = mpsc::channel();
            let (stop, faults) = (&run.stop, &faults);
            let worker = scope.spawn(move || compute(work, todo, faults, stop, to_lane, from_lane));
            let lane = Lane {
                batches,
                finished,
                held: 0,
            };
            if run.comm.rank() == 0 {
                run.coordinate(lane, done);
            } else {
                run.follow(lane, done);
            }
            run.stop.store(true, Ordering::Relaxed);
            // The lane's sender is gone with `lane`, so the thread ends after its chunk.
            if worker.join().is_err() {
                run.fail("the thread running chunks panicked");
            }
        });
        // Waits until the buffered messages are delivered: every one has a receiver.
        self.universe.detach_buffer();
        Ok(())
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
}

/// The main thread's end of the computing thread.
struct Lane {
    batches: Sender<Range<u64>>,
    finished: Receiver<Finished>,
    /// Batches sent and not finished.
    held: usize,
}

/// A batch's statistics, [`encode`]d in chunk order: one record per chunk.
struct Finished {
    batch: Range<u64>,
    words: Vec<u64>,
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
/// lane is closed or it is told to stop.
fn compute(
    work: &Work<'_>,
    todo: &[Range<u64>],
    faults: &Faults,
    stop: &AtomicBool,
    batches: Receiver<Range<u64>>,
    finished: Sender<Finished>,
) {
    let mut cursor = work.cursor();
    for batch in batches {
        let mut words = Vec::new();
        for index in positions(todo, batch.clone()) {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            faults.before_chunk(index, 0);
            match work.run_chunk(&mut cursor, index) {
                Ok(stats) => encode(&mut words, index, &stats),
                Err(e) => {
                    // This thread makes no MPI calls; the rank's main thread sees it
                    // gone and ends the job.
                    crate::say!("error: {e}");
                    return;
                }
            }
        }
        if finished.send(Finished { batch, words }).is_err() {
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
                r.len() as u64 == batch.end - batch.start
                    && positions(self.todo, batch.clone())
                        .zip(r)
                        .all(|(index, &(i, _))| i == index)
            });
        if !ok {
            self.fail(&format!(
                "malformed statistics for positions {batch:?} ({} words)",
                words.len()
            ));
        }
    }

    /// Rank 0: hands out batches, collects statistics, reports them in chunk order and
    /// forwards what it reported, until its engine stops or every chunk is reported.
    fn coordinate(&self, mut lane: Lane, done: &mut dyn FnMut(Event) -> Flow) {
        let mut hub = Hub::new(self.comm.size() as usize, self.total);
        let mut nap = Nap::new();
        loop {
            let mut busy = false;
            // This rank's own lane (after the end, its thread stops on its own).
            while !hub.ended
                && let Some(f) = lane.try_finished(self)
            {
                hub.pending.insert(f.batch.start, f);
                busy = true;
            }
            while lane.held < DEPTH
                && let Some(batch) = hub.hand_out()
            {
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
                if words.len() < 3 || hub.gone[from] || hub.parked[from] {
                    self.fail(&format!("unexpected question from rank {from}"));
                }
                let (kind, batch) = (words[0], words[1]..words[2]);
                if !hub.ended && !batch.is_empty() {
                    self.check(&batch, &words[3..]);
                    let words = words[3..].to_vec();
                    hub.pending.insert(batch.start, Finished { batch, words });
                }
                match kind {
                    ASK_END if !hub.ended => hub.parked[from] = true,
                    ASK_MORE => {
                        let batch = hub.hand_out().unwrap_or(0..0);
                        hub.reply(self, from, batch);
                    }
                    ASK_NOTHING | ASK_END => hub.reply(self, from, 0..0),
                    _ => self.fail(&format!("unknown question {kind} from rank {from}")),
                }
            }
            // Report what is complete, in chunk order.
            while !hub.ended
                && let Some(entry) = hub.pending.first_entry()
                && *entry.key() == hub.reported
            {
                let f = entry.remove();
                let records = records(&f.words).expect("checked when received");
                for (index, range) in records {
                    let record = &f.words[range.start - 2..range.end];
                    let stats = ChunkStats::from_words(&f.words[range])
                        .unwrap_or_else(|e| self.fail(&format!("chunk {index}: {e}")));
                    hub.offsets.push_back(hub.log.len());
                    hub.log.extend_from_slice(record);
                    hub.reported += 1;
                    if done(Event::Done(index, stats)) == Flow::Stop {
                        hub.ended = true;
                        break;
                    }
                }
                busy = true;
            }
            if hub.reported == self.total {
                hub.ended = true;
            }
            if hub.ended {
                hub.pending.clear();
                self.stop.store(true, Ordering::Relaxed);
                for r in 1..hub.parked.len() {
                    if hub.parked[r] {
                        hub.parked[r] = false;
                        hub.reply(self, r, 0..0);
                    }
                }
                if hub.gone.iter().all(|&g| g) {
                    return;
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
                        hub.pending.insert(f.batch.start, f);
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

    /// Sends rank `to` an answer: `kind`, a batch (empty for none) and reported chunks.
    /// Buffered, so that rank 0 never waits for a rank that is busy computing.
    fn answer(&self, to: usize, kind: u64, batch: Range<u64>, reported: &[u64]) {
        let mut words = Vec::with_capacity(3 + reported.len());
        words.extend([kind, batch.start, batch.end]);
        words.extend_from_slice(reported);
        self.comm
            .process_at_rank(to as i32)
            .buffered_send_with_tag(&words[..], TAG_ANSWER);
    }

    /// Ranks other than 0: asks rank 0 for batches, runs them, sends their statistics
    /// back, and reports the chunks rank 0 reported, until rank 0 says the run ended.
    fn follow(&self, mut lane: Lane, done: &mut dyn FnMut(Event) -> Flow) {
        let mut more = true; // rank 0 may have batches left
        let mut listening = true; // the engine has not said stop
        loop {
            let want = more && lane.held < DEPTH;
            let finished = if want {
                lane.try_finished(self)
            } else if lane.held > 0 {
                // Nothing to ask for: sleep until the running batch is done.
                match lane.finished.recv() {
                    Ok(f) => {
                        lane.held -= 1;
                        Some(f)
                    }
                    Err(_) => self.fail("the thread running chunks stopped"),
                }
            } else {
                None
            };
            let kind = if more && lane.held < DEPTH {
                ASK_MORE
            } else if lane.held > 0 {
                ASK_NOTHING
            } else {
                ASK_END
            };
            let mut words = vec![kind, 0, 0];
            if let Some(f) = finished {
                words[1] = f.batch.start;
                words[2] = f.batch.end;
                words.extend_from_slice(&f.words);
            }
            // Buffered, like the answers: a send never waits for the other side.
            self.comm
                .process_at_rank(0)
                .buffered_send_with_tag(&words[..], TAG_ASK);
            let answer = self.await_answer();
            if answer.len() < 3 {
                self.fail("an answer from rank 0 without its header");
            }
            let Some(chunks) = records(&answer[3..]) else {
                self.fail("an answer from rank 0 that is not whole chunks");
            };
            for (index, range) in chunks {
                let stats = ChunkStats::from_words(&answer[3..][range])
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
    /// busy wait would take its core.
    fn await_answer(&self) -> Vec<u64> {
        let mut nap = Nap::new();
        loop {
            if let Some(probed) = self
                .comm
                .process_at_rank(0)
                .immediate_matched_probe_with_tag(TAG_ANSWER)
            {
                return probed.matched_receive_vec().0;
            }
            std::thread::sleep(nap.next());
        }
    }
}

/// Rank 0's bookkeeping.
struct Hub {
    /// Ranks in the run.
    ranks: usize,
    /// Chunks of the run.
    total: u64,
    /// First position not handed out.
    next: u64,
    /// Positions reported to the engine, all from 0.
    reported: u64,
    /// Whether the engine has stopped or every chunk is reported.
    ended: bool,
    /// Finished batches not reported yet, by first position.
    pending: BTreeMap<u64, Finished>,
    /// The encoded chunks reported from position `log_start` on, kept until every
    /// rank has been sent them, and where each one's record starts in `log`.
    log: Vec<u64>,
    offsets: std::collections::VecDeque<usize>,
    log_start: u64,
    /// Rank `r` has been sent the reported chunks before position `sent[r]`.
    sent: Vec<u64>,
    /// Ranks whose question waits for the end.
    parked: Vec<bool>,
    /// Ranks that have been told the end (rank 0 counts as told).
    gone: Vec<bool>,
}

impl Hub {
    fn new(ranks: usize, total: u64) -> Self {
        let mut gone = vec![false; ranks];
        gone[0] = true;
        Hub {
            ranks,
            total,
            next: 0,
            reported: 0,
            ended: false,
            pending: BTreeMap::new(),
            log: Vec::new(),
            offsets: std::collections::VecDeque::new(),
            log_start: 0,
            sent: vec![0; ranks],
            parked: vec![false; ranks],
            gone,
        }
    }

    /// The next batch, if the run goes on and chunks are left.
    fn hand_out(&mut self) -> Option<Range<u64>> {
        let left = self.total - self.next;
        if self.ended || left == 0 {
            return None;
        }
        let batch = self.next..self.next + batch_size(left, self.ranks as u64);
        self.next = batch.end;
        Some(batch)
    }

    /// Answers rank `to` with `batch` and the chunks reported since its last answer,
    /// as many as fit in one answer. After the end, the answer that brings it up to
    /// date is the end; until then it asks again.
    fn reply(&mut self, run: &Run<'_>, to: usize, batch: Range<u64>) {
        let first = (self.sent[to] - self.log_start) as usize;
        let from = self.offsets.get(first).copied().unwrap_or(self.log.len());
        // As many records as fit in ANSWER_WORDS, and at least one.
        let mut count = 0;
        let mut to_end = from;
        while let Some(&next_end) = self
            .offsets
            .get(first + count + 1)
            .or((first + count < self.offsets.len()).then_some(&self.log.len()))
        {
            if count > 0 && next_end - from > ANSWER_WORDS {
                break;
            }
            to_end = next_end;
            count += 1;
        }
        let chunks = &self.log[from..to_end];
        self.sent[to] += count as u64;
        let caught_up = from + chunks.len() == self.log.len();
        let kind = match (self.ended, caught_up) {
            (false, _) => ANSWER_GO,
            (true, true) => ANSWER_END,
            (true, false) => ANSWER_DRAIN,
        };
        run.answer(to, kind, batch, chunks);
        self.gone[to] = kind == ANSWER_END;
    }

    /// Forgets the reported chunks that every rank still running has been sent.
    fn trim(&mut self) {
        let oldest = (1..self.ranks)
            .filter(|&r| !self.gone[r])
            .map(|r| self.sent[r])
            .min()
            .unwrap_or(self.log_start + self.offsets.len() as u64);
        let drop = (oldest - self.log_start) as usize;
        if drop >= 1024 {
            let cut = self.offsets.get(drop).copied().unwrap_or(self.log.len());
            self.log.drain(..cut);
            self.offsets.drain(..drop);
            for o in &mut self.offsets {
                *o -= cut;
            }
            self.log_start = oldest;
        }
    }
}

/// Chunks in the next batch when `left` chunks are not handed out yet to `ranks`.
fn batch_size(left: u64, ranks: u64) -> u64 {
    left.div_ceil(GUIDE * ranks).clamp(1, MAX_BATCH).min(left)
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

/// The chunk indices at positions `wanted` of the chunks listed by `todo`.
fn positions(todo: &[Range<u64>], wanted: Range<u64>) -> impl Iterator<Item = u64> + '_ {
    let mut offset = 0;
    todo.iter().flat_map(move |range| {
        let len = range.end - range.start;
        let (lo, hi) = (
            wanted.start.clamp(offset, offset + len),
            wanted.end.clamp(offset, offset + len),
        );
        let base = range.start - offset;
        offset += len;
        lo + base..hi + base
    })
}

/// Appends a chunk's record: its index, the length of its statistics' words, and the
/// words ([`ChunkStats::to_words`]): bits, not values, so the exchange is exact.
fn encode(words: &mut Vec<u64>, index: u64, stats: &ChunkStats) {
    let at = words.len();
    words.extend([index, 0]);
    stats.to_words(words);
    words[at + 1] = (words.len() - at - 2) as u64;
}

/// The records [`encode`]d into `words`: each chunk's index and where its statistics'
/// words are; `None` if the words are not whole records.
fn records(words: &[u64]) -> Option<Vec<(u64, Range<usize>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < words.len() {
        let head = words.get(at..at + 2)?;
        let len = usize::try_from(head[1]).ok()?;
        let end = (at + 2).checked_add(len).filter(|&e| e <= words.len())?;
        out.push((head[0], at + 2..end));
        at = end;
    }
    Some(out)
}

/// Words of one chunk's record, at most: every part of its exact sums at their widest
/// (a sum of doubles spans at most 2,200 bits, 35 limbs and a header word), a part per
/// block at most, and a digest per block.
fn max_record_words(work: &Work<'_>) -> usize {
    let dim = work.model.dim();
    let sums = dim + dim * (dim + 1) / 2;
    let blocks = work.plan.chunk_blocks() as usize;
    2 + 3 + blocks * (2 + 2 + sums * 36) + 1 + blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_walk_ranges() {
        let todo = [0..2, 5..6, 9..12];
        let got: Vec<u64> = positions(&todo, 1..5).collect();
        assert_eq!(got, [1, 5, 9, 10]);
    }

    #[test]
    fn encoding_is_exact() {
        let mut sums = crate::stats::ExactSums::new(2);
        sums.add_block(7, &[1e-310, -0.0], &[3.5, -1.0], &[1.0, 2.0, 1e300]);
        let stats = ChunkStats {
            blocks: 3..5,
            parts: vec![(4, sums.clone()), (8, sums)],
            digests: vec![1, u64::MAX],
        };
        let mut words = Vec::new();
        encode(&mut words, 42, &stats);
        encode(&mut words, 43, &stats);
        let back = records(&words).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, 42);
        assert_eq!(
            ChunkStats::from_words(&words[back[1].1.clone()]).unwrap(),
            stats
        );
        assert!(records(&words[1..]).is_none());
        assert!(records(&words[..words.len() - 1]).is_none());
    }

    #[test]
    fn batches_shrink_to_one_and_cover_everything() {
        for (total, ranks) in [(1, 1), (101, 2), (101, 3), (100_000, 16)] {
            let (mut next, mut sizes) = (0, Vec::new());
            while next < total {
                let size = batch_size(total - next, ranks);
                assert!((1..=MAX_BATCH).contains(&size));
                sizes.push(size);
                next += size;
            }
            assert_eq!(next, total);
            assert_eq!(*sizes.last().unwrap(), 1, "{total} chunks, {ranks} ranks");
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
