//! A config's text as spanned TOML values, with the `--set KEY=VALUE` overrides
//! merged in, so that every error points at where the value came from: a line and
//! column of the file, or the flag.
//!
//! The overrides are appended to the file's text as lines of a private table and
//! parsed with it, so their values are TOML values like the file's (`95` is a
//! number, `true` a bool, `[1, 2]` an array) and their spans lie past the file's end.
//! A value that is not valid TOML on its own (`put`) is taken as a string. Each value
//! is then moved to its place in the document, replacing the file's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use crate::Error;

/// One `--set KEY=VALUE`: a dotted key such as `model.strike` and its value as
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The dotted key: a table and a key (`simulation.samples`), or deeper.
    pub key: String,
    /// The value, as TOML (`95`, `"put"`, `[1, 2]`) or as a bare string (`put`).
    pub value: String,
}

impl Assignment {
    /// Parses `KEY=VALUE`, as given to `--set`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE such as model.strike=95, found '{text}'"))?;
        let key = key.trim();
        let parts: Vec<&str> = key.split('.').collect();
        let bare = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if parts.len() < 2 || !parts.iter().all(bare) {
            return Err(format!(
                "expected a dotted key such as model.strike or simulation.samples before '=', \
                 found '{key}'"
            ));
        }
        let value = value.trim();
        one_value(value).map_err(|why| format!("{key}={}: {why}", excerpt(value)))?;
        Ok(Assignment {
            key: key.to_string(),
            value: value.to_string(),
        })
    }
}

/// The TOML text of the one value `value` stands for: `value` itself when it is one
/// TOML value (`95`, `"put"`, `[1, 2]`), else `value` as a TOML string (a bare string
/// such as `put`).
///
/// A `--set` is one key and one value, never more TOML: text that parses as a value
/// followed by more keys or tables (`95` then a line `[output]`) is refused, and so is
/// a bare string with a line break, which no config value needs.
pub(crate) fn one_value(value: &str) -> Result<String, String> {
    match DeTable::parse(&format!("v = {value}")) {
        Ok(table) => {
            let table = table.get_ref();
            if table.len() == 1 && table.contains_key("v") {
                Ok(value.to_string())
            } else {
                Err(
                    "is more than one value: a line break followed by more TOML; give \
                     one value per flag"
                        .into(),
                )
            }
        }
        Err(_) if value.contains(['\n', '\r']) => {
            Err("holds a line break; a value is one TOML value (quote a string: \"...\")".into())
        }
        Err(_) => Ok(toml::Value::String(value.to_string()).to_string()),
    }
}

/// A serde message in a config's words: `expected a number, found string "abc"`
/// rather than `invalid type: string "abc", expected f64`, tables and lists rather
/// than maps and sequences, values rather than variants.
pub(crate) fn plain(message: &str) -> String {
    let words = |rust: &str| -> String {
        let mut t = rust.to_string();
        for (from, to) in [
            ("f64", "a number"),
            ("f32", "a number"),
            ("u64", "a whole number"),
            ("u32", "a whole number"),
            ("usize", "a whole number"),
            ("i64", "a whole number"),
            ("a sequence", "a list"),
            ("a map", "a table"),
            ("path string", "a path (a string)"),
            ("a boolean", "true or false"),
        ] {
            if t == from {
                t = to.to_string();
            }
        }
        if let Some(rest) = t.strip_prefix("struct ") {
            t = format!("a table ({rest})");
        }
        t
    };
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {found}", words(expected));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {found}", words(expected));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return format!("unknown value {rest}");
    }
    message.replace(
        "data did not match any variant of untagged enum",
        "no form fits:",
    )
}

/// `text` shortened for an error message: its first line, at most 60 characters.
pub(super) fn short(text: &str) -> String {
    excerpt(text)
}

