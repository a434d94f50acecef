//! Checkpoints: a run's finished work on disk, so that a run killed in any way
//! (SIGKILL included) or stopped with Ctrl-C resumes with the same bits.
//!
//! A checkpoint is a JSON file holding a format name and version, the carlo version
//! that wrote it, a SHA-256 checksum, and its content: the job it belongs to (with
//! its fingerprint and seed), the stream derivation, and an [`crate::engine::State`]: the
//! statistics of chunks `0..next` merged in order, chunks finished beyond them, and
//! the trace so far. The checksum covers the content's bytes exactly as written, so
//! an edited or damaged file is refused, and so is one written by another carlo
//! version (which may compute other bits). Floats are written in shortest round-trip
//! form and read back exactly (serde_json's `float_roundtrip`). Every write replaces
//! the file atomically, so a kill at any moment leaves either the old checkpoint or
//! the new one, never a torn one.
//!
//! A finished run marks its checkpoint complete and keeps it: running the same
//! command again reports the same summary at once without drawing a sample.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::config::Job;
use crate::engine::State;
use crate::random::stream::DERIVATION;

/// The `format` field of every checkpoint.
pub(crate) const FORMAT: &str = "carlo-checkpoint";

/// The version of the file layout; a checkpoint of another version is refused.
pub(crate) const VERSION: u32 = 3;

/// How often a running job saves its state unless told otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// The file: a header, the checksum, and the content as the bytes it was hashed as.
#[derive(Serialize, Deserialize)]
struct File<'a> {
    format: String,
    version: u32,
    carlo_version: String,
    /// SHA-256, in hex, of `content`'s bytes as they stand in the file.
    sha256: String,
    #[serde(borrow)]
    content: &'a serde_json::value::RawValue,
}

/// What a checkpoint holds.
#[derive(Serialize, Deserialize)]
struct Content {
    fingerprint: String,
    seed: u64,
    rng: String,
    /// True once the run has finished: the state holds its final statistics.
    complete: bool,
    /// Kept as JSON so that a checkpoint of another job is told apart key by key,
    /// even one whose model this build no longer knows.
    job: serde_json::Value,
    state: State,
}

/// A checkpoint file bound to one job; saves that job's state every interval.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    job: Job,
    interval: Duration,
    last_save: Instant,
}

