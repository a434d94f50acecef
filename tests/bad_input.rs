//! Bad input: every broken config or flag exits 2 with a one-line message that names
//! the key, flag or file, never panics, and writes no output file.

use assert_cmd::cargo::cargo_bin_cmd;

const GOOD: &str = r#"[simulation]
name = "t"
samples = 10_000
seed = 1
chunk_size = 1000
confidence = 0.95

[model]
type = "pi"

[execution]
backend = "threads"
workers = 2
"#;

/// (what to replace in GOOD, replacement, text the error must contain).
const CONFIG_CASES: &[(&str, &str, &str)] = &[
    ("samples = 10_000", "samples = 0", "simulation.samples"),
    ("samples = 10_000", "samples = 1", "simulation.samples"),
    ("samples = 10_000", "samples = -5", "samples = -5"),
    ("samples = 10_000", "samples = 1.5", "samples = 1.5"),
    ("samples = 10_000", "samples = \"many\"", "samples"),
    ("samples = 10_000\n", "", "samples"),
    (
        "chunk_size = 1000",
        "chunk_size = 0",
        "simulation.chunk_size",
    ),
    (
        "confidence = 0.95",
        "confidence = 1.5",
        "simulation.confidence",
    ),
    (
        "confidence = 0.95",
        "confidence = 0.0",
        "simulation.confidence",
    ),
    (
        "confidence = 0.95",
        "confidence = nan",
        "simulation.confidence",
    ),
    (
        "confidence = 0.95",
        "confidence = inf",
        "simulation.confidence",
    ),
    ("seed = 1", "seed = \"one\"", "seed"),
    ("seed = 1\n", "", "seed"),
    ("seed = 1", "seed = 1\nsampels = 3", "sampels"),
    ("name = \"t\"", "name = \"\"", "simulation.name"),
    ("name = \"t\"", "name = \"a/b\"", "simulation.name"),
    ("type = \"pi\"", "type = \"pie\"", "pie"),
    ("type = \"pi\"", "kind = \"pi\"", "type"),
    ("type = \"pi\"", "type = \"pi\"\nradius = 2.0", "radius"),
    ("workers = 2", "workers = -1", "workers = -1"),
    ("workers = 2", "workers = 100000", "execution.workers"),
    (
        "backend = \"threads\"",
        "backend = \"warp-drive\"",
        "warp-drive",
    ),
    ("[execution]", "[executon]", "executon"),
    ("[model]\ntype = \"pi\"\n", "", "model"),
    ("[simulation]", "[simulation", "line 1"),
    (
        "seed = 1",
        "seed = 1\ntarget_abs_error = 0.0",
        "simulation.target_abs_error",
    ),
    (
        "seed = 1",
        "seed = 1\ntarget_abs_error = -1e-3",
        "simulation.target_abs_error",
    ),
    (
        "seed = 1",
        "seed = 1\ntarget_rel_error = nan",
        "simulation.target_rel_error",
    ),
    (
        "seed = 1",
        "seed = 1\ntarget_rel_error = inf",
        "simulation.target_rel_error",
    ),
    (
        "seed = 1",
        "seed = 1\ntarget_rel_error = \"small\"",
        "target_rel_error",
    ),
    (
        "seed = 1",
        "seed = 1\ntarget_abs_error = 1e-3\ncheck_every = 0",
        "simulation.check_every",
    ),
    (
        "seed = 1",
        "seed = 1\ntarget_abs_error = 1e-3\ncheck_every = 2.5",
        "check_every",
    ),
];

/// Flags after `carlo run CONFIG`, and the text the error must contain.
const FLAG_CASES: &[(&[&str], &str)] = &[
    (&["--samples", "lots"], "--samples"),
    (&["--samples", "1.5"], "--samples"),
    (&["--samples", "-3"], "--samples"),
    (&["--samples", "0"], "--samples: must be at least 2"),
    (&["--seed", "-1"], "--seed"),
    (&["--chunk-size", "0"], "--chunk-size: must be at least 1"),
    (&["--workers", "two"], "--workers"),
    (&["--backend", "warp-drive"], "--backend"),
    (&["--format", "xml"], "--format"),
    (&["--sample", "10"], "--sample"),
    (
        &["--checkpoint", "c.json", "--checkpoint-interval", "0"],
        "--checkpoint-interval",
    ),
    (
        &["--checkpoint", "c.json", "--checkpoint-interval", "soon"],
        "--checkpoint-interval",
    ),
    (&["--checkpoint-interval", "1"], "--checkpoint"),
    (&["--trace", "t.csv", "--plot", "t.csv"], "--plot"),
    (&["--shard", "0/4"], "--shard"),
    (&["--shard", "5/4"], "--shard"),
    (&["--shard", "1/0"], "--shard"),
    (&["--shard", "2"], "--shard"),
    (&["--shard", "a/b"], "--shard"),
    (&["--shard", "-1/4"], "--shard"),
    (&["--shard", "1/2", "--format", "csv"], "--format"),
    (
        &["--shard", "1/2", "--checkpoint", "c.json"],
        "--checkpoint",
    ),
    (&["--shard", "1/2", "--trace", "t.csv"], "--trace"),
];

