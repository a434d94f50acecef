//! carlo's temporary files: the name that says whose they are, and the clean-up of
//! those that killed processes left behind.
//!
//! A write goes through a temporary file beside its target (see [`super::files`]). A
//! process killed with SIGKILL runs no clean-up, so its temporary stays: the name
//! `.carlo-PID@HOST-XXXXXX` lets the next carlo that writes in that folder tell it from
//! one a live process is writing, on this host or on another sharing the folder.

use std::path::{Path, PathBuf};

/// The prefix of carlo's temporary files: `.carlo-PID@HOST-`, so that one left by a
/// process that was killed (SIGKILL runs no destructor) can be told apart from one
/// that another live process is writing, on this host or another sharing the folder.
fn temporary_prefix() -> String {
    format!(".carlo-{}@{}-", std::process::id(), host())
}

/// A new temporary file in `dir`, after removing the temporaries that dead carlo
/// processes of this host left there (once per folder and process).
pub(crate) fn temporary_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    clean_once(dir);
    tempfile::Builder::new()
        .prefix(&temporary_prefix())
        .tempfile_in(dir)
}

/// This host's name, for temporary file names (`localhost` if it has none).
fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        #[cfg(unix)]
        {
            let mut buf = [0u8; 256];
            // SAFETY: `buf` is writable for its length; gethostname NUL-terminates
            // within it or fails.
            if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
                let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
                let name: String = String::from_utf8_lossy(&buf[..end])
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || "-_".contains(*c))
                    .collect();
                if !name.is_empty() {
                    return name;
                }
            }
        }
        "localhost".to_string()
    })
}

/// Removes, once per process, the stale temporaries in `dir` (see [`stale`]).
fn clean_once(dir: &Path) {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static CLEANED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    {
        let mut cleaned = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
        if !cleaned.get_or_insert_with(HashSet::new).insert(key) {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let age = entry
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok());
        if stale(name, host(), age, alive) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a file named `name` is a temporary that no live process will finish: one
/// of `.carlo-PID@HOST-XXXXXX` written on this `host` by a process that is not
/// `alive`, or an older-style `.carlo-XXXXXX` (which names no process) not touched
/// for a day. `age` is the time since its last change, if known.
fn stale(name: &str, host: &str, age: Option<std::time::Duration>, alive: fn(u32) -> bool) -> bool {
    let Some(rest) = name.strip_prefix(".carlo-") else {
        return false;
    };
    match rest.split_once('@') {
        Some((pid, rest)) => {
            let (Ok(pid), Some(their_host)) =
                (pid.parse::<u32>(), rest.rsplit_once('-').map(|(h, _)| h))
            else {
                return false;
            };
            their_host == host && pid != std::process::id() && !alive(pid)
        }
        None => {
            rest.len() == 6
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
                && age.is_some_and(|a| a > std::time::Duration::from_secs(86_400))
        }
    }
}

/// Whether process `pid` exists (signal 0 reaches it, or exists and is not ours).
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 checks for the process without sending anything.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn temporaries_of_dead_processes_of_this_host_are_stale() {
        let dead = |_| false;
        let live = |_| true;
        let day = Some(std::time::Duration::from_secs(90_000));
        assert!(stale(".carlo-123@box-a1B2c3", "box", None, dead));
        assert!(!stale(".carlo-123@box-a1B2c3", "box", None, live));
        assert!(!stale(".carlo-123@other-box-a1B2c3", "box", None, dead));
        assert!(stale(".carlo-123@my-box-a1B2c3", "my-box", None, dead));
        assert!(!stale(
            &format!(".carlo-{}@box-a1B2c3", std::process::id()),
            "box",
            None,
            dead
        ));
        assert!(stale(".carlo-a1B2c3", "box", day, live));
        assert!(!stale(".carlo-a1B2c3", "box", None, live));
        assert!(!stale("results.csv", "box", day, dead));
    }

    #[test]
    fn a_dead_process_temporary_is_removed_at_the_next_write_there() {
        let dir = tempfile::tempdir().unwrap();
        // pid 0 is never a process that signal 0 reaches as ours... use an impossible
        // pid instead: above the kernel's maximum.
        let left = dir.path().join(format!(".carlo-4194305@{}-zzzzzz", host()));
        std::fs::write(&left, b"half a checkpoint").unwrap();
        super::super::write_file(&dir.path().join("a.csv"), b"a\n").unwrap();
        assert!(
            !left.exists(),
            "the dead process's temporary is still there"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.csv"]);
    }
}
