//! The stall policy: when a worker (a process, a thread, an MPI rank) that has run a
//! chunk for long is reported, and when it is taken for stuck. The same policy for
//! every backend; what "taken for stuck" does is the backend's (a process is killed
//! and its chunks run again, a thread is reported, an MPI job ends naming the rank).
//!
//! **A worker that computes is working.** A chunk that runs long while its worker
//! uses CPU time (a slow chunk, a JIT warming up, a table being built) is reported at
//! growing multiples of the median chunk time (20x, 40x, 80x, ..., never below
//! [`REPORT_FLOOR`]), and left to finish.
//!
//! **A worker that makes no progress is stuck.** One that uses no CPU time (stopped
//! with SIGSTOP, sleeping forever, deadlocked, waiting on a dead file system) for
//! [`QUIET`] (or twice the median chunk time, if longer) is taken for stuck: within a
//! minute or two, never silently.
//!
//! **A worker's start gets its own allowance.** Before a worker has answered at all
//! (its model being built: a Python import, a calibration) and on its first chunk
//! (a JIT), it is not judged by the other workers' chunk times: it is reported after
//! [`START_REPORT`] and doubling, and taken for stuck only by the no-progress rule.
//!
//! **Time while the whole job was stopped does not count** (Ctrl-Z, `scontrol
//! suspend`; see [`pause`]).
//!
//! **An explicit `chunk_timeout` is a hard limit**: a chunk (or a start) that runs
//! longer, computing or not, is taken for stuck.
//!
//! Where CPU time cannot be read (not Linux), nothing tells computing from stuck, and
//! only the explicit limit takes a worker for stuck; reports still come.

pub mod cpu;
pub mod pause;

use std::time::{Duration, Instant};

use crate::Error;

/// How often the watching loops look up, at most.
pub const TICK: Duration = Duration::from_secs(1);

/// A worker that uses no CPU time for this long is taken for stuck.
pub const QUIET: Duration = Duration::from_secs(60);

/// A long chunk is first reported at [`REPORT_FACTOR`] times the median chunk time,
/// but never before this.
pub const REPORT_FLOOR: Duration = Duration::from_secs(10);

/// A long chunk is first reported at this many times the median chunk time, then at
/// twice, four times that...
pub const REPORT_FACTOR: f64 = 20.0;

/// A worker starting, or on its first chunk, is first reported after this.
pub const START_REPORT: Duration = Duration::from_secs(60);

/// CPU time a worker must use between two looks to count as progress: less is the
/// noise of a sleeping process.
const PROGRESS: Duration = Duration::from_millis(5);

/// The variable that sets [`QUIET`] (in seconds), with the report floors in
/// proportion (a sixth of it, and all of it for [`START_REPORT`]): a testing knob, so
/// that tests of stuck workers take seconds, not minutes.
pub const QUIET_VAR: &str = "CARLO_STALL_SECONDS";

/// Chunks that must have finished before their times set the reports' multiples.
pub const TIMED: usize = 4;

/// Chunk times kept: the most recent ones, so a run whose chunks slow down (a
/// machine that gets busy) moves its multiples with them.
const KEPT: usize = 255;

/// The policy's limits for one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// The user's hard limit (`chunk_timeout`), if any.
    pub hard: Option<Duration>,
    /// No CPU time for this long: stuck.
    pub quiet: Duration,
    /// A long chunk is never reported before this.
    pub report_floor: Duration,
    /// A start or first chunk is first reported after this.
    pub start_report: Duration,
}

impl Policy {
    /// The policy with the user's hard limit, if any, and the floors of
    /// [`QUIET_VAR`] when set. Fails for a value of it that is not a positive number
    /// of seconds.
    pub fn new(hard: Option<Duration>) -> Result<Self, Error> {
        let quiet = match std::env::var(QUIET_VAR) {
            Err(_) => QUIET,
            Ok(text) => match text.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Duration::from_secs_f64(s),
                _ => {
                    return Err(Error::Flag {
                        flag: QUIET_VAR.into(),
                        reason: format!("expected a positive number of seconds, found {text:?}"),
                    });
                }
            },
        };
        Ok(Policy::with_quiet(hard, quiet))
    }

    /// The policy whose no-progress limit is `quiet`, the report floors in proportion.
    pub fn with_quiet(hard: Option<Duration>, quiet: Duration) -> Self {
        Policy {
            hard,
            quiet,
            report_floor: quiet / 6,
            start_report: quiet,
        }
    }

    /// How often a loop must look at its workers for this policy to hold: every
    /// [`TICK`], or more often under a short hard limit.
    pub fn period(&self) -> Duration {
        self.hard
            .map_or(TICK, |h| (h / 4).clamp(Duration::from_millis(20), TICK))
            .min(self.quiet / 4)
            .max(Duration::from_millis(20))
    }
}

