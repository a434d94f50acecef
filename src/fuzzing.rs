//! Entry points for the coverage-guided fuzz targets in `fuzz/` (`cargo +nightly fuzz
//! run TARGET`): each takes arbitrary bytes, as a file or a pipe could hold them, and
//! hands them to one of carlo's readers. Whatever the bytes, a reader must return (an
//! error is fine) without a panic, a hang or an unbounded allocation; the fuzzer
//! reports anything else as a crash. Not part of carlo's API.

use std::path::Path;

use crate::checkpoint::Checkpoint;
use crate::config::{Assignment, Experiment, Job, Overrides};
use crate::exec::processes::protocol::{self, Reply, Request};
use crate::model::{ModelSpec, Registry};
use crate::models::PiParams;

/// The built-in models without `python`, whose workers are processes of an
/// interpreter that a fuzzer must not start.
fn registry() -> Registry {
    let mut registry = Registry::new();
    for entry in Registry::builtin().entries() {
        if entry.kind() != "python" {
            registry.register(entry.clone());
        }
    }
    registry
}

/// A config and its overrides: lines `set KEY=VALUE` and `sweep KEY=V1,V2` before a
/// line `---`, then the config's text (all of it is the config without that line).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, file) = text.split_once("\n---\n").unwrap_or(("", text));
    let mut sets = Vec::new();
    for line in head.lines() {
        let parsed = match line.split_once(' ') {
            Some(("set", a)) => Assignment::parse(a),
            Some(("sweep", a)) => Assignment::sweep(a),
            _ => continue,
        };
        if let Ok(set) = parsed {
            sets.push(set);
        }
    }
    let overrides = Overrides {
        sets,
        ..Overrides::default()
    };
    if let Ok(e) = Experiment::parse(file, Path::new("fuzz.toml"), &overrides, &registry()) {
        // What a run writes beside its summary must always be written.
        let _ = e.job.to_toml(&e.name);
        let _ = e.job.fingerprint();
    }
}

/// `--set KEY=VALUE` and `--sweep KEY=V1,...` as typed: a set that parses must be
/// one key and one TOML value.
pub fn set(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(a) = Assignment::parse(text) {
        let parsed = crate::config::one_value(&a.value);
        assert!(parsed.is_ok(), "{text:?} was accepted as {a:?}: {parsed:?}");
    }
    let _ = Assignment::sweep(text);
}

/// A small job for the readers that need one: pi, 10 chunks of 4.
fn job() -> Job {
    Job {
        samples: 40,
        seed: 3,
        chunk_size: 4,
        confidence: 0.95,
        model: ModelSpec::new("pi", &PiParams {}),
        target: None,
        sampler: Default::default(),
        sweep: Vec::new(),
    }
}

/// A checkpoint file's text, read for [`job`].
pub fn checkpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let c = Checkpoint::bound(
        Path::new("fuzz.ckpt"),
        &job(),
        std::time::Duration::from_secs(5),
    );
    let _ = c.parse(text, 1);
}

/// A shard partial, read to its end as `carlo merge` reads it.
pub fn partial(data: &[u8]) {
    let bytes = data.to_vec();
    let len = bytes.len() as u64;
    let Ok(mut reader) = crate::shard::Reader::start(
        Path::new("fuzz.json"),
        len,
        Box::new(std::io::Cursor::new(bytes)),
    ) else {
        return;
    };
    // The header decides the column count; cap it as merge's model would.
    let dim = 1;
    while let Ok(Some(_)) = reader.next_chunk(dim) {}
}

/// Worker protocol lines, in both directions: each line decoded as a request and as
/// a reply, a hello's job read, a reply's statistics checked.
pub fn protocol(data: &[u8]) {
    for line in data.split_inclusive(|&b| b == b'\n') {
        if let Ok(Request::Hello { v, job }) = protocol::decode::<Request>(line)
            && let Ok(job) = Request::job(v, job)
        {
            let _ = job.fingerprint();
            let _ = job.to_toml("fuzz");
            let _ = job.plan().chunks();
        }
        if let Ok(Reply::Done { stats, .. }) = protocol::decode::<Reply>(line) {
            let _ = stats.check(1, true);
        }
    }
}

/// A summary as `carlo verify` reads it (CSV, or JSON when it starts with `[`), and
/// a group digests file.
pub fn verify(data: &[u8]) {
    let path = Path::new("fuzz.csv");
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.trim_start().starts_with('[') {
        // As `Claim::read` takes a JSON summary's job: written as a job file and read
        // back as a config, which checks it.
        if let Ok((_, job)) = crate::verify::claim::read_json(path, text)
            && let Ok(toml) = job.to_toml("fuzz")
            && let Ok(e) = Experiment::parse(&toml, path, &Overrides::default(), &registry())
        {
            let _ = e.job.plan().chunks();
        }
    } else {
        let _ = crate::verify::claim::read_csv(path, text);
    }
    let _ = crate::verify::claim::read_digests_text(path, text, &job());
}
