//! Every shipped config runs, so none can rot.

use assert_cmd::cargo::cargo_bin_cmd;

#[test]
fn every_shipped_config_checks_and_runs() {
    let mut seen = 0;
    for entry in std::fs::read_dir("configs").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        seen += 1;
        cargo_bin_cmd!("carlo")
            .arg("check")
            .arg(&path)
            .assert()
            .success();
        let out = cargo_bin_cmd!("carlo")
            .arg("run")
            .arg(&path)
            .args([
                "--samples",
                "20000",
                "--out",
                "-",
                "--format",
                "csv",
                "--quiet",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = String::from_utf8(out.stdout).unwrap();
        assert!(csv.starts_with("name,model,quantity,estimate,"), "{csv}");
    }
    assert!(seen >= 1, "no configs found");
}
