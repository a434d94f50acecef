//! The model registry: every model a carlo program can run, found by the `type` of a
//! config's `[model]` table.
//!
//! An [`Entry`] is a type name, a one-line summary, the documented keys, a parameter
//! type read from the `[model]` table with serde, and a constructor that validates.
//! The five built-in models are entries like any other ([`Registry::builtin`]); a
//! program registers its own next to them and hands the registry to
//! [`crate::app::main`] to get the whole command line for them.
//!
//! Parameters travel as a [`ModelSpec`]: the type name and every parameter as JSON,
//! defaults filled in. That is what a run's fingerprint hashes and what worker
//! processes, checkpoints and shard partials carry, so a run of another model or
//! with other parameters is told apart key by key and never mixed.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Model;
use crate::Error;
use crate::backend::WorkerCommand;
use crate::random::sampler::Sampler;

/// The parameters of a model as JSON: one entry per `[model]` key, defaults filled in,
/// in the parameter type's declaration order.
pub type Params = serde_json::Map<String, serde_json::Value>;

/// Which model a job runs, with all its parameters: plain data that can be hashed,
/// compared and sent to other processes.
///
/// It serializes as the `[model]` table would read: `{"type": "european", "option":
/// "call", ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    kind: String,
    params: Params,
}

impl ModelSpec {
    /// The spec of a model of type `kind` with parameters `params` (any value that
    /// serializes to a JSON object, such as the model's parameter struct).
    ///
    /// # Panics
    /// If `params` does not serialize to a JSON object: a parameter type is a struct.
    pub fn new(kind: impl Into<String>, params: &impl Serialize) -> Self {
        let params = match serde_json::to_value(params) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(serde_json::Value::Null) => Params::new(),
            other => panic!("model parameters must serialize to a JSON object, got {other:?}"),
        };
        ModelSpec {
            kind: kind.into(),
            params,
        }
    }

    /// The spec of model type `kind` with JSON parameters `params`, as an
    /// [`Entry`] reads them.
    pub fn from_params(kind: impl Into<String>, params: Params) -> Self {
        ModelSpec {
            kind: kind.into(),
            params,
        }
    }

    /// The model's type name, as written in `type` and in the `model` column.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
}

impl Serialize for ModelSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.params.len() + 1))?;
        map.serialize_entry("type", &self.kind)?;
        for (key, value) in &self.params {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut params = Params::deserialize(d)?;
        // `shift_remove` keeps the parameters' order, which the fingerprint hashes
        // (`remove` would move the last key into the hole).
        match params.shift_remove("type") {
            Some(serde_json::Value::String(kind)) => Ok(ModelSpec { kind, params }),
            _ => Err(serde::de::Error::custom(
                "a model needs a \"type\" that is a string",
            )),
        }
    }
}

/// What a model's constructor may use besides its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Context {
    /// The run's seed, for models with an auxiliary pass drawn from their own stream
    /// family ([`crate::random::stream::Family::Auxiliary`]), such as the calibration of an
    /// exercise rule.
    pub seed: u64,
    /// Where the run's random numbers come from. A model that cannot run on a
    /// sampler other than [`Sampler::Mc`] is refused before it is built (see
    /// [`Entry::quasi_monte_carlo`]).
    pub sampler: Sampler,
}

impl Context {
    /// The context of a plain Monte Carlo run with `seed`.
    pub fn new(seed: u64) -> Self {
        Context {
            seed,
            sampler: Sampler::Mc,
        }
    }

    /// The same context with `sampler`.
    pub fn with_sampler(self, sampler: Sampler) -> Self {
        Context { sampler, ..self }
    }
}

/// A documented `[model]` key, for `carlo models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Name in the `[model]` table.
    pub name: String,
    /// Value type and default, as a user would write it (`float > 0`, `bool, default
    /// false`).
    pub value: String,
    /// What it means.
    pub doc: String,
}

