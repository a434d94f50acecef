//! Shards: `carlo run --shard I/N` for every I, then `carlo merge`, gives the bits of
//! one run; merge refuses partials that do not make up one run, naming why.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;

/// 1_000_003 samples: 245 blocks of 4096, the last one short, which no shard count
/// from 2 to 5 divides evenly, in chunks of 10_000 (rounded up to 3 blocks).
fn pi_config(dir: &Path, seed: u64, samples: u64) -> PathBuf {
    common::write_config(
        dir,
        &format!("pi-{seed}-{samples}.toml"),
        &format!(
            "[simulation]\nname = \"pi\"\nsamples = {samples}\nseed = {seed}\nchunk_size = 10_000\n[model]\ntype = \"pi\"\n"
        ),
    )
}

/// Runs shard `shard` (`I/N`) of `config` and returns the partial's path.
fn run_shard(config: &Path, shard: &str, extra: &[&str]) -> PathBuf {
    let part = config.with_file_name(format!(
        "{}.part-{}.json",
        config.file_stem().unwrap().to_string_lossy(),
        shard.replace('/', "-of-")
    ));
    cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(config)
        .args(["--shard", shard, "--quiet", "--out"])
        .arg(&part)
        .args(extra)
        .assert()
        .success()
        .stdout("");
    part
}

/// `carlo merge PARTS... --out - --format csv` and its output.
fn merge(parts: &[PathBuf]) -> std::process::Output {
    cargo_bin_cmd!("carlo")
        .arg("merge")
        .args(parts)
        .args(["--out", "-", "--format", "csv", "--quiet"])
        .output()
        .unwrap()
}

/// Asserts that merging `parts` fails with exit 2 and a message holding `needles`.
fn refuses(parts: &[PathBuf], needles: &[&str]) {
    let out = merge(parts);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "wrote a summary: {:?}", out.stdout);
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
    }
}

#[test]
fn every_shard_count_merges_to_the_sequential_bits() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 1_000_003);
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    for n in 1..=5 {
        // Shards on different backends and worker counts: where a shard ran must not
        // matter either.
        let parts: Vec<PathBuf> = (1..=n)
            .map(|i| {
                let workers = (i % 3 + 1).to_string();
                run_shard(&config, &format!("{i}/{n}"), &["--workers", &workers])
            })
            .rev() // merge takes partials in any order
            .collect();
        let out = merge(&parts);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        assert_eq!(common::result_columns(&csv), reference, "{n} shards");
        assert_eq!(common::field(&csv, "backend"), "shards");
        assert_eq!(common::field(&csv, "workers"), n.to_string());
    }
}

/// More partials than a command line holds go through `--parts-from`: a file, or
/// standard input, beside partials named on the command line.
#[test]
fn partials_listed_in_a_file_or_on_stdin_merge_like_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 5, 1_000_003);
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    let parts: Vec<PathBuf> = (1..=3)
        .map(|i| run_shard(&config, &format!("{i}/3"), &[]))
        .collect();
    let list = dir.path().join("parts.txt");
    let lines: Vec<String> = parts[1..].iter().map(|p| p.display().to_string()).collect();
    std::fs::write(&list, format!("# shards 2 and 3\n\n{}\n", lines.join("\n"))).unwrap();
    let csv_args = ["--out", "-", "--format", "csv", "--quiet"];
    let from_file = cargo_bin_cmd!("carlo")
        .arg("merge")
        .arg(&parts[0])
        .arg("--parts-from")
        .arg(&list)
        .args(csv_args)
        .output()
        .unwrap();
    assert!(from_file.status.success(), "{from_file:?}");
    let csv = String::from_utf8(from_file.stdout).unwrap();
    assert_eq!(common::result_columns(&csv), reference);
    let all: Vec<String> = parts.iter().map(|p| p.display().to_string()).collect();
    let from_stdin = cargo_bin_cmd!("carlo")
        .args(["merge", "--parts-from", "-"])
        .args(csv_args)
        .write_stdin(all.join("\n"))
        .output()
        .unwrap();
    assert!(from_stdin.status.success(), "{from_stdin:?}");
    let csv = String::from_utf8(from_stdin.stdout).unwrap();
    assert_eq!(common::result_columns(&csv), reference);
    // A list that cannot be read, or lists nothing: exit 2 naming the flag.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n").unwrap();
    for list in [dir.path().join("missing.txt"), empty] {
        let out = cargo_bin_cmd!("carlo")
            .args(["merge", "--parts-from"])
            .arg(&list)
            .args(csv_args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with("error: --parts-from: "), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn more_shards_than_chunks_still_merge() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 3, 12_000); // 3 blocks, 5 shards
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    let parts: Vec<PathBuf> = (1..=5)
        .map(|i| run_shard(&config, &format!("{i}/5"), &[]))
        .collect();
    let out = merge(&parts);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        common::result_columns(&String::from_utf8(out.stdout).unwrap()),
        reference
    );
}