/// `text` shortened for an error message: its first line, at most 60 characters.
fn excerpt(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    let cut: String = first.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

impl Assignment {
    /// Parses `KEY=V1,V2,...`, as given to `--sweep`: the assignment of the list
    /// `[V1, V2, ...]` to `sweep.KEY` (each value TOML, or else a bare string).
    pub(crate) fn sweep(text: &str) -> Result<Self, String> {
        let (key, values) = text.split_once('=').ok_or_else(|| {
            format!("expected KEY=V1,V2,... such as model.strike=90,100,110, found '{text}'")
        })?;
        let key = key.trim();
        let key = key.strip_prefix("model.").unwrap_or(key);
        // A dotted key names a key of a table (a Python model's args.p).
        let part =
            |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key.split('.').all(part) {
            return Err(format!(
                "expected a model key such as model.strike (or args.p) before '=', found '{key}'"
            ));
        }
        let items: Vec<String> = values
            .split(',')
            .map(|v| one_value(v.trim()).map_err(|why| format!("{} {why}", excerpt(v.trim()))))
            .collect::<Result<_, _>>()?;
        Ok(Assignment {
            key: format!("sweep.{key}"),
            value: format!("[{}]", items.join(", ")),
        })
    }
}

impl std::fmt::Display for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// The private table the overrides are parsed in: a name no config uses.
const SET_TABLE: &str = "carlo-set-overrides-7f3a";

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin<'a> {
    /// The file, at a 1-based line and column, with that line's text.
    File {
        /// Line number.
        line: usize,
        /// Column number, in characters.
        column: usize,
        /// The line's text.
        text: &'a str,
    },
    /// A `--set` override.
    Set(&'a Assignment),
}

/// A config's text with its overrides: what spans are measured in.
#[derive(Debug)]
pub(crate) struct Source<'a> {
    path: PathBuf,
    /// The file's text, then the overrides' table.
    text: String,
    file_len: usize,
    sets: &'a [Assignment],
    /// Where each override's line starts in `text`.
    set_starts: Vec<usize>,
    /// The first override that is not one value, and why.
    refused: Option<(usize, String)>,
}

impl<'a> Source<'a> {
    /// The file `path` with `text`, and overrides `sets`.
    pub(crate) fn new(path: &Path, file: &str, sets: &'a [Assignment]) -> Self {
        let mut text = file.to_string();
        let file_len = text.len();
        let mut set_starts = Vec::new();
        let mut refused = None;
        if !sets.is_empty() {
            text.push_str(&format!("\n[{SET_TABLE}]\n"));
            for (i, set) in sets.iter().enumerate() {
                set_starts.push(text.len());
                // A value that does not parse as TOML alone is a bare string; one that
                // is more than a value is refused when the document is parsed.
                let value = match one_value(&set.value) {
                    Ok(value) => value,
                    Err(why) => {
                        refused.get_or_insert((i, why));
                        "0".into()
                    }
                };
                text.push_str(&format!("v{i} = {value}\n"));
            }
        }
        Source {
            path: path.to_path_buf(),
            text,
            file_len,
            sets,
            set_starts,
            refused,
        }
    }

    /// Where the byte offset `at` of the text came from.
    pub(crate) fn origin(&self, at: usize) -> Origin<'_> {
        if at >= self.file_len && !self.sets.is_empty() {
            let i = self.set_starts.partition_point(|&s| s <= at).max(1) - 1;
            return Origin::Set(&self.sets[i]);
        }
        let at = at.min(self.file_len);
        let file = &self.text[..self.file_len];
        let line = file[..at].matches('\n').count() + 1;
        let start = file[..at].rfind('\n').map_or(0, |i| i + 1);
        let text = file[start..].lines().next().unwrap_or("").trim_end();
        let column = file[start..at].chars().count() + 1;
        Origin::File { line, column, text }
    }

    /// The error for `message` about the text at `span` (the whole document when
    /// `None`): a syntax error pointing at the file's line, or a `--set` error.
    pub(crate) fn error(&self, span: Option<Range<usize>>, message: &str) -> Error {
        let Some(span) = span else {
            return Error::Syntax {
                path: self.path.clone(),
                message: message.to_string(),
            };
        };
        match self.origin(span.start) {
            Origin::Set(set) => set_error(set, message),
            Origin::File { line, column, text } => Error::Syntax {
                path: self.path.clone(),
                message: format!("line {line}, column {column}: {message}\n  | {text}"),
            },
        }
    }

    /// The error for a TOML or serde error raised on this text.
    pub(crate) fn toml_error(&self, e: &toml::de::Error) -> Error {
        self.error(e.span(), &plain(e.message().trim_end()))
    }

    /// Parses the text into a document with every override in its place.
    pub(crate) fn parse(&self) -> Result<Document<'_>, Error> {
        if let Some((i, why)) = &self.refused {
            return Err(set_error(&self.sets[*i], why));
        }
        // The file alone first, so that its own syntax errors are reported as such.
        DeTable::parse(&self.text[..self.file_len]).map_err(|e| self.toml_error(&e))?;
        let root = DeTable::parse(&self.text).map_err(|e| self.toml_error(&e))?;
        let span = root.span();
        let mut root = root.into_inner();
        if let Some(table) = root.remove(SET_TABLE) {
            let mut values = match table.into_inner() {
                DeValue::Table(t) => t,
                _ => unreachable!("the overrides' table is a table"),
            };
            for (i, set) in self.sets.iter().enumerate() {
                // A second --sweep of a key would silently replace the first one's
                // values; merging them would guess at the order. Refused.
                if set.key.starts_with("sweep.")
                    && let Some(first) = self.sets[..i].iter().find(|s| s.key == set.key)
                {
                    let key = set.key.trim_start_matches("sweep.");
                    return Err(set_error(
                        set,
                        &format!(
                            "model.{key} is swept twice (also --sweep {}={}); give every \
                             value in one flag: --sweep model.{key}=V1,V2,...",
                            first.key.replacen("sweep.", "model.", 1),
                            excerpt(first.value.trim_matches(['[', ']']))
                        ),
                    ));
                }
                let value = values
                    .remove(format!("v{i}").as_str())
                    .expect("each override has its line");
                place(&mut root, set, value)?;
            }
        }
        Ok(Document {
            root: Spanned::new(span, root),
        })
    }

    /// A config error about `key` (`table.key`, or deeper), located where its value
    /// came from: the value of the key, or else of the deepest table holding it
    /// (`model.references.y` is in the value of `model.references`).
    pub(crate) fn key_error(&self, spans: &Spans, key: &str, reason: String) -> Error {
        let mut at = Some(key);
        let mut span = None;
        while let (Some(k), None) = (at, span) {
            span = spans.0.get(k);
            at = k.rsplit_once('.').map(|(table, _)| table);
        }
        match span.map(|s| self.origin(s.start)) {
            Some(Origin::Set(set)) => set_error(set, &reason),
            Some(Origin::File { line, column, .. }) => Error::Config {
                path: self.path.clone(),
                key: key.to_string(),
                reason,
                at: Some((line, column)),
            },
            None => Error::Config {
                path: self.path.clone(),
                key: key.to_string(),
                reason,
                at: None,
            },
        }
    }
}

