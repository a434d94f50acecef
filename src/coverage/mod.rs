//! Coverage studies: how often each interval carlo reports holds the value it
//! estimates, over many seeds, against binomial bands.
//!
//! A [`Cell`] is a config without its seed (a model, option side, moneyness, variance
//! reduction, sampler and sample size); every quantity its run reports (the price,
//! each Greek, each sweep point and difference) is checked at 90%, 95% and 99% on the
//! same runs. The value an interval should hold is the quantity's `reference` when
//! carlo has an exact one (closed forms, and whatever exact references later versions
//! add: the study reads the column, it does not keep its own), else a long run of the
//! same model ([`Reference`] says which, and the long run's own standard error, which
//! the band allows for).
//!
//! A cell is *inside* when its hits lie within [`Z_BAND`] binomial standard deviations
//! of `seeds x confidence` (widened by the reference's own error where it is a long
//! run): a correct interval falls outside about once in 370 rows, so a study of a few
//! hundred rows may show one or two by chance, and a wrong one (Student's t on skewed
//! replicate means at 0.91 for 0.95 over 1000 seeds is 5.8 deviations off) stands out.
//!
//! `benches/coverage.rs` runs [`full_matrix`] and writes `results/studies/coverage.csv`
//! and its plot; `tests/coverage.rs` runs a reduced matrix with fixed seeds.

mod plot;

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::config::{Experiment, Overrides};
use crate::engine::{Quiet, quantity_estimate, run};
use crate::model::{Quantity, ReferenceKind, Registry};

pub use plot::plot;

/// Binomial standard deviations a cell's hits may lie from their expectation.
pub const Z_BAND: f64 = 3.0;

/// The confidence levels every quantity is checked at.
pub const LEVELS: [f64; 3] = [0.90, 0.95, 0.99];

/// One configuration of the study: a config without its seed.
#[derive(Debug, Clone)]
pub struct Cell {
    /// A short label: model, side, moneyness, reduction, sampler, samples.
    pub label: String,
    /// The config's text, with `{seed}` where the seed goes.
    pub config: String,
    /// Samples of a long run for the quantities without an exact reference (0: skip
    /// those quantities).
    pub long_samples: u64,
}

/// Where the value a row is checked against comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// The quantity's exact `reference` (closed form or lattice).
    Exact(f64),
    /// A long run of the same model: its estimate and standard error.
    LongRun {
        /// The long run's estimate.
        value: f64,
        /// Its standard error.
        std_error: f64,
        /// Its samples.
        samples: u64,
    },
}

impl Reference {
    /// The value.
    pub fn value(&self) -> f64 {
        match *self {
            Reference::Exact(v) | Reference::LongRun { value: v, .. } => v,
        }
    }

    /// How it was computed, for the CSV.
    pub fn source(&self) -> String {
        match self {
            Reference::Exact(_) => "exact".into(),
            Reference::LongRun {
                std_error, samples, ..
            } => format!("long run ({samples} samples, se {std_error:.3e})"),
        }
    }
}

/// What a cell's runs gave for one quantity at one confidence level.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The cell's label.
    pub cell: String,
    /// The quantity, with its sweep point (`price@strike=95`).
    pub quantity: String,
    /// The confidence level.
    pub confidence: f64,
    /// Seeds run.
    pub seeds: u64,
    /// Intervals that held the reference.
    pub covered: u64,
    /// Intervals wholly above the reference.
    pub above: u64,
    /// Intervals wholly below the reference.
    pub below: u64,
    /// The reference.
    pub reference: Reference,
    /// The mean reported standard error.
    pub mean_std_error: f64,
    /// The standard deviation of the estimates over the seeds.
    pub sd_estimate: f64,
    /// The median of the reported `variance_reduction`.
    pub median_variance_reduction: f64,
    /// Seconds for all the cell's runs.
    pub seconds: f64,
}

