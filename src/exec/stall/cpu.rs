//! How much CPU time a worker has used: what tells a worker that computes from one
//! that makes no progress (stopped, sleeping, deadlocked).
//!
//! Linux only (`/proc` and per-thread CPU clocks); elsewhere nothing is known, and
//! the stall policy then never takes a worker for stuck on its own (see
//! [`super::Watch`]).

use std::time::Duration;

/// The CPU time (user and system) process `pid` has used, and its state letter (`R`
/// running, `S` sleeping, `D` waiting on a disk, `T` stopped, `Z` dead), from
/// `/proc/PID/stat`; `None` when it cannot be read (the process is gone, or this is
/// not Linux).
pub fn process(pid: u32) -> Option<(Duration, char)> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(&stat, ticks_per_second())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

/// The CPU time and state in a `/proc/PID/stat` line, whose clock ticks are
/// `hz` a second. The command name, in parentheses, may hold spaces and
/// parentheses: the fields after it are counted from its last `)`.
fn parse_stat(stat: &str, hz: u64) -> Option<(Duration, char)> {
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ..., utime (14), stime (15), in 1-based field numbers.
    let state = fields.first()?.chars().next()?;
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    let ticks = user.saturating_add(system);
    let hz = hz.max(1);
    Some((
        Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz),
        state,
    ))
}

#[cfg(target_os = "linux")]
fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).unwrap_or(100)
}

/// The state letter in words, for messages.
pub fn state_name(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping",
        'D' => "waiting on a disk",
        'T' | 't' => "stopped",
        'Z' | 'X' => "dead",
        _ => "in an unknown state",
    }
}

/// A clock of the CPU time one thread uses, read from any thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadClock(#[cfg(target_os = "linux")] libc::clockid_t);

impl ThreadClock {
    /// The clock of the calling thread; `None` where there is none (not Linux).
    pub fn current() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            let mut clock: libc::clockid_t = 0;
            // SAFETY: pthread_self is always valid for the calling thread, and `clock`
            // is a valid place for the result.
            let ok = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
            (ok == 0).then_some(ThreadClock(clock))
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// The CPU time the thread has used; `None` if it cannot be read (the thread
    /// ended).
    pub fn read(&self) -> Option<Duration> {
        #[cfg(target_os = "linux")]
        {
            let mut t = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `t` is a valid timespec to write.
            let ok = unsafe { libc::clock_gettime(self.0, &mut t) };
            (ok == 0).then(|| {
                Duration::new(
                    u64::try_from(t.tv_sec).unwrap_or(0),
                    u32::try_from(t.tv_nsec).unwrap_or(0),
                )
            })
        }
        #[cfg(not(target_os = "linux"))]
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_cpu_time_and_state() {
        let line = "1234 (carlo worker) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        let (cpu, state) = parse_stat(line, 100).unwrap();
        assert_eq!(cpu, Duration::from_secs(3));
        assert_eq!(state, 'S');
        // A name with a parenthesis in it.
        let odd = "1 (a) b) T 1 2 3 4 5 6 7 8 9 10 5 0 0 0";
        assert_eq!(
            parse_stat(odd, 100).unwrap(),
            (Duration::from_millis(50), 'T')
        );
        assert!(parse_stat("garbage", 100).is_none());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_and_this_thread_use_cpu_time() {
        let clock = ThreadClock::current().unwrap();
        let before = clock.read().unwrap();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(clock.read().unwrap() > before);
        // The state is the main thread's, which may be asleep while tests run.
        let (cpu, _) = process(std::process::id()).unwrap();
        assert!(cpu > Duration::ZERO);
    }
}
