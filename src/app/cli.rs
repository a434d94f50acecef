//! The command line: clap definitions only. The rest of [`crate::app`] turns them into
//! library calls.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::backend::Backend;

use crate::config::{Assignment, Destination, Overrides, parse_count};
use crate::output::Format;
use crate::shard::Shard;

/// Monte Carlo simulations whose answer does not depend on where they ran.
///
/// The same config and seed give bit-for-bit the same estimate on every backend and
/// worker count.
#[derive(Debug, Parser)]
#[command(name = "carlo", version, max_term_width = 100)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a simulation and write its summary.
    Run(RunArgs),
    /// Validate a config (and any overrides) without running anything.
    Check(CheckArgs),
    /// List the models and their config keys.
    Models,
    /// Time one job on several backends and worker counts (a scaling study).
    Scale(ScaleArgs),
    /// Internal: serve chunks to a parent `carlo run --backend processes` over stdin
    /// and stdout; exits when stdin closes.
    Worker,
    /// Merge the partials of `carlo run --shard` into the summary of one run.
    Merge(MergeArgs),
    /// Run a summary's job again and check that every estimate, standard error and
    /// interval comes out bit for bit the same (or spot-check some of its chunks).
    Verify(VerifyArgs),
}

/// `carlo verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The summary to check: a CSV with its job file (`<stem>.job.toml`) beside it,
    /// or a JSON summary, which carries its job.
    pub summary: PathBuf,
    /// Where to run the job again [default: the job's own, threads].
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Workers; 0 means one per available core.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub workers: Option<u64>,
    /// Recompute only K chunks, chosen by the seed, and compare them with the chunk
    /// digests kept beside the summary (`<stem>.chunks`): a spot-check for runs too
    /// long to repeat.
    #[arg(long, value_name = "K", value_parser = parse_count, conflicts_with = "shard")]
    pub chunks: Option<u64>,
    /// Recompute only share I of N of the chunks and compare them with the chunk
    /// digests: N machines check a run together.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Print only the verdict.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `carlo run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The config file (TOML).
    pub config: PathBuf,
    /// Flags that replace config values.
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Where the summary goes: a file, or - for standard output.
    /// [default: the config's [output] summary, else results/<name>.csv]
    #[arg(long, short, value_name = "PATH|-")]
    pub out: Option<String>,
    /// Summary format. [default: csv for files and pipes, table on a terminal]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Print nothing but errors: no progress bar, no table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Save progress to this file every few seconds, at Ctrl-C and at the end; if it
    /// exists, resume from it (with the same bits as an uninterrupted run). A
    /// checkpoint of another config or seed is refused. Kept after success: running
    /// the same command again reprints the summary at once.
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,
    /// Seconds between two checkpoint saves.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds, requires = "checkpoint")]
    pub checkpoint_interval: Duration,
    /// Write the convergence trace (CSV: chunks, samples, estimate, std_error, ci_low,
    /// ci_high after 1, 2, 4, 8, ... chunks and at the end) to this file.
    #[arg(long, value_name = "PATH")]
    pub trace: Option<PathBuf>,
    /// Draw the convergence trace as an SVG: the estimate and its interval against
    /// samples on a log axis, with the reference where there is one, the target
    /// half-width and the stop (with its reason), the y-axis framed on the converged
    /// part; and the half-width against samples.
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Run only shard I of N (1-based) and write its partial for `carlo merge`:
    /// JSON, to --out [default: results/<name>.part-I-of-N.json, beside the summary].
    /// `auto` takes I and N from a batch scheduler's array task: Slurm
    /// (SLURM_ARRAY_TASK_*), Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with
    /// --shards) or AWS Batch (AWS_BATCH_JOB_ARRAY_*). Without --shard a run is a
    /// whole run, even inside an array job.
    #[arg(long, value_name = "I/N|auto", value_parser = ShardArg::parse, allow_hyphen_values = true)]
    pub shard: Option<ShardArg>,
    /// The number of shards, for `--shard auto` where the scheduler does not say
    /// (Kubernetes Indexed Jobs; or set CARLO_SHARDS).
    #[arg(long, value_name = "N", value_parser = parse_count, requires = "shard")]
    pub shards: Option<u64>,
    /// Exit with this code after a checkpoint is saved instead of going on, so that a
    /// scheduler with self-checkpointing restarts the job, which resumes (HTCondor's
    /// checkpoint_exit_code, for example 85). Needs --checkpoint.
    /// Codes 0, 1 and 2 mean success, failure and bad input, so they are refused.
    #[arg(long, value_name = "CODE", requires = "checkpoint", value_parser = parse_exit_code)]
    pub checkpoint_exit_code: Option<u8>,
}