#[test]
fn scheduler_variables_pick_the_shard_with_shard_auto() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 1_000_003);
    let by_flag = std::fs::read(run_shard(&config, "2/3", &[])).unwrap();
    // The second of three tasks, as each scheduler numbers it.
    type Variables<'a> = &'a [(&'a str, &'a str)];
    let schedulers: [(Variables, &[&str]); 4] = [
        // Slurm, an array numbered from 0 (--array=0-2).
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
            ],
            &[],
        ),
        // Slurm in steps (--array=10-30:10).
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "20"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", "10"),
                ("SLURM_ARRAY_TASK_MAX", "30"),
                ("SLURM_ARRAY_TASK_STEP", "10"),
            ],
            &[],
        ),
        // A Kubernetes Indexed Job with 3 completions.
        (&[("JOB_COMPLETION_INDEX", "1")], &["--shards", "3"]),
        // An AWS Batch array job of size 3.
        (
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "3"),
            ],
            &[],
        ),
    ];
    for (vars, flags) in schedulers {
        let by_env = dir.path().join("env.json");
        cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(&config)
            .args(["--quiet", "--shard", "auto"])
            .args(flags)
            .arg("--out")
            .arg(&by_env)
            .envs(vars.iter().copied())
            .assert()
            .success();
        // The same partial but for the trailer's timings: compare the chunk lines.
        let stats = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes).to_string();
            let lines: Vec<&str> = text.lines().collect();
            lines[1..lines.len() - 2].join("\n")
        };
        assert_eq!(
            stats(&std::fs::read(&by_env).unwrap()),
            stats(&by_flag),
            "{vars:?}"
        );
    }
}

#[test]
fn a_plain_run_inside_an_array_job_is_a_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 100_000);
    let whole = common::run_csv(&config, &[]);
    let out = cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(&config)
        .args(["--out", "-", "--format", "csv", "--quiet"])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        common::result_columns(&String::from_utf8(out.stdout).unwrap()),
        common::result_columns(&whole)
    );
}

#[test]
fn default_partial_path_and_merge_destination() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 100_000);
    for i in 1..=2 {
        cargo_bin_cmd!("carlo")
            .current_dir(dir.path())
            .arg("run")
            .arg(&config)
            .args(["--shard", &format!("{i}/2"), "--quiet"])
            .assert()
            .success();
    }
    let results = dir.path().join("results");
    let parts: Vec<PathBuf> = (1..=2)
        .map(|i| results.join(format!("pi.part-{i}-of-2.json")))
        .collect();
    assert!(parts.iter().all(|p| p.exists()));
    cargo_bin_cmd!("carlo")
        .current_dir(dir.path())
        .arg("merge")
        .args(&parts)
        .arg("--quiet")
        .assert()
        .success();
    let csv = std::fs::read_to_string(results.join("pi.csv")).unwrap();
    assert_eq!(common::field(&csv, "backend"), "shards");
}

#[test]
fn merge_refuses_partials_of_another_seed_or_config() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_shard(&pi_config(dir.path(), 7, 1_000_003), "1/2", &[]);
    let seed = run_shard(&pi_config(dir.path(), 8, 1_000_003), "2/2", &[]);
    let samples = run_shard(&pi_config(dir.path(), 7, 1_000_004), "2/2", &[]);
    let (a_name, seed_name) = (a.to_string_lossy(), seed.to_string_lossy());
    refuses(
        &[a.clone(), seed.clone()],
        &[&a_name, &seed_name, "seed 7 vs 8"],
    );
    refuses(
        &[a.clone(), samples.clone()],
        &[&samples.to_string_lossy(), "samples 1000003 vs 1000004"],
    );
}