impl Checkpoint {
    /// Opens the checkpoint at `path` for `job`, whose model has `dim` columns.
    ///
    /// Returns the state saved there, or a fresh state when there is no file (written
    /// at the first save: a run refused before its first chunk, MPI ranks that do
    /// not agree, leaves no checkpoint behind; that the path can be written is
    /// checked before the run, with its other outputs). A file that is not a
    /// checkpoint of this job, seed and derivation is refused with an
    /// [`Error::Checkpoint`] that says what differs.
    pub fn open(
        path: &Path,
        job: &Job,
        dim: usize,
        interval: Duration,
    ) -> Result<(Self, State), Error> {
        let checkpoint = Checkpoint::bound(path, job, interval);
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((checkpoint, State::new(dim)));
            }
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let state = checkpoint.parse(&text, dim)?;
        Ok((checkpoint, state))
    }

    /// The checkpoint at `path` for `job`, not read or written yet.
    pub(crate) fn bound(path: &Path, job: &Job, interval: Duration) -> Self {
        Checkpoint {
            path: path.to_path_buf(),
            job: job.clone(),
            interval,
            last_save: Instant::now(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn refuse(&self, reason: impl Into<String>) -> Error {
        Error::Checkpoint {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    pub(crate) fn parse(&self, text: &str, dim: usize) -> Result<State, Error> {
        let not_ours = |e: serde_json::Error| {
            self.refuse(format!(
                "not a carlo checkpoint ({e}); give another --checkpoint path"
            ))
        };
        let header: Header = serde_json::from_str(text).map_err(not_ours)?;
        if header.format != FORMAT {
            return Err(self.refuse(format!(
                "not a carlo checkpoint (format {:?}); give another --checkpoint path",
                header.format
            )));
        }
        if header.version != VERSION {
            return Err(self.refuse(format!(
                "checkpoint version {} cannot be resumed by this carlo (version {VERSION})",
                header.version
            )));
        }
        let damaged = |what: String| {
            self.refuse(format!(
                "damaged checkpoint ({what}); delete it to start afresh"
            ))
        };
        let outer: File<'_> = serde_json::from_str(text).map_err(|e| damaged(e.to_string()))?;
        let ours = env!("CARGO_PKG_VERSION");
        if outer.carlo_version != ours {
            return Err(self.refuse(format!(
                "written by carlo {}, and only carlo {ours} (this one) resumes it: another \
                 version may compute other bits; delete it to start afresh, or resume with \
                 carlo {}",
                outer.carlo_version, outer.carlo_version
            )));
        }
        if hex_sha256(outer.content.get().as_bytes()) != outer.sha256 {
            return Err(damaged(
                "its checksum does not match its content: it was edited or damaged".into(),
            ));
        }
        let file: Content =
            serde_json::from_str(outer.content.get()).map_err(|e| damaged(e.to_string()))?;
        if file.rng != DERIVATION {
            return Err(self.refuse(format!(
                "written with streams {}, this carlo uses {DERIVATION}",
                file.rng
            )));
        }
        let ours = serde_json::to_value(&self.job).expect("a job always serializes");
        let differences = differences(&file.job, &ours);
        if !differences.is_empty() || file.fingerprint != self.job.fingerprint() {
            return Err(self.refuse(format!(
                "written by another run ({}); use another --checkpoint path, or delete \
                 it to start afresh",
                if differences.is_empty() {
                    format!(
                        "fingerprint {} there, {} here",
                        file.fingerprint,
                        self.job.fingerprint()
                    )
                } else {
                    differences.join("; ")
                }
            )));
        }
        file.state
            .check(&self.job, dim)
            .map_err(|reason| self.refuse(format!("damaged checkpoint: {reason}")))?;
        if file.complete != file.state.stop_reason().is_some() {
            return Err(self.refuse("damaged checkpoint: its completion flag disagrees"));
        }
        Ok(file.state)
    }

    /// Saves `state` if the interval has passed since the last save, or if `last`;
    /// returns whether it saved.
    pub fn offer(&mut self, state: &State, last: bool) -> Result<bool, Error> {
        if last || self.last_save.elapsed() >= self.interval {
            self.write(state)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Saves `state` now, atomically.
    pub fn write(&mut self, state: &State) -> Result<(), Error> {
        let content = Content {
            fingerprint: self.job.fingerprint(),
            seed: self.job.seed,
            rng: DERIVATION.into(),
            complete: state.stop_reason().is_some(),
            job: serde_json::to_value(&self.job).expect("a job always serializes"),
            state: state.clone(),
        };
        let content = serde_json::to_string_pretty(&content).expect("a state always serializes");
        let sha256 = hex_sha256(content.as_bytes());
        let raw = serde_json::value::RawValue::from_string(content)
            .expect("serde_json writes valid JSON");
        let file = File {
            format: FORMAT.into(),
            version: VERSION,
            carlo_version: env!("CARGO_PKG_VERSION").into(),
            sha256,
            content: &raw,
        };
        let mut bytes = serde_json::to_vec_pretty(&file).expect("a checkpoint serializes");
        bytes.push(b'\n');
        crate::output::write_file(&self.path, &bytes)?;
        self.last_save = Instant::now();
        Ok(())
    }
}

/// Lowercase hex of the SHA-256 of `bytes`.
fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `key X there, Y here` for each key of two jobs that differs.
fn differences(theirs: &serde_json::Value, ours: &serde_json::Value) -> Vec<String> {
    crate::config::job_differences(theirs, ours)
        .into_iter()
        .map(|(key, there, here)| format!("{key} {there} there, {here} here"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Experiment, Overrides};
    use crate::engine::{Observer, Quiet, resume_on};
    use crate::exec::Threads;

    /// 1000 chunks of a block: more than the engine keeps in flight
    /// (`exec::window`), so an interruption after a few chunks lands before the run
    /// can finish, even on a fast machine.
    fn job(extra: &str) -> Job {
        let text = format!(
            "[simulation]\nsamples = 4_096_000\nseed = 3\nchunk_size = 4096\n{extra}\n\
             [model]\ntype = \"pi\"\n"
        );
        Experiment::parse(
            &text,
            Path::new("x.toml"),
            &Overrides::default(),
            &crate::model::Registry::builtin(),
        )
        .unwrap()
        .job
    }

    /// Keeps the first state it is shown after `after` blocks, then interrupts.
    struct StopAfter {
        after: u64,
        kept: Option<State>,
    }

    impl Observer for StopAfter {
        fn checkpoint(&mut self, state: &State, _last: bool) -> Result<(), Error> {
            if self.kept.is_none() && state.blocks_done() >= self.after {
                self.kept = Some(state.clone());
            }
            Ok(())
        }

        fn interrupted(&mut self) -> bool {
            self.kept.is_some()
        }
    }

    #[test]
    fn a_saved_state_reads_back_exactly_and_resumes_to_the_same_bits() {
        let job = job("");
        let model = job.build_model(&crate::model::Registry::builtin()).unwrap();
        let whole = resume_on(
            "x",
            &job,
            model.as_ref(),
            &mut Threads::new(3).unwrap(),
            State::new(1),
            &mut Quiet,
        )
        .unwrap();
        let mut observer = StopAfter {
            after: 7,
            kept: None,
        };
        let err = resume_on(
            "x",
            &job,
            model.as_ref(),
            &mut Threads::new(3).unwrap(),
            State::new(1),
            &mut observer,
        )
        .unwrap_err();
        assert!(matches!(err, Error::Interrupted { .. }), "{err}");
        let kept = observer.kept.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let (mut c, fresh) = Checkpoint::open(&path, &job, 1, DEFAULT_INTERVAL).unwrap();
        assert_eq!(fresh, State::new(1));
        c.write(&kept).unwrap();
        let (_, read) = Checkpoint::open(&path, &job, 1, DEFAULT_INTERVAL).unwrap();
        assert_eq!(read, kept);

        let resumed = resume_on(
            "x",
            &job,
            model.as_ref(),
            &mut Threads::new(2).unwrap(),
            read.clone(),
            &mut Quiet,
        )
        .unwrap();
        assert_eq!(resumed.moments, whole.moments);
        assert_eq!(resumed.estimates, whole.estimates);
        assert_eq!(resumed.trace, whole.trace);
        assert_eq!(resumed.digests, whole.digests);

        // At another chunk size, the same bits.
        let mut other = job.clone();
        other.chunk_size = 7 * 4096;
        let resized = resume_on(
            "x",
            &other,
            model.as_ref(),
            &mut Threads::new(2).unwrap(),
            read,
            &mut Quiet,
        )
        .unwrap();
        assert_eq!(resized.moments, whole.moments);
        assert_eq!(resized.trace, whole.trace);
        assert_eq!(resized.digests, whole.digests);
    }

    #[test]
    fn another_job_is_refused_with_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let (mut c, state) = Checkpoint::open(&path, &job(""), 1, DEFAULT_INTERVAL).unwrap();
        c.write(&state).unwrap();
        let err = Checkpoint::open(&path, &job("confidence = 0.9"), 1, DEFAULT_INTERVAL)
            .unwrap_err()
            .to_string();
        assert!(err.contains("confidence 0.95 there, 0.9 here"), "{err}");
        let err = Checkpoint::open(&path, &job("target_rel_error = 0.1"), 1, DEFAULT_INTERVAL)
            .unwrap_err()
            .to_string();
        assert!(err.contains("target none there"), "{err}");
    }

    #[test]
    fn a_damaged_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        let (mut c, state) = Checkpoint::open(&path, &job(""), 1, DEFAULT_INTERVAL).unwrap();
        assert!(!path.exists(), "nothing is written before the first save");
        c.write(&state).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for (from, to, needle) in [
            ("\"decided\": 0", "\"decided\": 3", "checksum"),
            ("\"wall_seconds\": 0.0", "\"wall_seconds\": 0.5", "checksum"),
            (
                &format!("\"version\": {VERSION}"),
                "\"version\": 9",
                "version 9",
            ),
            (
                "\"carlo_version\": \"",
                "\"carlo_version\": \"9.",
                "written by carlo 9.",
            ),
            ("{", "[", "not a carlo checkpoint"),
        ] {
            assert!(text.contains(from), "{from}");
            std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
            let err = Checkpoint::open(&path, &job(""), 1, DEFAULT_INTERVAL).unwrap_err();
            assert!(matches!(err, Error::Checkpoint { .. }), "{err}");
            assert!(err.to_string().contains(needle), "{from}: {err}");
        }
    }
}
