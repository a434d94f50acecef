//! `carlo run`: a whole run with its checkpoint, progress bar and signals, or one
//! shard of it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::cli::{self, RunArgs, ShardArg};
use super::signals::Stop;
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::config::{Destination, Experiment};
use crate::engine::{self, State};
use crate::model::Registry;
use crate::output::{self, Format};
use crate::shard::{self, Shard};
use crate::{Error, exec, progress, trace};

/// `carlo run`: the whole run, or one shard of it. Returns the exit code of a run
/// that ends without an error: 0, or the code of a stop (128 + the signal, or
/// `--checkpoint-exit-code`).
pub(super) fn run(args: &RunArgs, registry: &Registry) -> Result<ExitCode, Error> {
    match args.shard {
        Some(ShardArg::Fixed(shard)) => {
            if args.shards.is_some() {
                return Err(Error::Flag {
                    flag: "--shards".into(),
                    reason: "goes with --shard auto; --shard I/N says the count already".into(),
                });
            }
            return run_shard(args, shard, None, registry);
        }
        Some(ShardArg::Auto) => {
            let (shard, source) =
                Shard::from_scheduler(|name| std::env::var(name).ok(), args.shards)?;
            return run_shard(args, shard, Some(source), registry);
        }
        None => {}
    }
    let overrides = args.overrides.to_overrides(args.out.as_deref());
    let experiment = Experiment::load(&args.config, &overrides, registry)?;
    refuse_unasked_mpi(&experiment)?;
    notes(&experiment, args.quiet);
    // Every output is checked before the first chunk, so that a long run never
    // ends unable to write what it computed.
    let mut outputs: Vec<(&str, PathBuf)> = summary_outputs(&experiment.out);
    for (flag, path) in [
        ("--checkpoint", &args.checkpoint),
        ("--trace", &args.trace),
        ("--plot", &args.plot),
    ] {
        if let Some(path) = path {
            outputs.push((flag, path.clone()));
        }
    }
    let outputs: Vec<(&str, &Path)> = outputs.iter().map(|(w, p)| (*w, p.as_path())).collect();
    output::check_outputs(&outputs, &[("the config", &args.config)])?;
    let dim = experiment.model.dim();
    let (checkpoint, state) = match &args.checkpoint {
        Some(path) => {
            let (c, state) =
                Checkpoint::open(path, &experiment.job, dim, args.checkpoint_interval)?;
            (Some(c), state)
        }
        None => (None, State::new(dim)),
    };
    let mut steering = Steering {
        bar: progress::Bar::new(!args.quiet && std::io::stderr().is_terminal()),
        checkpoint,
        stop: Stop::install(args.checkpoint.is_some())?,
        exit_code: args.checkpoint_exit_code,
        saved: false,
        told: None,
        total: experiment.job.blocks(),
    };
    let result = engine::resume(&experiment, state, &mut steering);
    drop(steering.bar);
    let report = match result {
        Err(Error::Interrupted { done, total }) => {
            // Said already, as soon as the progress was saved?
            if let Some(code) = steering.told {
                return Ok(ExitCode::from(code));
            }
            // Other MPI ranks stop with rank 0, which says it once.
            if !exec::is_primary() {
                let (_, code) = stop_message(
                    args.checkpoint.as_deref(),
                    args.checkpoint_exit_code,
                    &steering.stop,
                    done,
                    total,
                );
                return Ok(ExitCode::from(code));
            }
            return Ok(stopped(args, &steering.stop, done, total));
        }
        other => other?,
    };
    if !exec::is_primary() {
        return Ok(ExitCode::SUCCESS);
    }
    // The summary first: a trace or plot that cannot be written must not lose it.
    emit(&report, &experiment.out, args.format, args.quiet)?;
    if let Some(path) = &args.trace {
        output::write_file(path, &output::render(&trace::sheet(&report), Format::Csv))?;
    }
    if let Some(path) = &args.plot {
        trace::plot(&report, path)?;
    }
    if !args.quiet {
        for path in [&args.trace, &args.plot].into_iter().flatten() {
            say!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says why a run stopped early and how to go on; returns its exit code.
fn stopped(args: &RunArgs, stop: &Stop, done: u64, total: u64) -> ExitCode {
    let (line, code) = stop_message(
        args.checkpoint.as_deref(),
        args.checkpoint_exit_code,
        stop,
        done,
        total,
    );
    say!("{line}");
    ExitCode::from(code)
}

/// Why a run stopped early after `done` of `total` blocks and how to go on, and its
/// exit code.
fn stop_message(
    checkpoint: Option<&Path>,
    exit_code: Option<u8>,
    stop: &Stop,
    done: u64,
    total: u64,
) -> (String, u8) {
    let resume = match checkpoint {
        Some(path) => format!(
            "progress saved to {}; to resume, run the same command again: {}",
            path.display(),
            this_command()
        ),
        None => "nothing written (with --checkpoint PATH a run can be resumed)".into(),
    };
    let (why, code) = match (stop.signal(), exit_code) {
        (Some((signal, name)), None) => (format!("interrupted by {name}"), 128 + signal as u8),
        (Some((_, name)), Some(code)) => (format!("interrupted by {name}"), code),
        (None, Some(code)) => (
            format!("stopped after a checkpoint to exit with code {code} (--checkpoint-exit-code)"),
            code,
        ),
        (None, None) => ("interrupted".to_string(), 130),
    };
    // mpirun answers a SIGTERM or SIGINT of its own by ending the ranks within a
    // second and exiting 1 whatever they do: the code here never reaches the shell.
    let launcher = match (stop.signal(), exec::mpi_launch()) {
        (Some((s, name)), Some(_)) if s == libc::SIGTERM || s == libc::SIGINT => format!(
            " (under mpirun, which exits 1 after a {name} whatever the ranks do; send \
             SIGUSR1, which it forwards, for exit code 138)"
        ),
        _ => String::new(),
    };
    (
        format!("{why} after {done} of {total} blocks; {resume}{launcher}"),
        code,
    )
}

/// Refuses a run started several times by `mpirun` that does not use the mpi
/// backend: each process would compute the whole job.
fn refuse_unasked_mpi(experiment: &Experiment) -> Result<(), Error> {
    match exec::mpi_launch() {
        Some((var, size)) if size > 1 && experiment.backend != Backend::Mpi => Err(Error::Flag {
            flag: "--backend".into(),
            reason: format!(
                "this process is one of {size} started by an MPI launcher ({var}={size}), \
                     but the backend is {}: each of them would run the whole job; use \
                     --backend mpi (in a build with --features mpi), or start carlo once \
                     without mpirun",
                experiment.backend.name()
            ),
        }),
        _ => Ok(()),
    }
}

/// Says on stderr what validation changed (unless `quiet`) and what looks wrong
/// (always).
pub(super) fn notes(experiment: &Experiment, quiet: bool) {
    if !quiet {
        for note in &experiment.notes {
            say!("note: {note}");
        }
    }
    for warning in &experiment.warnings {
        say!("warning: {warning}");
    }
}

/// The files a summary at `out` comes with: the summary, its job file and its chunk
/// digests (none for standard output). Side files go only beside a regular file (or
/// one not there yet): a summary written to `/dev/null` or a FIFO has none, where
/// `NAME.job.toml` would litter `/dev` or fail.
pub(super) fn summary_outputs(out: &Destination) -> Vec<(&'static str, PathBuf)> {
    match out {
        Destination::File(path) if output::is_special(path) => {
            vec![("the summary", path.clone())]
        }
        Destination::File(path) => vec![
            ("the summary", path.clone()),
            ("the summary's job file", output::job_path(path)),
            ("the summary's group digests", output::digests_path(path)),
        ],
        Destination::Stdout => Vec::new(),
    }
}

/// Writes a report's summary to `out` (and a table for people unless `quiet`), with
/// the job file and the group digests beside a summary file.
///
/// If the file cannot be written, the summary still goes to standard output as CSV
/// before the error is returned: a result is never lost.
pub(super) fn emit(
    report: &engine::Report,
    out: &Destination,
    format: Option<Format>,
    quiet: bool,
) -> Result<(), Error> {
    for warning in report.warnings() {
        say!("warning: {warning}");
    }
    let sheet = output::summary(report);
    let to_terminal = std::io::stdout().is_terminal();
    let format = format.unwrap_or(match out {
        Destination::Stdout if to_terminal => Format::Table,
        _ => Format::Csv,
    });
    let rendered = output::render_summary(report, format);
    let written = match out {
        Destination::Stdout => output::write(out, &rendered),
        Destination::File(path) => {
            // The summary and its side files are written as one: all or none.
            let job = report
                .job
                .to_toml(&report.name)
                .map_err(|why| Error::Execution(format!("the summary's job file: {why}")))?
                .into_bytes();
            let digests = output::digests_file(report);
            let mut files: Vec<(PathBuf, &[u8])> = vec![(path.clone(), &rendered)];
            if !output::is_special(path) {
                files.push((output::job_path(path), &job));
                files.push((output::digests_path(path), &digests));
            }
            let files: Vec<(&Path, &[u8])> = files.iter().map(|(p, b)| (p.as_path(), *b)).collect();
            output::write_files(&files)
        }
    };
    if let Err(e) = written {
        if let Destination::File(path) = out {
            let names: Vec<String> = summary_outputs(out)
                .iter()
                .map(|(_, p)| p.display().to_string())
                .collect();
            let what = match names.len() {
                1 => format!("{} was not written", path.display()),
                _ => format!(
                    "none of {} was written (a summary and its files go together)",
                    names.join(", ")
                ),
            };
            say!("note: {what}; the summary follows on standard output");
            let _ = output::write(&Destination::Stdout, &output::render(&sheet, Format::Csv));
        }
        return Err(e);
    }
    if let Destination::File(path) = out
        && !quiet
    {
        output::write(&Destination::Stdout, &output::render(&sheet, Format::Table))?;
        say!("wrote {}", path.display());
    }
    Ok(())
}

/// `carlo run --shard`: one share of the chunks, written as a partial. `source` is
/// the scheduler variable the shard came from, with `--shard auto`.
fn run_shard(
    args: &RunArgs,
    shard: Shard,
    source: Option<&str>,
    registry: &Registry,
) -> Result<ExitCode, Error> {
    if args.format.is_some() {
        return Err(Error::Flag {
            flag: "--format".into(),
            reason: "a shard writes its partial as JSON; give --format to carlo merge".into(),
        });
    }
    for (flag, given) in [
        ("--checkpoint", args.checkpoint.is_some()),
        ("--trace", args.trace.is_some()),
        ("--plot", args.plot.is_some()),
    ] {
        if given {
            return Err(Error::Flag {
                flag: flag.into(),
                reason: format!(
                    "does not apply to a shard (--shard {shard}), which writes a partial"
                ),
            });
        }
    }
    // Loaded without --out, so that the partial records the run's own summary path
    // (where `carlo merge` writes by default); --out names the partial instead.
    let experiment = Experiment::load(&args.config, &args.overrides.to_overrides(None), registry)?;
    refuse_unasked_mpi(&experiment)?;
    notes(&experiment, args.quiet);
    if experiment.job.target.is_some() {
        return Err(Error::Flag {
            flag: "--shard".into(),
            reason: format!(
                "{} sets a target error, and whether to stop is decided on every chunk merged \
                 in order, which no shard sees; run it whole, or shard it without the target",
                args.config.display()
            ),
        });
    }
    let out = match (args.out.as_deref(), &experiment.out) {
        (Some(out), _) => cli::destination(out),
        (None, Destination::File(summary)) => Destination::File(shard.default_path(summary)),
        (None, Destination::Stdout) => Destination::Stdout,
    };
    if let Destination::File(path) = &out {
        output::check_outputs(&[("the partial", path)], &[("the config", &args.config)])?;
    }
    let mut bar = progress::Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let done = shard::run(&experiment, shard, &out, &mut bar)?;
    drop(bar);
    if !exec::is_primary() {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.quiet {
        let from = source.map_or_else(String::new, |s| format!(" (from {s})"));
        let chunks = match done.chunks.end - done.chunks.start {
            0 => "no chunks (more shards than chunks)".to_string(),
            _ => format!(
                "chunks {}-{} of {}",
                done.chunks.start,
                done.chunks.end - 1,
                experiment.job.plan().chunks()
            ),
        };
        let place = match &out {
            Destination::File(path) => format!("wrote {}", path.display()),
            Destination::Stdout => "wrote standard output".into(),
        };
        say!(
            "shard {shard}{from}: {chunks}, {} x{} in {:.3} s; {place}",
            done.backend,
            done.workers,
            done.wall_seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Binds the engine to the progress bar, the checkpoint file and the signals.
struct Steering {
    bar: progress::Bar,
    checkpoint: Option<Checkpoint>,
    stop: Stop,
    /// `--checkpoint-exit-code`: stop once a checkpoint has been saved.
    exit_code: Option<u8>,
    saved: bool,
    /// The exit code of a stop already said (at its last save).
    told: Option<u8>,
    /// Chunks of the run.
    total: u64,
}

impl engine::Observer for Steering {
    fn progress(&mut self, progress: &engine::Progress<'_>) {
        self.bar.progress(progress);
    }

    fn checkpoint(&mut self, state: &State, last: bool) -> Result<(), Error> {
        match &mut self.checkpoint {
            // MPI ranks hold the same state; one writer is enough, and it is rank 0
            // as for every other output.
            Some(c) if exec::is_primary() => {
                self.saved |= c.offer(state, last)?;
                // A stopping signal: say where things stand at once, while this
                // process still may (mpirun kills its ranks a second after it
                // forwards a SIGTERM).
                if last && self.stop.requested() && self.told.is_none() {
                    let path = c.path().to_path_buf();
                    drop(std::mem::replace(&mut self.bar, progress::Bar::new(false)));
                    let (line, code) = stop_message(
                        Some(&path),
                        self.exit_code,
                        &self.stop,
                        state.blocks_done(),
                        self.total,
                    );
                    say!("{line}");
                    self.told = Some(code);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn interrupted(&mut self) -> bool {
        self.stop.requested() || (self.exit_code.is_some() && self.saved)
    }

    fn failed(&mut self, _error: &Error) {
        drop(std::mem::replace(&mut self.bar, progress::Bar::new(false)));
        if let Some(c) = &self.checkpoint
            && exec::is_primary()
            && c.path().exists()
        {
            say!(
                "note: progress saved to {}; once the cause is fixed, run the same command \
                 again to resume: {}",
                c.path().display(),
                this_command()
            );
        }
    }
}

/// This process's command line, quoted for a POSIX shell where needed.
fn this_command() -> String {
    std::env::args()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
            if plain {
                arg
            } else {
                format!("'{}'", arg.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