#[test]
fn merge_refuses_overlaps_and_gaps_naming_the_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 1_000_003); // blocks 0-244
    let halves: Vec<PathBuf> = (1..=2)
        .map(|i| run_shard(&config, &format!("{i}/2"), &[]))
        .collect();
    let thirds: Vec<PathBuf> = (1..=3)
        .map(|i| run_shard(&config, &format!("{i}/3"), &[]))
        .collect();
    // 1/2 holds blocks 0-122, 2/3 holds 82-163.
    refuses(
        &[halves[0].clone(), thirds[1].clone(), thirds[2].clone()],
        &["overlap", "blocks 82-122"],
    );
    // 1/2 holds blocks 0-122 and 1/1 all of them: not the same blocks.
    let whole = run_shard(&config, "1/1", &[]);
    refuses(
        &[halves[0].clone(), whole.clone()],
        &["overlap", "blocks 0-122"],
    );
    refuses(
        &[thirds[0].clone(), thirds[2].clone()],
        &["blocks 82-163", "missing", "shard 2/3"],
    );
    refuses(
        &[thirds[1].clone()],
        &["blocks 0-81, blocks 164-244", "missing", "shards 1/3, 3/3"],
    );
}

#[test]
fn merge_refuses_corrupt_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 1_000_003);
    let parts: Vec<PathBuf> = (1..=2)
        .map(|i| run_shard(&config, &format!("{i}/2"), &[]))
        .collect();
    let text = std::fs::read_to_string(&parts[1]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // A header, the chunks (of 3 blocks from block 123: 123, 126, 129, ...), a trailer
    // and the checksum.
    let chunk_lines = lines.len() - 3;
    let cases = [
        (
            "truncated",
            text[..text.len() / 2].to_string(),
            "truncated partial",
        ),
        (
            "without its trailer",
            lines[..lines.len() - 2].join("\n") + "\n",
            "trailer is missing",
        ),
        (
            "without its checksum",
            lines[..lines.len() - 1].join("\n") + "\n",
            "checksum is missing",
        ),
        (
            "without a chunk",
            [&lines[..3], &lines[4..]].concat().join("\n") + "\n",
            "block 129",
        ),
        (
            "csv",
            "name,model\npi,pi\n".to_string(),
            "not a carlo partial",
        ),
        (
            "other",
            "{\"format\": \"something\"}\n".to_string(),
            "not a carlo partial",
        ),
        (
            "version",
            text.replace("\"format_version\":3", "\"format_version\":9"),
            "version 9",
        ),
        (
            "carlo version",
            text.replacen("\"carlo_version\":\"", "\"carlo_version\":\"9.", 1),
            "written by carlo 9.",
        ),
        ("rng", text.replace("lanes-v1", "lanes-v0"), "rng"),
        (
            "altered",
            text.replace("\"samples\":1000003", "\"samples\":1000013"),
            "fingerprint",
        ),
        (
            "an edited sum",
            edit_word(&text, 129, 3, |sum| sum ^ 1),
            "checksum",
        ),
        (
            "a count",
            resealed(&edit_word(&text, 129, 0, |count| count + 1)),
            "block 129",
        ),
        (
            "a bad line",
            text.replacen(
                "{\"blocks\":{\"start\":129,",
                "{\"chunk\":{\"start\":129,",
                1,
            ),
            "corrupt line",
        ),
    ];
    assert!(chunk_lines > 3);
    for (name, content, needle) in cases {
        assert_ne!(content, text, "case {name} changed nothing");
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, content).unwrap();
        refuses(
            &[parts[0].clone(), path.clone()],
            &[&path.to_string_lossy(), needle],
        );
    }
    let missing = dir.path().join("no-such.json");
    refuses(
        &[parts[0].clone(), missing.clone()],
        &[&missing.to_string_lossy()],
    );
}

