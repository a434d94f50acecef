//! The fuzz targets' inputs as ordinary tests: every file of the corpus kept in
//! `fuzz/corpus/TARGET/` and every crash reproducer in `fuzz/regressions/TARGET/` is
//! handed to its target's entry point (`carlo::fuzzing`), which must return without a
//! panic. `cargo +nightly fuzz run TARGET` explores further (see `.ci/run`).

use std::path::Path;

fn target(name: &str) -> fn(&[u8]) {
    match name {
        "config" => carlo::fuzzing::config,
        "set" => carlo::fuzzing::set,
        "checkpoint" => carlo::fuzzing::checkpoint,
        "partial" => carlo::fuzzing::partial,
        "protocol" => carlo::fuzzing::protocol,
        "verify" => carlo::fuzzing::verify,
        other => panic!("no fuzz target {other}"),
    }
}

#[test]
fn every_kept_input_of_every_target_is_handled_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seen = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(targets) = std::fs::read_dir(root.join(kind)) else {
            continue;
        };
        for dir in targets.flatten().filter(|d| d.path().is_dir()) {
            let name = dir.file_name().into_string().unwrap();
            let run = target(&name);
            for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
                let bytes = std::fs::read(file.path()).unwrap();
                run(&bytes);
                seen += 1;
            }
        }
    }
    assert!(seen >= 6, "the corpus is missing ({seen} files)");
}
