//! Time while the whole job was stopped: Ctrl-Z (SIGTSTP) and `fg`, Slurm's `scontrol
//! suspend`, a laptop's lid. Workers make no progress then, and neither does the
//! process watching them, so it must not count.
//!
//! The watching loops look up at least every [`super::TICK`]; when the clock has
//! moved much further between two looks, the process was not running meanwhile, and
//! the excess is time the job was stopped. (A look that comes late because the engine
//! was busy, saving a checkpoint on a slow disk, also counts: the policy then only
//! waits a little longer before it judges a worker.)

use std::time::{Duration, Instant};

/// A gap between two looks beyond the loop's period and this is a stop.
const SLACK: Duration = Duration::from_secs(2);

/// The time since the last look that the job spent stopped.
#[derive(Debug)]
pub struct Pauses {
    last: Instant,
    period: Duration,
    /// Stopped time found so far, over the run.
    total: Duration,
}

impl Pauses {
    /// Looks that come at least every `period`.
    pub fn new(period: Duration) -> Self {
        Pauses {
            last: Instant::now(),
            period,
            total: Duration::ZERO,
        }
    }

    /// Takes a look now: returns how long the job was stopped since the last look
    /// (zero most of the time).
    pub fn look(&mut self) -> Duration {
        self.look_at(Instant::now())
    }

    fn look_at(&mut self, now: Instant) -> Duration {
        let gap = now.saturating_duration_since(self.last);
        self.last = now;
        if gap > self.period + SLACK {
            let stopped = gap - self.period;
            self.total += stopped;
            stopped
        } else {
            Duration::ZERO
        }
    }

    /// Stopped time found over the run.
    pub fn total(&self) -> Duration {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_gap_well_beyond_the_period_is_a_stop() {
        let start = Instant::now();
        let mut p = Pauses::new(Duration::from_secs(1));
        p.last = start;
        assert_eq!(
            p.look_at(start + Duration::from_millis(900)),
            Duration::ZERO
        );
        assert_eq!(
            p.look_at(start + Duration::from_millis(3500)),
            Duration::ZERO,
            "2.6 s after the last look: late, not stopped"
        );
        let stopped = p.look_at(start + Duration::from_millis(18_500));
        assert_eq!(stopped, Duration::from_secs(14));
        assert_eq!(p.total(), Duration::from_secs(14));
    }
}