/// Where a worker is in its life, which decides how it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// It has not answered yet: its model is being built.
    Starting,
    /// Its first chunk.
    First,
    /// Any later chunk.
    Steady,
}

/// What a look at a worker found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Nothing to say.
    Fine,
    /// It has run long: say so (`why` in words), and leave it.
    Slow(String),
    /// It is stuck: `why`, in words.
    Stuck(String),
}

/// One worker's current chunk (or start) as the policy sees it.
#[derive(Debug, Clone)]
pub struct Watch {
    started: Instant,
    phase: Phase,
    /// The last CPU time read, and when it last grew.
    cpu: Option<Duration>,
    progressed: Instant,
    /// Reported once its time passes this; doubles at each report.
    next_report: Option<Duration>,
    /// Taken for stuck already (see [`Watch::told_stuck`]).
    told: bool,
}

impl Watch {
    /// A watch from now, in `phase`.
    pub fn new(phase: Phase) -> Self {
        let now = Instant::now();
        Watch {
            started: now,
            phase,
            cpu: None,
            progressed: now,
            next_report: None,
            told: false,
        }
    }

    /// A new chunk (or start) begins now, in `phase`; CPU time read so far is kept.
    pub fn restart(&mut self, phase: Phase) {
        let now = Instant::now();
        self.started = now;
        self.phase = phase;
        self.progressed = now;
        self.next_report = None;
        self.told = false;
    }

    /// The chunk began at `started` (before the watch was made).
    pub fn backdate(&mut self, started: Instant) {
        self.started = started;
    }

    /// The worker was taken for stuck and cannot be replaced (a thread): from now
    /// on it is only reported, its hard limit passed and its quiet time counted
    /// afresh, so that the same news is not repeated at every look.
    pub fn told_stuck(&mut self) {
        self.told = true;
        self.progressed = Instant::now();
    }

    /// The job was stopped for `stopped`: that time does not count.
    pub fn shift(&mut self, stopped: Duration) {
        self.started += stopped;
        self.progressed += stopped;
    }

    /// How long the current chunk (or start) has run, stopped time not counted.
    pub fn ran(&self) -> Duration {
        self.started.elapsed()
    }

    /// Its phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Looks at the worker: `cpu` is the CPU time it has used so far (`None` if
    /// unknown) and `state` its state in words, if known. `what` names it for
    /// messages (`chunk 7 on worker process 1234`).
    pub fn look(
        &mut self,
        cpu: Option<Duration>,
        state: Option<&str>,
        policy: &Policy,
        timing: &Timing,
        what: &str,
    ) -> Verdict {
        let now = Instant::now();
        match (cpu, self.cpu) {
            // Unknown: nothing tells computing from stuck, so it is never taken
            // for stuck on that ground.
            (None, _) => self.progressed = now,
            (Some(c), Some(before)) if c < before + PROGRESS => {}
            (Some(_), _) => self.progressed = now,
        }
        if let Some(c) = cpu
            && self.cpu.is_none_or(|before| c >= before + PROGRESS)
        {
            self.cpu = Some(c);
        }
        let ran = now.saturating_duration_since(self.started);
        let quiet = now.saturating_duration_since(self.progressed);
        let median = timing.median().filter(|_| self.phase == Phase::Steady);
        if let Some(hard) = policy.hard
            && ran > hard
            && !self.told
        {
            return Verdict::Stuck(format!(
                "{what} ran {} s, over the chunk timeout of {} s (--chunk-timeout)",
                secs(ran),
                secs(hard)
            ));
        }
        let quiet_limit = median.map_or(policy.quiet, |m| {
            policy
                .quiet
                .max(Duration::from_secs_f64((2.0 * m).min(1e9)))
        });
        if quiet > quiet_limit {
            let state = state.map_or(String::new(), |s| format!(", {s}"));
            return Verdict::Stuck(format!(
                "{what} made no progress for {} s (it used no CPU time{state})",
                secs(quiet)
            ));
        }
        let next = *self.next_report.get_or_insert_with(|| match median {
            Some(m) => policy
                .report_floor
                .max(Duration::from_secs_f64((REPORT_FACTOR * m).min(1e9))),
            None => policy.start_report,
        });
        if ran < next {
            return Verdict::Fine;
        }
        // The next report at the first doubling beyond now.
        let mut after = next * 2;
        while after <= ran {
            after *= 2;
        }
        self.next_report = Some(after);
        let how_long = match (self.phase, median) {
            (Phase::Starting, _) => format!("has been starting for {} s", secs(ran)),
            (_, Some(m)) => format!(
                "has run for {} s, {:.0} x the median chunk time ({})",
                secs(ran),
                ran.as_secs_f64() / m,
                short_duration(m)
            ),
            (_, None) => format!("has run for {} s", secs(ran)),
        };
        let doing = if quiet < TICK * 3 || cpu.is_none() {
            "it is computing, so it is left to run".to_string()
        } else {
            format!(
                "it has used no CPU time for {} s and is taken for stuck after {} s",
                secs(quiet),
                secs(quiet_limit)
            )
        };
        let hint = match policy.hard {
            Some(_) => String::new(),
            None => " (--chunk-timeout SECONDS sets a hard limit)".into(),
        };
        Verdict::Slow(format!("{what} {how_long}; {doing}{hint}"))
    }
}

