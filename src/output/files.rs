//! Where outputs may go, checked before a run starts, and how they are written.
//!
//! A run can take hours, so every output it will write (summary, checkpoint, trace,
//! plot, partial, merged summary) is checked before the first chunk: the path is not
//! empty and not a folder, its folder exists or can be created, it can be written, it
//! is not one of the run's inputs (the config, a partial being merged), and no two
//! outputs are the same file. "The same file" is decided on the real files (device
//! and inode, or the canonical path for files not yet there), never by comparing the
//! strings the user typed.
//!
//! Writing ([`write_file`]) replaces a regular file atomically (a temporary file
//! beside it, then a rename), so a reader never sees a torn file. A path that is a
//! symbolic link replaces the file the link points to, and leaves the link. A path
//! that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`, a
//! terminal) is opened and written directly: replacing it would destroy it.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::Error;

/// The error for output `what` at `path`.
fn refuse(what: &str, path: &Path, reason: impl Into<String>) -> Error {
    Error::Output {
        what: what.to_string(),
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Checks that output `what` (a flag such as `--trace`, or `the summary`) can be
/// written at `path` without destroying anything it must not.
pub(crate) fn check_writable(what: &str, path: &Path) -> Result<(), Error> {
    if path.as_os_str().is_empty() {
        return Err(refuse(what, path, "is an empty path"));
    }
    if names_a_folder(path) {
        return Err(refuse(
            what,
            path,
            "ends with a path separator (or . or ..), so it names a folder; give a file name",
        ));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(refuse(what, path, "is a folder, not a file")),
        Ok(meta) if !meta.is_file() => {
            // A device, FIFO or terminal: written in place.
            writable(path).map_err(|e| refuse(what, path, format!("cannot be written: {e}")))
        }
        Ok(_) => {
            writable(path).map_err(|_| {
                refuse(
                    what,
                    path,
                    "exists and is read-only; remove it or choose another path",
                )
            })?;
            let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let dir = folder_of(&real);
            writable(&dir).map_err(|_| {
                refuse(
                    what,
                    path,
                    format!(
                        "cannot be replaced: its folder {} is not writable",
                        dir.display()
                    ),
                )
            })
        }
        Err(_) => {
            // Not there yet: the nearest existing folder above it must take new files.
            let mut dir = folder_of(path);
            loop {
                match std::fs::metadata(&dir) {
                    Ok(meta) if meta.is_dir() => {
                        return writable(&dir).map_err(|_| {
                            refuse(
                                what,
                                path,
                                format!("cannot be created: {} is not writable", dir.display()),
                            )
                        });
                    }
                    Ok(_) => {
                        return Err(refuse(
                            what,
                            path,
                            format!(
                                "cannot be created: {} is a file, not a folder",
                                dir.display()
                            ),
                        ));
                    }
                    Err(_) => match dir.parent() {
                        Some(parent) if !parent.as_os_str().is_empty() => {
                            dir = parent.to_path_buf()
                        }
                        _ => return Ok(()),
                    },
                }
            }
        }
    }
}

/// Whether `path` is spelt as a folder: it ends with `/` (`results/`), or its last
/// part is `.` or `..`. Such a path can never become a file, though the folder it
/// names may not exist yet.
fn names_a_folder(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    bytes.last() == Some(&b'/')
        || bytes.ends_with(b"/.")
        || bytes == b"."
        || matches!(path.components().next_back(), Some(Component::ParentDir))
}

/// The folder a file path lies in (`.` for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether this process may write `path` (access(2) with W_OK).
fn writable(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("the path holds a NUL byte"))?;
        // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
        if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Which real file a path names: its device and inode when it exists, else the
/// canonical path of its nearest existing folder joined with the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    let inode = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p)
            .ok()
            .map(|meta| Identity::Inode(meta.dev(), meta.ino()))
    };
    #[cfg(not(unix))]
    let inode = |_: &Path| None;
    if let Some(found) = inode(path) {
        return found;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // Lexically drop `.` and `..`, then resolve the longest existing prefix.
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    // `missing/../a.csv` names a file that exists, though the kernel cannot open it.
    if let Some(found) = inode(&clean) {
        return found;
    }
    let mut rest = Vec::new();
    let mut base = clean.as_path();
    while std::fs::canonicalize(base).is_err() {
        let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else {
            break;
        };
        rest.push(name.to_os_string());
        base = parent;
    }
    let mut real = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    real.extend(rest.iter().rev());
    Identity::Path(real)
}

/// Whether `a` and `b` are the same real file (or would be, once written).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    identity(a) == identity(b)
}

