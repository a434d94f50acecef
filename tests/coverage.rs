//! Coverage, reduced: the intervals of a few estimators hold their exact value as
//! often as they claim over fixed seeds. The full matrix is `cargo bench --bench
//! coverage -- --seeds 1000` (`carlo::coverage`, results in results/studies/).
//!
//! Each row (a quantity at 90%, 95% or 99%) must lie within 4 binomial standard
//! deviations of its confidence: with the seeds fixed the test is deterministic, and
//! a correct interval would fall outside such a band about once in 16 000 rows, while
//! the faults these rows guard against (Student's t on skewed replicate means at
//! 0.91 for 0.95, a Greek's standard error off by a factor, a sweep difference
//! treated as two independent runs) fall outside it at these seed counts.

use carlo::coverage::{Contract, Method, Row, cell, run_cell};

fn check(rows: &[Row]) {
    let mut bad = Vec::new();
    for r in rows {
        let n = r.seeds as f64;
        let c = r.confidence;
        let half = 4.0 * (c * (1.0 - c) / n).sqrt();
        if (r.coverage() - c).abs() > half {
            bad.push(format!(
                "{} {} at {c}: {:.3} (below {:.3}, above {:.3})",
                r.cell,
                r.quantity,
                r.coverage(),
                r.below as f64 / n,
                r.above as f64 / n
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "outside 4 binomial deviations:\n{}",
        bad.join("\n")
    );
}

const CALL: Contract = Contract {
    model: "european",
    option: "call",
    strike: 100.0,
};

/// The European call on 16 replicates of 4096 Sobol points (a block each, the fewest
/// 0.3.0 allows), where Student's t on the skewed replicate means under-covered
/// at fewer, and the put.
#[test]
fn sobol_european_intervals_cover() {
    for option in ["call", "put"] {
        let c = Contract { option, ..CALL };
        let rows = run_cell(&cell(c, Method::Sobol(16), 65_536, false, None, 0), 0..400).unwrap();
        assert_eq!(rows.len(), 3);
        check(&rows);
    }
}

/// Every Greek of the European option on plain Monte Carlo, against Black-Scholes.
#[test]
fn european_greeks_cover() {
    let rows = run_cell(&cell(CALL, Method::Plain, 4096, true, None, 0), 0..300).unwrap();
    assert_eq!(rows.len(), 18, "price and five Greeks at three levels");
    check(&rows);
}

/// A strike sweep's prices and finite differences (paired samples), on Sobol points
/// with the control variate at the fewest replicates allowed with one (16).
#[test]
fn sweep_differences_cover() {
    let rows = run_cell(
        &cell(
            CALL,
            Method::Plain,
            4096,
            false,
            Some(("strike", "95.0, 100.0, 105.0")),
            0,
        ),
        0..300,
    )
    .unwrap();
    // Three prices and two differences.
    assert_eq!(rows.len(), 15);
    check(&rows);
    let asian = Contract {
        model: "asian-geometric",
        ..CALL
    };
    let rows = run_cell(
        &cell(asian, Method::SobolControl(16), 65_536, false, None, 0),
        0..300,
    )
    .unwrap();
    check(&rows);
}