fn check_failure(
    output: std::process::Output,
    needle: &str,
    out_file: &std::path::Path,
    what: &str,
) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{what}: exit code; stderr: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{what}: {stderr:?} does not name {needle:?}"
    );
    assert!(!stderr.contains("panicked"), "{what}: panic: {stderr}");
    assert!(!out_file.exists(), "{what}: an output file was written");
}

/// A good option config; the option models' cases edit it.
const OPTION_GOOD: &str = r#"[simulation]
samples = 10_000
seed = 1

[model]
type = "european"
option = "call"
spot = 100.0
strike = 100.0
rate = 0.05
dividend = 0.0
volatility = 0.2
maturity = 1.0
"#;

/// Like [`CONFIG_CASES`], for [`OPTION_GOOD`].
const OPTION_CASES: &[(&str, &str, &str)] = &[
    ("volatility = 0.2", "volatility = -0.2", "model.volatility"),
    ("volatility = 0.2", "volatility = 0.0", "model.volatility"),
    ("maturity = 1.0", "maturity = 0.0", "model.maturity"),
    ("maturity = 1.0", "maturity = -1.0", "model.maturity"),
    ("spot = 100.0", "spot = 0.0", "model.spot"),
    ("strike = 100.0", "strike = -5.0", "model.strike"),
    ("rate = 0.05", "rate = nan", "model.rate"),
    ("dividend = 0.0", "dividend = inf", "model.dividend"),
    ("option = \"call\"", "option = \"cal\"", "cal"),
    ("option = \"call\"\n", "", "option"),
    ("volatility = 0.2", "volatility = \"high\"", "high"),
    ("volatility = 0.2", "volatilty = 0.2", "volatility"),
    (
        "maturity = 1.0",
        "maturity = 1.0\nantithetic = 1",
        "expected true or false",
    ),
];

fn check_config_cases(good: &str, cases: &[(&str, &str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    for (i, (from, to, needle)) in cases.iter().enumerate() {
        assert!(
            good.contains(from),
            "case {i}: {from:?} not in the good config"
        );
        let path = dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, good.replacen(from, to, 1)).unwrap();
        for command in ["run", "check"] {
            let output = cargo_bin_cmd!("carlo")
                .arg(command)
                .arg(&path)
                .args(if command == "run" {
                    vec!["--out", out_file.to_str().unwrap()]
                } else {
                    vec![]
                })
                .output()
                .unwrap();
            check_failure(
                output,
                needle,
                &out_file,
                &format!("case {i} ({to:?}), {command}"),
            );
        }
    }
}

#[test]
fn broken_configs_are_rejected_with_the_key_named() {
    check_config_cases(GOOD, CONFIG_CASES);
}

#[test]
fn broken_option_configs_are_rejected_with_the_key_named() {
    check_config_cases(OPTION_GOOD, OPTION_CASES);
    // The good one is good.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("good.toml");
    std::fs::write(&path, OPTION_GOOD).unwrap();
    cargo_bin_cmd!("carlo")
        .arg("check")
        .arg(&path)
        .assert()
        .success();
}

#[test]
fn broken_flags_are_rejected_with_the_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let config = dir.path().join("good.toml");
    std::fs::write(&config, GOOD).unwrap();
    for (flags, needle) in FLAG_CASES {
        let output = cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(&config)
            .args(*flags)
            .args(["--out", out_file.to_str().unwrap()])
            .output()
            .unwrap();
        check_failure(output, needle, &out_file, &format!("{flags:?}"));
    }
}