/// Whether `path` exists and is not a regular file (a device, FIFO or terminal):
/// several outputs may share one of those, `/dev/null` for example.
pub fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Checks a run's outputs before it starts: each can be written, none is one of the
/// `inputs`, and no two are the same file. Each entry is a description (a flag such
/// as `--trace`, or `the summary`) and a path.
pub(crate) fn check_outputs(
    outputs: &[(&str, &Path)],
    inputs: &[(&str, &Path)],
) -> Result<(), Error> {
    for (i, (what, path)) in outputs.iter().enumerate() {
        check_writable(what, path)?;
        if let Some((input, _)) = inputs.iter().find(|(_, p)| same_file(path, p)) {
            return Err(refuse(
                what,
                path,
                format!("is {input}, which it would overwrite"),
            ));
        }
        if is_special(path) {
            continue;
        }
        if let Some((other, _)) = outputs[..i].iter().find(|(_, p)| same_file(path, p)) {
            return Err(refuse(
                what,
                path,
                format!("is also the file of {other}; one would overwrite the other"),
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path`: a regular file (or a new one) atomically, through a
/// temporary file in its folder and a rename; missing folders are created. A symbolic
/// link's target is what gets replaced. A path that is not a regular file (a device,
/// FIFO, terminal) is written in place.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_files(&[(path, bytes)])
}

/// Writes several files as one: every regular file is first written in full to a
/// temporary file beside it (see [`write_file`]), and only once all of them are
/// written are they renamed into place. A failure on the way (a full disk) leaves
/// none of them changed, so a summary is never left without its job file, nor a
/// job file beside another run's summary. Devices and FIFOs are written in place,
/// after the staging.
pub(crate) fn write_files(files: &[(&Path, &[u8])]) -> Result<(), Error> {
    let _saving = Saving::start();
    let mut staged = Vec::new();
    for &(path, bytes) in files {
        if !is_special(path) {
            staged.push(stage(path, bytes)?);
        }
    }
    for &(path, bytes) in files {
        if is_special(path) {
            let fail = |source| Error::Write {
                path: path.to_path_buf(),
                source,
            };
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(fail)?;
            file.write_all(bytes)
                .and_then(|()| file.flush())
                .map_err(fail)?;
        }
    }
    for (tmp, target, path) in staged {
        tmp.persist(&target).map_err(|e| Error::Write {
            path,
            source: e.error,
        })?;
    }
    SAVES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// Writes completed by this process (see [`saves`]).
static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many writes this process has completed: a signal that ends the process can
/// wait for one more.
pub(crate) fn saves() -> u64 {
    SAVES.load(std::sync::atomic::Ordering::SeqCst)
}

/// A temporary file beside `path`'s target holding `bytes`, synced, with the
/// permissions the target will have; with the target and the path as given.
fn stage(path: &Path, bytes: &[u8]) -> Result<(tempfile::NamedTempFile, PathBuf, PathBuf), Error> {
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let target = resolve_links(path);
    let dir = folder_of(&target);
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let mut tmp = super::temporary::temporary_in(&dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    keep_permissions(tmp.as_file(), &target).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    Ok((tmp, target, path.to_path_buf()))
}

/// Writes in progress in this process (see [`saving`]).
static SAVING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether this process is writing a file: a signal that would end the process
/// waits for that to finish (a checkpoint half renamed, a summary without its job).
pub fn saving() -> bool {
    SAVING.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Counts a write in progress for as long as it lives.
pub(crate) struct Saving;

impl Saving {
    pub(crate) fn start() -> Self {
        SAVING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Saving
    }
}

impl Drop for Saving {
    fn drop(&mut self) {
        SAVING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The file a chain of symbolic links ends at (`path` itself when it is no link);
/// a dangling link's target is created.
fn resolve_links(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    // Linux follows at most 40 links; a longer chain is a loop.
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(target) => {
                current = if target.is_absolute() {
                    target
                } else {
                    folder_of(&current).join(target)
                };
            }
            Err(_) => return current,
        }
    }
    current
}

/// Gives the temporary file of an atomic write the permissions a plain write would
/// leave: those of the file it replaces, else `rw-r--r--`. (Temporary files are
/// created `rw-------`, which would make every summary private to its author.)
fn keep_permissions(tmp: &std::fs::File, path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let permissions = match std::fs::metadata(path) {
            Ok(existing) => existing.permissions(),
            Err(_) => std::fs::Permissions::from_mode(0o644),
        };
        tmp.set_permissions(permissions)?;
    }
    #[cfg(not(unix))]
    let _ = (tmp, path);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn atomic_writes_are_readable_by_others_unless_the_file_was_not() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.csv");
        write_file(&new, b"a\n").unwrap();
        assert_eq!(mode(&new), 0o644);

        let private = dir.path().join("private.csv");
        std::fs::write(&private, b"old\n").unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_file(&private, b"b\n").unwrap();
        assert_eq!(mode(&private), 0o600);
        assert_eq!(std::fs::read(&private).unwrap(), b"b\n");
    }

    #[test]
    fn a_symlink_keeps_pointing_at_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.csv");
        std::fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn devices_are_written_in_place() {
        write_file(Path::new("/dev/null"), b"nothing").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.is_file(), "/dev/null was replaced by a file");
        check_outputs(
            &[
                ("--trace", Path::new("/dev/null")),
                ("--plot", Path::new("/dev/null")),
            ],
            &[],
        )
        .unwrap();
    }

    #[test]
    fn the_same_file_under_two_spellings_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("sub/../a.csv");
        let c = dir.path().join("./a.csv");
        assert!(same_file(&a, &b) && same_file(&a, &c));
        let err = check_outputs(&[("--out", &a), ("--checkpoint", &c)], &[]).unwrap_err();
        assert!(err.to_string().contains("--checkpoint"), "{err}");
        std::fs::write(&a, b"x").unwrap();
        let err = check_outputs(&[("--trace", &b)], &[("the config", &a)]).unwrap_err();
        assert!(err.to_string().contains("the config"), "{err}");
    }

    #[test]
    fn writing_several_files_changes_none_when_one_fails() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        std::fs::write(&a, b"old").unwrap();
        // A path under a regular file cannot be created.
        let blocked = a.join("b.toml");
        let err = write_files(&[(&a, b"new"), (&blocked, b"job")]).unwrap_err();
        assert!(err.to_string().contains("b.toml"), "{err}");
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
        assert!(!saving());
    }

    #[test]
    fn paths_spelt_as_folders_are_refused_before_a_run() {
        let dir = tempfile::tempdir().unwrap();
        for spelt in ["new/", "new/.", "new/..", "."] {
            let path = dir.path().join(spelt);
            let path = if spelt == "." {
                PathBuf::from(".")
            } else {
                path
            };
            let err = check_writable("--out", &path).unwrap_err().to_string();
            assert!(err.contains("folder"), "{}: {err}", path.display());
        }
    }

    #[test]
    fn folders_and_unwritable_places_are_refused_before_a_run() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable("--out", dir.path()).is_err());
        assert!(check_writable("--out", Path::new("")).is_err());
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        let err = check_writable("--out", &file.join("x.csv")).unwrap_err();
        assert!(err.to_string().contains("not a folder"), "{err}");
        check_writable("--out", &dir.path().join("new/deeper/x.csv")).unwrap();
    }
}
