//! Never hang, never mix, never clobber: stuck workers are caught and replaced,
//! signals save and exit with 128 + n, outputs are checked before a run and never
//! destroy what they must not, and a failed write to stderr changes nothing.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

use common::{CSV_OUT as CSV, carlo, csv, pi_config, run_within, stderr};

// ---- Stuck workers ----------------------------------------------------------------

#[test]
fn a_stuck_worker_is_killed_and_its_chunk_rerun_with_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let c = config.to_str().unwrap();
    let reference = csv(&run_within(
        &["run", c, "--backend", "sequential"]
            .iter()
            .chain(&CSV)
            .copied()
            .collect::<Vec<_>>(),
        &[],
        Duration::from_secs(60),
    ));
    let mut args = vec!["run", c, "--backend", "processes", "--workers", "2"];
    args.extend(["--chunk-timeout", "1"]);
    args.extend(CSV);
    let out = run_within(
        &args,
        &[("CARLO_FAULT", "stall-at:7")],
        Duration::from_secs(30),
    );
    assert_eq!(csv(&out), reference);
    let err = stderr(&out);
    assert!(
        err.contains("warning: worker process") && err.contains("chunk 7 on worker process"),
        "{err}"
    );
    assert!(err.contains("over the chunk timeout of 1.0 s"), "{err}");
}

#[test]
fn a_chunk_that_stalls_every_time_ends_the_run_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let summary = dir.path().join("summary.csv");
    let out = run_within(
        &[
            "run",
            config.to_str().unwrap(),
            "--backend",
            "processes",
            "--workers",
            "2",
            "--chunk-timeout",
            "0.5",
            "--out",
            summary.to_str().unwrap(),
        ],
        &[("CARLO_FAULT", "sleep-at:4:60000")],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let last = stderr(&out).lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("error: chunk 4 stalled a worker process 3 times"),
        "{last}"
    );
    assert!(!summary.exists());
}