#[test]
fn a_missing_config_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let output = cargo_bin_cmd!("carlo")
        .args([
            "run",
            "no/such/config.toml",
            "--out",
            out_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    check_failure(output, "no/such/config.toml", &out_file, "missing file");
}

#[test]
fn the_good_config_runs_and_writes_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("nested/out.csv");
    let config = dir.path().join("good.toml");
    std::fs::write(&config, GOOD).unwrap();
    cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(&config)
        .args(["--quiet", "--out", out_file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("");
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.starts_with("name,model,quantity,estimate,std_error,ci_low,ci_high,confidence,samples,reference,seed,backend,workers,chunk_size,wall_seconds,samples_per_second,rng,version"));
    // Nothing but the summary, its job file and its chunk digests is left beside it
    // (the temporary files were renamed).
    let mut names: Vec<String> = std::fs::read_dir(out_file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["out.chunks", "out.csv", "out.job.toml"]);
}

#[test]
fn bad_slurm_array_variables_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.json");
    let config = dir.path().join("good.toml");
    std::fs::write(&config, GOOD).unwrap();
    let cases: &[(&[(&str, &str)], &str)] = &[
        // `--array=1,3,9`: a list with holes is no set of contiguous shares.
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "9"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "9"),
            ],
            "SLURM_ARRAY_TASK_ID",
        ),
        (&[], "no array task"),
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
                ("JOB_COMPLETION_INDEX", "0"),
            ],
            "several schedulers",
        ),
        (&[("JOB_COMPLETION_INDEX", "0")], "--shards"),
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "5"),
            ],
            "SLURM_ARRAY_TASK_ID",
        ),
        (
            &[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "")],
            "SLURM_ARRAY_TASK_COUNT",
        ),
    ];
    for (vars, needle) in cases {
        let output = cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(&config)
            .args(["--shard", "auto", "--out", out_file.to_str().unwrap()])
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        check_failure(output, needle, &out_file, &format!("{vars:?}"));
    }
}

#[test]
fn a_target_error_cannot_be_sharded() {
    // Whether to stop is decided on every chunk merged in order, which no shard sees.
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.json");
    let config = dir.path().join("target.toml");
    std::fs::write(
        &config,
        GOOD.replace("seed = 1", "seed = 1\ntarget_rel_error = 0.01"),
    )
    .unwrap();
    let output = cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(&config)
        .args(["--shard", "1/2", "--out", out_file.to_str().unwrap()])
        .output()
        .unwrap();
    check_failure(output, "--shard", &out_file, "target with --shard");
}

/// The default build parses `mpi` so that it can say how to get it.
#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_backend_needs_the_mpi_feature() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.csv");
    let config = dir.path().join("good.toml");
    std::fs::write(&config, GOOD).unwrap();
    let in_config = dir.path().join("mpi.toml");
    std::fs::write(
        &in_config,
        GOOD.replace("backend = \"threads\"", "backend = \"mpi\""),
    )
    .unwrap();
    let cases = [
        (&config, vec!["--backend", "mpi"], "--backend"),
        (&in_config, vec![], "execution.backend"),
    ];
    for (path, flags, needle) in cases {
        let output = cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(path)
            .args(&flags)
            .args(["--out", out_file.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        check_failure(output, needle, &out_file, &format!("{flags:?}"));
        assert!(
            stderr.contains("carlo was built without the mpi feature; rebuild with --features mpi"),
            "{stderr}"
        );
    }
}

#[test]
fn flags_are_blamed_for_their_values_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("t.toml");
    std::fs::write(&config, GOOD).unwrap();
    let c = config.to_str().unwrap();
    let huge = format!("simulation.seed={}", "9".repeat(400));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--samples", "1"],
            "error: --samples: must be at least 2",
        ),
        (
            vec!["--chunk-size", "0"],
            "error: --chunk-size: must be at least 1",
        ),
        (
            vec!["--workers", "99999"],
            "error: --workers: must be at most 4096",
        ),
        (
            vec!["--set", "simulation.samples=abc"],
            "expected a non-negative count",
        ),
        (vec!["--set", &huge], "integer number overflowed"),
        (
            vec!["--set", "simulation.confidence=abc"],
            "expected a number",
        ),
        (
            vec!["--set", "execution.backend=gpu"],
            "unknown value `gpu`",
        ),
        (vec!["--set", "model.x=1"], "it takes no keys"),
        (
            vec!["--checkpoint", "c.json", "--checkpoint-exit-code", "1"],
            "already means a failure",
        ),
    ];
    for (args, needle) in cases {
        let out = cargo_bin_cmd!("carlo")
            .current_dir(dir.path())
            .args(["run", c])
            .args(&args)
            .args(["--out", "-"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("t.toml"), "{args:?} blames the file: {err}");
        for jargon in ["f64", "invalid type", "variant", "untagged", "i128"] {
            assert!(!err.contains(jargon), "{args:?}: {err}");
        }
        assert!(err.lines().all(|l| l.len() < 300), "{args:?}: {err}");
    }
}
