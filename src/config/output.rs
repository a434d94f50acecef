//! The `[output]` table and `--out`: where the summary goes.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Overrides;

/// Where the summary goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A file, written atomically.
    File(PathBuf),
    /// Standard output (`--out -`).
    Stdout,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    summary: Option<PathBuf>,
}

/// The summary's destination: `--out`, else `[output] summary`, else
/// `results/<name>.csv`.
pub(super) fn read(raw: RawOutput, overrides: &Overrides, name: &str) -> Destination {
    overrides.out.clone().unwrap_or_else(|| {
        Destination::File(
            raw.summary
                .unwrap_or_else(|| Path::new("results").join(format!("{name}.csv"))),
        )
    })
}