/// Seconds with one decimal.
fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// The chunk times seen so far, and their median.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// Recent chunk times in seconds, a ring of [`KEPT`].
    seconds: Vec<f64>,
    next: usize,
    /// Chunk times recorded, over the run (the ring keeps the last [`KEPT`]).
    recorded: u64,
    median: Option<f64>,
}

impl Timing {
    /// No chunk timed yet.
    pub fn new() -> Self {
        Timing::default()
    }

    /// Records a finished chunk's time.
    pub fn record(&mut self, took: Duration) {
        let s = took.as_secs_f64();
        if self.seconds.len() < KEPT {
            self.seconds.push(s);
        } else {
            self.seconds[self.next] = s;
        }
        self.next = (self.next + 1) % KEPT;
        self.recorded += 1;
        // Sorting 255 numbers is a microsecond; it is done every 16 chunks (and for
        // the first few), well below the cost of the chunks it follows. Counted over
        // the run, not the ring: the ring stops growing at 255, and the median must
        // keep moving after that.
        let n = self.seconds.len();
        if n >= TIMED && (self.recorded < 2 * TIMED as u64 || self.recorded.is_multiple_of(16)) {
            let mut sorted = self.seconds.clone();
            sorted.sort_by(f64::total_cmp);
            self.median = Some(sorted[n / 2]);
        }
    }

    /// The median of recent chunk times in seconds, once [`TIMED`] chunks are timed.
    pub fn median(&self) -> Option<f64> {
        self.median
    }

    /// Chunks timed so far.
    pub fn recorded(&self) -> u64 {
        self.recorded
    }
}

