//! The `[model]` table: its type found in the registry, its keys checked, the model
//! built once (which validates the values), every error pointing at the key at fault.

use toml::de::DeValue;

use super::document::{Source, Spans};
use crate::Error;
use crate::backend::WorkerCommand;
use crate::model::{Context, Model, ModelSpec, Registry, did_you_mean};

/// What [`read`] finds: the job's model, the model built, and how its worker
/// processes start if it runs only in them.
pub(super) type ModelRead = (
    ModelSpec,
    Box<dyn Model>,
    Option<WorkerCommand>,
    Vec<String>,
);

/// Reads the `[model]` table: finds its type in the registry, refuses keys the type
/// does not take, type-checks the rest with serde and builds the model once (which
/// validates the values). Every error points at the key or value at fault.
pub(super) fn read(
    source: &Source<'_>,
    table: serde_spanned::Spanned<DeValue<'_>>,
    registry: &Registry,
    context: &Context,
    document_spans: &Spans,
) -> Result<ModelRead, Error> {
    let span = table.span();
    let mut spans = Spans::default();
    spans.add("model", &table);
    let DeValue::Table(mut fields) = table.into_inner() else {
        return Err(source.error(Some(span), "[model] must be a table"));
    };
    let Some(kind) = fields.remove("type") else {
        return Err(source.error(
            Some(span),
            "[model] needs a `type` naming the model (`carlo models` lists them)",
        ));
    };
    let kind_span = kind.span();
    let Some(kind) = kind.get_ref().as_str().map(str::to_string) else {
        return Err(source.error(Some(kind_span), "`type` must be a string such as \"pi\""));
    };
    let entry = registry.entry(&kind).map_err(|e| match e {
        Error::Parameter { reason, .. } => source.error(Some(kind_span.clone()), &reason),
        other => other,
    })?;
    for (key, value) in fields.iter() {
        refuse_non_finite(source, &format!("model.{}", key.get_ref()), value)?;
    }
    if let Some(accepted) = entry.accepted_keys() {
        for (key, _) in fields.iter() {
            let key_name: &str = key.get_ref();
            if !accepted.contains(&key_name) {
                return Err(source.error(
                    Some(key.span()),
                    &format!(
                        "unknown key `{key_name}` for model type {kind}{}; {}",
                        did_you_mean(key_name, accepted.iter().copied()),
                        if accepted.is_empty() {
                            "it takes no keys".to_string()
                        } else {
                            format!("it takes {}", accepted.join(", "))
                        }
                    ),
                ));
            }
        }
    }
    let mut params = entry
        .parse(toml::de::ValueDeserializer::from(
            serde_spanned::Spanned::new(span, DeValue::Table(fields)),
        ))
        .map_err(|e| {
            let message = e.message().trim_end();
            // serde says "field"; a config has keys, and a missing one is missing
            // from the table whose header the error points at.
            let message = match message.strip_prefix("missing field ") {
                Some(rest) => format!("[model] type {kind} needs the key {rest}"),
                None => super::document::plain(message),
            };
            source.error(e.span(), &message)
        })?;
    let at_key = |e: Error| match e {
        Error::Parameter { key, reason } if key.starts_with("simulation.") => {
            source.key_error(document_spans, &key, reason)
        }
        Error::Parameter { key, reason } => source.key_error(&spans, &key, reason),
        other => other,
    };
    let model = entry.build(&params, context).map_err(at_key)?;
    entry.complete(&mut params).map_err(at_key)?;
    let worker_command = entry.worker_command(&params).transpose()?;
    let warnings = entry.warn(&params);
    let spec = ModelSpec::from_params(kind, params);
    Ok((spec, model, worker_command, warnings))
}

/// Refuses `nan` and `inf` anywhere in a `[model]` value: a job carries its
/// parameters as JSON, which has no such numbers, and no model means them.
fn refuse_non_finite(
    source: &Source<'_>,
    key: &str,
    value: &serde_spanned::Spanned<DeValue<'_>>,
) -> Result<(), Error> {
    match value.get_ref() {
        DeValue::Float(f) if f.as_str().contains("nan") || f.as_str().contains("inf") => {
            Err(source.error(
                Some(value.span()),
                &format!("{key} must be a finite number, found {}", f.as_str()),
            ))
        }
        DeValue::Array(items) => items
            .iter()
            .try_for_each(|item| refuse_non_finite(source, key, item)),
        DeValue::Table(table) => table.iter().try_for_each(|(k, item)| {
            refuse_non_finite(source, &format!("{key}.{}", k.get_ref()), item)
        }),
        _ => Ok(()),
    }
}