#[test]
fn a_failed_merge_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 1_000_003);
    let part = run_shard(&config, "1/2", &[]);
    let out_file = dir.path().join("summary.csv");
    cargo_bin_cmd!("carlo")
        .arg("merge")
        .arg(&part)
        .arg("--out")
        .arg(&out_file)
        .assert()
        .code(2);
    assert!(!out_file.exists());
}

/// `text`, a partial, with its checksum made right again after an edit: what a
/// build that computes other bits would have written.
/// `text`, a partial, with word `word` of the first part of the exact statistics of
/// the chunk starting at block `block` (word 0 is the count; the words are hex in the
/// chunk's line) replaced by `edit` of it. The checksum is left as it was.
fn edit_word(text: &str, block: u64, word: usize, edit: impl Fn(u64) -> u64) -> String {
    let line = text
        .find(&format!("{{\"blocks\":{{\"start\":{block},"))
        .expect("the chunk's line");
    let prefix = "\"parts\":[[";
    let part = line + text[line..].find(prefix).expect("its parts") + prefix.len();
    let start = part + text[part..].find('"').expect("a part's words") + 1 + 16 * word;
    let old = u64::from_str_radix(&text[start..start + 16], 16).unwrap();
    format!(
        "{}{:016x}{}",
        &text[..start],
        edit(old),
        &text[start + 16..]
    )
}

fn resealed(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let body_end = text.trim_end_matches('\n').rfind('\n').unwrap() + 1;
    let (body, trailer) = text.split_at(body_end);
    let mut trailer: serde_json::Value = serde_json::from_str(trailer).unwrap();
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    trailer["sha256"] = hex.into();
    format!("{body}{trailer}\n")
}

#[test]
fn a_shard_that_ran_twice_merges_once_when_its_bits_agree() {
    let dir = tempfile::tempdir().unwrap();
    let config = pi_config(dir.path(), 7, 1_000_003);
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    let first = run_shard(&config, "1/2", &[]);
    let second = run_shard(&config, "2/2", &[]);
    // The same shard again, elsewhere and on another backend, under another name (a
    // scheduler's retry that names partials by attempt).
    let again = dir.path().join("pi.part-1-of-2.attempt-2.json");
    cargo_bin_cmd!("carlo")
        .arg("run")
        .arg(&config)
        .args([
            "--shard",
            "1/2",
            "--quiet",
            "--backend",
            "processes",
            "--workers",
            "2",
        ])
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    for parts in [
        vec![first.clone(), second.clone(), again.clone()],
        vec![again.clone(), second.clone(), first.clone(), first.clone()],
    ] {
        let out = merge(&parts);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        assert_eq!(common::result_columns(&csv), reference);
        assert_eq!(common::field(&csv, "workers"), "2", "a shard counts once");
    }
    // Without --quiet, the merge says so.
    let out = cargo_bin_cmd!("carlo")
        .arg("merge")
        .args([&first, &second, &again])
        .args(["--out", "-", "--format", "csv"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("shard 1/2 ran twice") && stderr.contains(&*again.to_string_lossy()),
        "{stderr}"
    );
    // The same file twice: said as such.
    let out = cargo_bin_cmd!("carlo")
        .arg("merge")
        .args([&first, &second, &first])
        .args(["--out", "-", "--format", "csv"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("note: {} was given twice: merged once", first.display())
    );
    // The same chunks with other bits, checksum and all (another build's): refused,
    // whichever comes first.
    let text = std::fs::read_to_string(&first).unwrap();
    let other = dir.path().join("other-build.json");
    let edited = resealed(&edit_word(&text, 3, 3, |sum| sum ^ 1));
    assert_ne!(edited, text);
    std::fs::write(&other, edited).unwrap();
    refuses(
        &[first.clone(), other.clone(), second.clone()],
        &["different statistics", "blocks 0-122", "shard 1/2"],
    );
    refuses(
        &[other.clone(), second.clone(), first.clone()],
        &["different statistics", &other.to_string_lossy()],
    );
}

/// Runs `jobs` on a few threads at once, as an array's tasks would.
fn in_parallel(jobs: Vec<Box<dyn FnOnce() + Send>>) {
    let jobs = std::sync::Mutex::new(jobs);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let job = jobs.lock().unwrap().pop();
                    match job {
                        Some(job) => job(),
                        None => break,
                    }
                }
            });
        }
    });
}

