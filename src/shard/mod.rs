//! Shards: one run cut into independent pieces that can run anywhere (a Slurm job
//! array, Kubernetes indexed jobs, GNU parallel), then merged.
//!
//! Shard `I/N` runs share `I` of `N` contiguous, nearly equal shares of the run's
//! chunks ([`crate::plan::Plan::share`]) on the configured backend and writes a
//! [`Partial`]: the job, its fingerprint and seed, the stream derivation and the
//! statistics of each of its chunks. [`merge`] checks that partials belong to one run
//! and together hold every chunk exactly once, then folds the chunks in ascending
//! order, exactly as a single run does, so the merged summary has the same bits.

mod merge;
mod partial;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::Error;
use crate::config::{Destination, Experiment};
use crate::engine::{Observer, Progress};
use crate::exec::{self, Flow, Work};
use crate::stats::{InOrder, Moments};

pub use merge::merge;
pub use partial::{FORMAT, FORMAT_VERSION, Partial};

/// Which share of a run to compute: shard `index + 1` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based position of the shard.
    pub index: u64,
    /// Number of shards the run is cut into (at least 1).
    pub count: u64,
}

impl fmt::Display for Shard {
    /// 1-based, as on the command line: `2/4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl Shard {
    /// Parses `I/N` (1-based, `1 <= I <= N`), as given to `--shard`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("expected I/N such as 2/4, found '{text}'"))?;
        let number = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| format!("expected whole numbers I/N such as 2/4, found '{text}'"))
        };
        let (i, n) = (number(i)?, number(n)?);
        if n == 0 {
            return Err(format!(
                "the shard count must be at least 1, found '{text}'"
            ));
        }
        if i == 0 || i > n {
            return Err(format!(
                "the shard number must lie in 1..={n} (shards are numbered from 1), found '{text}'"
            ));
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// The shard of a Slurm job-array task, from `SLURM_ARRAY_TASK_ID`,
    /// `SLURM_ARRAY_TASK_COUNT` and `SLURM_ARRAY_TASK_MIN`, read through `var`.
    ///
    /// `None` outside a job array (either of the first two is unset). The shard is
    /// `ID - MIN + 1` of `COUNT`, so arrays numbered from 0 (`--array=0-9`) and from 1
    /// (`--array=1-10`) both work; when `MIN` is unset, ids are taken to start at 1,
    /// as in `--shard`. Array ids must be contiguous (no `:step`, no lists with holes).
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT"))
        else {
            return Ok(None);
        };
        let read = |name: &str, value: &str| {
            value.trim().parse::<u64>().map_err(|_| Error::Flag {
                flag: name.into(),
                reason: format!("expected a whole number, found '{value}'"),
            })
        };
        let id = read("SLURM_ARRAY_TASK_ID", &id)?;
        let count = read("SLURM_ARRAY_TASK_COUNT", &count)?;
        let min = match var("SLURM_ARRAY_TASK_MIN") {
            Some(min) => read("SLURM_ARRAY_TASK_MIN", &min)?,
            None => 1,
        };
        if count == 0 || id < min || id - min >= count {
            return Err(Error::Flag {
                flag: "SLURM_ARRAY_TASK_ID".into(),
                reason: format!(
                    "task {id} of an array of {count} tasks numbered from {min} is not a shard: \
                     carlo needs contiguous array ids such as --array=1-{}",
                    count.max(1)
                ),
            });
        }
        Ok(Some(Shard {
            index: id - min,
            count,
        }))
    }

    /// Where the partial goes by default: beside `summary` (the run's summary path),
    /// named `<stem>.part-I-of-N.json`.
    pub fn default_path(&self, summary: &Path) -> PathBuf {
        let stem = summary
            .file_stem()
            .map_or_else(|| "carlo".into(), |s| s.to_string_lossy());
        summary.with_file_name(format!(
            "{stem}.part-{}-of-{}.json",
            self.index + 1,
            self.count
        ))
    }
}

/// Runs `shard`'s share of `experiment`'s chunks on its configured backend and
/// returns their statistics as a partial. `observer` sees the shard's own progress.
pub fn run(
    experiment: &Experiment,
    shard: Shard,
    observer: &mut dyn Observer,
) -> Result<Partial, Error> {
    let start = Instant::now();
    let job = &experiment.job;
    let model = experiment.model.as_ref();
    let mut executor = exec::build(
        experiment.backend,
        experiment.workers,
        experiment.worker_command.as_ref(),
    )?;
    let plan = job.plan();
    let range = plan.share(shard.index, shard.count);
    let work = Work { job, model, plan };
    let mut chunks: Vec<Option<Moments>> = vec![None; (range.end - range.start) as usize];
    // Only for the progress bar: the shard's chunks merged so far, in order.
    let mut merger = InOrder::resume(range.start, Moments::empty(model.dim()));
    let quantity = &model.quantities()[0];
    let before = plan.samples_before(range.start);
    if !range.is_empty() {
        executor.execute(
            &work,
            std::slice::from_ref(&range),
            &mut |index, moments| {
                let slot = &mut chunks[(index - range.start) as usize];
                if slot.is_none() {
                    *slot = Some(moments.clone());
                    if merger.insert(index, moments) > 0 {
                        observer.progress(&Progress {
                            samples_done: plan.samples_before(merger.next()) - before,
                            samples_total: plan.samples_before(range.end) - before,
                            moments: merger.merged(),
                            quantity,
                            confidence: job.confidence,
                        });
                    }
                }
                Flow::Continue
            },
        )?;
    }
    let chunks = chunks
        .into_iter()
        .enumerate()
        .map(|(k, m)| {
            m.ok_or_else(|| {
                Error::Execution(format!(
                    "the {} backend finished without chunk {}",
                    executor.backend(),
                    range.start + k as u64
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Partial::new(
        experiment,
        shard,
        range.start,
        chunks,
        match &experiment.out {
            Destination::File(path) => Some(path.clone()),
            Destination::Stdout => None,
        },
        executor.backend(),
        executor.workers(),
        start.elapsed().as_secs_f64(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_based_shards() {
        assert_eq!(Shard::parse("1/1"), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "0/0", "2", "a/b", "-1/3", "1/4/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad} parsed");
        }
        assert_eq!(Shard { index: 2, count: 4 }.to_string(), "3/4");
    }

    fn env<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn slurm_arrays_from_zero_or_one() {
        let one = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(
            Shard::from_slurm(env(&one)).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        let zero = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
        ];
        assert_eq!(
            Shard::from_slurm(env(&zero)).unwrap(),
            Some(Shard { index: 0, count: 4 })
        );
        let no_min = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert_eq!(
            Shard::from_slurm(env(&no_min)).unwrap(),
            Some(Shard { index: 1, count: 3 })
        );
        assert_eq!(Shard::from_slurm(env(&[])).unwrap(), None);
        assert_eq!(
            Shard::from_slurm(env(&[("SLURM_ARRAY_TASK_ID", "2")])).unwrap(),
            None
        );
    }

    #[test]
    fn slurm_holes_and_garbage_are_refused() {
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        let e = Shard::from_slurm(env(&stepped)).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID"), "{e}");
        let zero_no_min = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert!(Shard::from_slurm(env(&zero_no_min)).is_err());
        let garbage = [
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert!(Shard::from_slurm(env(&garbage)).is_err());
    }

    #[test]
    fn default_path_sits_beside_the_summary() {
        let s = Shard { index: 1, count: 8 };
        assert_eq!(
            s.default_path(Path::new("results/pi.csv")),
            PathBuf::from("results/pi.part-2-of-8.json")
        );
    }
}
