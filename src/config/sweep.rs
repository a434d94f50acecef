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
        let values = values
            .into_iter()
            .map(|v| serde_json::to_value(v).expect("TOML values are JSON"))
            .collect();
        keys.push(SweepKey { key, values });
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
