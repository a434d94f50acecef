//! Rank 0's watch over the ranks, by the stall policy ([`crate::exec::stall`]).
//!
//! Every rank's computing thread says which chunk it runs ([`Progress`]); the other
//! ranks send rank 0 that chunk and the thread's CPU time with every question, and ask
//! at least every second while they compute (a heartbeat). Rank 0 reads its own. A rank
//! that computes is reported at growing multiples of the median chunk time; a rank
//! whose thread uses no CPU time for the quiet limit, or that stops asking (stopped
//! with SIGSTOP, its node gone), or that runs past an explicit `--chunk-timeout`, is
//! taken for stuck: no rank can stop another's thread, so the MPI job then ends with
//! exit 1 naming the rank and the chunk, after rank 0 saves the chunks it has.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::exec::stall::cpu::ThreadClock;
use crate::exec::stall::pause::Pauses;
use crate::exec::stall::{Phase, Policy, Timing, Verdict, Watch};

/// No chunk (in [`Progress::chunk`] and in the questions' words).
pub(super) const NO_CHUNK: u64 = u64::MAX;

/// What a rank's computing thread is doing, for its main thread to read.
#[derive(Debug)]
pub(super) struct Progress {
    /// The chunk it runs, or [`NO_CHUNK`].
    pub chunk: AtomicU64,
    /// Its CPU clock, once it has started.
    pub clock: OnceLock<ThreadClock>,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            chunk: AtomicU64::new(NO_CHUNK),
            clock: OnceLock::new(),
        }
    }

    /// The chunk it runs, if any.
    pub fn chunk(&self) -> Option<u64> {
        Some(self.chunk.load(Ordering::Relaxed)).filter(|&c| c != NO_CHUNK)
    }

    /// Its CPU time in microseconds, or `u64::MAX` when it cannot be read.
    pub fn cpu_micros(&self) -> u64 {
        self.clock
            .get()
            .and_then(ThreadClock::read)
            .map_or(u64::MAX, |d| {
                u64::try_from(d.as_micros()).unwrap_or(u64::MAX - 1)
            })
    }
}

/// Rank 0's view of one rank.
struct Seen {
    watch: Watch,
    /// Batches it holds (handed out, not returned).
    holds: usize,
    /// The chunk it last said it runs.
    chunk: Option<u64>,
    /// Its thread's CPU time, as last heard.
    cpu: Option<Duration>,
    /// Chunks it has finished.
    finished: u64,
    /// When it last asked (stopped time not counted).
    last_word: Instant,
}

/// Rank 0's watch over every rank.
pub(super) struct Ranks {
    seen: Vec<Seen>,
    policy: Policy,
    pub timing: Timing,
    pauses: Pauses,
}

impl Ranks {
    pub fn new(ranks: usize, policy: Policy) -> Self {
        Ranks {
            seen: (0..ranks)
                .map(|_| Seen {
                    watch: Watch::new(Phase::First),
                    holds: 0,
                    chunk: None,
                    cpu: None,
                    finished: 0,
                    last_word: Instant::now(),
                })
                .collect(),
            pauses: Pauses::new(policy.period()),
            policy,
            timing: Timing::new(),
        }
    }

    /// How often to look.
    pub fn period(&self) -> Duration {
        self.policy.period()
    }

    /// Rank `r` was handed a batch.
    pub fn handed(&mut self, r: usize) {
        let s = &mut self.seen[r];
        if s.holds == 0 {
            s.watch.restart(phase(s.finished));
        }
        s.holds += 1;
    }

    /// Rank `r` returned a batch of `len` chunks.
    pub fn returned(&mut self, r: usize, len: u64) {
        let s = &mut self.seen[r];
        s.holds = s.holds.saturating_sub(1);
        s.finished += len;
    }

    /// Rank `r` says it runs `chunk` (or [`NO_CHUNK`]) and its thread has used
    /// `cpu_micros` (`u64::MAX`: unknown).
    pub fn heard(&mut self, r: usize, chunk: u64, cpu_micros: u64) {
        let s = &mut self.seen[r];
        s.last_word = Instant::now();
        let chunk = Some(chunk).filter(|&c| c != NO_CHUNK);
        if chunk.is_some() && chunk != s.chunk {
            s.watch.restart(phase(s.finished));
        }
        s.chunk = chunk.or(s.chunk);
        s.cpu = (cpu_micros != u64::MAX).then(|| Duration::from_micros(cpu_micros));
    }

    /// Looks at every rank that holds work: says what runs long (on rank 0's stderr),
    /// and returns the first rank taken for stuck, with why.
    pub fn look(&mut self) -> Option<String> {
        let stopped = self.pauses.look();
        for (r, s) in self.seen.iter_mut().enumerate() {
            s.watch.shift(stopped);
            s.last_word = (s.last_word + stopped).min(Instant::now());
            if s.holds == 0 {
                continue;
            }
            let what = match s.chunk {
                Some(c) => format!("chunk {c} on MPI rank {r}"),
                None => format!("MPI rank {r}"),
            };
            // A rank that holds work asks at least every period, computing or not: one
            // silent for the quiet limit is stopped (SIGSTOP) or gone, whatever its
            // CPU time last said (unknown before its thread's first chunk).
            let silent = s.last_word.elapsed();
            if silent > self.policy.quiet {
                return Some(format!(
                    "MPI rank {r} was taken for stuck: {what} has not been heard from for \
                     {:.1} s (stopped, or its node gone); a rank's thread cannot be \
                     stopped from outside, so the MPI job ends here",
                    silent.as_secs_f64()
                ));
            }
            match s.watch.look(s.cpu, None, &self.policy, &self.timing, &what) {
                Verdict::Fine => {}
                Verdict::Slow(why) => crate::say!("warning: {why}"),
                Verdict::Stuck(why) => {
                    return Some(format!(
                        "MPI rank {r} was taken for stuck: {why}; a rank's thread cannot \
                         be stopped from outside, so the MPI job ends here"
                    ));
                }
            }
        }
        None
    }
}

fn phase(finished: u64) -> Phase {
    if finished == 0 {
        Phase::First
    } else {
        Phase::Steady
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rank_that_holds_work_and_says_nothing_is_stuck_whatever_its_cpu_time_said() {
        let policy = Policy::with_quiet(None, Duration::from_millis(50));
        let mut ranks = Ranks::new(3, policy);
        // Rank 2's first question came before its thread had a CPU clock: unknown,
        // which alone never counts as stuck. Then it was stopped (SIGSTOP).
        ranks.heard(2, NO_CHUNK, u64::MAX);
        ranks.handed(2);
        // Rank 1 keeps asking; rank 0 reads its own.
        for _ in 0..8 {
            std::thread::sleep(Duration::from_millis(10));
            ranks.heard(1, 5, 1_000);
            ranks.heard(0, 6, 1_000);
        }
        let why = ranks.look().expect("rank 2 is silent");
        assert!(why.starts_with("MPI rank 2 was taken for stuck"), "{why}");
        assert!(why.contains("has not been heard from"), "{why}");
    }

    #[test]
    fn a_silent_rank_that_holds_nothing_is_not_watched() {
        let policy = Policy::with_quiet(None, Duration::from_millis(20));
        let mut ranks = Ranks::new(2, policy);
        ranks.heard(1, NO_CHUNK, u64::MAX);
        std::thread::sleep(Duration::from_millis(40));
        // It waits for the end (parked): nothing handed, nothing to watch.
        assert_eq!(ranks.look(), None);
    }
}