#[test]
fn with_default_settings_a_stuck_worker_among_quick_chunks_is_caught() {
    // No --chunk-timeout: caught by the no-progress rule (a minute, 3 s here).
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 4_000_000, 20_000);
    let mut args = vec!["run", config.to_str().unwrap(), "--backend", "processes"];
    args.extend(CSV);
    let start = Instant::now();
    let out = run_within(
        &args,
        &[("CARLO_FAULT", "stall-at:3"), ("CARLO_STALL_SECONDS", "3")],
        Duration::from_secs(90),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "caught before its limit"
    );
    assert!(
        stderr(&out).contains("chunk 3 on worker process"),
        "{}",
        stderr(&out)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_stuck_chunk_holds_back_nothing_but_itself() {
    let dir = tempfile::tempdir().unwrap();
    // 4,883 blocks in chunks of one: chunk 2 stalls, the free worker runs the rest.
    let config = pi_config(dir.path(), 20_000_000, 4096);
    let checkpoint = dir.path().join("c.ckpt");
    let mut child = carlo()
        .args(["run", config.to_str().unwrap(), "--backend", "processes"])
        .args([
            "--workers",
            "2",
            "--quiet",
            "--out",
            "-",
            "--chunk-timeout",
            "60",
        ])
        .arg("--checkpoint")
        .arg(&checkpoint)
        .args(["--checkpoint-interval", "0.05"])
        .env("CARLO_FAULT", "stall-at:2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Merging is exact and in any order: no window holds the free worker back, and
    // what a checkpoint keeps for the blocks after the stuck one stays small.
    common::wait_until(Duration::from_secs(60), "every other block done", || {
        // All but the stuck block and those queued behind it on its worker.
        common::blocks_done(&checkpoint).is_some_and(|n| n >= 4870)
    });
    let size = std::fs::metadata(&checkpoint).unwrap().len();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(size < 64 * 1024, "a checkpoint of {size} bytes");
}

#[cfg(target_os = "linux")]
#[test]
fn a_stuck_thread_is_reported_and_ctrl_c_saves_the_progress() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 2_000_000, 20_000);
    let checkpoint = dir.path().join("c.ckpt");
    let mut child = carlo()
        .args(["run", config.to_str().unwrap(), "--backend", "threads"])
        .args([
            "--workers",
            "2",
            "--quiet",
            "--out",
            "-",
            "--chunk-timeout",
            "0.5",
        ])
        .arg("--checkpoint")
        .arg(&checkpoint)
        .env("CARLO_FAULT", "stall-at:6")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    signal(&child, libc::SIGINT);
    // The run saves what it had, then waits for the stuck thread; a second Ctrl-C
    // exits at once.
    common::wait_until(Duration::from_secs(10), "a checkpoint saved", || {
        common::blocks_done(&checkpoint).is_some()
    });
    let saved = common::blocks_done(&checkpoint).expect("a checkpoint was saved");
    assert!(saved >= 6, "saved {saved} chunks");
    signal(&child, libc::SIGINT);
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "a second Ctrl-C did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let err = stderr(&out);
    assert!(err.contains("chunk 6 on a thread ran"), "{err}");
    assert!(err.contains("press Ctrl-C"), "{err}");
    // And the saved progress resumes to the uninterrupted bits.
    let c = config.to_str().unwrap();
    let ckpt = checkpoint.to_str().unwrap();
    let resumed = run_within(
        &["run", c, "--checkpoint", ckpt, "--backend", "sequential"]
            .iter()
            .chain(&CSV)
            .copied()
            .collect::<Vec<_>>(),
        &[],
        Duration::from_secs(60),
    );
    let whole = run_within(
        &["run", c, "--backend", "sequential"]
            .iter()
            .chain(&CSV)
            .copied()
            .collect::<Vec<_>>(),
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(csv(&resumed), csv(&whole));
}

// ---- Signals ----------------------------------------------------------------------

fn signal(child: &Child, signal: i32) {
    common::signal(child.id(), signal);
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_sighup_and_sigusr1_save_and_exit_with_128_plus_n() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 100_000_000, 20_000);
    let c = config.to_str().unwrap();
    let mut reference = None;
    for (sig, name, code) in [
        (libc::SIGTERM, "SIGTERM", 143),
        (libc::SIGHUP, "SIGHUP", 129),
        (libc::SIGUSR1, "SIGUSR1", 138),
    ] {
        let checkpoint = dir.path().join(format!("{name}.ckpt"));
        let child = carlo()
            .args(["run", c, "--workers", "2", "--quiet", "--out", "-"])
            .arg("--checkpoint")
            .arg(&checkpoint)
            .args(["--checkpoint-interval", "0.02"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while common::blocks_done(&checkpoint).is_none_or(|n| n == 0) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no progress saved"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{name}: {err}");
        assert!(
            err.contains(&format!("interrupted by {name} after")),
            "{err}"
        );
        assert!(err.contains("run the same command again"), "{err}");
        // It resumes to the bits of an uninterrupted run.
        let resumed = csv(&run_within(
            &["run", c, "--checkpoint", checkpoint.to_str().unwrap()]
                .iter()
                .chain(&CSV)
                .copied()
                .collect::<Vec<_>>(),
            &[],
            Duration::from_secs(120),
        ));
        let reference = reference.get_or_insert_with(|| {
            csv(&run_within(
                &["run", c].iter().chain(&CSV).copied().collect::<Vec<_>>(),
                &[],
                Duration::from_secs(120),
            ))
        });
        assert_eq!(&resumed, reference, "{name}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_second_signal_before_the_first_save_exits_once_the_progress_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 100_000_000_000, 20_000);
    let checkpoint = dir.path().join("c.ckpt");
    // Saves every 5 s: the signals come before the first periodic save.
    let child = common::spawn(
        &[
            "run",
            config.to_str().unwrap(),
            "--workers",
            "2",
            "--quiet",
            "--out",
            "-",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
        &[],
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!checkpoint.exists(), "saved before the signals");
    signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(5));
    signal(&child, libc::SIGINT);
    let out = common::finish_within(child, "two signals", Duration::from_secs(10));
    // The second signal's code once the first one's save is done (130), or the first
    // one's (143) where that save and exit finished before the second signal was
    // acted on (a fast save on an idle machine): either way, never before the save.
    assert!(
        matches!(out.status.code(), Some(130 | 143)),
        "{:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    let saved = common::blocks_done(&checkpoint).expect("the progress was saved");
    assert!(saved > 0, "saved {saved} chunks");
}

#[test]
fn checkpoint_exit_code_stops_after_each_save_until_the_run_is_done() {
    let dir = tempfile::tempdir().unwrap();
    // About a second of work on two fast cores, so that a save every 0.05 s comes
    // before the end however idle the machine.
    let config = pi_config(dir.path(), 400_000_000, 200_000);
    let c = config.to_str().unwrap();
    let checkpoint = dir.path().join("condor.ckpt");
    let ckpt = checkpoint.to_str().unwrap();
    let mut args = vec![
        "run",
        c,
        "--checkpoint",
        ckpt,
        "--checkpoint-interval",
        "0.05",
    ];
    args.extend(["--checkpoint-exit-code", "85"]);
    args.extend(CSV);
    let mut restarts = 0;
    let last = loop {
        let out = run_within(&args, &[], Duration::from_secs(60));
        match out.status.code() {
            Some(85) => restarts += 1,
            Some(0) => break out,
            other => panic!("exit {other:?}: {}", stderr(&out)),
        }
        assert!(restarts < 1000, "it never finished");
    };
    assert!(restarts >= 1, "it never stopped to be restarted");
    let whole = run_within(
        &["run", c].iter().chain(&CSV).copied().collect::<Vec<_>>(),
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(csv(&last), csv(&whole));
}

// ---- Outputs ----------------------------------------------------------------------

/// `carlo ARGS` must fail with exit 2 before running, naming `needle`.
fn refused(args: &[&str], needle: &str) -> String {
    let out = run_within(args, &[], Duration::from_secs(30));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    err
}

#[test]
fn outputs_that_would_destroy_something_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // A run of minutes: each refusal must come at once.
    let config = pi_config(dir.path(), 100_000_000_000, 65_536);
    let c = config.to_str().unwrap();
    let d = dir.path();
    let file = d.join("a-file");
    std::fs::write(&file, "keep me").unwrap();
    let under_file = file.join("x.csv");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--out".into(), c.into()], "the config"),
        (vec!["--trace".into(), c.into()], "the config"),
        (
            vec!["--trace".into(), d.display().to_string()],
            "is a folder",
        ),
        (
            vec!["--plot".into(), under_file.display().to_string()],
            "not a folder",
        ),
        (
            vec![
                "--checkpoint".into(),
                d.join("./a.csv").display().to_string(),
                "--out".into(),
                d.join("sub/../a.csv").display().to_string(),
            ],
            "--checkpoint",
        ),
        (vec!["--out".into(), String::new()], "empty path"),
        // A folder not there yet, spelt as one: refused before, not after, the run.
        (
            vec!["--out".into(), format!("{}/new/", d.display())],
            "names a folder",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["run", c];
        args.extend(extra.iter().map(String::as_str));
        let start = Instant::now();
        refused(&args, needle);
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{extra:?} ran first"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap().lines().next(),
        Some("[simulation]")
    );
}

#[cfg(unix)]
#[test]
fn devices_stay_devices_and_symlinks_keep_pointing_at_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 100_000, 10_000);
    let c = config.to_str().unwrap();
    let out = run_within(
        &[
            "run",
            c,
            "--out",
            "/dev/null",
            "--trace",
            "/dev/null",
            "--quiet",
        ],
        &[],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());

    let real = dir.path().join("real.csv");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = run_within(
        &["run", c, "--out", link.to_str().unwrap(), "--quiet"],
        &[],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .starts_with("name,model")
    );
}

#[cfg(unix)]
#[test]
fn a_summary_to_a_fifo_gets_no_side_files_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 100_000, 10_000);
    let fifo = dir.path().join("pipe");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = run_within(
        &[
            "run",
            config.to_str().unwrap(),
            "--quiet",
            "--out",
            fifo.to_str().unwrap(),
        ],
        &[],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(reader.join().unwrap().starts_with("name,model"));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["pi.toml", "pipe"]);
}

