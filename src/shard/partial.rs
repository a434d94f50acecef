//! The partial file a shard writes: JSON lines, versioned, checksummed, exact, and
//! written and read as a stream, so that neither a shard nor `carlo merge` holds more
//! than a few chunks in memory whatever the chunk count.
//!
//! ```text
//! {"format":"carlo-partial","format_version":3,"carlo_version":"0.3.0",...,"job":{...}}   header
//! [0,"0000000000010000400921..."]                    one line per chunk: its index and
//! [1,"00000000000100004009220a..."]                  its statistics in carlo's one
//! ...                                                 encoding (crate::stats::codec)
//! {"backend":"threads","workers":8,"wall_seconds":1.2,"worker_restarts":0}           trailer
//! {"sha256":"..."}                                   checksum
//! ```
//!
//! The last line's `sha256` is the SHA-256 of every byte before it, the trailer
//! included, so a damaged or truncated file is refused (a checksum catches accidents:
//! anyone who edits a file can compute a new one, so it is no seal against tampering;
//! `carlo verify` recomputing the run is what settles a doubt). Statistics keep every
//! bit, and are always finite (a chunk with a NaN or infinite sample fails its run).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::config::{Destination, Job};
use crate::random::lanes::METHOD as DERIVATION;
use crate::stats::ChunkStats;

/// The `format` field that marks a file as a carlo partial.
pub const FORMAT: &str = "carlo-partial";

/// The version of the partial format this carlo writes and reads (3: statistics in
/// carlo's one encoding, the trailer under the checksum on a line of its own).
pub const FORMAT_VERSION: u64 = 3;

/// What a partial says about itself before its chunks: enough to check that
/// partials belong together, and where each one's chunks lie, without reading them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the carlo that wrote it.
    pub format_version: u64,
    /// The version of the carlo that wrote it: only the same version merges it,
    /// since another may compute other bits.
    pub carlo_version: String,
    /// The run's name.
    pub name: String,
    /// [`Job::fingerprint`] of `job`.
    pub fingerprint: String,
    /// The job's seed (also in `job`; repeated for people reading the file).
    pub seed: u64,
    /// The stream derivation, [`DERIVATION`].
    pub rng: String,
    /// 1-based shard number.
    pub shard: u64,
    /// Number of shards.
    pub shards: u64,
    /// First block held.
    pub block_start: u64,
    /// One past the last block held.
    pub block_end: u64,
    /// The run's summary path, which `carlo merge` uses by default when every
    /// partial agrees on it.
    pub summary: Option<PathBuf>,
    /// Everything that decides the result.
    pub job: Job,
}

/// What a partial says after its chunks: how they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    /// Backend the shard ran on.
    pub backend: String,
    /// Workers it used.
    pub workers: usize,
    /// Its wall-clock seconds.
    pub wall_seconds: f64,
    /// Worker processes that died or stalled and were replaced while it ran.
    pub worker_restarts: u64,
}

/// The last line of a partial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checksum {
    /// SHA-256, in hex, of every byte of the file before this line.
    sha256: String,
}

impl Header {
    /// The header of shard `shard` (0-based) of `count`, holding chunks
    /// `block_start..block_end` of the job of `name`.
    pub fn new(
        name: &str,
        job: &Job,
        (shard, count): (u64, u64),
        chunks: std::ops::Range<u64>,
        summary: Option<PathBuf>,
    ) -> Self {
        Header {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            carlo_version: env!("CARGO_PKG_VERSION").into(),
            name: name.to_string(),
            fingerprint: job.fingerprint(),
            seed: job.seed,
            rng: DERIVATION.into(),
            shard: shard + 1,
            shards: count,
            block_start: chunks.start,
            block_end: chunks.end,
            summary,
            job: job.clone(),
        }
    }
}

