//! Exporters: a [`Sheet`] to CSV, JSON or a table for people.

use std::fmt::Write as _;

use super::{Sheet, Value};

/// How a summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// Comma-separated values with a header row; floats in shortest round-trip form.
    Csv,
    /// An array of objects, one per row, keys in column order.
    Json,
}

/// Renders `sheet` in `format`.
pub fn render(sheet: &Sheet, format: Format) -> Vec<u8> {
    match format {
        Format::Csv => csv(sheet),
        Format::Json => json(sheet),
        Format::Table => table(sheet).into_bytes(),
    }
}

pub(crate) fn cell(v: &Value) -> String {
    match v {
        // `{}` on f64 is the shortest string that parses back to the same bits, so
        // two runs can be compared exactly from their files.
        Value::Float(f) => format!("{f}"),
        Value::Int(i) => i.to_string(),
        Value::Text(s) => s.clone(),
        Value::Empty => String::new(),
    }
}

fn csv(sheet: &Sheet) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>| -> csv::Result<()> {
        w.write_record(&sheet.columns)?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(cell))?;
        }
        w.flush()?;
        Ok(())
    };
    write(&mut w).expect("writing CSV to memory cannot fail");
    w.into_inner().expect("flushed above")
}

fn json(sheet: &Sheet) -> Vec<u8> {
    let rows: Vec<serde_json::Value> = sheet
        .rows
        .iter()
        .map(|row| {
            let object = sheet
                .columns
                .iter()
                .zip(row)
                .map(|(name, v)| {
                    let v = match v {
                        Value::Float(f) => serde_json::Number::from_f64(*f)
                            .map_or(serde_json::Value::Null, serde_json::Value::Number),
                        Value::Int(i) => serde_json::Value::from(*i),
                        Value::Text(s) => serde_json::Value::from(s.as_str()),
                        Value::Empty => serde_json::Value::Null,
                    };
                    (name.to_string(), v)
                })
                .collect();
            serde_json::Value::Object(object)
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&rows).expect("JSON values always serialize");
    bytes.push(b'\n');
    bytes
}

/// Columns a person reads; the rest goes in a footer line.
const TABLE_COLUMNS: [&str; 6] = [
    "quantity",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "reference",
];

fn table(sheet: &Sheet) -> String {
    // The swept keys of a sweep, after the fixed columns.
    let known = |c: &&str| {
        super::SUMMARY_COLUMNS.contains(c)
            || super::EXTRA_COLUMNS.contains(c)
            || super::SAMPLER_COLUMNS.contains(c)
    };
    let columns: Vec<&str> = TABLE_COLUMNS
        .iter()
        .copied()
        .chain(sheet.columns.iter().copied().filter(|c| !known(c)))
        .collect();
    let mut grid: Vec<Vec<String>> = vec![columns.iter().map(|c| c.to_string()).collect()];
    for r in 0..sheet.rows.len() {
        let se = match sheet.get(r, "std_error") {
            Some(Value::Float(se)) => *se,
            _ => f64::NAN,
        };
        grid.push(
            columns
                .iter()
                .map(|c| match sheet.get(r, c) {
                    Some(v) if !TABLE_COLUMNS.contains(c) => cell(v),
                    Some(Value::Float(f)) if *c == "std_error" => significant(*f, 2),
                    Some(Value::Float(f)) => to_precision_of(*f, se),
                    Some(v) => cell(v),
                    None => String::new(),
                })
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..columns.len())
        .map(|c| grid.iter().map(|row| row[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &grid {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if c == 0 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if !sheet.rows.is_empty() {
        let text = |c| sheet.get(0, c).map(cell).unwrap_or_default();
        let seconds: f64 = text("wall_seconds").parse().unwrap_or(f64::NAN);
        let rate: f64 = text("samples_per_second").parse().unwrap_or(f64::NAN);
        let normal = text("normal");
        let _ = writeln!(
            out,
            "{} samples, {} confidence, {} x{} in {:.3} s ({}/s), seed {}, {}{}",
            text("samples"),
            text("confidence"),
            text("backend"),
            text("workers"),
            seconds,
            si(rate),
            text("seed"),
            text("rng"),
            if normal.is_empty() {
                String::new()
            } else {
                format!(", normals {normal}")
            },
        );
    }
    out
}

/// `x` with `digits` significant digits.
fn significant(x: f64, digits: i32) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let decimals = (digits - 1 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// `x` rounded to the decimal of the second significant digit of its error `se`.
fn to_precision_of(x: f64, se: f64) -> String {
    if !se.is_finite() || se <= 0.0 {
        return format!("{x}");
    }
    let decimals = (1 - se.log10().floor() as i32).clamp(0, 17) as usize;
    format!("{x:.decimals$}")
}

/// A rate with an SI prefix: `248.1 M`.
fn si(x: f64) -> String {
    match x {
        x if !x.is_finite() => "-".to_string(),
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.1} M", x / 1e6),
        x if x >= 1e3 => format!("{:.1} k", x / 1e3),
        x => format!("{x:.0} "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            columns: vec!["quantity", "estimate", "std_error", "note"],
            rows: vec![vec![
                Value::Text("pi".into()),
                Value::Float(0.1 + 0.2),
                Value::Float(1e-7),
                Value::Empty,
            ]],
        }
    }

    #[test]
    fn csv_floats_round_trip_exactly() {
        let text = String::from_utf8(render(&sheet(), Format::Csv)).unwrap();
        assert_eq!(
            text,
            "quantity,estimate,std_error,note\npi,0.30000000000000004,0.0000001,\n"
        );
    }

    #[test]
    fn json_keeps_column_order_and_nulls() {
        let text = String::from_utf8(render(&sheet(), Format::Json)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&String> = v[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["quantity", "estimate", "std_error", "note"]);
        assert_eq!(v[0]["estimate"], 0.30000000000000004);
        assert!(v[0]["note"].is_null());
    }

    #[test]
    fn table_rounds_to_the_error() {
        assert_eq!(to_precision_of(1.23456789, 0.0012), "1.2346");
        assert_eq!(significant(0.0012345, 2), "0.0012");
        assert_eq!(si(2.5e8), "250.0 M");
    }
}