fn set_error(set: &Assignment, message: &str) -> Error {
    Error::Flag {
        flag: if set.key.starts_with("sweep.") {
            "--sweep".into()
        } else {
            "--set".into()
        },
        reason: format!("{}={}: {message}", set.key, excerpt(&set.value)),
    }
}

/// Puts an override's value at its dotted key, creating tables on the way.
fn place<'s>(
    root: &mut DeTable<'s>,
    set: &Assignment,
    value: Spanned<DeValue<'s>>,
) -> Result<(), Error> {
    let span = value.span();
    let parts: Vec<&str> = set.key.split('.').collect();
    let (last, tables) = parts.split_last().expect("keys are dotted");
    let mut table = root;
    for (depth, part) in tables.iter().enumerate() {
        let key = Spanned::new(span.clone(), Cow::Owned(part.to_string()));
        let slot = table
            .entry(key)
            .or_insert_with(|| Spanned::new(span.clone(), DeValue::Table(DeTable::new())));
        table = match slot.get_mut() {
            DeValue::Table(t) => t,
            _ => {
                return Err(set_error(
                    set,
                    &format!("{} is a value, not a table", parts[..=depth].join(".")),
                ));
            }
        };
    }
    table.remove(*last);
    table.insert(Spanned::new(span, Cow::Owned(last.to_string())), value);
    Ok(())
}

/// The parsed document.
#[derive(Debug)]
pub(crate) struct Document<'s> {
    root: Spanned<DeTable<'s>>,
}

impl<'s> Document<'s> {
    /// Takes the value of a top-level key out of the document.
    pub(crate) fn take(&mut self, key: &str) -> Option<Spanned<DeValue<'s>>> {
        self.root.get_mut().remove(key)
    }

    /// The spans of every `table.key` of the document's tables.
    pub(crate) fn spans(&self) -> Spans {
        let mut spans = Spans::default();
        for (table, value) in self.root.get_ref() {
            spans.add(table.get_ref(), value);
        }
        spans
    }

    /// The document, to deserialize.
    pub(crate) fn into_inner(self) -> Spanned<DeTable<'s>> {
        self.root
    }
}

/// Where each `table.key` of a document was written.
#[derive(Debug, Default, Clone)]
pub(crate) struct Spans(HashMap<String, Range<usize>>);

