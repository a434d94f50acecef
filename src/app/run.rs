//! `carlo run`: a whole run with its checkpoint, progress bar and Ctrl-C, or one
//! shard of it.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::cli::{self, RunArgs};
use super::signals;
use crate::checkpoint::Checkpoint;
use crate::config::{Destination, Experiment};
use crate::engine::{self, State};
use crate::model::Registry;
use crate::output::{self, Format};
use crate::shard::{self, Shard};
use crate::{Error, exec, progress, trace};

/// `carlo run`: the whole run, or one shard of it.
pub(super) fn run(args: &RunArgs, registry: &Registry) -> Result<(), Error> {
    let shard = match args.shard {
        Some(shard) => Some(shard),
        None => Shard::from_slurm(|name| std::env::var(name).ok())?,
    };
    if let Some(shard) = shard {
        return run_shard(args, shard, registry);
    }
    let overrides = args.overrides.to_overrides(args.out.as_deref());
    let experiment = Experiment::load(&args.config, &overrides, registry)?;
    notes(&experiment, args.quiet);
    distinct_outputs(args, &experiment.out)?;
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
        interrupt: signals::ctrl_c()?,
    };
    let result = engine::resume(&experiment, state, &mut steering);
    drop(steering.bar);
    let report = match result {
        Err(Error::Interrupted { done, total }) => {
            let hint = match &args.checkpoint {
                Some(path) => format!(
                    "progress saved to {}; to resume, run the same command again: {}",
                    path.display(),
                    this_command()
                ),
                None => "nothing written (with --checkpoint PATH a run can be resumed)".into(),
            };
            eprintln!("interrupted after {done} of {total} chunks; {hint}");
            return Err(Error::Interrupted { done, total });
        }
        other => other?,
    };
    if !exec::is_primary() {
        return Ok(());
    }
    if let Some(path) = &args.trace {
        output::write_atomic(path, &output::render(&trace::sheet(&report), Format::Csv))?;
    }
    if let Some(path) = &args.plot {
        trace::plot(&report, path)?;
    }
    emit(&report, &experiment.out, args.format, args.quiet)?;
    if !args.quiet {
        for path in [&args.trace, &args.plot].into_iter().flatten() {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// Says on stderr what validation changed (unless `quiet`).
pub(super) fn notes(experiment: &Experiment, quiet: bool) {
    if !quiet {
        for note in &experiment.notes {
            eprintln!("note: {note}");
        }
    }
}

/// Writes a report's summary to `out` (and a table for people unless `quiet`).
pub(super) fn emit(
    report: &engine::Report,
    out: &Destination,
    format: Option<Format>,
    quiet: bool,
) -> Result<(), Error> {
    let sheet = output::summary(report);
    let to_terminal = std::io::stdout().is_terminal();
    let format = format.unwrap_or(match out {
        Destination::Stdout if to_terminal => Format::Table,
        _ => Format::Csv,
    });
    output::write(out, &output::render(&sheet, format))?;
    if let Destination::File(path) = out
        && !quiet
    {
        output::write(&Destination::Stdout, &output::render(&sheet, Format::Table))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `carlo run --shard I/N`: one share of the chunks, written as a partial.
fn run_shard(args: &RunArgs, shard: Shard, registry: &Registry) -> Result<(), Error> {
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
    let mut bar = progress::Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let partial = shard::run(&experiment, shard, &mut bar)?;
    drop(bar);
    if !exec::is_primary() {
        return Ok(());
    }
    output::write(&out, &partial.to_bytes())?;
    if !args.quiet {
        let from = if args.shard.is_none() {
            " (from SLURM_ARRAY_TASK_ID)"
        } else {
            ""
        };
        let chunks = match partial.chunk_end - partial.chunk_start {
            0 => "no chunks (more shards than chunks)".to_string(),
            _ => format!(
                "chunks {}-{} of {}",
                partial.chunk_start,
                partial.chunk_end - 1,
                experiment.job.plan().chunks()
            ),
        };
        let place = match &out {
            Destination::File(path) => format!("wrote {}", path.display()),
            Destination::Stdout => "wrote standard output".into(),
        };
        eprintln!(
            "shard {shard}{from}: {chunks}, {} x{} in {:.3} s; {place}",
            partial.backend, partial.workers, partial.wall_seconds
        );
    }
    Ok(())
}

/// Refuses two outputs of one run at the same path, where one would overwrite the
/// other (a summary written over the checkpoint would make the run unresumable).
fn distinct_outputs(args: &RunArgs, summary: &Destination) -> Result<(), Error> {
    let mut outputs: Vec<(&str, &std::path::Path)> = Vec::new();
    if let Destination::File(path) = summary {
        outputs.push(("the summary", path));
    }
    for (flag, path) in [
        ("--checkpoint", &args.checkpoint),
        ("--trace", &args.trace),
        ("--plot", &args.plot),
    ] {
        let Some(path) = path else { continue };
        if let Some((other, _)) = outputs.iter().find(|(_, p)| *p == path.as_path()) {
            return Err(Error::Flag {
                flag: flag.into(),
                reason: format!("{} is also the path of {other}", path.display()),
            });
        }
        outputs.push((flag, path));
    }
    Ok(())
}

/// Binds the engine to the progress bar, the checkpoint file and Ctrl-C.
struct Steering {
    bar: progress::Bar,
    checkpoint: Option<Checkpoint>,
    interrupt: Arc<AtomicBool>,
}

impl engine::Observer for Steering {
    fn progress(&mut self, progress: &engine::Progress<'_>) {
        self.bar.progress(progress);
    }

    fn checkpoint(&mut self, state: &State, last: bool) -> Result<(), Error> {
        match &mut self.checkpoint {
            // MPI ranks hold the same state; one writer is enough, and it is rank 0
            // as for every other output.
            Some(c) if exec::is_primary() => c.offer(state, last),
            _ => Ok(()),
        }
    }

    fn interrupted(&mut self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
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
