//! The `[sweep]` table (and `--sweep`): model keys and the values they take, priced in
//! one pass from common random numbers.

use serde::Deserialize;
use toml::de::DeValue;

use super::document::{Source, Spans};
use super::job::SweepKey;
use crate::Error;
use crate::model::{ModelSpec, Registry, did_you_mean};

/// Model keys that decide the columns or the path of every point, which a sweep
/// cannot vary.
const UNSWEPT: [&str; 4] = ["greeks", "antithetic", "control_variate", "type"];

/// Reads the `[sweep]` table (keys `strike`, `model.strike` or `[sweep.model]`
/// tables, each a non-empty list of values) and checks each key against the model.
/// A key of a table-valued model key is dotted (`args.p`, written `[sweep.args] p =
/// [...]` or `"args.p" = [...]`): a Python model's keyword argument.
pub(super) fn read(
    source: &Source<'_>,
    spans: &Spans,
    table: serde_spanned::Spanned<DeValue<'_>>,
    spec: &ModelSpec,
    registry: &Registry,
) -> Result<Vec<SweepKey>, Error> {
    let span = table.span();
    let table = toml::Table::deserialize(toml::de::ValueDeserializer::from(table))
        .map_err(|_| source.error(Some(span.clone()), "[sweep] must be a table of lists"))?;
    let mut flat = Vec::new();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("model", toml::Value::Table(inner)) => {
                for (k, v) in inner {
                    let at = format!("sweep.model.{k}");
                    flat.push((k, at, v));
                }
            }
            (k, toml::Value::Table(inner)) => {
                let bare = k.strip_prefix("model.").unwrap_or(k).to_string();
                for (ik, v) in inner {
                    flat.push((format!("{bare}.{ik}"), format!("sweep.{k}.{ik}"), v));
                }
            }
            (k, v) => {
                let bare = k.strip_prefix("model.").unwrap_or(k).to_string();
                flat.push((bare, format!("sweep.{k}"), v));
            }
        }
    }
    let accepted = registry.entry(spec.kind())?.accepted_keys();
    let mut keys: Vec<SweepKey> = Vec::new();
    for (key, at, value) in flat {
        let invalid = |reason: String| source.key_error(spans, &at, reason);
        if UNSWEPT.contains(&key.split('.').next().unwrap_or_default()) {
            return Err(invalid(format!(
                "model.{key} cannot be swept: every point of a sweep shares the paths and \
                 the columns; run one config per value"
            )));
        }
        let head = key.split('.').next().unwrap_or_default();
        if key.contains('.')
            && !matches!(
                spec.params().get(head),
                None | Some(serde_json::Value::Object(_))
            )
        {
            return Err(invalid(format!(
                "model.{head} is not a table, so {key} names nothing to sweep"
            )));
        }
        if let Some(accepted) = accepted
            && !accepted.contains(&head)
        {
            return Err(invalid(format!(
                "model type {} has no key `{key}`{}",
                spec.kind(),
                did_you_mean(&key, accepted.iter().copied())
            )));
        }
        let toml::Value::Array(values) = value else {
            return Err(invalid(format!(
                "must be a list of values, such as {key} = [90, 100, 110]"
            )));
        };
        if values.is_empty() {
            return Err(invalid("must list at least one value".into()));
        }
        if keys.iter().any(|k| k.key == key) {
            return Err(invalid(format!("model.{key} is swept twice")));
        }
        let values: Vec<serde_json::Value> = values
            .into_iter()
            .map(|v| serde_json::to_value(v).expect("TOML values are JSON"))
            .collect();
        if let Some(reason) = repeated(&values) {
            return Err(invalid(reason));
        }
        keys.push(SweepKey { key, values });
    }
    if let [only] = keys.as_slice()
        && let Some(reason) = too_close(&only.values)
    {
        let at = format!("sweep.{}", only.key);
        return Err(source.key_error(spans, &at, reason));
    }
    let points: usize = keys.iter().map(|k| k.values.len()).product();
    if points > 64 {
        return Err(source.key_error(
            spans,
            "sweep",
            format!("{points} points; a sweep prices at most 64 in one pass"),
        ));
    }
    Ok(keys)
}

/// Why a key's values are refused: one listed twice (as numbers, `100` and `100.0`
/// are the same value), which would price the same point twice under two rows.
fn repeated(values: &[serde_json::Value]) -> Option<String> {
    let same = |a: &serde_json::Value, b: &serde_json::Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    };
    values.iter().enumerate().find_map(|(i, v)| {
        values[..i]
            .iter()
            .any(|w| same(v, w))
            .then(|| format!("lists {v} twice; give each value once"))
    })
}

/// Neighbours of a one-key numeric sweep closer than this, relative to their size,
/// are refused: the finite difference between them (`dprice_dKEY`) divides a
/// difference of prices by their gap, and at such a gap rounding, not the model,
/// decides its value and its standard error (a gap of 1e-11 gave a standard error of
/// 0 and a reference off by orders of magnitude).
pub const MIN_RELATIVE_GAP: f64 = 1e-6;

/// Why the values of a one-key sweep are refused: two neighbours too close for their
/// finite difference to mean anything (see [`MIN_RELATIVE_GAP`]).
fn too_close(values: &[serde_json::Value]) -> Option<String> {
    let xs: Option<Vec<f64>> = values.iter().map(serde_json::Value::as_f64).collect();
    xs?.windows(2).find_map(|w| {
        let scale = w[0].abs().max(w[1].abs());
        ((w[1] - w[0]).abs() < MIN_RELATIVE_GAP * scale).then(|| {
            format!(
                "neighbours {} and {} are too close: the finite difference between them \
                 would be rounding noise; give points at least {MIN_RELATIVE_GAP:e} x their \
                 size apart",
                w[0], w[1]
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_listed_twice_are_refused() {
        assert!(repeated(&[json!(90), json!(100)]).is_none());
        assert!(repeated(&[json!(100), json!(90), json!(100.0)]).is_some());
        assert!(repeated(&[json!("put"), json!("put")]).is_some());
    }

    #[test]
    fn neighbours_too_close_for_a_difference_are_refused() {
        assert!(too_close(&[json!(90), json!(100), json!(100.01)]).is_none());
        let err = too_close(&[json!(100), json!(100.00000000001)]).unwrap();
        assert!(err.contains("too close"), "{err}");
        assert!(too_close(&[json!(0.0), json!(1e-300)]).is_none());
        assert!(too_close(&[json!("call"), json!("put")]).is_none());
    }
}
