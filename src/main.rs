//! The `carlo` binary: parse the command line, call the library, print, and map
//! errors to exit codes (2 for bad input, 1 for failures while running).

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use carlo::config::{Destination, Experiment, Overrides};
use carlo::output::{self, Format};
use carlo::{Error, engine, model, progress, scale};
use cli::{CheckArgs, Cli, Command, RunArgs, ScaleArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check(&args),
        Command::Models => models(),
        Command::Scale(args) => scale(&args),
        Command::Worker => carlo::exec::processes::serve_stdio(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_input() { 2 } else { 1 })
        }
    }
}

fn run(args: &RunArgs) -> Result<(), Error> {
    let overrides = args.overrides.to_overrides(args.out.as_deref());
    let experiment = Experiment::load(&args.config, &overrides)?;
    let mut bar = progress::Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let report = engine::run(&experiment, &mut bar)?;
    drop(bar);
    let sheet = output::summary(&report);
    let to_terminal = std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(match experiment.out {
        Destination::Stdout if to_terminal => Format::Table,
        _ => Format::Csv,
    });
    output::write(&experiment.out, &output::render(&sheet, format))?;
    if let Destination::File(path) = &experiment.out
        && !args.quiet
    {
        output::write(&Destination::Stdout, &output::render(&sheet, Format::Table))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn check(args: &CheckArgs) -> Result<(), Error> {
    let e = Experiment::load(&args.config, &args.overrides.to_overrides(None))?;
    let plan = e.job.plan();
    let out = match &e.out {
        Destination::File(path) => path.display().to_string(),
        Destination::Stdout => "standard output".to_string(),
    };
    let text = format!(
        "{}: ok\n  {} model, {} samples in {} chunks of {}, seed {}, confidence {}\n  \
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