/// Writes a partial chunk by chunk, in chunk order, hashing as it goes; a file is
/// written beside its destination and renamed into place at the end, so a failed
/// shard leaves no partial behind.
pub struct Writer {
    out: Box<dyn Write>,
    /// The temporary file, to rename into place at the end.
    file: Option<(tempfile::TempPath, PathBuf)>,
    hasher: Sha256,
    next: u64,
    end: u64,
    dest: String,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("next", &self.next)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the partial with `header` at `dest`.
    pub fn create(dest: &Destination, header: &Header) -> Result<Self, Error> {
        let (out, file, name): (Box<dyn Write>, _, String) = match dest {
            Destination::Stdout => (
                Box::new(std::io::BufWriter::new(std::io::stdout())),
                None,
                "standard output".into(),
            ),
            Destination::File(path) => {
                let fail = |source| Error::Write {
                    path: path.clone(),
                    source,
                };
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                std::fs::create_dir_all(&dir).map_err(fail)?;
                let tmp = crate::output::temporary_in(&dir).map_err(fail)?;
                let (handle, tmp_path) = tmp.into_parts();
                (
                    Box::new(std::io::BufWriter::new(handle)),
                    Some((tmp_path, path.clone())),
                    path.display().to_string(),
                )
            }
        };
        let mut writer = Writer {
            out,
            file,
            hasher: Sha256::new(),
            next: header.block_start,
            end: header.block_end,
            dest: name,
        };
        writer.line(&serde_json::to_vec(header).expect("a header serializes"))?;
        Ok(writer)
    }

    fn line(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.hasher.update(bytes);
        self.hasher.update(b"\n");
        self.out
            .write_all(bytes)
            .and_then(|()| self.out.write_all(b"\n"))
            .map_err(|source| self.write_error(source))
    }

    fn write_error(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: self.dest.clone().into(),
            source,
        }
    }

    /// Appends a chunk, whose blocks must start where the last one's ended.
    pub fn push(&mut self, stats: &ChunkStats) -> Result<(), Error> {
        assert_eq!(
            stats.blocks.start, self.next,
            "partial chunks are written in order"
        );
        self.line(&serde_json::to_vec(stats).expect("statistics serialize"))?;
        self.next = stats.blocks.end;
        Ok(())
    }

    /// Ends the partial with how it ran, and puts the file in place.
    pub fn finish(
        mut self,
        backend: &str,
        workers: usize,
        wall_seconds: f64,
        worker_restarts: u64,
    ) -> Result<(), Error> {
        assert_eq!(self.next, self.end, "a partial holds all its chunks");
        let trailer = Trailer {
            backend: backend.into(),
            workers,
            wall_seconds,
            worker_restarts,
        };
        self.line(&serde_json::to_vec(&trailer).expect("a trailer serializes"))?;
        let sha256 = hex(&self.hasher.clone().finalize());
        let bytes = serde_json::to_vec(&Checksum { sha256 }).expect("a checksum serializes");
        self.out
            .write_all(&bytes)
            .and_then(|()| self.out.write_all(b"\n"))
            .and_then(|()| self.out.flush())
            .map_err(|source| self.write_error(source))?;
        drop(self.out);
        if let Some((tmp, path)) = self.file {
            let fail = |source| Error::Write {
                path: path.clone(),
                source,
            };
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(fail)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
                    .map_err(fail)?;
            }
            tmp.persist(&path).map_err(|e| fail(e.error))?;
        }
        Ok(())
    }
}

