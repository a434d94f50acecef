//! Scaling studies: the same job on several backends and worker counts, timed.
//!
//! In a strong study (fixed total samples) every run computes the same job, so every
//! run must give the same bits; a study that sees two different results fails rather
//! than report timings of different computations. In a weak study the samples grow
//! with the workers, so results are compared only between runs of equal size.

mod plot;

use crate::Error;
use crate::backend::Backend;
use crate::config::Experiment;
use crate::engine::{self, Quiet, Report};
use crate::output::{Sheet, Value};

pub use plot::plot;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Study {
    /// Backends, in the order they are run.
    pub backends: Vec<Backend>,
    /// Worker counts; 1 is always measured too, as the baseline of the speedup. The
    /// sequential backend is measured at 1 worker only.
    pub workers: Vec<usize>,
    /// Runs per point; the median is reported.
    pub repeats: usize,
    /// Keep samples per worker fixed instead of the total.
    pub weak: bool,
}

/// One measured point: a backend at a worker count.
#[derive(Debug, Clone)]
pub struct Point {
    /// The backend.
    pub backend: Backend,
    /// Workers.
    pub workers: usize,
    /// Samples per run.
    pub samples: u64,
    /// Wall-clock seconds of each repeat.
    pub seconds: Vec<f64>,
    /// The report of the last repeat.
    pub report: Report,
}

impl Point {
    /// Median wall-clock seconds.
    pub fn median(&self) -> f64 {
        median(&self.seconds)
    }

    /// Samples per second at the median time.
    pub fn rate(&self) -> f64 {
        self.samples as f64 / self.median()
    }
}

/// The machine a study ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Cores available to this process.
    pub cores: usize,
    /// CPU model, from `/proc/cpuinfo` where there is one.
    pub cpu: String,
}

impl Machine {
    /// This machine.
    pub fn this() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        Machine {
            cores: crate::backend::available_cores(),
            cpu,
        }
    }
}

/// Median of a non-empty slice.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The result columns of a report as text: equal strings mean equal bits.
fn fingerprint(report: &Report) -> String {
    report
        .estimates
        .iter()
        .map(|(q, e)| {
            format!(
                "{}={} se={} ci=[{}, {}] n={}",
                q.name, e.estimate, e.std_error, e.ci_low, e.ci_high, e.samples
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs the study on `base`'s job. `after_point` sees every point measured so far
/// (to rewrite the CSV, so an interrupted study keeps what it measured).
///
/// Fails with [`Error::Execution`] if two runs that must agree do not.
pub fn run(
    base: &Experiment,
    study: &Study,
    after_point: &mut dyn FnMut(&[Point]) -> Result<(), Error>,
) -> Result<Vec<Point>, Error> {
    let mut workers = study.workers.clone();
    workers.push(1);
    workers.sort_unstable();
    workers.dedup();
    let mut points: Vec<Point> = Vec::new();
    for &w in &workers {
        for &backend in &study.backends {
            // The sequential backend has one worker whatever it is asked for.
            if backend == Backend::Sequential && w > 1 {
                continue;
            }
            let mut experiment = base.clone();
            experiment.backend = backend;
            experiment.workers = w;
            if study.weak {
                experiment.job.samples = base.job.samples.saturating_mul(w as u64);
            }
            let mut seconds = Vec::with_capacity(study.repeats);
            let mut last: Option<Report> = None;
            for _ in 0..study.repeats.max(1) {
                let report = engine::run(&experiment, &mut Quiet)?;
                seconds.push(report.wall_seconds);
                check_agreement(&points, last.as_ref(), &report, study.weak)?;
                last = Some(report);
            }
            let report = last.expect("at least one repeat");
            points.push(Point {
                backend,
                workers: w,
                // The samples drawn, which a config with a target error may stop
                // short of its `samples`: throughput must count only real work.
                samples: report.samples(),
                seconds,
                report,
            });
            after_point(&points)?;
        }
    }
    Ok(points)
}

/// Compares a new report with every earlier run that computed the same job.
fn check_agreement(
    points: &[Point],
    previous_repeat: Option<&Report>,
    report: &Report,
    weak: bool,
) -> Result<(), Error> {
    let same_job = points
        .iter()
        .map(|p| &p.report)
        .filter(|r| !weak || r.samples() == report.samples())
        .chain(previous_repeat);
    for other in same_job {
        let (a, b) = (fingerprint(other), fingerprint(report));
        if a != b {
            return Err(Error::Execution(format!(
                "determinism violated: {} x{} gave {b} but {} x{} gave {a}",
                report.backend, report.workers, other.backend, other.workers
            )));
        }
    }
    Ok(())
}

/// The study as a table, one row per point, with speedup and efficiency against one
/// worker of the same backend (throughput ratios, so weak studies read the same).
pub fn sheet(points: &[Point], machine: &Machine) -> Sheet {
    let columns = vec![
        "name",
        "model",
        "backend",
        "workers",
        "samples",
        "repeats",
        "wall_seconds",
        "wall_seconds_min",
        "wall_seconds_max",
        "samples_per_second",
        "speedup",
        "efficiency",
        "estimate",
        "std_error",
        "seed",
        "chunk_size",
        "cores",
        "cpu",
    ];
    let rows = points
        .iter()
        .map(|p| {
            let baseline = points
                .iter()
                .find(|b| b.backend == p.backend && b.workers == 1)
                .map_or(f64::NAN, Point::rate);
            let speedup = p.rate() / baseline;
            let min = p.seconds.iter().copied().fold(f64::INFINITY, f64::min);
            let max = p.seconds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (_, e) = &p.report.estimates[0];
            vec![
                Value::Text(p.report.name.clone()),
                Value::Text(p.report.job.model.kind().to_string()),
                Value::Text(p.backend.name().to_string()),
                Value::Int(p.workers as u64),
                Value::Int(p.samples),
                Value::Int(p.seconds.len() as u64),
                Value::Float(p.median()),
                Value::Float(min),
                Value::Float(max),
                Value::Float(p.rate()),
                Value::Float(speedup),
                Value::Float(speedup / p.workers as f64),
                Value::Float(e.estimate),
                Value::Float(e.std_error),
                Value::Int(p.report.job.seed),
                Value::Int(p.report.job.chunk_size),
                Value::Int(machine.cores as u64),
                Value::Text(machine.cpu.clone()),
            ]
        })
        .collect();
    Sheet { columns, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
