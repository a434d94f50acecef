//! The coverage study: every estimator carlo offers, over many seeds, against its
//! exact reference or a long run (see `carlo::coverage`). Writes
//! `results/studies/coverage.csv` and `results/studies/coverage.svg`.
//!
//! ```sh
//! cargo bench --bench coverage -- --seeds 1000            # the full matrix (15 minutes on an idle core, hours on busy ones)
//! cargo bench --bench coverage -- --seeds 200 --filter european
//! ```
//!
//! `--plot CSV` only draws the SVG of a CSV the study wrote (one stopped early).
//! `--filter TEXT` keeps the cells whose label contains TEXT (several, comma
//! separated: any of them); `--small N` and `--large N` set the two sample sizes
//! (default 1024 and 16384: 16 replicates of 64 and of 1024 points), `--long N` the
//! samples of the long runs that stand in for missing references (default 4e6, four
//! times that for the large size).
//! Progress goes to stderr, a line per cell.

use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    // `--plot CSV`: only draw the plot of a CSV the study wrote (one stopped early).
    if let Some(csv) = value("--plot") {
        let text = std::fs::read_to_string(&csv).expect("the CSV is readable");
        let rows = carlo::coverage::from_csv(&text).expect("a coverage CSV");
        let svg = Path::new(&csv).with_extension("svg");
        let cells = rows
            .iter()
            .map(|r| &r.cell)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let seeds = rows.first().map_or(0, |r| r.seeds);
        carlo::coverage::plot(
            &rows,
            &format!("carlo coverage: {cells} cells x {seeds} seeds"),
            &svg,
        )
        .expect("the plot is writable");
        eprintln!("coverage: wrote {}", svg.display());
        return;
    }
    // `cargo bench` with no filter passes `--bench` and nothing else: run nothing
    // then, the study takes a quarter of an hour or more.
    if value("--seeds").is_none() {
        eprintln!("coverage: pass --seeds N to run the study (see benches/coverage.rs)");
        return;
    }
    let number = |flag: &str, default: u64| {
        value(flag).map_or(default, |v| {
            v.replace('_', "")
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {v}")) as u64
        })
    };
    let seeds = number("--seeds", 1000);
    let small = number("--small", 1024);
    let large = number("--large", 16_384);
    let long = number("--long", 4_000_000);
    let filter = value("--filter").unwrap_or_default();
    let out = value("--out").unwrap_or_else(|| "results/studies/coverage.csv".into());
    let mut cells = carlo::coverage::full_matrix(&[(small, long), (large, long * 4)]);
    cells.retain(|c| filter.split(',').any(|f| c.label.contains(f)));
    eprintln!("coverage: {} cells x {seeds} seeds", cells.len());
    let start = Instant::now();
    let mut rows = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let r = carlo::coverage::run_cell(cell, 0..seeds)
            .unwrap_or_else(|e| panic!("{}: {e}", cell.label));
        let outside: Vec<String> = r
            .iter()
            .filter(|r| !r.inside())
            .map(|r| format!("{} {} {:.3}", r.quantity, r.confidence, r.coverage()))
            .collect();
        eprintln!(
            "[{}/{}] {:.0}s {}: {}",
            i + 1,
            cells.len(),
            start.elapsed().as_secs_f64(),
            cell.label,
            if outside.is_empty() {
                "inside".to_string()
            } else {
                format!("OUTSIDE {}", outside.join("; "))
            }
        );
        rows.extend(r);
        // Written after every cell, so that a long study can be read as it goes.
        std::fs::write(&out, carlo::coverage::csv(&rows)).expect("the CSV is writable");
    }
    let svg = Path::new(&out).with_extension("svg");
    carlo::coverage::plot(
        &rows,
        &format!("carlo coverage: {} cells x {seeds} seeds", cells.len()),
        &svg,
    )
    .expect("the plot is writable");
    eprintln!(
        "coverage: wrote {out} and {} in {:.0}s",
        svg.display(),
        start.elapsed().as_secs_f64()
    );
}
