//! Comparing what a summary claims with the summary of the recomputed run: every
//! column the job decides, rows matched by their labels (the quantity, and the point
//! of a sweep), values as numbers bit for bit.
//!
//! Values are compared as the numbers they spell, not as spellings: a summary that a
//! spreadsheet or pandas read and wrote back (`1e-05` for `0.00001`, an empty field for
//! `NaN`, `200003.0` for a count) verifies when it holds the same doubles. Rows are
//! looked up by label in a hash map, so comparing takes time linear in the rows.

use std::collections::{HashMap, HashSet};

use super::claim::{Cell, Claim};
use crate::output::{Sheet, Value};

/// The columns that say where and how fast a run ran, and how it was scheduled: the
/// job does not decide them, so they are never compared.
pub const EXECUTION: [&str; 6] = [
    "backend",
    "chunk_size",
    "workers",
    "wall_seconds",
    "samples_per_second",
    "worker_restarts",
];

/// One value, row or column where the claim and the recomputed run differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The row's label (`price`, `price at strike = 90`), or `every row` for a column.
    pub row: String,
    /// The column, or `(row)` for a row that one side lacks.
    pub column: String,
    /// What the summary says.
    pub claimed: String,
    /// What the recomputed run gives.
    pub recomputed: String,
}

/// What a comparison looked at and found.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Rows of the recomputed summary (each matched by label, or missing).
    pub rows: usize,
    /// The columns compared: every column of the recomputed summary the job decides.
    pub columns: Vec<String>,
    /// Everything that differs.
    pub differences: Vec<Difference>,
    /// Columns of the claim that carlo does not write for this job (an index a
    /// spreadsheet added): not compared.
    pub ignored: Vec<String>,
}

/// Compares `claim` with `recomputed`, the summary of the recomputed run, whose rows
/// are labelled by the columns `labels` (`quantity`, then one per swept key).
pub fn compare(claim: &Claim, recomputed: &Sheet, labels: &[&str]) -> Comparison {
    let columns: Vec<&str> = recomputed
        .columns
        .iter()
        .copied()
        .filter(|c| !EXECUTION.contains(c))
        .collect();
    let at = |name: &str| claim.columns.iter().position(|c| c == name);
    let mut differences = Vec::new();
    for c in &columns {
        if at(c).is_none() {
            differences.push(Difference {
                row: "every row".into(),
                column: (*c).to_string(),
                claimed: "(no such column)".into(),
                recomputed: "a column this job's summary has".into(),
            });
        }
    }
    let ignored = claim
        .columns
        .iter()
        .filter(|c| !recomputed.columns.contains(&c.as_str()))
        .cloned()
        .collect();
    // The recomputed rows by label.
    let label_of = |r: usize| -> (String, String) {
        let key = labels
            .iter()
            .map(|l| recomputed.get(r, l).map_or_else(String::new, value_key))
            .collect::<Vec<_>>()
            .join("\u{1f}");
        (
            key,
            shown_label(labels, |l| recomputed.get(r, l).map(crate::output::cell)),
        )
    };
    let mut by_label: HashMap<String, usize> = HashMap::with_capacity(recomputed.rows.len());
    let mut names = Vec::with_capacity(recomputed.rows.len());
    for r in 0..recomputed.rows.len() {
        let (key, name) = label_of(r);
        by_label.insert(key, r);
        names.push(name);
    }
    let claim_labels: Vec<Option<usize>> = labels.iter().map(|l| at(l)).collect();
    let mut seen: HashSet<usize> = HashSet::with_capacity(recomputed.rows.len());
    for row in &claim.rows {
        let key = claim_labels
            .iter()
            .map(|c| c.map_or_else(String::new, |c| cell_key(&row[c])))
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let name = shown_label(labels, |l| {
            at(l).map(|c| match &row[c] {
                Cell::Empty => String::new(),
                other => other.shown(),
            })
        });
        let Some(&r) = by_label.get(&key) else {
            differences.push(Difference {
                row: name,
                column: "(row)".into(),
                claimed: "a row".into(),
                recomputed: "no such row in this job's summary".into(),
            });
            continue;
        };
        if !seen.insert(r) {
            differences.push(Difference {
                row: name,
                column: "(row)".into(),
                claimed: "a second row with this label".into(),
                recomputed: "one row".into(),
            });
            continue;
        }
        for column in &columns {
            let (Some(c), Some(value)) = (at(column), recomputed.get(r, column)) else {
                continue;
            };
            if !same(&row[c], value) {
                differences.push(Difference {
                    row: names[r].clone(),
                    column: (*column).to_string(),
                    claimed: row[c].shown(),
                    recomputed: short(&crate::output::cell(value)),
                });
            }
        }
    }
    for (r, name) in names.iter().enumerate() {
        if !seen.contains(&r) {
            differences.push(Difference {
                row: name.clone(),
                column: "(row)".into(),
                claimed: "(missing)".into(),
                recomputed: "a row of this job's summary".into(),
            });
        }
    }
    Comparison {
        rows: recomputed.rows.len(),
        columns: columns.iter().map(|c| (*c).to_string()).collect(),
        differences,
        ignored,
    }
}