/// Reads a model's parameters from a `[model]` table (without its `type`), checks
/// their types with serde and returns them as JSON.
type ParseFn =
    dyn Fn(toml::de::ValueDeserializer<'_>) -> Result<Params, toml::de::Error> + Send + Sync;

/// Builds a model from JSON parameters.
type BuildFn = dyn Fn(&Params, &Context) -> Result<Box<dyn Model>, Error> + Send + Sync;

/// Warnings about parameters that are valid but probably not meant.
type WarnFn = dyn Fn(&Params) -> Vec<String> + Send + Sync;

/// Builds the model of every point of a sweep, priced from common random numbers.
type SweepFn = dyn Fn(&[Params], &[Vec<serde_json::Value>], &str, &Context) -> Result<Box<dyn Model>, Error>
    + Send
    + Sync;

/// Fills in parameters that only the model's own runtime can compute.
type CompleteFn = dyn Fn(&mut Params) -> Result<(), Error> + Send + Sync;

/// How to start the worker processes of a model that runs only in them.
type WorkersFn = dyn Fn(&Params) -> Result<WorkerCommand, Error> + Send + Sync;

/// One model type in a [`Registry`].
#[derive(Clone)]
pub struct Entry {
    kind: String,
    summary: String,
    keys: Vec<Key>,
    fields: Option<&'static [&'static str]>,
    parse: Arc<ParseFn>,
    build: Arc<BuildFn>,
    workers: Option<Arc<WorkersFn>>,
    complete: Option<Arc<CompleteFn>>,
    warn: Option<Arc<WarnFn>>,
    qmc: bool,
    sweep: Option<Arc<SweepFn>>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &self.kind)
            .field("summary", &self.summary)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The model type `kind`, whose `[model]` table deserializes into `P` and which
    /// `build` constructs.
    ///
    /// - `P` is read with serde from the `[model]` table minus its `type`. Give it
    ///   `#[serde(deny_unknown_fields)]` so that a misspelt key is an error, and
    ///   `#[serde(default)]` on optional keys; the values it holds after defaults are
    ///   what a run's fingerprint covers. Avoid `#[serde(flatten)]`: it hides the
    ///   position of a bad value from the error message.
    /// - `build` validates the parameters and returns the model, or an
    ///   [`Error::Parameter`] naming the key as `model.KEY`. It runs once per process
    ///   that computes chunks (the parent and each worker process), so it should be
    ///   cheap or deterministic (a model with a calibration pass draws it from the
    ///   seed's auxiliary streams, see [`Context`]).
    ///
    /// # Panics
    /// If `kind` is not a lowercase name of letters, digits, `-` and `_`.
    pub fn new<P, M, F>(kind: &str, summary: &str, build: F) -> Self
    where
        P: Serialize + DeserializeOwned + 'static,
        M: Model + 'static,
        F: Fn(&P, &Context) -> Result<M, Error> + Send + Sync + 'static,
    {
        assert!(
            !kind.is_empty()
                && kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c)),
            "model type names are lowercase letters, digits, '-' and '_'; got {kind:?}"
        );
        let parse = |de: toml::de::ValueDeserializer<'_>| {
            let params = P::deserialize(de)?;
            Ok(ModelSpec::new("", &params).params)
        };
        let build = move |params: &Params, context: &Context| {
            let params: P = serde_json::from_value(serde_json::Value::Object(params.clone()))
                .map_err(|e| Error::parameter("model", e.to_string()))?;
            Ok(Box::new(build(&params, context)?) as Box<dyn Model>)
        };
        Entry {
            kind: kind.to_string(),
            summary: summary.to_string(),
            keys: Vec::new(),
            fields: struct_fields::<P>(),
            parse: Arc::new(parse),
            build: Arc::new(build),
            workers: None,
            complete: None,
            warn: None,
            qmc: false,
            sweep: None,
        }
    }

    /// The same entry with a check for parameters that are valid but probably not
    /// what the user meant (a volatility of 20 for 20%): `warn` returns one line per
    /// suspicion, printed on stderr before the run. It never changes a result.
    /// `P` must be the entry's parameter type.
    pub fn warnings<P: DeserializeOwned + 'static>(
        mut self,
        warn: impl Fn(&P) -> Vec<String> + Send + Sync + 'static,
    ) -> Self {
        self.warn = Some(Arc::new(move |params: &Params| {
            serde_json::from_value::<P>(serde_json::Value::Object(params.clone()))
                .map(|p| warn(&p))
                .unwrap_or_default()
        }));
        self
    }

    /// The warnings [`warnings`](Self::warnings) gives for `params` (none without).
    pub fn warn(&self, params: &Params) -> Vec<String> {
        self.warn.as_ref().map_or_else(Vec::new, |f| f(params))
    }

    /// The same entry for a model whose chunks run only in worker processes that
    /// `command` starts, never in this process: a model in another language, run
    /// from a program that does not embed it (the `carlo` binary's `python` models,
    /// whose workers are Python interpreters). Such a model's `simulate` is never
    /// called here; its `dim` and `quantities` are. The sequential and threads
    /// backends become processes (one worker for sequential), and MPI is refused.
    pub fn in_workers(
        mut self,
        command: impl Fn(&Params) -> Result<WorkerCommand, Error> + Send + Sync + 'static,
    ) -> Self {
        self.workers = Some(Arc::new(command));
        self
    }

    /// The same entry with a step that fills in parameters the config does not give
    /// and only the model's own runtime can compute, such as the digest of a Python
    /// model's code (the `code` key): it runs once when a config is read, after the
    /// model is built, and what it sets is part of the job and its fingerprint. It
    /// may also check a value the config gives. `P` must be the entry's parameter
    /// type; errors name the key as `model.KEY`.
    pub fn completes<P: Serialize + DeserializeOwned + 'static>(
        mut self,
        complete: impl Fn(&mut P) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Self {
        self.complete = Some(Arc::new(move |params: &mut Params| {
            let mut p: P = serde_json::from_value(serde_json::Value::Object(params.clone()))
                .map_err(|e| Error::parameter("model", e.to_string()))?;
            complete(&mut p)?;
            *params = ModelSpec::new("", &p).params;
            Ok(())
        }));
        self
    }

    /// Runs the entry's [`completes`](Self::completes) step on `params` (nothing
    /// without one).
    pub fn complete(&self, params: &mut Params) -> Result<(), Error> {
        self.complete.as_ref().map_or(Ok(()), |f| f(params))
    }

    /// Whether this model runs only in worker processes of its own
    /// ([`in_workers`](Self::in_workers)): code carlo does not hold, such as a
    /// Python model's module.
    pub fn runs_in_workers(&self) -> bool {
        self.workers.is_some()
    }

    /// How the worker processes of this model start, for a model that runs only in
    /// them ([`in_workers`](Self::in_workers)).
    pub fn worker_command(&self, params: &Params) -> Option<Result<WorkerCommand, Error>> {
        self.workers.as_ref().map(|f| f(params))
    }

    /// The same entry for a model whose constructor honours [`Context::sampler`]:
    /// it can run on scrambled Sobol points. Without it, a run with `sampler =
    /// "sobol"` is refused, naming the key, instead of silently drawing pseudo-random
    /// numbers.
    pub fn quasi_monte_carlo(mut self) -> Self {
        self.qmc = true;
        self
    }

    /// The same entry for a model that prices every point of a sweep (`--sweep`, a
    /// `[sweep]` table) in one pass, from common random numbers. `build` receives the
    /// parameters of every point (each already validated as its own run would be), the
    /// swept values of each point, the key of a one-key numeric sweep (whose finite
    /// differences the model may add; empty otherwise) and the run's context. Without
    /// it, a sweep of the model is refused, naming the key.
    pub fn sweeps<P>(
        mut self,
        build: impl Fn(&[P], &[Vec<serde_json::Value>], &str, &Context) -> Result<Box<dyn Model>, Error>
        + Send
        + Sync
        + 'static,
    ) -> Self
    where
        P: DeserializeOwned + 'static,
    {
        self.sweep = Some(Arc::new(
            move |points: &[Params],
                  values: &[Vec<serde_json::Value>],
                  key: &str,
                  context: &Context| {
                let params = points
                    .iter()
                    .map(|p| {
                        serde_json::from_value::<P>(serde_json::Value::Object(p.clone()))
                            .map_err(|e| Error::parameter("sweep", e.to_string()))
                    })
                    .collect::<Result<Vec<P>, Error>>()?;
                build(&params, values, key, context)
            },
        ));
        self
    }

    /// Whether the model prices sweeps in one pass ([`sweeps`](Self::sweeps)).
    pub fn supports_sweeps(&self) -> bool {
        self.sweep.is_some()
    }

    /// Builds the model of every point of a sweep, `points` the parameters of each.
    /// Errors when the entry has no [`sweeps`](Self::sweeps).
    pub fn build_sweep(
        &self,
        points: &[Params],
        values: &[Vec<serde_json::Value>],
        key: &str,
        context: &Context,
    ) -> Result<Box<dyn Model>, Error> {
        let Some(sweep) = &self.sweep else {
            return Err(Error::parameter(
                "sweep",
                format!(
                    "model type {} cannot be swept in one pass; run one config per point \
                     with the same seed",
                    self.kind
                ),
            ));
        };
        sweep(points, values, key, context)
    }

    /// Whether the model can run on scrambled Sobol points.
    pub fn supports_quasi_monte_carlo(&self) -> bool {
        self.qmc
    }

    /// The same entry with one more documented key.
    pub fn key(mut self, name: &str, value: &str, doc: &str) -> Self {
        self.keys.push(Key {
            name: name.into(),
            value: value.into(),
            doc: doc.into(),
        });
        self
    }

    /// The same entry with more documented keys.
    pub fn keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// The `type` that selects it.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// One line on what it estimates.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Its documented keys.
    pub fn documented_keys(&self) -> &[Key] {
        &self.keys
    }

    /// The keys its parameter type accepts, when serde says (a plain struct does;
    /// a map or a struct with flattened fields does not).
    pub fn accepted_keys(&self) -> Option<&'static [&'static str]> {
        self.fields
    }

    /// Reads and type-checks parameters from a `[model]` table without its `type`.
    pub fn parse(&self, table: toml::de::ValueDeserializer<'_>) -> Result<Params, toml::de::Error> {
        (self.parse)(table)
    }

    /// Builds the model with `params`.
    pub fn build(&self, params: &Params, context: &Context) -> Result<Box<dyn Model>, Error> {
        if !context.sampler.is_mc() && !self.qmc {
            return Err(Error::parameter(
                "simulation.sampler",
                format!(
                    "model type {} has no quasi-Monte Carlo path; use sampler = \"mc\"",
                    self.kind
                ),
            ));
        }
        (self.build)(params, context)
    }
}

