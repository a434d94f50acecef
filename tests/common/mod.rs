//! Helpers shared by the behaviour tests.
#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

/// Columns that may differ between runs of the same job: timings, where it ran, and
/// how many workers had to be replaced on the way.
pub const EXECUTION_COLUMNS: [&str; 6] = [
    "chunk_size",
    "wall_seconds",
    "samples_per_second",
    "backend",
    "workers",
    "worker_restarts",
];

/// Runs `carlo run CONFIG ARGS... --out - --format csv --quiet` and returns stdout,
/// failing the test on a non-zero exit.
pub fn run_csv(config: &Path, args: &[&str]) -> String {
    let out = cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(config)
        .args(args)
        .args(["--out", "-", "--format", "csv", "--quiet"])
        .output()
        .expect("carlo starts");
    assert!(
        out.status.success(),
        "carlo run {} {args:?} failed: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("CSV is UTF-8")
}

/// The CSV with the execution columns removed, so that two runs of the same job
/// compare equal as strings exactly when their results have the same bits.
pub fn result_columns(csv: &str) -> String {
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !EXECUTION_COLUMNS.contains(&header[i]))
        .collect();
    csv.lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The value of `column` in the first data row of `csv`.
pub fn field(csv: &str, column: &str) -> String {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("a row").split(',').collect();
    let i = header
        .iter()
        .position(|&c| c == column)
        .unwrap_or_else(|| panic!("no column {column} in {csv}"));
    row[i].to_string()
}

/// Writes `text` to `name` in `dir` and returns its path.
pub fn write_config(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp dir is writable");
    path
}

/// Blocks a checkpoint holds as done (decided, or finished beyond the last
/// decision point), or `None` while it cannot be read (not written yet, or being
/// replaced).
pub fn blocks_done(checkpoint: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(checkpoint).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let state = &json["content"]["state"];
    let beyond: u64 = state["done"]
        .as_array()?
        .iter()
        .map(|r| r["end"].as_u64().unwrap_or(0) - r["start"].as_u64().unwrap_or(0))
        .sum();
    Some(state["decided"].as_u64()? + beyond)
}

// ---- Processes, from /proc (Linux) --------------------------------------------

use std::thread::sleep;
use std::time::{Duration, Instant};

/// The state letter of process `pid` (`R`, `S`, `Z`, ...), or `None` once it is gone.
pub fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may hold spaces; fields restart after it.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// A process that no longer runs: gone, or a zombie nobody has reaped yet (the
/// container's init may not reap).
pub fn is_dead(pid: u32) -> bool {
    matches!(state(pid), None | Some('Z' | 'X'))
}

/// The live children of `pid`, from `/proc/*/stat`.
pub fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        if fields.get(1) == Some(&pid.to_string().as_str()) && !is_dead(child) {
            found.push(child);
        }
    }
    found.sort_unstable();
    found
}

/// Waits (at most 10 s) until `pid` has `n` live children and returns them.
pub fn wait_for_children(pid: u32, n: usize) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let found = children(pid);
        if found.len() >= n {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "pid {pid} never had {n} children (found {found:?})"
        );
        sleep(Duration::from_millis(10));
    }
}

/// Asserts that every pid is dead within 5 s.
pub fn assert_all_die(pids: &[u32], when: &str) {
    let start = Instant::now();
    while !pids.iter().all(|&p| is_dead(p)) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "workers {pids:?} still alive {when}"
        );
        sleep(Duration::from_millis(10));
    }
}

// ---- Example programs --------------------------------------------------------

/// The example program `name` (under `examples/`), built for the profile these
/// tests were built with. `cargo test` builds examples along with the tests, but
/// `cargo test --test FILE` does not, so it is built here once per test process
/// (a no-op when it is up to date).
pub fn example(name: &str) -> std::path::PathBuf {
    use std::sync::Mutex;
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let carlo = Path::new(env!("CARGO_BIN_EXE_carlo"));
    let path = carlo
        .parent()
        .expect("in a target dir")
        .join("examples")
        .join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--quiet", "--example", name])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if carlo.parent().and_then(|p| p.file_name()) == Some("release".as_ref()) {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo starts");
        assert!(status.success(), "cargo build --example {name} failed");
        built.push(name.to_string());
    }
    assert!(path.exists(), "{} was not built", path.display());
    path
}

// ---- Shipped configs and models ------------------------------------------------

/// Every config shipped in `configs/`, sorted: lists of configs in tests are
/// checked against it, so that a new config cannot be left out.
pub fn shipped_configs() -> Vec<std::path::PathBuf> {
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir("configs")
        .expect("the tests run in the crate's root")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    found.sort();
    found
}

/// The types of the models carlo ships that run in this process (every registered
/// model but the Python proxy, whose chunks run in Python workers): lists of models
/// in tests are checked against it, so that a new model cannot be left out.
pub fn builtin_model_types() -> std::collections::BTreeSet<String> {
    carlo::model::Registry::builtin()
        .entries()
        .iter()
        .map(|e| e.kind().to_string())
        .filter(|kind| kind != "python")
        .collect()
}

// ---- Child processes of carlo, with limits ------------------------------------

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// `--out - --format csv --quiet`: a summary on stdout, nothing else.
pub const CSV_OUT: [&str; 5] = ["--out", "-", "--format", "csv", "--quiet"];

/// The `carlo` binary under test, as a command to configure.
pub fn carlo() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("carlo"))
}

/// A pi config of `samples` in chunks of `chunk`, seed 5, as `pi.toml` in `dir`.
pub fn pi_config(dir: &Path, samples: u64, chunk: u64) -> PathBuf {
    write_config(
        dir,
        "pi.toml",
        &format!(
            "[simulation]\nsamples = {samples}\nseed = 5\nchunk_size = {chunk}\n\
             [model]\ntype = \"pi\"\n"
        ),
    )
}

/// Starts `carlo ARGS` with `env`, stdout and stderr piped.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Child {
    carlo()
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carlo starts")
}

/// Waits for `child` at most `limit`; its output, or a failed test if it ran longer
/// (a hang is what these tests exist to rule out), after killing it.
pub fn finish_within(mut child: Child, what: &str, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what} still ran after {limit:?}; its stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs `carlo ARGS` with `env`, at most `limit` (see [`finish_within`]).
pub fn run_within(args: &[&str], env: &[(&str, &str)], limit: Duration) -> Output {
    finish_within(spawn(args, env), &format!("carlo {args:?}"), limit)
}

/// A process's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The result columns of a successful run's CSV on stdout (see [`result_columns`]).
pub fn csv(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    result_columns(&String::from_utf8(out.stdout.clone()).unwrap())
}

/// Sends `signal` to process `pid`.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: sending a signal to a process this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
}

/// Waits (at most `limit`) until `ready` holds; fails the test naming `what`.
pub fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        sleep(Duration::from_millis(5));
    }
}