impl Spans {
    /// Records the keys of `value` when it is a table, under `table.`.
    pub(crate) fn add(&mut self, table: &str, value: &Spanned<DeValue<'_>>) {
        if let DeValue::Table(t) = value.get_ref() {
            for (key, value) in t {
                self.0
                    .insert(format!("{table}.{}", key.get_ref()), value.span());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(list: &[&str]) -> Vec<Assignment> {
        list.iter().map(|s| Assignment::parse(s).unwrap()).collect()
    }

    #[test]
    fn assignments_need_a_dotted_key() {
        assert_eq!(
            Assignment::parse("model.strike = 95").unwrap(),
            Assignment {
                key: "model.strike".into(),
                value: "95".into()
            }
        );
        for bad in [
            "strike=95",
            "model.strike",
            "=3",
            "model..x=1",
            "model.str ike=1",
        ] {
            assert!(Assignment::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_replace_and_add_values() {
        let file = "[model]\ntype = \"european\"\nstrike = 100\n";
        let sets = sets(&["model.strike=95", "model.option=put", "execution.workers=3"]);
        let source = Source::new(Path::new("x.toml"), file, &sets);
        let doc = source.parse().unwrap();
        let root = doc.into_inner().into_inner();
        let model = root.get("model").unwrap().get_ref().as_table().unwrap();
        assert_eq!(
            model
                .get("strike")
                .unwrap()
                .get_ref()
                .as_integer()
                .unwrap()
                .as_str(),
            "95"
        );
        assert_eq!(model.get("option").unwrap().get_ref().as_str(), Some("put"));
        let span = model.get("strike").unwrap().span();
        assert_eq!(source.origin(span.start), Origin::Set(&sets[0]));
        let type_span = model.get("type").unwrap().span();
        assert!(matches!(
            source.origin(type_span.start),
            Origin::File {
                line: 2,
                column: 8,
                ..
            }
        ));
        assert!(root.get("execution").is_some());
    }

    #[test]
    fn errors_point_at_the_file_or_the_flag() {
        let sets = sets(&["model.x.y=1"]);
        let source = Source::new(Path::new("x.toml"), "[model]\nx = 2\n", &sets);
        let err = source.parse().unwrap_err().to_string();
        assert!(
            err.contains("--set") && err.contains("model.x is a value"),
            "{err}"
        );
        let source = Source::new(Path::new("x.toml"), "[model\n", &[]);
        let err = source.parse().unwrap_err().to_string();
        assert!(err.contains("x.toml: line 1"), "{err}");
    }
    #[test]
    fn a_set_is_one_value_never_more_toml() {
        for injected in [
            "model.strike=95\n[output]\nsummary = \"elsewhere.csv\"",
            "model.strike=95\r\n[execution]\nbackend = \"sequential\"",
            "model.strike=95\nspot = 3",
            "model.option=put\n[output]",
        ] {
            let err = Assignment::parse(injected).unwrap_err();
            assert!(
                err.contains("more than one value") || err.contains("line break"),
                "{injected:?}: {err}"
            );
            assert!(!err.contains("elsewhere"), "the excerpt is one line: {err}");
        }
        let err = Assignment::sweep("model.strike=90\n[output]\nsummary = 'x',100").unwrap_err();
        assert!(err.contains("more than one value"), "{err}");
        // One value over several lines is still one value.
        let set = Assignment::parse("model.x=[1,\n2]").unwrap();
        assert_eq!(one_value(&set.value).unwrap(), "[1,\n2]");
        assert_eq!(one_value("put").unwrap(), "\"put\"");
        // Sets built by hand are checked when the document is parsed.
        let sets = [Assignment {
            key: "model.strike".into(),
            value: "1\n[output]".into(),
        }];
        let source = Source::new(Path::new("x.toml"), "[model]\n", &sets);
        let err = source.parse().unwrap_err().to_string();
        assert!(err.starts_with("--set: model.strike=1...: "), "{err}");
    }

    #[test]
    fn a_key_swept_twice_is_refused_not_replaced() {
        let sets = [
            Assignment::sweep("model.strike=90,100").unwrap(),
            Assignment::sweep("strike=110").unwrap(),
        ];
        let source = Source::new(Path::new("x.toml"), "[model]\n", &sets);
        let err = source.parse().unwrap_err().to_string();
        assert!(
            err.contains("--sweep") && err.contains("swept twice"),
            "{err}"
        );
        assert!(err.contains("model.strike=90, 100"), "{err}");
    }

    #[test]
    fn serde_messages_are_said_in_a_configs_words() {
        assert_eq!(
            plain("invalid type: string \"abc\", expected f64"),
            "expected a number, found string \"abc\""
        );
        assert_eq!(
            plain("invalid type: integer `3`, expected a sequence"),
            "expected a list, found integer `3`"
        );
        assert_eq!(
            plain("unknown variant `gpu`, expected `mpi`"),
            "unknown value `gpu`, expected `mpi`"
        );
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let digits = "9".repeat(400);
        let sets = [Assignment::parse(&format!("model.x.y={digits}")).unwrap()];
        let source = Source::new(Path::new("x.toml"), "[model]\nx = 2\n", &sets);
        let err = source.parse().unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
    }
}
