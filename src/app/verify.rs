//! `carlo verify`: a summary's job run again, its result compared bit for bit.

use std::io::IsTerminal;
use std::ops::Range;
use std::process::ExitCode;

use super::cli::VerifyArgs;
use crate::config::Destination;
use crate::engine::{self, DIGEST_GROUP, group_digest};
use crate::exec::{self, Event, Flow, Work};
use crate::model::Registry;
use crate::output;
use crate::plan::Plan;
use crate::plan::split;
use crate::verify::{Claim, spot_chunks};
use crate::{Error, progress};

/// Runs the check; exit 0 when everything compared matches, 1 when something differs.
pub(super) fn verify(args: &VerifyArgs, registry: &Registry) -> Result<ExitCode, Error> {
    let (claim, mut experiment) = Claim::read(&args.summary, registry)?;
    if let Some(backend) = args.backend {
        if !backend.is_available() {
            return Err(Error::Flag {
                flag: "--backend".into(),
                reason: crate::backend::MPI_MISSING.into(),
            });
        }
        experiment.backend = backend;
    }
    if let Some(workers) = args.workers {
        experiment.workers = match workers {
            0 => crate::backend::available_cores(),
            n => usize::try_from(n).unwrap_or(usize::MAX).min(4096),
        };
    }
    let mut text = format!(
        "{}: job {} ({}), recomputed on {} x{}\n",
        claim.path.display(),
        claim.fingerprint,
        claim.job_path.display(),
        experiment.backend.name(),
        experiment.workers
    );
    let chunks = match (args.chunks, args.shard) {
        (None, None) => None,
        (k, shard) => {
            let digests = claim.digests.as_ref().ok_or_else(|| Error::Flag {
                flag: if k.is_some() { "--chunks" } else { "--shard" }.into(),
                reason: format!(
                    "compares chunks with the digests kept beside the summary, and {} has \
                     none ({}); verify the whole run without it",
                    claim.path.display(),
                    output::digests_path(&claim.path).display()
                ),
            })?;
            let total = digests.len() as u64;
            let chosen: Vec<u64> = match (k, shard) {
                (Some(k), _) => spot_chunks(experiment.job.seed, total, k),
                (_, Some(shard)) => split(0..total, shard.index, shard.count).collect(),
                (None, None) => unreachable!("handled above"),
            };
            Some((chosen, digests))
        }
    };
    let mismatches: Vec<String> = match chunks {
        None => {
            let mut bar = progress::Bar::new(!args.quiet && std::io::stderr().is_terminal());
            let report = engine::run(&experiment, &mut bar)?;
            drop(bar);
            let found = claim.compare(&report);
            for row in &claim.rows {
                for (c, column) in crate::verify::COMPARED.iter().enumerate() {
                    let wrong = found
                        .iter()
                        .find(|m| m.quantity == row.quantity && m.column == *column);
                    text.push_str(&match wrong {
                        None => format!(
                            "  {:<12} {:<10} {}  same\n",
                            row.quantity, column, row.values[c]
                        ),
                        Some(m) => format!(
                            "  {:<12} {:<10} {}  DIFFERS: recomputed {}\n",
                            m.quantity, m.column, m.claimed, m.recomputed
                        ),
                    });
                }
            }
            found
                .iter()
                .map(|m| format!("{} {}", m.quantity, m.column))
                .collect()
        }
        Some((chosen, digests)) => {
            let recomputed = recompute(&experiment, &chosen)?;
            let mut found = Vec::new();
            for (index, digest) in chosen.iter().zip(&recomputed) {
                let kept = digests[*index as usize];
                if kept == *digest {
                    text.push_str(&format!("  chunk {index:<10} {kept:016x}  same\n"));
                } else {
                    text.push_str(&format!(
                        "  chunk {index:<10} {kept:016x}  DIFFERS: recomputed {digest:016x}\n"
                    ));
                    found.push(format!("chunk {index}"));
                }
            }
            text.push_str(&format!(
                "  ({} of the run's {} chunks; the estimate itself needs them all)\n",
                chosen.len(),
                digests.len()
            ));
            found
        }
    };
    if !args.quiet {
        output::write(&Destination::Stdout, text.as_bytes())?;
    }
    if mismatches.is_empty() {
        crate::say!("verified: every compared value is the same, bit for bit");
        Ok(ExitCode::SUCCESS)
    } else {
        crate::say!(
            "error: {} does not reproduce: {} differ{}",
            claim.path.display(),
            mismatches.join(", "),
            if mismatches.len() == 1 { "s" } else { "" }
        );
        Ok(ExitCode::from(1))
    }
}

/// The digests of digest groups `groups` (ascending; groups of
/// [`DIGEST_GROUP`] blocks) of `experiment`'s job, computed on its executor.
fn recompute(experiment: &crate::config::Experiment, groups: &[u64]) -> Result<Vec<u64>, Error> {
    let job = &experiment.job;
    let blocks = job.blocks();
    let ranges: Vec<Range<u64>> = groups
        .iter()
        .map(|&g| g * DIGEST_GROUP..((g + 1) * DIGEST_GROUP).min(blocks))
        .collect();
    let plan = Plan::resume(job.samples, DIGEST_GROUP, ranges);
    let work = Work {
        job,
        model: experiment.model.as_ref(),
        plan: &plan,
    };
    let mut found = std::collections::BTreeMap::new();
    let mut executor = exec::build(experiment)?;
    let all = 0..plan.chunks();
    executor.execute(&work, std::slice::from_ref(&all), &mut |event| {
        if let Event::Done(_, stats) = event {
            found.insert(
                stats.blocks.start / DIGEST_GROUP,
                group_digest(&stats.digests),
            );
        }
        Flow::Continue
    })?;
    groups
        .iter()
        .map(|g| {
            found.get(g).copied().ok_or_else(|| {
                Error::Execution(format!(
                    "the {} backend finished without the blocks of digest group {g}",
                    executor.backend()
                ))
            })
        })
        .collect()
}
