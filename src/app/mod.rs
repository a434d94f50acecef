//! The `carlo` application as one library call: [`main`] parses the command line,
//! runs the subcommand and turns errors into exit codes.
//!
//! The `carlo` binary is `carlo::app::main(Registry::builtin())`. A program with
//! models of its own registers them next to the built-in ones and calls the same
//! function, and so gets the whole command line for them: `run`, `check`, `models`,
//! `scale`, `merge`, every backend (worker processes re-execute that program as
//! `PROGRAM worker`), shards, checkpoints, targets, traces and plots.
//!
//! ```no_run
//! use carlo::model::Registry;
//! # fn my_entry() -> carlo::model::Entry { unimplemented!() }
//!
//! fn main() -> std::process::ExitCode {
//!     carlo::app::main(Registry::builtin().with(my_entry()))
//! }
//! ```

pub(crate) mod cli;
mod commands;
mod run;
mod signals;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::Error;
use crate::model::Registry;
use cli::{Cli, Command};

/// Runs the command line of this process with the models of `registry` and returns
/// the exit code: 0 success, 2 bad input, 1 a failure while running, 130 interrupted.
pub fn main(registry: Registry) -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(e) => {
            let mut cmd = command();
            cmd.build();
            let usage = std::env::args()
                .nth(1)
                .and_then(|name| cmd.find_subcommand_mut(&name).map(|c| c.render_usage()));
            cli::suggest(e, usage).exit()
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // A forced SIMD level that this CPU lacks (or a misspelt one) is bad input: running
    // another level instead would give the same bits, but not what was asked for.
    if let Err(e) = crate::math::simd_level() {
        crate::say!("error: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Run(args) => match run::run(&args, &registry) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Check(args) => commands::check(&args, &registry),
        Command::Models => commands::models(&registry),
        Command::Scale(args) => commands::scale(&args, &registry),
        Command::Worker => crate::exec::processes::serve_stdio(&registry),
        Command::Merge(args) => commands::merge(&args, &registry),
        Command::Verify(args) => match verify::verify(&args, &registry) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    exit_code(result)
}

/// The clap command, named after this program so that a user's binary says its own
/// name in usage lines.
fn command() -> clap::Command {
    let cmd = Cli::command();
    match std::env::args_os()
        .next()
        .as_ref()
        .and_then(|a| std::path::Path::new(a).file_stem())
        .and_then(|s| s.to_str())
    {
        Some(name) if name != "carlo" && !name.is_empty() => cmd.bin_name(name.to_string()),
        _ => cmd,
    }
}

/// The exit code of a subcommand's result, after printing its error.
fn exit_code(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `run` has said where things stand; 130 is what shells report for Ctrl-C.
        Err(Error::Interrupted { .. }) => ExitCode::from(130),
        Err(e) => {
            // Under mpirun every rank fails alike on bad input (the same config, or
            // ranks that do not agree): rank 0 says it, once, not every rank
            // interleaved. A failure while running may be one rank's own.
            match crate::exec::rank_of_launch() {
                Some(rank) if rank > 0 && e.is_input() => {}
                Some(rank) if rank > 0 => crate::say!("error: MPI rank {rank}: {e}"),
                _ => crate::say!("error: {e}"),
            }
            ExitCode::from(if e.is_input() { 2 } else { 1 })
        }
    }
}