/// The models a program knows, in the order `carlo models` lists them.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// A registry without any model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `entry`.
    ///
    /// # Panics
    /// If a model of the same type is registered already: two models under one name
    /// would make a config mean two things.
    pub fn register(&mut self, entry: Entry) -> &mut Self {
        assert!(
            self.get(&entry.kind).is_none(),
            "model type {:?} is registered twice",
            entry.kind
        );
        self.entries.push(entry);
        self
    }

    /// The same registry with `entry` added (see [`register`](Self::register)).
    pub fn with(mut self, entry: Entry) -> Self {
        self.register(entry);
        self
    }

    /// The entry of model type `kind`.
    pub fn get(&self, kind: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.kind == kind)
    }

    /// Every entry, in registration order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry of `kind`, or an error that lists the known types and suggests the
    /// closest.
    pub fn entry(&self, kind: &str) -> Result<&Entry, Error> {
        self.get(kind).ok_or_else(|| {
            let known: Vec<&str> = self.entries.iter().map(|e| e.kind.as_str()).collect();
            Error::parameter(
                "model.type",
                format!(
                    "unknown model type `{kind}`{}; this program knows {}",
                    did_you_mean(kind, known.iter().copied()),
                    known.join(", ")
                ),
            )
        })
    }

    /// Builds the model `spec` describes, checking its parameters. Errors name the
    /// offending `model.` key.
    pub fn build(&self, spec: &ModelSpec, context: &Context) -> Result<Box<dyn Model>, Error> {
        self.entry(&spec.kind)?.build(&spec.params, context)
    }
}