/// A job array as a cluster runs it: 300 shards of a 1001-block run, some run twice
/// (the retry rewriting its partial, or writing one of its own), some lost with
/// their node (killed halfway); the merge names the lost ones, they are rerun, and
/// the merge of whatever the folder then holds gives the single-run bits, reading
/// the 300 partials with no more than a handful of files open.
#[test]
fn hundreds_of_shards_some_run_twice_some_lost_and_rerun_merge_to_one_run() {
    const SHARDS: u64 = 300;
    let dir = tempfile::tempdir().unwrap();
    let config = common::write_config(
        dir.path(),
        "pi.toml",
        "[simulation]\nname = \"pi\"\nsamples = 4_100_000\nseed = 5\nchunk_size = 1000\n\
         [model]\ntype = \"pi\"\n",
    );
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let part = |i: u64| parts.join(format!("part-{i}-of-{SHARDS}.json"));
    let shard = |i: u64, extra: &[&str]| {
        let mut cmd = cargo_bin_cmd!("carlo");
        cmd.arg("run")
            .arg(&config)
            .args(["--shard", &format!("{i}/{SHARDS}"), "--quiet", "--out"])
            .arg(part(i))
            .args(extra);
        cmd
    };
    let lost = [1, 150, 300];
    // The array: every task but the lost ones runs to the end.
    let jobs: Vec<Box<dyn FnOnce() + Send>> = (1..=SHARDS)
        .filter(|i| !lost.contains(i))
        .map(|i| {
            let mut cmd = shard(i, &["--backend", "sequential"]);
            Box::new(move || {
                cmd.assert().success();
            }) as Box<dyn FnOnce() + Send>
        })
        .collect();
    in_parallel(jobs);
    // The lost ones die with their node in the middle of their first chunk, each
    // leaving its temporary file behind.
    let temporaries = || -> std::collections::BTreeSet<String> {
        std::fs::read_dir(&parts)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".carlo-"))
            .collect()
    };
    for &i in &lost {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_carlo"));
        cmd.arg("run")
            .arg(&config)
            .args(["--shard", &format!("{i}/{SHARDS}"), "--quiet", "--out"])
            .arg(part(i))
            .args(["--backend", "threads", "--workers", "1"])
            // A shard's chunks count from 0 within its share.
            .env("CARLO_FAULT", "sleep-at:0:60000");
        let before = temporaries();
        let mut child = cmd.spawn().unwrap();
        // It has started writing (a temporary file of its own exists) when it is
        // killed. (It may remove the one a killed shard left: a dead process's.)
        let start = std::time::Instant::now();
        while temporaries().is_subset(&before) {
            assert!(start.elapsed().as_secs() < 20, "shard {i} never started");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!part(i).exists(), "a killed shard left a partial");
    }
    // Retries: two shards run again on other backends, rewriting their partials, and
    // one writes a partial of its own beside the first.
    shard(42, &["--backend", "processes", "--workers", "2"])
        .assert()
        .success();
    shard(299, &["--backend", "threads", "--workers", "3"])
        .assert()
        .success();
    std::fs::copy(
        part(7),
        parts.join(format!("part-7-of-{SHARDS}.retry.json")),
    )
    .unwrap();

    let everything = |dir: &Path| -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        found.sort();
        found
    };
    refuses(
        &everything(&parts),
        &["missing", "shards 1/300, 150/300, 300/300"],
    );
    for &i in &lost {
        shard(i, &[]).assert().success();
    }
    let found = everything(&parts);
    assert_eq!(found.len() as u64, SHARDS + 1);
    // Never more than a few files open: a merge of 301 partials under a limit of 16
    // descriptors.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 16 && exec \"$0\" merge \"$@\" --out - --format csv --quiet")
        .arg(env!("CARGO_BIN_EXE_carlo"))
        .args(&found)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(common::result_columns(&csv), reference);
    assert_eq!(common::field(&csv, "workers"), SHARDS.to_string());
}
