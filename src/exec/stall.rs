//! When a chunk has run too long: the chunk timeout, derived from the chunk times
//! seen so far unless given.
//!
//! Chunks of one run are alike (same size, same model), so a chunk that takes 20
//! times the median of those before it is stuck, not slow: an infinite loop in a
//! model, a worker stopped with SIGSTOP, a dead NFS mount. The floor of 10 s keeps
//! millisecond chunks from being judged by noise, and until a few chunks have been
//! timed the limit is a generous 5 minutes.

use std::time::Duration;

/// The timeout is never below this, whatever the chunk times.
pub(crate) const FLOOR: Duration = Duration::from_secs(10);

/// The timeout is this many times the median chunk time.
pub(crate) const FACTOR: f64 = 20.0;

/// The timeout before [`TIMED`] chunks have finished.
pub(crate) const UNTIMED: Duration = Duration::from_secs(300);

/// Chunks that must have finished before their times set the timeout.
pub(crate) const TIMED: usize = 4;

/// Chunk times kept: the most recent ones, so a run whose chunks slow down (a
/// machine that gets busy) moves its timeout with them.
const KEPT: usize = 255;

/// The chunk times seen so far and the timeout they give.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    explicit: Option<Duration>,
    /// Recent chunk times in seconds, a ring of [`KEPT`].
    seconds: Vec<f64>,
    next: usize,
    /// Chunk times recorded, over the run (the ring keeps the last [`KEPT`]).
    recorded: u64,
    /// The timeout, recomputed as times arrive.
    limit: Duration,
    median: Option<f64>,
}

impl Timing {
    /// Timing with the user's timeout `explicit`, if any (it then never changes).
    pub(crate) fn new(explicit: Option<Duration>) -> Self {
        Timing {
            explicit,
            seconds: Vec::new(),
            next: 0,
            recorded: 0,
            limit: explicit.unwrap_or(UNTIMED),
            median: None,
        }
    }

    /// Records a finished chunk's time.
    pub(crate) fn record(&mut self, took: Duration) {
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
        if self.recorded < 2 * TIMED as u64 || self.recorded.is_multiple_of(16) {
            let mut sorted = self.seconds.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[n / 2];
            self.median = Some(median);
            if self.explicit.is_none() && n >= TIMED {
                self.limit = FLOOR.max(Duration::from_secs_f64((FACTOR * median).min(1e9)));
            }
        }
    }

    /// How long a chunk may run before it is taken for stuck.
    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// The timeout in words, for messages: where it comes from.
    pub(crate) fn describe(&self) -> String {
        let limit = self.limit.as_secs_f64();
        match (self.explicit, self.median) {
            (Some(_), _) => format!("the chunk timeout of {limit:.1} s (--chunk-timeout)"),
            (None, Some(m)) if self.seconds.len() >= TIMED => format!(
                "the chunk timeout of {limit:.1} s (20 x the median chunk time {}, at \
                 least 10 s; --chunk-timeout sets it)",
                short_duration(m)
            ),
            _ => format!(
                "the chunk timeout of {limit:.0} s before chunks are timed (--chunk-timeout \
                 sets it)"
            ),
        }
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
    fn the_limit_follows_the_median_above_a_floor() {
        let mut t = Timing::new(None);
        assert_eq!(t.limit(), UNTIMED);
        for _ in 0..TIMED {
            t.record(Duration::from_millis(2));
        }
        assert_eq!(t.limit(), FLOOR);
        for _ in 0..64 {
            t.record(Duration::from_secs(2));
        }
        assert_eq!(t.limit(), Duration::from_secs(40));
        // One slow chunk does not move the median.
        t.record(Duration::from_secs(500));
        assert_eq!(t.limit(), Duration::from_secs(40));
    }

    #[test]
    fn the_limit_still_follows_the_chunk_times_once_the_ring_is_full() {
        let mut t = Timing::new(None);
        for _ in 0..1000 {
            t.record(Duration::from_millis(2));
        }
        assert_eq!(t.limit(), FLOOR);
        // The machine gets busy: chunks take 1 s from now on.
        for _ in 0..KEPT {
            t.record(Duration::from_secs(1));
        }
        assert_eq!(t.limit(), Duration::from_secs(20));
    }

    #[test]
    fn an_explicit_limit_stays() {
        let mut t = Timing::new(Some(Duration::from_secs(3)));
        for _ in 0..100 {
            t.record(Duration::from_secs(1));
        }
        assert_eq!(t.limit(), Duration::from_secs(3));
        assert!(t.describe().contains("--chunk-timeout"));
    }
}