#[test]
fn merge_never_overwrites_a_partial_and_never_follows_a_partial_out_of_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        "escape.toml",
        "[simulation]\nsamples = 100000\nseed = 1\nchunk_size = 10000\n\
         [model]\ntype = \"pi\"\n[output]\nsummary = \"../escaped.csv\"\n",
    );
    let parts: Vec<PathBuf> = (1..=2)
        .map(|i| {
            let part = dir.path().join(format!("p{i}.json"));
            let out = carlo()
                .current_dir(dir.path())
                .args(["run", config.to_str().unwrap(), "--quiet"])
                .args(["--shard", &format!("{i}/2"), "--out"])
                .arg(&part)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            part
        })
        .collect();
    let p0 = parts[0].to_str().unwrap();
    let p1 = parts[1].to_str().unwrap();
    let before = std::fs::read(&parts[0]).unwrap();
    refused(&["merge", p0, p1, "--out", p0], "a partial being merged");
    assert_eq!(std::fs::read(&parts[0]).unwrap(), before);
    // Nor the list of partials it reads.
    let list = dir.path().join("parts.txt");
    std::fs::write(&list, format!("{p0}\n{p1}\n")).unwrap();
    let l = list.to_str().unwrap();
    refused(
        &["merge", "--parts-from", l, "--out", l],
        "--parts-from list",
    );
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        format!("{p0}\n{p1}\n")
    );
    // The partials say "../escaped.csv"; merge writes results/escape.csv instead.
    let out = carlo()
        .current_dir(dir.path())
        .args(["merge", p0, p1, "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("results/escape.csv").exists());
    assert!(!dir.path().parent().unwrap().join("escaped.csv").exists());
}

#[cfg(target_os = "linux")]
#[test]
fn a_summary_that_cannot_be_written_at_the_end_still_reaches_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 40_000_000, 20_000);
    let folder = dir.path().join("gone");
    let summary = folder.join("summary.csv");
    let checkpoint = dir.path().join("c.ckpt");
    let child = carlo()
        .args(["run", config.to_str().unwrap(), "--quiet", "--out"])
        .arg(&summary)
        .arg("--checkpoint")
        .arg(&checkpoint)
        .args(["--checkpoint-interval", "0.02"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once it runs, its summary's folder becomes a file.
    let start = Instant::now();
    while common::blocks_done(&checkpoint).is_none_or(|n| n == 0) {
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::write(&folder, "in the way").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        stdout.starts_with("name,model,quantity,estimate"),
        "{stdout}"
    );
    assert!(stderr(&out).contains("the summary follows on standard output"));
}

// ---- Launchers, stderr ------------------------------------------------------------

#[test]
fn a_run_started_by_mpirun_without_the_mpi_backend_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 100_000, 10_000);
    let out = run_within(
        &["run", config.to_str().unwrap(), "--out", "-"],
        &[("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "0")],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--backend mpi") && err.contains("OMPI_COMM_WORLD_SIZE=4"),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stderr_changes_no_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 1_000_000, 10_000);
    let summary = dir.path().join("summary.csv");
    // Not quiet, and a worker crash to warn about: plenty to write to stderr.
    let status = carlo()
        .args([
            "run",
            config.to_str().unwrap(),
            "--backend",
            "processes",
            "--out",
        ])
        .arg(&summary)
        .env("CARLO_FAULT", "abort-at:3")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create("/dev/full").unwrap())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(summary.exists());
}