/// What `--shard` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShardArg {
    /// `--shard I/N`.
    Fixed(Shard),
    /// `--shard auto`: from a batch scheduler's variables.
    Auto,
}

impl ShardArg {
    /// Parses `I/N` or `auto`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "auto" | "slurm" => Ok(ShardArg::Auto),
            _ => Shard::parse(text)
                .map(ShardArg::Fixed)
                .map_err(|e| format!("{e}, or auto")),
        }
    }
}

/// An exit code for `--checkpoint-exit-code`: 3 to 255, since 0, 1 and 2 already
/// mean success, a failure and bad input, and a scheduler restarting a job on one of
/// them would restart failures too.
pub fn parse_exit_code(text: &str) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(code @ 3..=255) => Ok(code),
        Ok(code @ 0..=2) => Err(format!(
            "{code} already means {} to carlo; give a code of your scheduler's, 3 to 255, \
             such as HTCondor's 85",
            ["success", "a failure", "bad input"][usize::from(code)]
        )),
        _ => Err(format!(
            "expected an exit code from 3 to 255, found '{text}'"
        )),
    }
}

/// A positive, finite number of seconds.
pub(crate) fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "expected a positive number of seconds such as 5 or 0.5, found '{text}'"
        )),
    }
}

/// `carlo merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The partials written by `carlo run --shard I/N`, one per shard, in any order.
    #[arg(value_name = "PART", required_unless_present = "parts_from")]
    pub parts: Vec<PathBuf>,
    /// Also merge the partials listed in this file, one path a line (blank lines and
    /// lines starting with # skipped; - reads standard input): for more partials than
    /// a command line holds (`find parts -name '*.json' | carlo merge --parts-from -`).
    #[arg(long, value_name = "FILE|-")]
    pub parts_from: Option<PathBuf>,
    /// Where the summary goes: a file, or - for standard output.
    /// [default: the run's summary path, recorded in the partials]
    #[arg(long, short, value_name = "PATH|-")]
    pub out: Option<String>,
    /// Summary format. [default: csv for files and pipes, table on a terminal]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `carlo check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The config file (TOML).
    pub config: PathBuf,
    /// Flags that replace config values.
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

/// `carlo scale`.
#[derive(Debug, Args)]
pub(crate) struct ScaleArgs {
    /// The config file (TOML).
    pub config: PathBuf,
    /// Worker counts to measure, comma-separated; 1 is always measured too, as the
    /// baseline of the speedup.
    #[arg(long, value_name = "N,N,...", value_delimiter = ',', required = true, value_parser = parse_count)]
    pub workers: Vec<u64>,
    /// Backends to compare, comma-separated.
    #[arg(
        long,
        value_name = "B,B,...",
        value_delimiter = ',',
        value_enum,
        default_value = "threads"
    )]
    pub backends: Vec<Backend>,
    /// Runs per point; the median is reported.
    #[arg(long, value_name = "R", default_value = "3", value_parser = parse_count)]
    pub repeats: u64,
    /// Weak scaling: keep the samples per worker fixed (the config's samples are the
    /// samples of one worker) instead of the total.
    #[arg(long)]
    pub weak: bool,
    /// The study's CSV, rewritten after each point [default: results/<name>-scale.csv].
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Also draw speedup and throughput against workers as an SVG, with min-max
    /// whiskers over the repeats.
    #[arg(long, value_name = "PATH")]
    pub plot: Option<PathBuf>,
    /// Total samples (per worker with --weak) [config: simulation.samples].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub samples: Option<u64>,
    /// Seed of the random streams [config: simulation.seed].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Samples per chunk, the unit of work, rounded up to whole blocks of 4096; it
    /// never changes the result [config: simulation.chunk_size].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub chunk_size: Option<u64>,
    /// Set any config key, as for `carlo run` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = Assignment::parse)]
    pub sets: Vec<Assignment>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags that replace config values. Counts accept 1000000, 1_000_000 or 1e6.
