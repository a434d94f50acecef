//! The promise: every backend and worker count gives the same bits.

mod common;

use proptest::prelude::*;

fn pi_config(dir: &std::path::Path, samples: u64, chunk: u64, seed: u64) -> std::path::PathBuf {
    common::write_config(
        dir,
        "pi.toml",
        &format!(
            "[simulation]\nsamples = {samples}\nseed = {seed}\nchunk_size = {chunk}\n[model]\ntype = \"pi\"\n"
        ),
    )
}

#[test]
fn every_backend_agrees_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    // 1_000_003 is not a multiple of 10_000: the last chunk is short.
    let config = pi_config(dir.path(), 1_000_003, 10_000, 7);
    let reference = common::result_columns(&common::run_csv(&config, &["--backend", "sequential"]));
    let runs = [
        ("threads", ["1", "2", "3", "8"]),
        ("processes", ["1", "2", "3", "4"]),
    ];
    for (backend, counts) in runs {
        for workers in counts {
            let csv = common::run_csv(&config, &["--backend", backend, "--workers", workers]);
            let what = format!("{backend} x{workers}");
            assert_eq!(common::result_columns(&csv), reference, "{what}");
            assert_eq!(common::field(&csv, "backend"), backend, "{what}");
            assert_eq!(common::field(&csv, "workers"), workers, "{what}");
        }
    }
}

/// The seed changes the bits; the chunk size, a scheduling knob since 0.3.0, does
/// not (any size, rounded up to whole blocks).
#[test]
fn the_seed_changes_the_bits_and_the_chunk_size_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let a = common::run_csv(&pi_config(dir.path(), 100_000, 1000, 1), &[]);
    let b = common::run_csv(&pi_config(dir.path(), 100_000, 1000, 2), &[]);
    let est = |csv: &str| common::field(csv, "estimate");
    assert_ne!(est(&a), est(&b));
    for chunk in [1, 4096, 9000, 65_536, 1 << 40] {
        let c = common::run_csv(&pi_config(dir.path(), 100_000, chunk, 1), &[]);
        assert_eq!(
            common::result_columns(&c),
            common::result_columns(&a),
            "chunk_size = {chunk}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any plan, any worker count: threads and processes equal sequential, through
    /// the library.
    #[test]
    fn any_plan_any_workers(samples in 2u64..20_000, chunk in 1u64..3000, workers in 1usize..6, seed: u64) {
        use carlo::config::Job;
        use carlo::engine::{Quiet, run_on};
        use carlo::exec::{Processes, Sequential, Threads};
        use carlo::model::{Context, ModelSpec, Registry};
        use carlo::models::PiParams;
        let job = Job { samples, seed, chunk_size: chunk, confidence: 0.9, model: ModelSpec::new("pi", &PiParams {}), target: None, sampler: Default::default(), sweep: Vec::new() };
        let model = Registry::builtin().build(&job.model, &Context::new(seed)).unwrap();
        let a = run_on("p", &job, model.as_ref(), &mut Sequential, &mut Quiet).unwrap();
        let b = run_on("p", &job, model.as_ref(), &mut Threads::new(workers).unwrap(), &mut Quiet).unwrap();
        let c = run_on("p", &job, model.as_ref(), &mut Processes::with_program(env!("CARGO_BIN_EXE_carlo"), workers).unwrap(), &mut Quiet).unwrap();
        prop_assert_eq!(&a.moments, &b.moments);
        prop_assert_eq!(&a.estimates, &b.estimates);
        prop_assert_eq!(a.moments, c.moments);
        prop_assert_eq!(a.estimates, c.estimates);
    }
}
