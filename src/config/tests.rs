//! Tests of config validation.

use super::*;

const MINIMAL: &str = "[simulation]\nsamples = 1000\nseed = 1\n[model]\ntype = \"pi\"\n";

fn parse(text: &str) -> Result<Experiment, Error> {
    Experiment::parse(
        text,
        Path::new("x.toml"),
        &Overrides::default(),
        &Registry::builtin(),
    )
}

#[test]
fn minimal_config_gets_defaults() {
    let e = parse(MINIMAL).unwrap();
    assert_eq!(e.name, "x");
    assert_eq!(e.job.chunk_size, DEFAULT_CHUNK_SIZE);
    assert_eq!(e.job.confidence, 0.95);
    assert_eq!(e.backend, Backend::Threads);
    assert!(e.workers >= 1);
    assert_eq!(e.out, Destination::File("results/x.csv".into()));
}

#[test]
fn overrides_win() {
    let o = Overrides {
        samples: Some(5000),
        seed: Some(9),
        chunk_size: Some(8192),
        backend: Some(Backend::Sequential),
        workers: Some(3),
        out: Some(Destination::Stdout),
        sets: Vec::new(),
        chunk_timeout: None,
    };
    let e = Experiment::parse(MINIMAL, Path::new("x.toml"), &o, &Registry::builtin()).unwrap();
    assert_eq!(
        (e.job.samples, e.job.seed, e.job.chunk_size),
        (5000, 9, 8192)
    );
    assert_eq!((e.backend, e.workers), (Backend::Sequential, 3));
    assert_eq!(e.out, Destination::Stdout);
}

#[test]
fn counts_accept_floats_with_whole_values() {
    let e = parse(&MINIMAL.replace("1000", "1e6")).unwrap();
    assert_eq!(e.job.samples, 1_000_000);
    assert!(parse(&MINIMAL.replace("1000", "1.5e0")).is_err());
}

#[test]
fn command_line_counts() {
    assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
    assert_eq!(parse_count("1e6"), Ok(1_000_000));
    assert_eq!(parse_count("2.5e3"), Ok(2500));
    assert!(parse_count("1.5").is_err());
    assert!(parse_count("-3").is_err());
    assert!(parse_count("lots").is_err());
}

#[test]
fn fingerprint_tracks_the_result_not_the_execution() {
    let a = parse(MINIMAL).unwrap();
    let o = Overrides {
        workers: Some(7),
        ..Overrides::default()
    };
    let b = Experiment::parse(MINIMAL, Path::new("y.toml"), &o, &Registry::builtin()).unwrap();
    assert_eq!(a.job.fingerprint(), b.job.fingerprint());
    let c = parse(&MINIMAL.replace("seed = 1", "seed = 2")).unwrap();
    assert_ne!(a.job.fingerprint(), c.job.fingerprint());
}

#[test]
fn differences_name_nested_keys() {
    let a = serde_json::json!({"seed": 1, "model": {"type": "walk", "steps": 100}});
    let b = serde_json::json!({"seed": 1, "model": {"type": "walk", "steps": 200, "drift": 0.5}});
    assert_eq!(
        job_differences(&a, &b),
        [
            (
                "model.steps".to_string(),
                "100".to_string(),
                "200".to_string()
            ),
            (
                "model.drift".to_string(),
                "none".to_string(),
                "0.5".to_string()
            ),
        ]
    );
    assert!(job_differences(&a, &a).is_empty());
}

#[test]
fn errors_name_the_key() {
    let cases = [
        (MINIMAL.replace("1000", "0"), "simulation.samples"),
        (format!("{MINIMAL}[execution]\nthreads = 2\n"), "threads"),
        (
            MINIMAL.replace("seed = 1", "seed = 1\nconfidence = 1.5"),
            "simulation.confidence",
        ),
        (MINIMAL.replace("\"pi\"", "\"pie\""), "pie"),
        (format!("{MINIMAL}colour = 1\n"), "colour"),
    ];
    for (text, key) in cases {
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains(key), "{err:?} does not name {key}");
    }
}

const EUROPEAN: &str = "[simulation]\nsamples = 1000\nseed = 1\n[model]\ntype = \"european\"\n\
    option = \"call\"\nspot = 100.0\nstrike = 100.0\nrate = 0.05\nvolatility = 0.2\n\
    maturity = 1.0\n";

#[test]
fn swept_values_get_the_warnings_of_their_own_run() {
    let e = parse(&format!("{EUROPEAN}[sweep]\nvolatility = [0.2, 20.0]\n")).unwrap();
    assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
    assert!(
        e.warnings[0].starts_with("at the sweep point volatility = 20.0: model.volatility"),
        "{:?}",
        e.warnings
    );
}

#[test]
fn sweep_points_listed_twice_or_too_close_are_refused() {
    let err = parse(&format!("{EUROPEAN}[sweep]\nstrike = [90, 100, 90.0]\n")).unwrap_err();
    assert!(err.to_string().contains("lists 90.0 twice"), "{err}");
    let err = parse(&format!(
        "{EUROPEAN}[sweep]\nstrike = [100, 100.00000000001]\n"
    ))
    .unwrap_err();
    let err = err.to_string();
    assert!(
        err.contains("sweep.strike") && err.contains("too close"),
        "{err}"
    );
    // Close values of one key among several give no difference: accepted.
    parse(&format!(
        "{EUROPEAN}[sweep]\nstrike = [100, 100.00000000001]\nspot = [90, 110]\n"
    ))
    .unwrap();
}

/// A job that arrives as data (a worker's hello) is checked as a config's reading
/// would check it: what `plan` and the Sobol sampler rely on.
#[test]
fn a_job_as_data_is_checked_before_it_is_planned() {
    let mut job = parse(
        "[simulation]\nsamples = 65536\nseed = 1\nsampler = \"sobol\"\nreplicates = 4\n\
         [model]\ntype = \"european\"\noption = \"call\"\nspot = 100.0\nstrike = 100.0\n\
         rate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n",
    )
    .unwrap()
    .job;
    assert_eq!(job.check_plan(), Ok(()));
    for (samples, replicates) in [
        (0, 4),
        (65536, 1),
        (65536, 33),
        (65536 + 4, 4),
        (3 * 4096 + 3, 3),
    ] {
        job.samples = samples;
        job.sampler = crate::random::sampler::Sampler::Sobol { replicates };
        assert!(job.check_plan().is_err(), "{samples} in {replicates}");
    }
}