/// A row's label for people: the quantity, then the sweep point.
fn shown_label(labels: &[&str], value: impl Fn(&str) -> Option<String>) -> String {
    let quantity = value(labels[0]).unwrap_or_default();
    let point: Vec<String> = labels[1..]
        .iter()
        .map(|l| format!("{l} = {}", value(l).unwrap_or_default()))
        .collect();
    if point.is_empty() {
        short(&quantity)
    } else {
        format!("{} at {}", short(&quantity), point.join(", "))
    }
}

/// The key a label value is matched by: its number's bits when it spells a number
/// (`90`, `90.0` and `9e1` alike), else its text.
fn text_key(text: &str) -> String {
    match text.trim().parse::<f64>() {
        Ok(x) if !text.trim().is_empty() => format!("n{:016x}", x.to_bits()),
        _ => format!("t{text}"),
    }
}

fn value_key(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("n{:016x}", f.to_bits()),
        Value::Int(i) => format!("n{:016x}", (*i as f64).to_bits()),
        Value::Text(t) => text_key(t),
        Value::Empty => "e".into(),
    }
}

fn cell_key(cell: &Cell) -> String {
    match cell {
        Cell::Empty => "e".into(),
        Cell::Text(t) | Cell::Other(t) => text_key(t),
        Cell::Number(n) => n.as_f64().map_or_else(
            || text_key(&n.to_string()),
            |x| format!("n{:016x}", x.to_bits()),
        ),
    }
}

/// The number a cell spells, if it spells one.
fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Text(s) => s.trim().parse::<f64>().ok(),
        Cell::Number(n) => n.as_f64(),
        Cell::Empty | Cell::Other(_) => None,
    }
}

/// Whether a claimed cell holds the recomputed value: the same double bit for bit
/// (any NaN, or an empty cell, for a NaN), the same whole number (however spelt),
/// or the same text.
pub fn same(cell: &Cell, value: &Value) -> bool {
    match value {
        Value::Float(f) => match number(cell) {
            Some(x) => x.to_bits() == f.to_bits() || (x.is_nan() && f.is_nan()),
            None => f.is_nan() && matches!(cell, Cell::Empty),
        },
        Value::Int(i) => match cell {
            Cell::Text(s) => {
                let s = s.trim();
                s.parse::<u64>().ok() == Some(*i) || whole(s.parse::<f64>().ok(), *i)
            }
            Cell::Number(n) => n.as_u64() == Some(*i) || whole(n.as_f64(), *i),
            Cell::Empty | Cell::Other(_) => false,
        },
        Value::Text(t) => match cell {
            Cell::Text(s) | Cell::Other(s) => s == t,
            Cell::Number(n) => n.to_string() == *t,
            Cell::Empty => t.is_empty(),
        },
        Value::Empty => matches!(cell, Cell::Empty),
    }
}

/// Whether `x` is exactly the whole number `i` (a count that went through a
/// spreadsheet as a float: `200003.0`). Only below 2^53, where doubles are exact.
fn whole(x: Option<f64>, i: u64) -> bool {
    i < (1 << 53) && x == Some(i as f64)
}

/// `text` cut for a message: at most 40 characters, on one line.
pub fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let cut: String = line.chars().take(40).collect();
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn numbers_compare_as_doubles_not_spellings() {
        assert!(same(&text("0.00001"), &Value::Float(1e-5)));
        assert!(same(&text("1e-05"), &Value::Float(1e-5)));
        assert!(!same(&text("0.30000000000000004"), &Value::Float(0.3)));
        assert!(same(&text("0.30000000000000004"), &Value::Float(0.1 + 0.2)));
        assert!(!same(&text("-0.0"), &Value::Float(0.0)));
        assert!(same(&Cell::Empty, &Value::Float(f64::NAN)));
        assert!(same(&text("NaN"), &Value::Float(f64::NAN)));
        assert!(!same(&Cell::Empty, &Value::Float(1.0)));
        assert!(same(&text("200003.0"), &Value::Int(200_003)));
        assert!(same(&text("200003"), &Value::Int(200_003)));
        assert!(!same(&text("200004"), &Value::Int(200_003)));
        assert!(same(&text("18446744073709551615"), &Value::Int(u64::MAX)));
        assert!(!same(&text("1.8446744073709552e19"), &Value::Int(u64::MAX)));
        let n = |v: serde_json::Value| match v {
            serde_json::Value::Number(n) => Cell::Number(n),
            _ => unreachable!(),
        };
        assert!(same(&n(serde_json::json!(0.1)), &Value::Float(0.1)));
        assert!(same(&n(serde_json::json!(42)), &Value::Int(42)));
        assert!(same(&Cell::Empty, &Value::Empty));
        assert!(!same(&text("x"), &Value::Empty));
        assert!(same(&text("pi"), &Value::Text("pi".into())));
    }

    #[test]
    fn labels_match_whatever_the_spelling_of_their_numbers() {
        assert_eq!(text_key("90"), value_key(&Value::Float(90.0)));
        assert_eq!(text_key("90.0"), value_key(&Value::Int(90)));
        assert_ne!(text_key("90"), text_key("91"));
        assert_eq!(text_key("put"), value_key(&Value::Text("put".into())));
    }
}
