//! The subcommands besides `run`: `check`, `models`, `scale` and `merge`.

use super::cli::{CheckArgs, MergeArgs, ScaleArgs};
use crate::backend::Backend;
use crate::config::{Destination, Experiment, Overrides};
use crate::model::Registry;
use crate::output::{self, Format};
use crate::shard;
use crate::{Error, scale};
use std::path::{Path, PathBuf};

/// `carlo check`: validates a config and says what it would run.
pub(super) fn check(args: &CheckArgs, registry: &Registry) -> Result<(), Error> {
    let e = Experiment::load(&args.config, &args.overrides.to_overrides(None), registry)?;
    super::run::notes(&e, false);
    let plan = e.job.plan();
    let out = match &e.out {
        Destination::File(path) => path.display().to_string(),
        Destination::Stdout => "standard output".to_string(),
    };
    let target = match &e.job.target {
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
                "\n  stops once {} (checked every {} samples; samples is the maximum)",
                goals.join(" and "),
                t.check_every * crate::random::lanes::BLOCK as u64
            )
        }
    };
    let mut target = target;
    if let Some(r) = e.job.sampler.replicates() {
        target.push_str(&format!(
            "\n  sampler sobol: {r} scrambled replicates of {} points each",
            e.job.samples / r
        ));
    }
    if !e.job.sweep.is_empty() {
        let keys: Vec<String> = e
            .job
            .sweep
            .iter()
            .map(|k| format!("{} ({} values)", k.key, k.values.len()))
            .collect();
        target.push_str(&format!(
            "\n  sweep of {} points over {}, from common random numbers",
            e.job.sweep_points().len(),
            keys.join(" x ")
        ));
    }
    let text = format!(
        "{}: ok\n  {} model, {} samples in {} blocks of {} ({} chunks of {}), seed {}, confidence \
         {}{target}\n  \
         backend {} with {} workers, summary to {}\n  fingerprint {}\n",
        e.source.display(),
        e.job.model.kind(),
        e.job.samples,
        plan.blocks(),
        crate::random::lanes::BLOCK,
        plan.chunks(),
        e.job.chunk_size,
        e.job.seed,
        e.job.confidence,
        e.backend.name(),
        e.workers,
        out,
        e.job.fingerprint(),
    );
    output::write(&Destination::Stdout, text.as_bytes())
}

/// `carlo models`: every registered model with its keys.
pub(super) fn models(registry: &Registry) -> Result<(), Error> {
    let mut text = String::new();
    for entry in registry.entries() {
        text.push_str(&format!("{:<10} {}\n", entry.kind(), entry.summary()));
        for key in entry.documented_keys() {
            text.push_str(&format!(
                "    {:<18} {:<28} {}\n",
                key.name, key.value, key.doc
            ));
        }
        if entry.documented_keys().is_empty() {
            text.push_str("    (no keys)\n");
        }
    }
    output::write(&Destination::Stdout, text.as_bytes())
}

/// `carlo merge`: shard partials into the summary of one run.
/// The partials to merge: those named on the command line, then those listed in the
/// `--parts-from` file.
fn merge_parts(args: &MergeArgs) -> Result<Vec<PathBuf>, Error> {
    let mut parts = args.parts.clone();
    let Some(list) = &args.parts_from else {
        return Ok(parts);
    };
    let flag = |reason: String| Error::Flag {
        flag: "--parts-from".into(),
        reason,
    };
    let text = if list.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| flag(format!("cannot read standard input: {e}")))?
    } else {
        std::fs::read_to_string(list)
            .map_err(|e| flag(format!("cannot read {}: {e}", list.display())))?
    };
    let listed: Vec<PathBuf> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(PathBuf::from)
        .collect();
    if listed.is_empty() {
        return Err(flag(format!("{} lists no partial", list.display())));
    }
    parts.extend(listed);
    Ok(parts)
}

pub(super) fn merge(args: &MergeArgs, registry: &Registry) -> Result<(), Error> {
    let parts = merge_parts(args)?;
    let mut inputs: Vec<(&str, &Path)> = parts
        .iter()
        .map(|p| ("a partial being merged", p.as_path()))
        .collect();
    if let Some(list) = args.parts_from.as_deref().filter(|l| l.as_os_str() != "-") {
        inputs.push(("the --parts-from list", list));
    }
    // Where the summary goes is settled, and checked, before any chunk is read;
    // each partial's file is opened once for its header.
    let settled = |out: Destination| -> Result<Destination, Error> {
        let outputs = super::run::summary_outputs(&out);
        let outputs: Vec<(&str, &Path)> = outputs.iter().map(|(w, p)| (*w, p.as_path())).collect();
        output::check_outputs(&outputs, &inputs)?;
        Ok(out)
    };
    let (out, partials) = match args.out.as_deref() {
        Some(out) => {
            let out = settled(super::cli::destination(out))?;
            (out, shard::Partials::open(&parts)?)
        }
        None => {
            let partials = shard::Partials::open(&parts)?;
            let path =
                shard::default_summary(partials.headers()).map_err(|reason| Error::Flag {
                    flag: "--out".into(),
                    reason,
                })?;
            (settled(Destination::File(path))?, partials)
        }
    };
    let duplicates = partials.duplicates();
    let report = partials.merge(registry)?;
    if !args.quiet {
        for d in &duplicates {
            if d.dropped == d.kept {
                say!("note: {} was given twice: merged once", d.kept.display());
            } else {
                say!(
                    "note: {} holds the chunks of {} (shard {} ran twice) with the same bits: \
                     merged once",
                    d.dropped.display(),
                    d.kept.display(),
                    d.shard
                );
            }
        }
    }
    super::run::emit(&report, &out, args.format, args.quiet)
}

/// `carlo scale`: a scaling study.
pub(super) fn scale(args: &ScaleArgs, registry: &Registry) -> Result<(), Error> {
    let overrides = Overrides {
        samples: args.samples,
        seed: args.seed,
        chunk_size: args.chunk_size,
        sets: args.sets.clone(),
        ..Overrides::default()
    };
    let experiment = Experiment::load(&args.config, &overrides, registry)?;
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
            0 => Ok(crate::backend::available_cores()),
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
            crate::say!(
                "{:>10} x{:<3} {:>10.4} s  {:>8.1} M samples/s",
                p.backend.name(),
                p.workers,
                p.median(),
                p.rate() / 1e6
            );
        }
        let sheet = scale::sheet(points, &machine);
        output::write_file(&out, &output::render(&sheet, Format::Csv))
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
        crate::say!("wrote {}", out.display());
    }
    Ok(())
}