/// `seconds` in a unit that suits it: chunks of a quarter of a millisecond must not
/// read as "0.000 s".
fn short_duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_a_unit_that_suits_them() {
        assert_eq!(short_duration(2.5), "2.50 s");
        assert_eq!(short_duration(0.0123), "12.3 ms");
        assert_eq!(short_duration(0.000_27), "270 µs");
    }

    #[test]
    fn the_median_follows_recent_chunks() {
        let mut t = Timing::new();
        assert_eq!(t.median(), None);
        for _ in 0..TIMED {
            t.record(Duration::from_millis(2));
        }
        assert_eq!(t.median(), Some(0.002));
        for _ in 0..1000 {
            t.record(Duration::from_secs(1));
        }
        assert_eq!(t.median(), Some(1.0));
    }

    /// A watch started `ago` in the past.
    fn watch(phase: Phase, ago: Duration) -> Watch {
        let mut w = Watch::new(phase);
        w.started -= ago;
        w.progressed -= ago;
        w
    }

    fn timed(median: Duration) -> Timing {
        let mut t = Timing::new();
        for _ in 0..TIMED {
            t.record(median);
        }
        t
    }

    #[test]
    fn a_worker_that_computes_is_reported_at_growing_multiples_never_taken_for_stuck() {
        let policy = Policy::with_quiet(None, Duration::from_secs(60));
        let timing = timed(Duration::from_secs(1));
        let mut w = watch(Phase::Steady, Duration::from_secs(25));
        let mut cpu = Duration::from_secs(1);
        let look = |w: &mut Watch, cpu: Duration| {
            w.look(Some(cpu), Some("running"), &policy, &timing, "chunk 7")
        };
        match look(&mut w, cpu) {
            Verdict::Slow(why) => {
                assert!(why.contains("chunk 7 has run for 25.0 s, 25 x"), "{why}");
                assert!(why.contains("computing"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        // Not again until 40 x the median; hours of computing are never stuck.
        cpu += Duration::from_secs(1);
        assert_eq!(look(&mut w, cpu), Verdict::Fine);
        w.started -= Duration::from_secs(10_000);
        cpu += Duration::from_secs(1);
        assert!(matches!(look(&mut w, cpu), Verdict::Slow(_)));
        cpu += Duration::from_secs(1);
        assert_eq!(look(&mut w, cpu), Verdict::Fine);
    }

    #[test]
    fn a_worker_without_progress_is_stuck_after_the_quiet_limit() {
        let policy = Policy::with_quiet(None, Duration::from_secs(60));
        let timing = timed(Duration::from_millis(1));
        let cpu = Some(Duration::from_secs(3));
        let mut w = watch(Phase::Steady, Duration::from_secs(50));
        assert!(matches!(
            w.look(cpu, None, &policy, &timing, "x"),
            Verdict::Slow(_)
        ));
        w.progressed -= Duration::from_secs(59);
        assert!(!matches!(
            w.look(cpu, Some("stopped"), &policy, &timing, "x"),
            Verdict::Stuck(_)
        ));
        w.progressed -= Duration::from_secs(2);
        match w.look(cpu, Some("stopped"), &policy, &timing, "chunk 3") {
            Verdict::Stuck(why) => assert!(
                why.contains("chunk 3 made no progress for 61") && why.contains("stopped"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        // Without CPU times, it is never taken for stuck on its own.
        let mut w = watch(Phase::Steady, Duration::from_secs(5000));
        assert!(!matches!(
            w.look(None, None, &policy, &timing, "x"),
            Verdict::Stuck(_)
        ));
    }

    #[test]
    fn a_start_is_judged_by_its_own_allowance_and_a_hard_limit_always_holds() {
        let policy = Policy::with_quiet(None, Duration::from_secs(60));
        let timing = timed(Duration::from_millis(10));
        // A first chunk warming up for 12 s while others take 10 ms: nothing to say.
        let mut w = watch(Phase::First, Duration::from_secs(12));
        let cpu = Some(Duration::from_secs(11));
        assert_eq!(w.look(cpu, None, &policy, &timing, "x"), Verdict::Fine);
        let mut w = watch(Phase::Starting, Duration::from_secs(61));
        match w.look(cpu, None, &policy, &timing, "worker 9") {
            Verdict::Slow(why) => assert!(why.contains("worker 9 has been starting"), "{why}"),
            other => panic!("{other:?}"),
        }
        let hard = Policy::with_quiet(Some(Duration::from_secs(5)), Duration::from_secs(60));
        let mut w = watch(Phase::Starting, Duration::from_secs(6));
        match w.look(cpu, None, &hard, &timing, "worker 9") {
            Verdict::Stuck(why) => {
                assert!(why.contains("over the chunk timeout of 5.0 s"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn time_while_the_job_was_stopped_does_not_count() {
        let policy = Policy::with_quiet(None, Duration::from_secs(10));
        let timing = Timing::new();
        let cpu = Some(Duration::from_secs(1));
        let mut w = watch(Phase::Steady, Duration::from_secs(15));
        w.look(cpu, None, &policy, &timing, "x");
        w.progressed -= Duration::from_secs(15);
        // Stopped for 15 s: shifted, it has been quiet for no time at all.
        w.shift(Duration::from_secs(15));
        assert!(!matches!(
            w.look(cpu, None, &policy, &timing, "x"),
            Verdict::Stuck(_)
        ));
    }
}