// ---- Resources and numbers at the edges -------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn a_calibration_too_big_for_the_memory_limit_is_refused_not_aborted() {
    let carlo = cargo_bin!("carlo");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 400000; exec {} check configs/american.toml \
             --set model.calibration_paths=1000000 --set model.steps=60",
            carlo.display()
        ))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("model.calibration_paths") && err.contains("MiB"),
        "{err}"
    );
}

#[test]
fn confidences_beyond_what_rounding_allows_are_refused_and_the_edges_are_finite() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 100_000, 10_000);
    let c = config.to_str().unwrap();
    for bad in ["0.9999999999999999", "1e-7"] {
        let set = format!("simulation.confidence={bad}");
        refused(&["check", c, "--set", &set], "simulation.confidence");
    }
    for edge in ["0.999999999999", "0.000001"] {
        let set = format!("simulation.confidence={edge}");
        let out = run_within(
            &["run", c, "--set", &set]
                .iter()
                .chain(&CSV)
                .copied()
                .collect::<Vec<_>>(),
            &[],
            Duration::from_secs(30),
        );
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        for column in ["ci_low", "ci_high"] {
            let v: f64 = common::field(&text, column).parse().unwrap();
            assert!(v.is_finite(), "{edge}: {column} {v}");
        }
    }
}

#[test]
fn a_reference_that_breaks_down_is_left_empty_with_a_note() {
    let out = run_within(
        &[
            "run",
            "configs/barrier.toml",
            "--samples",
            "2000",
            "--out",
            "-",
        ]
        .iter()
        // Thousands of dates put the exact (quadrature) reference out of reach, so the
        // continuous formula is the approximation, and it breaks down at a tiny
        // volatility.
        .chain(
            [
                "--format",
                "csv",
                "--set",
                "model.volatility=0.005",
                "--set",
                "model.steps=5000",
            ]
            .iter(),
        )
        .copied()
        .collect::<Vec<_>>(),
        &[],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(common::field(&text, "approx_reference"), "");
    assert!(!text.contains("NaN"), "{text}");
    assert!(stderr(&out).contains("approx_reference of price is NaN"));
}
