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
        Ok(Assignment {
            key: key.to_string(),
            value: value.trim().to_string(),
        })
    }
}

impl Assignment {
    /// Parses `KEY=V1,V2,...`, as given to `--sweep`: the assignment of the list
    /// `[V1, V2, ...]` to `sweep.KEY` (each value TOML, or else a bare string).
    pub fn sweep(text: &str) -> Result<Self, String> {
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
            .map(|v| {
                let v = v.trim();
                if DeTable::parse(&format!("v = {v}")).is_ok() {
                    v.to_string()
                } else {
                    toml::Value::String(v.to_string()).to_string()
                }
            })
            .collect();
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
pub enum Origin<'a> {
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
pub struct Source<'a> {
    path: PathBuf,
    /// The file's text, then the overrides' table.
    text: String,
    file_len: usize,
    sets: &'a [Assignment],
    /// Where each override's line starts in `text`.
    set_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    /// The file `path` with `text`, and overrides `sets`.
    pub fn new(path: &Path, file: &str, sets: &'a [Assignment]) -> Self {
        let mut text = file.to_string();
        let file_len = text.len();
        let mut set_starts = Vec::new();
        if !sets.is_empty() {
            text.push_str(&format!("\n[{SET_TABLE}]\n"));
            for (i, set) in sets.iter().enumerate() {
                set_starts.push(text.len());
                let line = format!("v{i} = {}", set.value);
                // A value that does not parse as TOML alone is a bare string.
                let line = if DeTable::parse(&line).is_ok() {
                    line
                } else {
                    format!("v{i} = {}", toml::Value::String(set.value.clone()))
                };
                text.push_str(&line);
                text.push('\n');
            }
        }
        Source {
            path: path.to_path_buf(),
            text,
            file_len,
            sets,
            set_starts,
        }
    }

    /// The config file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the byte offset `at` of the text came from.
    pub fn origin(&self, at: usize) -> Origin<'_> {
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
    pub fn error(&self, span: Option<Range<usize>>, message: &str) -> Error {
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
    pub fn toml_error(&self, e: &toml::de::Error) -> Error {
        self.error(e.span(), e.message().trim_end())
    }

    /// Parses the text into a document with every override in its place.
    pub fn parse(&self) -> Result<Document<'_>, Error> {
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
    pub fn key_error(&self, spans: &Spans, key: &str, reason: String) -> Error {
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
        reason: format!("{set}: {message}"),
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
pub struct Document<'s> {
    root: Spanned<DeTable<'s>>,
}

impl<'s> Document<'s> {
    /// Takes the value of a top-level key out of the document.
    pub fn take(&mut self, key: &str) -> Option<Spanned<DeValue<'s>>> {
        self.root.get_mut().remove(key)
    }

    /// The spans of every `table.key` of the document's tables.
    pub fn spans(&self) -> Spans {
        let mut spans = Spans::default();
        for (table, value) in self.root.get_ref() {
            spans.add(table.get_ref(), value);
        }
        spans
    }

    /// The document, to deserialize.
    pub fn into_inner(self) -> Spanned<DeTable<'s>> {
        self.root
    }
}

/// Where each `table.key` of a document was written.
#[derive(Debug, Default, Clone)]
pub struct Spans(HashMap<String, Range<usize>>);

impl Spans {
    /// Records the keys of `value` when it is a table, under `table.`.
    pub fn add(&mut self, table: &str, value: &Spanned<DeValue<'_>>) {
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
}