/// ` (did you mean `x`?)` for the candidate closest to `word`, if one is close.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(String::new, |(_, c)| format!(" (did you mean `{c}`?)"))
}

/// The field names serde's derive gives a plain struct `P`, found by asking `P` to
/// deserialize itself from a probe that records them and fails.
fn struct_fields<P: DeserializeOwned>() -> Option<&'static [&'static str]> {
    use serde::de::value::Error as Probed;
    use std::cell::Cell;

    struct Probe<'a>(&'a Cell<Option<&'static [&'static str]>>);

    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = Probed;

        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
            Err(serde::de::Error::custom("probe"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Probed> {
            self.0.set(Some(fields));
            Err(serde::de::Error::custom("probe"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let fields = Cell::new(None);
    let _ = P::deserialize(Probe(&fields));
    fields.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Walk {
        steps: u64,
        #[serde(default)]
        drift: f64,
    }

    #[test]
    fn fields_are_found_for_plain_structs_only() {
        assert_eq!(struct_fields::<Walk>(), Some(&["steps", "drift"][..]));
        assert_eq!(struct_fields::<Params>(), None);
    }

    #[test]
    fn specs_serialize_like_the_table() {
        let spec = ModelSpec::new(
            "walk",
            &Walk {
                steps: 3,
                drift: 0.5,
            },
        );
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#"{"type":"walk","steps":3,"drift":0.5}"#);
        let back: ModelSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec);
        // Read back, it writes the same text: fingerprints hash that text.
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert!(serde_json::from_str::<ModelSpec>(r#"{"steps":3}"#).is_err());
    }

    #[test]
    fn builtin_documentation_matches_what_each_model_accepts() {
        // `carlo models` prints the documented keys; the config accepts the fields of
        // the parameter type. They must be the same list, or the help lies.
        for entry in Registry::builtin().entries() {
            let documented: Vec<&str> = entry
                .documented_keys()
                .iter()
                .map(|k| k.name.as_str())
                .collect();
            assert_eq!(
                Some(&documented[..]),
                entry.accepted_keys(),
                "{}",
                entry.kind()
            );
        }
    }

    #[test]
    fn unknown_types_suggest_the_closest() {
        let err = Registry::builtin().entry("pie").unwrap_err().to_string();
        assert!(err.contains("did you mean `pi`"), "{err}");
        assert!(err.contains("european"), "{err}");
        assert_eq!(
            did_you_mean("vol", ["volatility", "spot"]),
            " (did you mean `volatility`?)"
        );
        assert_eq!(did_you_mean("zzz", ["volatility", "spot"]), "");
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn a_type_is_registered_once() {
        Registry::builtin().with(Registry::builtin().entries()[0].clone());
    }
}