/// Lowercase hex of bytes.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A partial read as a stream: the header at once, then the chunks one at a time,
/// then the trailer, whose checksum is verified.
pub struct Reader {
    path: PathBuf,
    lines: Box<dyn BufRead>,
    hasher: Sha256,
    /// The header.
    pub header: Header,
    /// The header's line as read, without its newline.
    header_line: Vec<u8>,
    /// The file's length when it was opened.
    len: u64,
    next: u64,
    buf: Vec<u8>,
    trailer: Option<Trailer>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// A partial whose header has been read and whose file is closed: what `carlo merge`
/// keeps of each partial between reading the headers of all of them and reading
/// their chunks, so that it never holds more than one file open, however many
/// partials it merges. A small partial's chunks are kept in memory (within a budget
/// shared by all), so that its file is opened once; a larger one is opened again,
/// and its header must not have changed in between.
pub struct Parked {
    path: PathBuf,
    hasher: Sha256,
    header: Header,
    header_line: Vec<u8>,
    /// The bytes after the header's line, when they fit the budget.
    rest: Option<Vec<u8>>,
}

impl std::fmt::Debug for Parked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parked")
            .field("path", &self.path)
            .field("in_memory", &self.rest.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl Parked {
    /// The partial's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A reader positioned after the header, as [`Reader::open`] left it.
    pub fn resume(self) -> Result<Reader, Error> {
        let Parked {
            path,
            hasher,
            header,
            header_line,
            rest,
        } = self;
        let reopened = rest.is_none();
        let lines: Box<dyn BufRead> = match rest {
            Some(bytes) => Box::new(std::io::Cursor::new(bytes)),
            None => Box::new(BufReader::new(std::fs::File::open(&path).map_err(
                |source| Error::Read {
                    path: path.clone(),
                    source,
                },
            )?)),
        };
        let mut reader = Reader {
            path,
            lines,
            hasher,
            next: header.block_start,
            header,
            header_line,
            len: 0,
            buf: Vec::new(),
            trailer: None,
        };
        if reopened {
            // Opened again: it must still be the partial whose header was read.
            let first = reader.read_line()?;
            if first.as_deref() != Some(reader.header_line.as_slice()) {
                return Err(reader.bad(
                    "it changed while it was being merged (its header is not the one read \
                     before): merge again once no shard writes it"
                        .into(),
                ));
            }
        }
        Ok(reader)
    }
}

impl Reader {
    /// Opens the partial at `path` and reads its header. A file that is not a
    /// partial, or one of another format or carlo version, is an error that names it.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let read = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let len = file.metadata().map_err(read)?.len();
        Self::start(path, len, Box::new(BufReader::new(file)))
    }

    /// A partial read from `lines` (`len` bytes), named `path` in messages: reads and
    /// checks its header, as [`open`](Self::open) does.
    pub(crate) fn start(path: &Path, len: u64, lines: Box<dyn BufRead>) -> Result<Self, Error> {
        let mut reader = Reader {
            path: path.to_path_buf(),
            len,
            lines,
            hasher: Sha256::new(),
            header: placeholder_header(),
            header_line: Vec::new(),
            next: 0,
            buf: Vec::new(),
            trailer: None,
        };
        let first = reader
            .read_line()?
            .ok_or_else(|| reader.bad("not a carlo partial (it is empty)".into()))?;
        reader.hasher.update(&first);
        reader.hasher.update(b"\n");
        // The format and version first, so that a file of another version is named as
        // such rather than as a field mismatch.
        let value: serde_json::Value = serde_json::from_slice(&first).map_err(|e| {
            reader.bad(format!(
                "not a carlo partial (its first line is not JSON: {e})"
            ))
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(reader.bad(format!(
                "not a carlo partial (no \"format\": \"{FORMAT}\" on its first line)"
            )));
        }
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(FORMAT_VERSION) => {}
            other => {
                return Err(reader.bad(format!(
                    "partial format version {}, but this carlo reads version {FORMAT_VERSION}",
                    other.map_or_else(|| "missing".to_string(), |v| v.to_string())
                )));
            }
        }
        let header: Header = serde_json::from_value(value)
            .map_err(|e| reader.bad(format!("corrupt partial header: {e}")))?;
        let ours = env!("CARGO_PKG_VERSION");
        if header.carlo_version != ours {
            return Err(reader.bad(format!(
                "written by carlo {}, and only carlo {ours} (this one) merges it: another \
                 version may compute other bits; rerun the shard with this carlo",
                header.carlo_version
            )));
        }
        reader.next = header.block_start;
        reader.header = header;
        reader.header_line = first;
        Ok(reader)
    }

    /// Closes the file after the header: the rest of the file is read into memory if
    /// it is at most `budget` bytes (which it then uses up), else it is read again
    /// from the file by [`Parked::resume`].
    pub fn park(mut self, budget: &mut u64) -> Result<Parked, Error> {
        assert_eq!(
            self.next, self.header.block_start,
            "only a reader that has read nothing but its header is parked"
        );
        // The bytes after the header, read now only if they fit what may be kept.
        let after_header = self.len.saturating_sub(self.header_line.len() as u64 + 1);
        let rest = if after_header <= *budget {
            let mut rest = Vec::with_capacity(after_header as usize);
            self.lines
                .read_to_end(&mut rest)
                .map_err(|source| Error::Read {
                    path: self.path.clone(),
                    source,
                })?;
            *budget = budget.saturating_sub(rest.len() as u64);
            Some(rest)
        } else {
            None
        };
        let header_line = match rest {
            Some(_) => Vec::new(),
            None => std::mem::take(&mut self.header_line),
        };
        Ok(Parked {
            path: self.path,
            hasher: self.hasher,
            header: self.header,
            header_line,
            rest,
        })
    }

    fn bad(&self, message: String) -> Error {
        Error::Syntax {
            path: self.path.clone(),
            message,
        }
    }

    /// The next line without its newline, hashed; `None` at the end of the file.
    fn read_line(&mut self) -> Result<Option<Vec<u8>>, Error> {
        self.buf.clear();
        let n = self
            .lines
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| Error::Read {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.last() != Some(&b'\n') {
            return Err(self.bad("truncated partial (its last line is cut short)".into()));
        }
        let line = self.buf[..self.buf.len() - 1].to_vec();
        Ok(Some(line))
    }

    /// The next chunk's statistics, checked to have `dim` columns and to hold the
    /// blocks that follow the last chunk's with their sample count; `None` after the
    /// last chunk, once the trailer's checksum has been verified.
    pub fn next_chunk(&mut self, dim: usize) -> Result<Option<ChunkStats>, Error> {
        if self.next == self.header.block_end {
            if self.trailer.is_none() {
                self.trailer = Some(self.verify_trailer()?);
            }
            return Ok(None);
        }
        let line = self.read_line()?.ok_or_else(|| {
            self.bad(format!(
                "truncated partial: it ends before chunk {}",
                self.next
            ))
        })?;
        self.hasher.update(&line);
        self.hasher.update(b"\n");
        let stats: ChunkStats = serde_json::from_slice(&line).map_err(|e| {
            self.bad(format!(
                "corrupt line for the chunk at block {}: {e}",
                self.next
            ))
        })?;
        let plan = self.header.job.plan();
        let blocks = &stats.blocks;
        let expected = plan.samples_before(blocks.end) - plan.samples_before(blocks.start);
        if blocks.start != self.next
            || blocks.end > self.header.block_end
            || stats.count() != expected
        {
            return Err(self.bad(format!(
                "the statistics of the chunk at block {} are not those of this job's blocks",
                self.next
            )));
        }
        if let Err(reason) = stats.check(dim, true) {
            return Err(self.bad(format!("the chunk at block {}: {reason}", self.next)));
        }
        self.next = stats.blocks.end;
        Ok(Some(stats))
    }

    fn verify_trailer(&mut self) -> Result<Trailer, Error> {
        let line = self
            .read_line()?
            .ok_or_else(|| self.bad("truncated partial: its trailer is missing".into()))?;
        self.hasher.update(&line);
        self.hasher.update(b"\n");
        let last = self
            .read_line()?
            .ok_or_else(|| self.bad("truncated partial: its checksum is missing".into()))?;
        let checksum: Checksum = serde_json::from_slice(&last)
            .map_err(|_| self.bad("corrupt partial: its last line is not its checksum".into()))?;
        let ours = hex(&self.hasher.clone().finalize());
        if checksum.sha256 != ours {
            return Err(self.bad(
                "its checksum does not match its content: the file was damaged (or edited)".into(),
            ));
        }
        // Only read once the checksum says these are the bytes the shard wrote.
        let trailer: Trailer = serde_json::from_slice(&line)
            .map_err(|_| self.bad("corrupt partial: its trailer is not one".into()))?;
        if self.read_line()?.is_some() {
            return Err(self.bad("it goes on after its trailer".into()));
        }
        Ok(trailer)
    }

    /// The partial's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The trailer, once [`next_chunk`](Self::next_chunk) has read past the last
    /// chunk and verified the checksum.
    pub fn trailer(&self) -> Option<&Trailer> {
        self.trailer.as_ref()
    }
}

/// A header to fill in once the real one is read.
fn placeholder_header() -> Header {
    Header {
        format: String::new(),
        format_version: 0,
        carlo_version: String::new(),
        name: String::new(),
        fingerprint: String::new(),
        seed: 0,
        rng: String::new(),
        shard: 0,
        shards: 0,
        block_start: 0,
        block_end: 0,
        summary: None,
        job: Job {
            samples: 2,
            seed: 0,
            chunk_size: 1,
            confidence: 0.95,
            model: crate::model::ModelSpec::from_params("", Default::default()),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelSpec;
    use crate::models::PiParams;

    fn job() -> Job {
        Job {
            samples: 3 * 4096 + 10,
            seed: 3,
            chunk_size: 4096,
            confidence: 0.95,
            model: ModelSpec::new("pi", &PiParams {}),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        }
    }

    /// Chunk `blocks` of `job()`, computed.
    fn chunk(blocks: std::ops::Range<u64>) -> ChunkStats {
        let job = job();
        let model = job.build_model(&crate::model::Registry::builtin()).unwrap();
        let mut cursor = crate::random::lanes::LaneCursor::new(job.seed);
        crate::exec::run_blocks(&job, model.as_ref(), blocks, &mut cursor).unwrap()
    }

    #[test]
    fn a_partial_streams_back_bit_for_bit_and_checks_its_sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let header = Header::new("pi", &job(), (1, 2), 1..4, None);
        let mut w = Writer::create(&Destination::File(path.clone()), &header).unwrap();
        let chunks = [chunk(1..3), chunk(3..4)];
        w.push(&chunks[0]).unwrap();
        w.push(&chunks[1]).unwrap();
        w.finish("threads", 2, 0.5, 0).unwrap();

        let mut r = Reader::open(&path).unwrap();
        assert_eq!(r.header, header);
        for expected in &chunks {
            let got = r.next_chunk(1).unwrap().unwrap();
            assert_eq!(&got, expected);
            assert_eq!(got.parts[0].1.to_words(), expected.parts[0].1.to_words());
        }
        assert!(r.next_chunk(1).unwrap().is_none());

        // One digit changed anywhere: refused (a block's digest, here).
        let text = std::fs::read_to_string(&path).unwrap();
        let digest = chunks[1].digests[0].to_string();
        let edited = text.replacen(&digest, &format!("{}", chunks[1].digests[0] ^ 1), 1);
        assert_ne!(edited, text);
        std::fs::write(&path, edited).unwrap();
        let mut r = Reader::open(&path).unwrap();
        let err = loop {
            match r.next_chunk(1) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("an edited partial was accepted"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn the_trailer_is_under_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let header = Header::new("pi", &job(), (0, 1), 0..4, None);
        let mut w = Writer::create(&Destination::File(path.clone()), &header).unwrap();
        w.push(&chunk(0..2)).unwrap();
        w.push(&chunk(2..4)).unwrap();
        w.finish("threads", 2, 0.5, 7).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let mut r = Reader::open(&path)?;
            while r.next_chunk(1)?.is_some() {}
            Ok::<_, Error>(r.trailer().cloned())
        };
        assert_eq!(read(&text).unwrap().unwrap().worker_restarts, 7);
        for edited in [
            text.replace(
                "\"worker_restarts\":7",
                "\"worker_restarts\":18446744073709551615",
            ),
            text.replace("\"workers\":2", "\"workers\":3"),
        ] {
            assert_ne!(edited, text);
            let err = read(&edited).unwrap_err().to_string();
            assert!(err.contains("checksum"), "{err}");
        }
        // Without its checksum line: truncated.
        let lines = text.lines().count();
        let cut: String = text
            .lines()
            .take(lines - 1)
            .map(|l| format!("{l}\n"))
            .collect();
        let err = read(&cut).unwrap_err().to_string();
        assert!(err.contains("checksum is missing"), "{err}");
    }
}
