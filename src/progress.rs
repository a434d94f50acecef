//! The progress bar shown on stderr during long runs.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Observer, Progress};

/// Shows samples done, rate and the running estimate with its error, on stderr.
///
/// It appears only after [`DELAY`] so that short runs print nothing, only when
/// enabled (stderr is a terminal and `--quiet` was not given), and disappears when
/// dropped.
#[derive(Debug)]
pub struct Bar {
    enabled: bool,
    start: Instant,
    bar: Option<ProgressBar>,
    last_message: Option<Instant>,
}

/// How long a run goes before the bar appears.
pub const DELAY: Duration = Duration::from_secs(1);

impl Bar {
    /// A bar that shows itself only if `enabled`.
    pub fn new(enabled: bool) -> Self {
        Bar {
            enabled,
            start: Instant::now(),
            bar: None,
            last_message: None,
        }
    }
}

impl Observer for Bar {
    fn progress(&mut self, p: &Progress<'_>) {
        if !self.enabled || self.start.elapsed() < DELAY {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(p.samples_total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {percent:>3}% of {human_len} samples, eta {eta}  {msg}",
                )
                .expect("the template is valid"),
            );
            bar
        });
        bar.set_position(p.samples_done);
        // The estimate needs a t quantile; a few updates a second are plenty.
        if self
            .last_message
            .is_none_or(|t| t.elapsed() > Duration::from_millis(200))
        {
            let e = p.estimate();
            let rate = p.samples_done as f64 / self.start.elapsed().as_secs_f64() / 1e6;
            bar.set_message(format!(
                "{rate:.1} M samples/s  {} = {:.6} ± {:.2e}",
                p.quantity.name, e.estimate, e.std_error
            ));
            self.last_message = Some(Instant::now());
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