impl Row {
    /// Covered over seeds.
    pub fn coverage(&self) -> f64 {
        self.covered as f64 / self.seeds as f64
    }

    /// The band the coverage of a correct interval falls in: [`Z_BAND`] binomial
    /// deviations around the confidence, widened for a long-run reference by the
    /// coverage its error can cost (a reference off by `d` standard errors of the
    /// estimate moves a normal interval's coverage by about `phi(z) d^2 z`, taken
    /// at 3 of the long run's standard errors).
    pub fn band(&self) -> (f64, f64) {
        let c = self.confidence;
        let n = self.seeds as f64;
        let half = Z_BAND * (c * (1.0 - c) / n).sqrt();
        let slack = match self.reference {
            Reference::LongRun { std_error, .. } if self.mean_std_error > 0.0 => {
                let d = 3.0 * std_error / self.mean_std_error;
                let z = crate::math::inverse_normal_cdf(0.5 + 0.5 * c);
                let density = crate::math::exp(-0.5 * z * z) / (2.0 * std::f64::consts::PI).sqrt();
                density * d * d * z
            }
            _ => 0.0,
        };
        ((c - half - slack).max(0.0), (c + half).min(1.0))
    }

    /// Whether the coverage lies in its band.
    pub fn inside(&self) -> bool {
        let (lo, hi) = self.band();
        (lo..=hi).contains(&self.coverage())
    }
}

/// The CSV header of [`csv`](fn@csv).
pub const COLUMNS: [&str; 18] = [
    "cell",
    "quantity",
    "confidence",
    "seeds",
    "coverage",
    "band_low",
    "band_high",
    "inside",
    "below",
    "above",
    "reference",
    "reference_source",
    "mean_std_error",
    "sd_estimate",
    "se_ratio",
    "median_variance_reduction",
    "measured_variance_reduction",
    "seconds",
];

