//! `carlo verify`: prints what [`crate::verify`] checks and finds.

use std::io::IsTerminal;
use std::process::ExitCode;

use super::cli::VerifyArgs;
use crate::config::Destination;
use crate::model::Registry;
use crate::verify::{Check, Options, Spot};
use crate::{Error, output, progress};

/// Runs the check; exit 0 when everything compared matches, 1 when something differs.
pub(super) fn verify(args: &VerifyArgs, registry: &Registry) -> Result<ExitCode, Error> {
    let options = Options {
        backend: args.backend,
        workers: args.workers,
        spot: match (args.chunks, args.shard) {
            (Some(k), _) => Some(Spot::Chunks(k)),
            (None, Some(shard)) => Some(Spot::Shard(shard)),
            (None, None) => None,
        },
    };
    // Said before anything runs, the job's own code included: it may be someone
    // else's.
    let check = Check::prepare(&args.summary, &options, registry, &mut |warning| {
        crate::say!("warning: {warning}");
    })?;
    if !args.quiet {
        crate::say!("{}", check.describe());
    }
    let summary = check.summary().to_path_buf();
    let mut bar = progress::Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let verdict = check.run(&mut bar)?;
    drop(bar);
    if !args.quiet {
        let mut text = verdict.lines.join("\n");
        text.push('\n');
        output::write(&Destination::Stdout, text.as_bytes())?;
    }
    if verdict.reproduced() {
        let what = if verdict.whole {
            "verified"
        } else {
            "spot-checked"
        };
        crate::say!("{what}: the same, bit for bit: {}", verdict.checked);
        Ok(ExitCode::SUCCESS)
    } else {
        let mut named = verdict.differences.clone();
        if named.len() > 10 {
            let more = named.len() - 10;
            named.truncate(10);
            named.push(format!("{more} more"));
        }
        crate::say!(
            "error: {} does not reproduce: {} differ{}",
            summary.display(),
            named.join(", "),
            if verdict.differences.len() == 1 {
                "s"
            } else {
                ""
            }
        );
        Ok(ExitCode::from(1))
    }
}
