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
use crate::exec::{self, Event, Flow, Work};
use crate::plan::Plan;
use crate::stats::{ChunkStats, ExactSums};
use std::collections::BTreeMap;

pub use merge::{Partials, default_summary};
pub(crate) use partial::Reader;
pub use partial::{Header, Writer};

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

    /// The shard a batch scheduler's array task should run, from its variables
    /// read through `var`: `--shard auto`. Returns the shard and where it came from.
    ///
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` of `SLURM_ARRAY_TASK_COUNT`, counted
    ///   from `SLURM_ARRAY_TASK_MIN` in steps of `SLURM_ARRAY_TASK_STEP` (so
    ///   `--array=0-9`, `--array=1-10` and `--array=0-18:2` all work). Lists with
    ///   holes (`--array=1,3,7`) are refused: their tasks are no contiguous shares.
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (from 0); Kubernetes does not
    ///   say how many there are, so the count is `shards` (`--shards N`) or
    ///   `CARLO_SHARDS`.
    /// - AWS Batch array jobs: `AWS_BATCH_JOB_ARRAY_INDEX` (from 0) of
    ///   `AWS_BATCH_JOB_ARRAY_SIZE`.
    ///
    /// Variables of two schedulers at once, none at all, or a `shards` count that
    /// disagrees with the scheduler's are errors that say which.
    pub fn from_scheduler(
        var: impl Fn(&str) -> Option<String>,
        shards: Option<u64>,
    ) -> Result<(Self, &'static str), Error> {
        let read = |name: &'static str| -> Result<Option<u64>, Error> {
            var(name)
                .map(|value| {
                    value.trim().parse::<u64>().map_err(|_| Error::Flag {
                        flag: name.into(),
                        reason: format!("expected a whole number, found '{value}'"),
                    })
                })
                .transpose()
        };
        let refuse = |flag: &str, reason: String| Error::Flag {
            flag: flag.into(),
            reason,
        };
        let found: Vec<&str> = [
            ("Slurm (SLURM_ARRAY_TASK_ID)", "SLURM_ARRAY_TASK_ID"),
            ("Kubernetes (JOB_COMPLETION_INDEX)", "JOB_COMPLETION_INDEX"),
            (
                "AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX)",
                "AWS_BATCH_JOB_ARRAY_INDEX",
            ),
        ]
        .into_iter()
        .filter(|(_, v)| var(v).is_some())
        .map(|(name, _)| name)
        .collect();
        let (index, count, source) = match found[..] {
            [] => {
                return Err(refuse(
                    "--shard",
                    "auto found no array task of a batch scheduler (SLURM_ARRAY_TASK_ID, \
                     JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX); give --shard I/N"
                        .into(),
                ));
            }
            [_, _, ..] => {
                return Err(refuse(
                    "--shard",
                    format!(
                        "auto found the variables of several schedulers: {}; give --shard I/N",
                        found.join(" and ")
                    ),
                ));
            }
            [one] if one.starts_with("Slurm") => {
                let id = read("SLURM_ARRAY_TASK_ID")?.expect("found above");
                let count = read("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                    refuse(
                        "SLURM_ARRAY_TASK_COUNT",
                        "is not set, but SLURM_ARRAY_TASK_ID is".into(),
                    )
                })?;
                let min = read("SLURM_ARRAY_TASK_MIN")?.unwrap_or(1);
                let step = read("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
                let max =
                    read("SLURM_ARRAY_TASK_MAX")?.unwrap_or(min + step * count.saturating_sub(1));
                let offset = id.checked_sub(min).filter(|o| o % step == 0);
                let contiguous = count > 0 && max >= min && (max - min) / step + 1 == count;
                match offset {
                    Some(offset) if contiguous && offset / step < count => {
                        (offset / step, count, "SLURM_ARRAY_TASK_ID")
                    }
                    _ => {
                        return Err(refuse(
                            "SLURM_ARRAY_TASK_ID",
                            format!(
                                "task {id} of an array of {count} tasks from {min} to {max} in \
                                 steps of {step} is not a shard: carlo needs evenly spaced \
                                 array ids such as --array=1-{} (no lists with holes)",
                                count.max(1)
                            ),
                        ));
                    }
                }
            }
            [one] if one.starts_with("Kubernetes") => {
                let index = read("JOB_COMPLETION_INDEX")?.expect("found above");
                let from_env = read("CARLO_SHARDS")?;
                let count = match (shards, from_env) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(refuse(
                            "--shards",
                            format!("is {a}, but CARLO_SHARDS is {b}"),
                        ));
                    }
                    (Some(n), _) | (None, Some(n)) => n,
                    (None, None) => {
                        return Err(refuse(
                            "--shards",
                            "a Kubernetes Indexed Job does not say how many tasks it has: \
                             give --shards N (its completions) or set CARLO_SHARDS"
                                .into(),
                        ));
                    }
                };
                (index, count, "JOB_COMPLETION_INDEX")
            }
            [_] => {
                let index = read("AWS_BATCH_JOB_ARRAY_INDEX")?.expect("found above");
                let count = read("AWS_BATCH_JOB_ARRAY_SIZE")?.ok_or_else(|| {
                    refuse(
                        "AWS_BATCH_JOB_ARRAY_SIZE",
                        "is not set, but AWS_BATCH_JOB_ARRAY_INDEX is".into(),
                    )
                })?;
                (index, count, "AWS_BATCH_JOB_ARRAY_INDEX")
            }
        };
        if let Some(n) = shards
            && n != count
        {
            return Err(refuse(
                "--shards",
                format!("is {n}, but the scheduler runs {count} tasks ({source})"),
            ));
        }
        if count == 0 || index >= count {
            return Err(refuse(
                source,
                format!("task {index} (from 0) is not one of {count} shards"),
            ));
        }
        Ok((Shard { index, count }, source))
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

/// How a shard ran: what [`run`] reports once its partial is written.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRun {
    /// The chunks it holds.
    pub chunks: std::ops::Range<u64>,
    /// The backend's name.
    pub backend: String,
    /// Workers used.
    pub workers: usize,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Worker processes replaced while it ran.
    pub worker_restarts: u64,
}

/// Runs `shard`'s share of `experiment`'s chunks on its configured backend and writes
/// their statistics as a partial to `dest`, in chunk order as they complete: memory
/// does not grow with the chunk count. `observer` sees the shard's own progress.
pub fn run(
    experiment: &Experiment,
    shard: Shard,
    dest: &Destination,
    observer: &mut dyn Observer,
) -> Result<ShardRun, Error> {
    let start = Instant::now();
    let job = &experiment.job;
    let model = experiment.model.as_ref();
    let mut executor = exec::build(experiment)?;
    // A share of the blocks, not of the chunks: shards of one run hold the same
    // blocks whatever chunk size each one runs at.
    let range = crate::plan::split(0..job.blocks(), shard.index, shard.count);
    let plan = Plan::resume(job.samples, job.chunk_blocks(), vec![range.clone()]);
    let summary = match &experiment.out {
        Destination::File(path) => Some(path.clone()),
        Destination::Stdout => None,
    };
    let header = Header::new(
        &experiment.name,
        job,
        (shard.index, shard.count),
        range.clone(),
        summary,
    );
    // MPI ranks other than 0 compute, but leave the writing to rank 0.
    let mut writer = if exec::is_primary() {
        Some(Writer::create(dest, &header)?)
    } else {
        None
    };
    let work = Work {
        job,
        model,
        plan: &plan,
    };
    // Chunks that finished ahead of the next one to write, by first block; the
    // executor's window bounds them.
    let mut ahead: BTreeMap<u64, ChunkStats> = BTreeMap::new();
    let mut next = range.start;
    // Only for the progress bar: the shard's chunks written so far.
    let mut merged = ExactSums::new(model.dim());
    let quantity = &model.quantities()[0];
    let before = plan.samples_before(range.start);
    let mut failed = None;
    let mut restarts = 0;
    if plan.chunks() > 0 {
        let all = 0..plan.chunks();
        executor.execute(&work, std::slice::from_ref(&all), &mut |event| {
            let stats = match event {
                Event::Done(_, stats) => stats,
                Event::Restarted => {
                    restarts = u64::saturating_add(restarts, 1);
                    return Flow::Continue;
                }
                Event::Idle => return Flow::Continue,
                // A shard keeps nothing to resume from: the partial is not written.
                Event::Fatal(_) => return Flow::Stop,
            };
            ahead.insert(stats.blocks.start, stats);
            let mut advanced = false;
            while let Some(c) = ahead.remove(&next) {
                if let Some(Err(e)) = writer.as_mut().map(|w| w.push(&c)) {
                    failed = Some(e);
                    return Flow::Stop;
                }
                merged.merge(&c.total(model.dim()));
                next = c.blocks.end;
                advanced = true;
            }
            if advanced {
                observer.progress(&Progress {
                    samples_done: plan.samples_before(next) - before,
                    samples_total: plan.samples_before(range.end) - before,
                    moments: &merged.moments(),
                    quantity,
                    confidence: job.confidence,
                });
            }
            Flow::Continue
        })?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if next < range.end {
        return Err(Error::Execution(format!(
            "the {} backend finished without block {next}",
            executor.backend()
        )));
    }
    let wall_seconds = start.elapsed().as_secs_f64();
    if let Some(writer) = writer {
        writer.finish(
            executor.backend(),
            executor.workers(),
            wall_seconds,
            restarts,
        )?;
    }
    Ok(ShardRun {
        chunks: range,
        backend: executor.backend().to_string(),
        workers: executor.workers(),
        wall_seconds,
        worker_restarts: restarts,
    })
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

    fn auto(vars: &[(&str, &str)], shards: Option<u64>) -> Result<Shard, String> {
        Shard::from_scheduler(env(vars), shards)
            .map(|(shard, _)| shard)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn slurm_arrays_from_zero_one_or_in_steps() {
        let one = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(auto(&one, None), Ok(Shard { index: 3, count: 4 }));
        let zero = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
        ];
        assert_eq!(auto(&zero, None), Ok(Shard { index: 0, count: 4 }));
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "8"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        assert_eq!(auto(&stepped, None), Ok(Shard { index: 3, count: 5 }));
        let no_min = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert_eq!(auto(&no_min, None), Ok(Shard { index: 1, count: 3 }));
    }

    #[test]
    fn slurm_holes_and_garbage_are_refused() {
        let list = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
        ];
        assert!(auto(&list, None).unwrap_err().contains("holes"));
        let off_step = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ];
        assert!(auto(&off_step, None).is_err());
        let zero_no_min = [
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert!(auto(&zero_no_min, None).is_err());
        let garbage = [
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert!(auto(&garbage, None).is_err());
        assert!(auto(&[("SLURM_ARRAY_TASK_ID", "2")], None).is_err());
    }

    #[test]
    fn kubernetes_needs_a_count_and_aws_gives_one() {
        let k8s = [("JOB_COMPLETION_INDEX", "2")];
        assert!(auto(&k8s, None).unwrap_err().contains("--shards"));
        assert_eq!(auto(&k8s, Some(4)), Ok(Shard { index: 2, count: 4 }));
        let k8s_env = [("JOB_COMPLETION_INDEX", "0"), ("CARLO_SHARDS", "3")];
        assert_eq!(auto(&k8s_env, None), Ok(Shard { index: 0, count: 3 }));
        assert!(auto(&k8s_env, Some(4)).is_err());
        assert!(auto(&k8s, Some(2)).is_err(), "index 2 of 2");
        let aws = [
            ("AWS_BATCH_JOB_ARRAY_INDEX", "9"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "10"),
        ];
        assert_eq!(
            auto(&aws, None),
            Ok(Shard {
                index: 9,
                count: 10
            })
        );
        assert!(auto(&aws, Some(5)).unwrap_err().contains("--shards"));
    }

    #[test]
    fn no_scheduler_or_two_are_refused() {
        assert!(auto(&[], None).unwrap_err().contains("no array task"));
        let both = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "2"),
        ];
        let err = auto(&both, None).unwrap_err();
        assert!(err.contains("Slurm") && err.contains("AWS"), "{err}");
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