/// The study as CSV text (floats in Rust's shortest round-trip form).
/// `measured_variance_reduction` is the variance over seeds of the plain Monte Carlo
/// cell with the same model and size (the cell whose label has `plain mc` where this
/// one has its reduction and sampler) over this cell's, for the price; empty where
/// there is no such cell.
pub fn csv(rows: &[Row]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for r in rows {
        let (lo, hi) = r.band();
        let measured = measured_ratio(r, rows).map_or(String::new(), |m| m.to_string());
        let fields = [
            quote(&r.cell),
            quote(&r.quantity),
            r.confidence.to_string(),
            r.seeds.to_string(),
            r.coverage().to_string(),
            lo.to_string(),
            hi.to_string(),
            r.inside().to_string(),
            (r.below as f64 / r.seeds as f64).to_string(),
            (r.above as f64 / r.seeds as f64).to_string(),
            r.reference.value().to_string(),
            quote(&r.reference.source()),
            r.mean_std_error.to_string(),
            r.sd_estimate.to_string(),
            (r.mean_std_error / r.sd_estimate).to_string(),
            r.median_variance_reduction.to_string(),
            measured,
            format!("{:.3}", r.seconds),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// Reads back the rows [`csv`](fn@csv) wrote (for a plot of a study that was stopped, or
/// of one run elsewhere); `None` for text that is not such a CSV.
pub fn from_csv(text: &str) -> Option<Vec<Row>> {
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().ok()?.clone();
    if header.iter().collect::<Vec<_>>() != COLUMNS {
        return None;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let r = record.ok()?;
        let f = |i: usize| r.get(i).and_then(|v| v.parse::<f64>().ok());
        let seeds = r.get(3)?.parse::<u64>().ok()?;
        let count = |x: f64| (x * seeds as f64).round() as u64;
        let (coverage, below, above) = (f(4)?, f(8)?, f(9)?);
        let source = r.get(11)?;
        let reference = if source == "exact" {
            Reference::Exact(f(10)?)
        } else {
            // "long run (N samples, se X)"
            let inner = source
                .trim_start_matches("long run (")
                .trim_end_matches(')');
            let mut parts = inner.split(" samples, se ");
            Reference::LongRun {
                value: f(10)?,
                samples: parts.next()?.parse().ok()?,
                std_error: parts.next()?.parse().ok()?,
            }
        };
        rows.push(Row {
            cell: r.get(0)?.to_string(),
            quantity: r.get(1)?.to_string(),
            confidence: f(2)?,
            seeds,
            covered: count(coverage),
            above: count(above),
            below: count(below),
            reference,
            mean_std_error: f(12)?,
            sd_estimate: f(13)?,
            median_variance_reduction: f(15)?,
            seconds: f(17)?,
        });
    }
    Some(rows)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The variance of the matching plain Monte Carlo price over this row's (see [`csv`](fn@csv)).
pub fn measured_ratio(row: &Row, rows: &[Row]) -> Option<f64> {
    if !row.quantity.starts_with("price") || row.cell.contains("plain mc") {
        return None;
    }
    let plain_label = plain_label(&row.cell)?;
    let plain = rows.iter().find(|r| {
        r.cell == plain_label && r.quantity == row.quantity && r.confidence == row.confidence
    })?;
    Some((plain.sd_estimate / row.sd_estimate).powi(2))
}

/// The label of the plain Monte Carlo cell of the same model and size: the labels of
/// [`full_matrix`] are `model side moneyness | reduction sampler | samples`.
fn plain_label(label: &str) -> Option<String> {
    let parts: Vec<&str> = label.split(" | ").collect();
    if parts.len() != 3 {
        return None;
    }
    Some(format!("{} | plain mc | {}", parts[0], parts[2]))
}

/// Runs `cell` for `seeds` (each seed a whole run, sequential backend) and returns a
/// row per quantity and level.
pub fn run_cell(cell: &Cell, seeds: std::ops::Range<u64>) -> Result<Vec<Row>, Error> {
    let registry = Registry::builtin();
    let start = std::time::Instant::now();
    let parse = |seed: u64, samples: Option<u64>| -> Result<Experiment, Error> {
        let mut text = cell.config.replace("{seed}", &seed.to_string());
        if let Some(n) = samples {
            text = with_samples(&text, n);
        }
        Experiment::parse(
            &text,
            Path::new("coverage.toml"),
            &Overrides::default(),
            &registry,
        )
    };
    // Per quantity label and level: hits; per label: estimates, errors, ratios.
    let mut tallies: BTreeMap<(usize, String), Tally> = BTreeMap::new();
    let mut references: BTreeMap<String, Reference> = BTreeMap::new();
    let mut long: Option<Vec<Reference>> = None;
    let n_seeds = seeds.end - seeds.start;
    for seed in seeds {
        let experiment = parse(seed, None)?;
        let report = run(&experiment, &mut Quiet)?;
        for (index, (q, e)) in report.estimates.iter().enumerate() {
            let label = label(q);
            if !references.contains_key(&label) {
                match reference(q) {
                    Some(r) => {
                        references.insert(label.clone(), r);
                    }
                    None if cell.long_samples > 0 => {
                        if long.is_none() {
                            long = Some(long_run(cell, &registry)?);
                        }
                        let r = long.as_ref().and_then(|l| l.get(index)).cloned();
                        match r {
                            Some(r) => references.insert(label.clone(), r),
                            None => continue,
                        };
                    }
                    None => continue,
                }
            }
            let target = references[&label].value();
            for (k, &c) in LEVELS.iter().enumerate() {
                let est = quantity_estimate(q, &report.moments, c);
                let t = tallies.entry((index, label.clone())).or_default();
                let hit = &mut t.hits[k];
                if est.ci_low > target {
                    hit.1 += 1;
                } else if est.ci_high < target {
                    hit.2 += 1;
                } else {
                    hit.0 += 1;
                }
            }
            let t = tallies.entry((index, label)).or_default();
            t.estimates.push(e.estimate);
            t.errors.push(e.std_error);
            t.ratios.push(e.variance_ratio);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    for ((_, label), t) in tallies {
        let n = t.estimates.len() as f64;
        let mean = t.estimates.iter().sum::<f64>() / n;
        let sd = (t.estimates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let mean_se = t.errors.iter().sum::<f64>() / n;
        let mut ratios = t.ratios.clone();
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        for (k, &c) in LEVELS.iter().enumerate() {
            let (covered, above, below) = t.hits[k];
            rows.push(Row {
                cell: cell.label.clone(),
                quantity: label.clone(),
                confidence: c,
                seeds: n_seeds,
                covered,
                above,
                below,
                reference: references[&label].clone(),
                mean_std_error: mean_se,
                sd_estimate: sd,
                median_variance_reduction: median,
                seconds,
            });
        }
    }
    Ok(rows)
}

#[derive(Debug, Default)]
struct Tally {
    /// Per level: (covered, interval above, interval below).
    hits: [(u64, u64, u64); 3],
    estimates: Vec<f64>,
    errors: Vec<f64>,
    ratios: Vec<f64>,
}

/// A quantity's label: its name and its sweep point.
fn label(q: &Quantity) -> String {
    match &q.point {
        Some(p) => {
            let values: Vec<String> = p.iter().map(|v| v.to_string()).collect();
            format!("{}@{}", q.name, values.join("/"))
        }
        None => q.name.to_string(),
    }
}

/// The exact reference of `q`, where it has one (a quadrature one is exact enough too).
fn reference(q: &Quantity) -> Option<Reference> {
    match q.reference {
        Some((v, ReferenceKind::Exact | ReferenceKind::Quadrature)) if v.is_finite() => {
            Some(Reference::Exact(v))
        }
        _ => None,
    }
}

/// The long run of `cell`, a reference per quantity: Monte Carlo (the cell's
/// variance reduction kept), `cell.long_samples` samples, a seed no cell run uses,
/// every thread of the machine.
fn long_run(cell: &Cell, registry: &Registry) -> Result<Vec<Reference>, Error> {
    let text = with_samples(
        &cell.config.replace("{seed}", &(1u64 << 40).to_string()),
        cell.long_samples,
    );
    let text = text
        .lines()
        .filter(|l| !l.starts_with("sampler") && !l.starts_with("replicates"))
        .map(|l| {
            if l.starts_with("chunk_size") {
                "chunk_size = 65536"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut experiment = Experiment::parse(
        &text,
        Path::new("coverage-long.toml"),
        &Overrides::default(),
        registry,
    )?;
    experiment.backend = crate::backend::Backend::Threads;
    experiment.workers = 2;
    let report = run(&experiment, &mut Quiet)?;
    Ok(report
        .estimates
        .iter()
        .map(|(_, e)| Reference::LongRun {
            value: e.estimate,
            std_error: e.std_error,
            samples: cell.long_samples,
        })
        .collect())
}

/// `text` with its `samples = ...` line set to `n`.
fn with_samples(text: &str, n: u64) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("samples") {
                format!("samples = {n}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Market and contract of one cell.
#[derive(Debug, Clone, Copy)]
pub struct Contract {
    /// `european`, `asian-arithmetic`, `asian-geometric`, `barrier-KIND` or `american`.
    pub model: &'static str,
    /// `call` or `put`.
    pub option: &'static str,
    /// The strike (spot 100).
    pub strike: f64,
}

impl Contract {
    fn moneyness(&self) -> &'static str {
        let itm = if self.option == "call" {
            self.strike < 100.0
        } else {
            self.strike > 100.0
        };
        if self.strike == 100.0 {
            "atm"
        } else if itm {
            "itm"
        } else {
            "otm"
        }
    }

    /// The `[model]` table.
    fn model_table(&self, extra: &str) -> String {
        let (kind, more) = match self.model {
            "european" => ("european", String::new()),
            "asian-arithmetic" => (
                "asian",
                "fixings = 12\naverage = \"arithmetic\"\n".to_string(),
            ),
            "asian-geometric" => (
                "asian",
                "fixings = 12\naverage = \"geometric\"\n".to_string(),
            ),
            "american" => ("american", "steps = 10\n".to_string()),
            barrier => {
                let kind = barrier.trim_start_matches("barrier-");
                let level = if kind.starts_with("up") { 120.0 } else { 85.0 };
                (
                    "barrier",
                    format!("kind = \"{kind}\"\nbarrier = {level:?}\nsteps = 12\n"),
                )
            }
        };
        format!(
            "[model]\ntype = \"{kind}\"\noption = \"{}\"\nspot = 100.0\nstrike = {:?}\n\
             rate = 0.05\ndividend = 0.0\nvolatility = 0.2\nmaturity = 1.0\n{more}{extra}",
            self.option, self.strike
        )
    }
}

/// How a cell reduces variance and samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Plain Monte Carlo.
    Plain,
    /// Antithetic pairs.
    Antithetic,
    /// The model's control variate.
    Control,
    /// Scrambled Sobol with this many replicates.
    Sobol(u64),
    /// Scrambled Sobol with this many replicates and the control variate.
    SobolControl(u64),
}

impl Method {
    fn name(self) -> String {
        match self {
            Method::Plain => "plain mc".into(),
            Method::Antithetic => "antithetic mc".into(),
            Method::Control => "control mc".into(),
            Method::Sobol(r) => format!("plain sobol{r}"),
            Method::SobolControl(r) => format!("control sobol{r}"),
        }
    }
}

/// The cell of `contract` by `method` at `samples`, with `greeks` and a `sweep`
/// (`(key, values)`) when given.
pub fn cell(
    contract: Contract,
    method: Method,
    samples: u64,
    greeks: bool,
    sweep: Option<(&str, &str)>,
    long_samples: u64,
) -> Cell {
    let (sampler, model_extra) = match method {
        Method::Plain => (String::new(), ""),
        Method::Antithetic => (String::new(), "antithetic = true\n"),
        Method::Control => (String::new(), "control_variate = true\n"),
        Method::Sobol(r) => (
            format!(
                "sampler = \"sobol\"\nreplicates = {r}\nchunk_size = {}\n",
                samples / r
            ),
            "",
        ),
        Method::SobolControl(r) => (
            format!(
                "sampler = \"sobol\"\nreplicates = {r}\nchunk_size = {}\n",
                samples / r
            ),
            "control_variate = true\n",
        ),
    };
    let chunk = if sampler.is_empty() {
        format!("chunk_size = {}\n", samples.min(16_384))
    } else {
        String::new()
    };
    let mut extra = model_extra.to_string();
    if greeks {
        extra.push_str("greeks = [\"delta\", \"gamma\", \"vega\", \"rho\", \"theta\"]\n");
    }
    let sweep_table = sweep.map_or(String::new(), |(k, v)| format!("[sweep]\n{k} = [{v}]\n"));
    let label = format!(
        "{} {} {}{}{} | {} | {}",
        contract.model,
        contract.option,
        contract.moneyness(),
        if greeks { " greeks" } else { "" },
        sweep.map_or(String::new(), |(k, _)| format!(" sweep-{k}")),
        method.name(),
        samples
    );
    Cell {
        label,
        config: format!(
            "[simulation]\nsamples = {samples}\nseed = {{seed}}\n{sampler}{chunk}{}\
             [execution]\nbackend = \"sequential\"\n{sweep_table}",
            contract.model_table(&extra)
        ),
        long_samples,
    }
}

/// The whole study: every model and option side at three moneyness levels, plain,
/// antithetic and control Monte Carlo, Sobol with the default replicates (with and
/// without the control), every Greek at the money, a strike sweep with its
/// differences, at a small and a large sample size (`sizes`: `(samples,
/// long_samples)` each). The European option, whose Sobol path is one-dimensional
/// and whose intervals are the hardest, gets every method at every size, the fewest
/// replicates allowed included; the other models get the whole grid at the first
/// size and the price and Greeks at the money at the others.
pub fn full_matrix(sizes: &[(u64, u64)]) -> Vec<Cell> {
    use crate::random::sampler::{DEFAULT_REPLICATES, MIN_CONTROL_REPLICATES};
    let mut cells = Vec::new();
    let models = [
        "european",
        "asian-arithmetic",
        "asian-geometric",
        "barrier-up-and-out",
        "barrier-up-and-in",
        "barrier-down-and-out",
        "barrier-down-and-in",
        "american",
    ];
    for (k, &(samples, long)) in sizes.iter().enumerate() {
        for model in models {
            let european = model == "european";
            let american = model == "american";
            if k > 0 && american {
                continue;
            }
            for option in ["call", "put"] {
                let strikes: &[f64] = if k == 0 || european {
                    &[90.0, 100.0, 110.0]
                } else {
                    &[100.0]
                };
                for &strike in strikes {
                    let c = Contract {
                        model,
                        option,
                        strike,
                    };
                    let mut methods = vec![Method::Plain];
                    if k == 0 || european {
                        methods.extend([Method::Antithetic, Method::Control]);
                    }
                    if !american {
                        methods.push(Method::Sobol(DEFAULT_REPLICATES));
                        if k == 0 || european {
                            methods.push(Method::SobolControl(MIN_CONTROL_REPLICATES));
                        }
                        if european {
                            methods.push(Method::Sobol(2));
                        }
                    }
                    for m in methods {
                        // Greeks at the money (every estimator, one market); the
                        // American has none.
                        let greeks = strike == 100.0 && !american;
                        cells.push(cell(c, m, samples, greeks, None, long));
                    }
                }
                // A strike sweep with its differences, plain and sobol.
                if !american && (k == 0 || european) {
                    let c = Contract {
                        model,
                        option,
                        strike: 100.0,
                    };
                    for m in [Method::Plain, Method::Sobol(DEFAULT_REPLICATES)] {
                        cells.push(cell(
                            c,
                            m,
                            samples,
                            false,
                            Some(("strike", "95.0, 100.0, 105.0")),
                            long,
                        ));
                    }
                }
            }
        }
    }
    cells
}

/// Runs every cell for `seeds`, calling `progress` after each, and returns the rows.
pub fn run_matrix(
    cells: &[Cell],
    seeds: std::ops::Range<u64>,
    mut progress: impl FnMut(usize, &[Row]),
) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        let r = run_cell(c, seeds.clone())?;
        progress(i, &r);
        rows.extend(r);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_from_their_csv() {
        let row = |cell: &str, reference| Row {
            cell: cell.into(),
            quantity: "price@strike=95".into(),
            confidence: 0.95,
            seeds: 1000,
            covered: 948,
            above: 11,
            below: 41,
            reference,
            mean_std_error: 0.01,
            sd_estimate: 0.0105,
            median_variance_reduction: 4.0,
            seconds: 1.5,
        };
        let rows = vec![
            row(
                "european call atm | plain mc | 1024",
                Reference::Exact(10.45),
            ),
            row(
                "asian, arithmetic | plain sobol16 | 1024",
                Reference::LongRun {
                    value: 5.7,
                    std_error: 1.25e-4,
                    samples: 4_000_000,
                },
            ),
        ];
        let back = from_csv(&csv(&rows)).unwrap();
        assert_eq!(back, rows);
        assert!(rows[0].inside());
        assert!(from_csv("a,b\n1,2\n").is_none());
    }
}
