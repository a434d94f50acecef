//! The `carlo` binary: parse the command line, call the library, print, and map
//! errors to exit codes (2 for bad input, 1 for failures while running).

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

use carlo::checkpoint::Checkpoint;
use carlo::config::{Backend, Destination, Experiment, Overrides};
use carlo::engine::State;
use carlo::output::{self, Format};
use carlo::shard::{self, Partial, Shard};
use carlo::{Error, engine, exec, model, progress, scale, trace};
use cli::{CheckArgs, Cli, Command, MergeArgs, RunArgs, ScaleArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check(&args),
        Command::Models => models(),
        Command::Scale(args) => scale(&args),
        Command::Worker => carlo::exec::processes::serve_stdio(),
        Command::Merge(args) => merge(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `run` has said where things stand; 130 is what shells report for Ctrl-C.
        Err(Error::Interrupted { .. }) => ExitCode::from(130),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_input() { 2 } else { 1 })
        }
    }
}

fn run(args: &RunArgs) -> Result<(), Error> {
    let shard = match args.shard {
        Some(shard) => Some(shard),
        None => Shard::from_slurm(|name| std::env::var(name).ok())?,
    };
    if let Some(shard) = shard {
        return run_shard(args, shard);
    }
    let overrides = args.overrides.to_overrides(args.out.as_deref());
    let experiment = Experiment::load(&args.config, &overrides)?;
    distinct_outputs(args, &experiment.out)?;
    let dim = model::build(&experiment.job.model, experiment.job.seed)?.dim();
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
        interrupt: ctrl_c()?,
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

/// Writes a report's summary to `out` (and a table for people unless `quiet`).
fn emit(
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
fn run_shard(args: &RunArgs, shard: Shard) -> Result<(), Error> {
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
    let experiment = Experiment::load(&args.config, &args.overrides.to_overrides(None))?;
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

/// `carlo merge`: shard partials into the summary of one run.
fn merge(args: &MergeArgs) -> Result<(), Error> {
    let parts = args
        .parts
        .iter()
        .map(|path| Ok((path.clone(), Partial::read(path)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let report = shard::merge(&parts)?;
    let out = match args.out.as_deref() {
        Some(out) => cli::destination(out),
        None => Destination::File(parts[0].1.summary.clone().unwrap_or_else(|| {
            std::path::Path::new("results").join(format!("{}.csv", report.name))
        })),
    };
    emit(&report, &out, args.format, args.quiet)
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

/// A flag that the first Ctrl-C (SIGINT) sets, so that the run stops between chunks
/// and saves its checkpoint; a second Ctrl-C exits at once with 130.
fn ctrl_c() -> Result<Arc<AtomicBool>, Error> {
    use signal_hook::{consts::SIGINT, flag};
    let interrupt = Arc::new(AtomicBool::new(false));
    // The shutdown hook is registered first so that it sees the flag as it was
    // before this signal: it exits only if an earlier Ctrl-C had already set it.
    flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&interrupt))
        .and_then(|_| flag::register(SIGINT, Arc::clone(&interrupt)))
        .map_err(|e| Error::Execution(format!("cannot handle Ctrl-C: {e}")))?;
    Ok(interrupt)
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

fn check(args: &CheckArgs) -> Result<(), Error> {
    let e = Experiment::load(&args.config, &args.overrides.to_overrides(None))?;
    let plan = e.job.plan();
    let out = match &e.out {
        Destination::File(path) => path.display().to_string(),
        Destination::Stdout => "standard output".to_string(),
    };
    let target = match e.job.target {
        None => String::new(),
        Some(t) => {
            let mut goals = Vec::new();
            if let Some(a) = t.abs_error {
                goals.push(format!("half-width <= {a}"));
            }
            if let Some(r) = t.rel_error {
                goals.push(format!("half-width <= {r} x |estimate|"));
            }
            format!(
                "\n  stops once {} (checked every {} chunks; samples is the maximum)",
                goals.join(" and "),
                t.check_every
            )
        }
    };
    let text = format!(
        "{}: ok\n  {} model, {} samples in {} chunks of {}, seed {}, confidence {}{target}\n  \
         backend {} with {} workers, summary to {}\n  fingerprint {}\n",
        e.source.display(),
        e.job.model.kind(),
        e.job.samples,
        plan.chunks(),
        plan.chunk_size(),
        e.job.seed,
        e.job.confidence,
        e.backend.name(),
        e.workers,
        out,
        e.job.fingerprint(),
    );
    output::write(&Destination::Stdout, text.as_bytes())
}

fn models() -> Result<(), Error> {
    let mut text = String::new();
    for entry in model::catalogue() {
        text.push_str(&format!("{:<10} {}\n", entry.kind, entry.summary));
        for key in entry.keys {
            text.push_str(&format!(
                "    {:<18} {:<28} {}\n",
                key.name, key.value, key.doc
            ));
        }
        if entry.keys.is_empty() {
            text.push_str("    (no keys)\n");
        }
    }
    output::write(&Destination::Stdout, text.as_bytes())
}

fn scale(args: &ScaleArgs) -> Result<(), Error> {
    let overrides = Overrides {
        samples: args.samples,
        seed: args.seed,
        chunk_size: args.chunk_size,
        ..Overrides::default()
    };
    let experiment = Experiment::load(&args.config, &overrides)?;
    if args.backends.contains(&Backend::Mpi) {
        return Err(Error::Flag {
            flag: "--backends".into(),
            reason: "mpi runs one job per mpirun; time it with mpirun ... carlo run --backend mpi"
                .into(),
        });
    }
    let flag = |reason: &str| Error::Flag {
        flag: "--workers".into(),
        reason: reason.into(),
    };
    let workers = args
        .workers
        .iter()
        .map(|&w| match w {
            0 => Ok(carlo::config::available_cores()),
            w if w <= 4096 => Ok(w as usize),
            _ => Err(flag("worker counts must be at most 4096")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if args.repeats == 0 {
        return Err(Error::Flag {
            flag: "--repeats".into(),
            reason: "must be at least 1".into(),
        });
    }
    let study = scale::Study {
        backends: args.backends.clone(),
        workers,
        repeats: args.repeats as usize,
        weak: args.weak,
    };
    let out = args.out.clone().unwrap_or_else(|| {
        std::path::Path::new("results").join(format!("{}-scale.csv", experiment.name))
    });
    let machine = scale::Machine::this();
    let points = scale::run(&experiment, &study, &mut |points| {
        let p = points.last().expect("called after a point");
        if !args.quiet {
            eprintln!(
                "{:>10} x{:<3} {:>10.4} s  {:>8.1} M samples/s",
                p.backend.name(),
                p.workers,
                p.median(),
                p.rate() / 1e6
            );
        }
        let sheet = scale::sheet(points, &machine);
        output::write_atomic(&out, &output::render(&sheet, Format::Csv))
    })?;
    if let Some(path) = &args.plot {
        let kind = if args.weak { "weak" } else { "strong" };
        let title = format!("{} ({kind} scaling)", experiment.name);
        scale::plot(&points, &machine, &title, path)?;
    }
    if !args.quiet {
        let runs: usize = points.iter().map(|p| p.seconds.len()).sum();
        let same = if args.weak {
            "runs of equal size gave the same estimate bits"
        } else {
            "every run gave the same estimate bits"
        };
        let mut text = format!(
            "{runs} runs on {} ({} cores): {same}\n",
            machine.cpu, machine.cores
        );
        let sheet = scale::sheet(&points, &machine);
        for (r, point) in points.iter().enumerate() {
            let get = |c| match sheet.get(r, c) {
                Some(output::Value::Float(f)) => *f,
                _ => f64::NAN,
            };
            text.push_str(&format!(
                "{:>10} x{:<3} median {:.4} s  {:8.1} M samples/s  speedup {:.2}  efficiency {:.2}\n",
                point.backend.name(),
                point.workers,
                get("wall_seconds"),
                get("samples_per_second") / 1e6,
                get("speedup"),
                get("efficiency"),
            ));
        }
        output::write(&Destination::Stdout, text.as_bytes())?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
