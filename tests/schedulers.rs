//! The scheduler examples run as written: `examples/slurm-array.sh` and
//! `examples/aws-batch/submit.sh` against stand-in `sbatch` and `aws` commands that
//! record what they were asked to submit, and `examples/kubernetes/*.yaml` read for
//! their commands; each array task then runs its command with the variables its
//! scheduler would set, the merge job runs its own, and the merged summary must have
//! the bits of one run of the config.
//!
//! Only the mounts are modelled: the shared volume's path (`CARLO_DIR`) and the
//! config's become folders of the test. The commands, the shard counts and the
//! dependencies are the examples' own.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The repository's examples folder.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// 3_000_017 samples in chunks of 65_536: 46 chunks, the last one short, which 8
/// shards split unevenly.
const CONFIG: &str = "[simulation]\nname = \"pi\"\nsamples = 3_000_017\nseed = 11\n\
chunk_size = 65_536\n[model]\ntype = \"pi\"\n[output]\nsummary = \"results/pi.csv\"\n";

/// A folder for one scheduler: `pi.toml`, a `bin` folder holding `carlo` and the
/// stand-in commands, and `calls`, where they record their arguments.
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(dir.path().join("calls")).unwrap();
        std::fs::write(dir.path().join("pi.toml"), CONFIG).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_carlo"), bin.join("carlo")).unwrap();
        // A stand-in scheduler command: records its arguments (NUL-terminated, in a
        // file per call, numbered) and prints a job id as the real one would.
        for (name, id) in [
            ("sbatch", "\"$((4200 + n));cluster\""),
            ("aws", "\"job-$n\""),
        ] {
            let script = format!(
                "#!/bin/sh\nset -eu\ncalls=\"$FAKE_CALLS\"\nn=$(ls \"$calls\" | wc -l)\n\
                 {{ printf '%s\\0' {name}; for a in \"$@\"; do printf '%s\\0' \"$a\"; done; }} > \"$calls/$n\"\n\
                 printf '%s\\n' {id}\n"
            );
            let path = bin.join(name);
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        Cluster { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// PATH with the stand-ins first.
    fn search_path(&self) -> String {
        format!(
            "{}:{}",
            self.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// A command run in the cluster's folder, with the stand-ins on its PATH.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.path())
            .env("PATH", self.search_path())
            .env("FAKE_CALLS", self.path().join("calls"))
            // Nothing of the machine running the tests may pick a shard.
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
            .env_remove("CARLO_SHARDS");
        command
    }

    /// Runs `sh -c SCRIPT` with `env` as a scheduler's job would, failing the test
    /// if it fails.
    fn job(&self, script: &str, env: &BTreeMap<String, String>) {
        let out = self
            .command("sh")
            .arg("-c")
            .arg(script)
            .envs(env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "job {script:?} with {env:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The recorded calls, in order: each one's arguments, the program first.
    fn calls(&self) -> Vec<Vec<String>> {
        let dir = self.path().join("calls");
        let count = std::fs::read_dir(&dir).unwrap().count();
        (0..count)
            .map(|n| {
                let bytes = std::fs::read(dir.join(n.to_string())).unwrap();
                let text = String::from_utf8(bytes).unwrap();
                let mut args: Vec<String> = text.split('\0').map(String::from).collect();
                assert_eq!(args.pop().as_deref(), Some(""), "NUL-terminated");
                args
            })
            .collect()
    }

    /// The summary's result columns, checked against a single sequential run.
    fn assert_single_run_bits(&self, summary: &Path) {
        let single = common::run_csv(&self.path().join("pi.toml"), &["--backend", "sequential"]);
        let merged = std::fs::read_to_string(summary)
            .unwrap_or_else(|e| panic!("no summary at {}: {e}", summary.display()));
        assert_eq!(
            common::result_columns(&merged),
            common::result_columns(&single)
        );
        assert_eq!(common::field(&merged, "backend"), "shards");
    }
}

/// The value of option `name` in `args`, given as `--name=VALUE` or `--name VALUE`.
fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().enumerate().find_map(|(i, a)| {
        if let Some(value) = a.strip_prefix(&format!("{name}=")) {
            Some(value)
        } else if a == name {
            args.get(i + 1).map(String::as_str)
        } else {
            None
        }
    })
}

#[test]
fn the_slurm_example_merges_to_the_single_run_bits() {
    let cluster = Cluster::new();
    let script = examples().join("slurm-array.sh");
    let out = cluster
        .command("bash")
        .arg(&script)
        .args(["pi.toml", "8", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = cluster.calls();
    assert_eq!(calls.len(), 2, "an array and a merge: {calls:?}");
    let (array, merge) = (&calls[0], &calls[1]);
    assert_eq!(array[0], "sbatch");
    assert!(array.iter().any(|a| a == "--parsable"));
    // --array=1-8: task ids 1 to 8, as Slurm numbers them.
    let spec = option(array, "--array").expect("an array job");
    let (min, max) = spec.split_once('-').expect("a range of task ids");
    let (min, max): (u64, u64) = (min.parse().unwrap(), max.parse().unwrap());
    assert_eq!((min, max), (1, 8));
    let wrap = option(array, "--wrap").expect("a wrapped command");
    assert!(wrap.contains("--shard auto"), "{wrap}");
    for id in min..=max {
        let env: BTreeMap<String, String> = [
            ("SLURM_JOB_ID", (4300 + id).to_string()),
            ("SLURM_ARRAY_JOB_ID", "4200".to_string()),
            ("SLURM_ARRAY_TASK_ID", id.to_string()),
            ("SLURM_ARRAY_TASK_COUNT", (max - min + 1).to_string()),
            ("SLURM_ARRAY_TASK_MIN", min.to_string()),
            ("SLURM_ARRAY_TASK_MAX", max.to_string()),
            ("SLURM_ARRAY_TASK_STEP", "1".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        cluster.job(wrap, &env);
    }
    // The merge waits for the array's id as --parsable printed it, without the
    // cluster name.
    assert_eq!(option(merge, "--dependency"), Some("afterok:4200"));
    cluster.job(option(merge, "--wrap").unwrap(), &BTreeMap::new());
    cluster.assert_single_run_bits(&cluster.path().join("results/pi.csv"));
}

/// A job definition's `environment` as a map.
fn environment(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_aws_batch_example_merges_to_the_single_run_bits() {
    let cluster = Cluster::new();
    let dir = examples().join("aws-batch");
    let definitions: BTreeMap<String, Value> = ["job-definition.json", "merge-job-definition.json"]
        .iter()
        .map(|file| {
            let def: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
            (def["jobDefinitionName"].as_str().unwrap().to_string(), def)
        })
        .collect();
    let out = cluster
        .command("bash")
        .arg(dir.join("submit.sh"))
        .args(["pi.toml", "8", "test-queue"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = cluster.calls();
    assert_eq!(calls.len(), 2, "an array and a merge: {calls:?}");
    let mut ids = BTreeMap::new();
    for (n, call) in calls.iter().enumerate() {
        assert_eq!(call[..3], ["aws", "batch", "submit-job"]);
        assert_eq!(option(call, "--job-queue"), Some("test-queue"));
        let name = option(call, "--job-definition").unwrap();
        let def = &definitions[name];
        let container = &def["containerProperties"];
        // The volume is mounted where the commands look for it.
        let mut env = environment(&container["environment"]);
        let mount = container["mountPoints"][0]["containerPath"]
            .as_str()
            .unwrap();
        assert_eq!(env["CARLO_DIR"], mount, "{name}");
        let overrides: Value = serde_json::from_str(option(call, "--container-overrides").unwrap())
            .expect("overrides are JSON");
        env.extend(environment(&overrides["environment"]));
        env.insert(
            "CARLO_DIR".into(),
            cluster.path().to_string_lossy().into_owned(),
        );
        let command = overrides
            .get("command")
            .unwrap_or(&container["command"])
            .as_array()
            .unwrap();
        let command: Vec<&str> = command.iter().map(|a| a.as_str().unwrap()).collect();
        assert_eq!(command[..2], ["sh", "-c"]);
        let id = format!("job-{n}");
        match option(call, "--array-properties") {
            Some(size) => {
                let size: u64 = size.strip_prefix("size=").unwrap().parse().unwrap();
                assert_eq!(size, 8);
                for index in 0..size {
                    let mut env = env.clone();
                    env.insert("AWS_BATCH_JOB_ID".into(), format!("{id}:{index}"));
                    env.insert("AWS_BATCH_JOB_ARRAY_INDEX".into(), index.to_string());
                    env.insert("AWS_BATCH_JOB_ARRAY_SIZE".into(), size.to_string());
                    cluster.job(command[2], &env);
                }
                ids.insert("array", id);
            }
            None => {
                // Waits for the whole array.
                assert_eq!(
                    option(call, "--depends-on"),
                    Some(format!("jobId={}", ids["array"]).as_str())
                );
                env.insert("AWS_BATCH_JOB_ID".into(), id);
                cluster.job(command[2], &env);
            }
        }
    }
    cluster.assert_single_run_bits(&cluster.path().join("pi.csv"));
    // AWS Batch arrays hold 2 to 10,000 jobs: anything else is refused up front.
    for bad in ["1", "10001", "x"] {
        let out = cluster
            .command("bash")
            .arg(dir.join("submit.sh"))
            .args(["pi.toml", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn the_kubernetes_example_merges_to_the_single_run_bits() {
    let cluster = Cluster::new();
    let dir = examples().join("kubernetes");
    let read = |file: &str| yaml::parse(&std::fs::read_to_string(dir.join(file)).unwrap());
    let job_of = |docs: Vec<Value>| {
        docs.into_iter()
            .find(|d| d["kind"] == "Job")
            .expect("a Job in the manifest")
    };
    let indexed = job_of(read("indexed-job.yaml"));
    let merge = job_of(read("merge-job.yaml"));
    assert_eq!(indexed["spec"]["completionMode"], "Indexed");
    let completions: u64 = indexed["spec"]["completions"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The container's command, environment and shared volume, with the volume's path
    // and the config's moved into the test's folder.
    let container = |job: &Value| {
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        let c = &pod["containers"][0];
        let mut env = environment(&c["env"]);
        let mount = c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "results")
            .unwrap()["mountPath"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            env["CARLO_DIR"], mount,
            "the volume is where CARLO_DIR says"
        );
        // Kubernetes does not tell a pod how many indexes there are: the manifests
        // repeat `completions`, and must agree with it.
        assert_eq!(env["CARLO_SHARDS"], completions.to_string());
        env.insert(
            "CARLO_DIR".into(),
            cluster.path().to_string_lossy().into_owned(),
        );
        if env.contains_key("CARLO_CONFIG") {
            env.insert(
                "CARLO_CONFIG".into(),
                cluster
                    .path()
                    .join("pi.toml")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        let mut argv: Vec<String> = c["command"]
            .as_array()
            .unwrap()
            .iter()
            .chain(c["args"].as_array().into_iter().flatten())
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        assert_eq!(argv[..2], ["/bin/sh", "-c"]);
        (argv.remove(2), env)
    };
    let (script, env) = container(&indexed);
    for index in 0..completions {
        let mut env = env.clone();
        env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
        cluster.job(&script, &env);
    }
    let (script, env) = container(&merge);
    cluster.job(&script, &env);
    cluster.assert_single_run_bits(&cluster.path().join("pi.csv"));
}

/// The subset of YAML the Kubernetes examples use, read into JSON values: block
/// mappings and sequences, plain and quoted scalars (all kept as strings), literal
/// block scalars (`|`), flow sequences of JSON scalars, comments, and documents
/// separated by `---`. Anything else fails the test rather than being misread.
mod yaml {
    use serde_json::{Map, Value};

    struct Line<'a> {
        indent: usize,
        text: &'a str,
    }

    /// The documents of `text`.
    pub fn parse(text: &str) -> Vec<Value> {
        text.split("\n---\n")
            .map(|doc| {
                let lines: Vec<&str> = doc.lines().collect();
                let mut at = 0;
                let value = node(&lines, &mut at, 0);
                assert!(significant(&lines, &mut at).is_none(), "unread YAML");
                value
            })
            .collect()
    }

    /// The next line that is neither blank nor a comment, without moving past it.
    fn significant<'a>(lines: &[&'a str], at: &mut usize) -> Option<Line<'a>> {
        while let Some(line) = lines.get(*at) {
            let text = line.trim_start();
            if text.is_empty() || text.starts_with('#') {
                *at += 1;
                continue;
            }
            assert!(!line.starts_with('\t'), "tabs in YAML: {line:?}");
            return Some(Line {
                indent: line.len() - text.len(),
                text,
            });
        }
        None
    }

    /// The node starting at the next line if it is indented at least `min`.
    fn node(lines: &[&str], at: &mut usize, min: usize) -> Value {
        let Some(first) = significant(lines, at) else {
            return Value::Null;
        };
        if first.indent < min {
            return Value::Null;
        }
        if first.text == "-" || first.text.starts_with("- ") {
            sequence(lines, at, first.indent)
        } else {
            mapping(lines, at, first.indent, None)
        }
    }

    fn sequence(lines: &[&str], at: &mut usize, indent: usize) -> Value {
        let mut items = Vec::new();
        while let Some(line) = significant(lines, at) {
            if line.indent != indent || !(line.text == "-" || line.text.starts_with("- ")) {
                break;
            }
            let rest = line.text[1..].trim_start();
            if rest.is_empty() {
                *at += 1;
                items.push(node(lines, at, indent + 1));
            } else if rest == "|" {
                *at += 1;
                items.push(block(lines, at, indent));
            } else if key_value(rest).is_some() {
                // `- key: value` opens a mapping whose keys line up with `key`.
                let inner = indent + (line.text.len() - rest.len());
                items.push(mapping(lines, at, inner, Some(rest)));
            } else {
                *at += 1;
                items.push(scalar(rest));
            }
        }
        Value::Array(items)
    }

    /// A mapping at `indent`; `first` is the text of its first entry when it shares
    /// a line with a sequence's dash.
    fn mapping(lines: &[&str], at: &mut usize, indent: usize, mut first: Option<&str>) -> Value {
        let mut map = Map::new();
        loop {
            let text = match first.take() {
                Some(text) => text,
                None => match significant(lines, at) {
                    Some(line) if line.indent == indent && !line.text.starts_with("- ") => {
                        line.text
                    }
                    Some(line) => {
                        assert!(line.indent < indent, "misaligned YAML: {:?}", line.text);
                        break;
                    }
                    None => break,
                },
            };
            *at += 1;
            let (key, rest) = key_value(text).unwrap_or_else(|| panic!("not a key: {text:?}"));
            let value = match rest {
                "" => {
                    // A nested node, or a sequence at the key's own indentation.
                    match significant(lines, at) {
                        Some(next) if next.indent == indent && next.text.starts_with("- ") => {
                            sequence(lines, at, indent)
                        }
                        _ => node(lines, at, indent + 1),
                    }
                }
                "|" => block(lines, at, indent),
                rest => scalar(rest),
            };
            map.insert(key.to_string(), value);
        }
        Value::Object(map)
    }

    /// `key: rest` (rest possibly empty), for plain keys.
    fn key_value(text: &str) -> Option<(&str, &str)> {
        let (key, rest) = match text.split_once(": ") {
            Some((key, rest)) => (key, rest.trim()),
            None => (text.strip_suffix(':')?, ""),
        };
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
        plain.then_some((key, strip_comment(rest)))
    }

    /// A literal block scalar: the lines indented deeper than `indent`, kept
    /// verbatim (comments included) after their common indentation, ending in one
    /// newline.
    fn block(lines: &[&str], at: &mut usize, indent: usize) -> Value {
        let mut body: Vec<&str> = Vec::new();
        let mut margin = None;
        while let Some(line) = lines.get(*at) {
            let text = line.trim_start();
            let depth = line.len() - text.len();
            if !text.is_empty() && depth <= indent {
                break;
            }
            if !text.is_empty() {
                margin.get_or_insert(depth);
            }
            body.push(line);
            *at += 1;
        }
        let margin = margin.expect("an empty block scalar");
        let mut text: String = body
            .iter()
            .map(|l| l.get(margin..).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        text.truncate(text.trim_end_matches('\n').len());
        text.push('\n');
        Value::String(text)
    }

    /// A scalar: quoted or plain strings, or a flow sequence of JSON scalars.
    fn scalar(text: &str) -> Value {
        let text = strip_comment(text.trim());
        if text.starts_with('"') || text.starts_with('[') {
            return serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("unsupported YAML scalar {text:?}: {e}"));
        }
        if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
            return Value::String(inner.replace("''", "'"));
        }
        assert!(
            !text.starts_with(['{', '&', '*', '!', '|', '>']),
            "unsupported YAML {text:?}"
        );
        Value::String(text.to_string())
    }

    /// `text` without a trailing ` # comment` outside quotes.
    fn strip_comment(text: &str) -> &str {
        let mut quote = None;
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match (quote, b) {
                (None, b'"' | b'\'') => quote = Some(b),
                (Some(q), _) if b == q => quote = None,
                (None, b'#') if i == 0 || bytes[i - 1] == b' ' => return text[..i].trim_end(),
                _ => {}
            }
        }
        text
    }

    #[test]
    fn reads_the_subset() {
        let docs = parse(
            "a: 1 # one\nb:\n  c: \"x # y\"\n  d: [\"p\", \"q\"]\nlist:\n- k: v\n  l: w\n- plain\n\
             e:\n  - |\n    line one\n    # kept\n  - 'it''s'\n---\nz: []\n",
        );
        assert_eq!(docs.len(), 2);
        let doc = &docs[0];
        assert_eq!(doc["a"], "1");
        assert_eq!(doc["b"]["c"], "x # y");
        assert_eq!(doc["b"]["d"], serde_json::json!(["p", "q"]));
        assert_eq!(doc["list"][0]["l"], "w");
        assert_eq!(doc["list"][1], "plain");
        assert_eq!(doc["e"][0], "line one\n# kept\n");
        assert_eq!(doc["e"][1], "it's");
        assert_eq!(docs[1]["z"], serde_json::json!([]));
    }
}
