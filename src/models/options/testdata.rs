//! The independent values of `testdata/references.csv` (made by
//! `testdata/references.py`: dense quadrature, mpmath and QuantLib 1.44), for the
//! tests of the numerical references.

use super::market::{BarrierKind, Market, OptionType};

/// One row of `references.csv`.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub market: Market,
    pub kind: Option<BarrierKind>,
    pub barrier: f64,
    pub rebate: f64,
    pub steps: u64,
    pub quantity: String,
    pub value: f64,
    /// The independent value's own error bound, as its script estimated it.
    pub uncertainty: f64,
    pub source: String,
}

/// The rows of family `family` (`barrier`, `bermudan`, `american`).
pub(super) fn rows(family: &str) -> Vec<Row> {
    let text = include_str!("testdata/references.csv");
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let num = |s: &str| {
        if s.is_empty() {
            0.0
        } else {
            s.parse::<f64>().expect(s)
        }
    };
    lines
        .map(|l| l.split(',').collect::<Vec<&str>>())
        .filter(|c| c[col("family")] == family)
        .map(|c| Row {
            market: Market {
                option: if c[col("option")] == "call" {
                    OptionType::Call
                } else {
                    OptionType::Put
                },
                spot: 100.0,
                strike: num(c[col("strike")]),
                rate: num(c[col("rate")]),
                dividend: num(c[col("dividend")]),
                volatility: num(c[col("volatility")]),
                maturity: num(c[col("maturity")]),
            },
            kind: match c[col("kind")] {
                "up-and-out" => Some(BarrierKind::UpAndOut),
                "up-and-in" => Some(BarrierKind::UpAndIn),
                "down-and-out" => Some(BarrierKind::DownAndOut),
                "down-and-in" => Some(BarrierKind::DownAndIn),
                _ => None,
            },
            barrier: num(c[col("barrier")]),
            rebate: num(c[col("rebate")]),
            steps: num(c[col("steps")]) as u64,
            quantity: c[col("quantity")].to_string(),
            value: num(c[col("value")]),
            uncertainty: num(c[col("uncertainty")]),
            source: c[col("source")].to_string(),
        })
        .collect()
}
