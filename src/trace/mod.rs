//! The convergence trace: the estimate and its interval after 1, 2, 4, 8, ...
//! chunks and at the stop, as a CSV sheet and as an SVG.
//!
//! The points come from [`Report::trace`], statistics merged in chunk order at fixed
//! chunk counts, so a trace has the same bits on every backend and worker count,
//! and its last row equals the summary. Like a target, it follows the model's first
//! quantity.
//!
//! The plot answers three questions: where the estimate settled (the upper panel,
//! its y-axis framed on the converged part so the first noisy chunks do not set
//! the scale), whether it met the target (the target half-width as a band around
//! the final estimate, and as a line under the half-width in the lower panel), and
//! where and why the run stopped (a vertical marker labelled with the stop reason):
//! [`plot`] draws it.

mod axes;
mod plot;

use std::path::Path;

use crate::Error;
use crate::engine::{Report, quantity_estimate};
use crate::output::{Sheet, Value};
use crate::stats::Estimate;

/// The trace's columns, in order.
pub const COLUMNS: [&str; 6] = [
    "blocks",
    "samples",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
];

/// The trace of `report`'s first quantity: one row per point.
pub fn sheet(report: &Report) -> Sheet {
    let rows = points(report)
        .map(|(blocks, e)| {
            vec![
                Value::Int(blocks),
                Value::Int(e.samples),
                Value::Float(e.estimate),
                Value::Float(e.std_error),
                Value::Float(e.ci_low),
                Value::Float(e.ci_high),
            ]
        })
        .collect();
    Sheet {
        columns: COLUMNS.to_vec(),
        rows,
    }
}

/// Block counts and the first quantity's estimate at each trace point.
pub(crate) fn points(report: &Report) -> impl Iterator<Item = (u64, Estimate)> + '_ {
    let (quantity, _) = &report.estimates[0];
    report.trace.iter().map(move |p| {
        (
            p.blocks,
            quantity_estimate(quantity, &p.moments, report.job.confidence),
        )
    })
}

/// Draws the trace to an SVG at `path`. The upper panel shows the estimate with its
/// interval as a band against samples on a log axis, the reference when the
/// quantity has one, the target half-width as a band around the final estimate
/// when the job has a target, and the stop as a vertical marker labelled with its
/// reason; its y-axis is framed on the converged part (see [`frame`]), and earlier
/// points beyond the frame are clipped, their estimates drawn as triangles at the
/// edge. The lower panel shows the half-width against samples on log axes with
/// the target and a 1/sqrt(samples) guide through the last point.
pub fn plot(report: &Report, path: &Path) -> Result<(), Error> {
    let mut svg = String::new();
    plot::draw(&plot::Figure::of(report), &mut svg)
        .map_err(|e| Error::Execution(format!("cannot draw {}: {e}", path.display())))?;
    crate::output::write_file(path, svg.as_bytes())
}