#[derive(Debug, Args)]
pub(crate) struct OverrideArgs {
    /// Total samples [config: simulation.samples].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub samples: Option<u64>,
    /// Seed of the random streams [config: simulation.seed].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Samples per chunk, the unit of work, rounded up to whole blocks of 4096 (the
    /// unit of randomness); it never changes the result [config: simulation.chunk_size].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub chunk_size: Option<u64>,
    /// Where chunks run [config: execution.backend].
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Workers; 0 means one per available core [config: execution.workers].
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub workers: Option<u64>,
    /// A hard limit, in seconds, on one chunk (and on a worker's start): past it a
    /// worker process is killed and replaced, computing or not (its chunk runs again;
    /// three stalls of one chunk end the run), a thread is reported, an MPI job ends.
    /// Without it, a worker that uses no CPU time for a minute is taken for stuck and
    /// one that computes is only reported [config: execution.chunk_timeout].
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub chunk_timeout: Option<Duration>,
    /// Set any config key, model keys included, with the same checks as the file:
    /// --set model.strike=95 --set simulation.confidence=0.99. Values are TOML
    /// (95, true, "put") or bare strings (put). Repeatable; the flags above win.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = Assignment::parse)]
    pub sets: Vec<Assignment>,
    /// Price a grid in one run from common random numbers: --sweep
    /// model.strike=90,100,110 (repeatable; several keys give their product). One
    /// summary row per point and quantity, with a column per swept key
    /// [config: the [sweep] table].
    #[arg(long = "sweep", value_name = "KEY=V1,V2,...", value_parser = Assignment::sweep)]
    pub sweeps: Vec<Assignment>,
}

impl OverrideArgs {
    /// The overrides these flags give, with `out` as given to `--out`.
    pub(crate) fn to_overrides(&self, out: Option<&str>) -> Overrides {
        Overrides {
            samples: self.samples,
            seed: self.seed,
            chunk_size: self.chunk_size,
            backend: self.backend,
            workers: self.workers,
            out: out.map(destination),
            sets: self.sets.iter().chain(&self.sweeps).cloned().collect(),
            chunk_timeout: self.chunk_timeout,
        }
    }
}

/// Flags people type from other tools, and the carlo flag that does the same.
const SYNONYMS: [(&[&str], &str); 7] = [
    (
        &[
            "--threads",
            "--jobs",
            "-j",
            "--procs",
            "--cores",
            "--nproc",
            "--num-workers",
            "--n-workers",
            "--parallel",
        ],
        "--workers",
    ),
    (
        &[
            "--n",
            "-n",
            "--num-samples",
            "--n-samples",
            "--nsamples",
            "--paths",
            "--iterations",
            "--draws",
            "--trials",
        ],
        "--samples",
    ),
    (
        &["--output", "--outfile", "--output-file", "--summary"],
        "--out",
    ),
    (&["--random-seed", "--rng-seed", "-s"], "--seed"),
    (
        &["--chunk", "--chunksize", "--batch-size", "--batch"],
        "--chunk-size",
    ),
    (&["--executor", "--mode", "--engine"], "--backend"),
    (&["--resume", "--restart", "--state"], "--checkpoint"),
];

/// A clap error, with the carlo flag meant when the user typed a flag of another
/// tool (`--threads` for `--workers`), instead of clap's guess by spelling.
pub(crate) fn suggest(mut e: clap::Error, usage: Option<clap::builder::StyledStr>) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return e;
    }
    let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    let flag = given.split('=').next().unwrap_or(given).to_string();
    if let Some((_, meant)) = SYNONYMS
        .iter()
        .find(|(names, _)| names.contains(&flag.as_str()))
    {
        e.insert(
            ContextKind::SuggestedArg,
            ContextValue::String((*meant).to_string()),
        );
        // clap's usage line was built around its own guess.
        if let Some(usage) = usage {
            e.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
        }
    } else if flag == "--config" || flag == "-c" {
        e.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                "the config is the first argument: carlo run CONFIG".into(),
            ]),
        );
    }
    e
}

/// The destination `--out` names: `-` is standard output.
pub(crate) fn destination(out: &str) -> Destination {
    match out {
        "-" => Destination::Stdout,
        path => Destination::File(path.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_that_already_mean_something_are_refused() {
        for code in ["0", "1", "2", "256", "-1", "x"] {
            assert!(parse_exit_code(code).is_err(), "{code}");
        }
        assert!(parse_exit_code("1").unwrap_err().contains("a failure"));
        assert_eq!(parse_exit_code("85"), Ok(85));
        assert_eq!(parse_exit_code("3"), Ok(3));
    }
}
