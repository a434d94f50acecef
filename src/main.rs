//! The `carlo` binary: parse the command line, call the library, print, and map
//! errors to exit codes (2 for bad input, 1 for failures while running).

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use carlo::config::{Destination, Experiment};
use carlo::output::{self, Format};
use carlo::{Error, engine, model, progress};
use cli::{CheckArgs, Cli, Command, RunArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check(&args),
        Command::Models => models(),
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
