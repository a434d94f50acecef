//! The convergence trace: the estimate and its interval after 1, 2, 4, 8, ...
//! chunks and at the stop, as a CSV sheet and as an SVG.
//!
//! The points come from [`Report::trace`], statistics merged in chunk order at fixed
//! chunk counts, so a trace has the same bits on every backend and worker count,
//! and its last row equals the summary. Like a target, it follows the model's first
//! quantity.

use std::path::Path;

use plotters::prelude::*;

use crate::Error;
use crate::engine::{Report, quantity_estimate};
use crate::output::{Sheet, Value};
use crate::stats::Estimate;

/// The trace's columns, in order.
pub const COLUMNS: [&str; 6] = [
    "chunks",
    "samples",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
];

/// The trace of `report`'s first quantity: one row per point.
pub fn sheet(report: &Report) -> Sheet {
    let rows = points(report)
        .map(|(chunks, e)| {
            vec![
                Value::Int(chunks),
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

/// Chunk counts and the first quantity's estimate at each trace point.
fn points(report: &Report) -> impl Iterator<Item = (u64, Estimate)> + '_ {
    let (quantity, _) = &report.estimates[0];
    report.trace.iter().map(move |p| {
        (
            p.chunks,
            quantity_estimate(quantity, &p.moments, report.job.confidence),
        )
    })
}

/// Draws the trace to an SVG at `path`: the estimate with its interval as a band
/// against samples on a log axis, and the reference as a horizontal line when the
/// quantity has one.
pub fn plot(report: &Report, path: &Path) -> Result<(), Error> {
    let mut svg = String::new();
    draw(report, &mut svg)
        .map_err(|e| Error::Execution(format!("cannot draw {}: {e}", path.display())))?;
    crate::output::write_file(path, svg.as_bytes())
}

const ESTIMATE: RGBColor = RGBColor(31, 119, 180);
const REFERENCE: RGBColor = RGBColor(214, 39, 40);

fn draw(report: &Report, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let (quantity, _) = &report.estimates[0];
    let reference = quantity
        .reference
        .map(|(value, _)| value)
        .filter(|v| v.is_finite());
    // Intervals are undefined (NaN) below two samples; such points are left out.
    let points: Vec<(f64, Estimate)> = points(report)
        .map(|(_, e)| (e.samples as f64, e))
        .filter(|(_, e)| e.ci_low.is_finite() && e.ci_high.is_finite())
        .collect();
    let (mut x_min, mut x_max) = points
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), (x, _)| {
            (lo.min(*x), hi.max(*x))
        });
    if points.is_empty() {
        (x_min, x_max) = (1.0, 10.0);
    } else if x_min >= x_max {
        (x_min, x_max) = (x_min / 2.0, x_max * 2.0);
    }
    let (mut y_min, mut y_max) = points
        .iter()
        .map(|(_, e)| (e.ci_low, e.ci_high))
        .chain(reference.map(|r| (r, r)))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (a, b)| {
            (lo.min(a), hi.max(b))
        });
    if !(y_min.is_finite() && y_max.is_finite()) || y_min >= y_max {
        let centre = if y_min.is_finite() { y_min } else { 0.0 };
        (y_min, y_max) = (centre - 1.0, centre + 1.0);
    }
    let pad = 0.05 * (y_max - y_min);

    let root = SVGBackend::with_string(svg, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "{}: {} against samples ({} confidence)",
        report.name, quantity.name, report.job.confidence
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((x_min..x_max).log_scale(), y_min - pad..y_max + pad)?;
    chart
        .configure_mesh()
        .x_desc("samples (log scale)")
        .y_desc(quantity.name.as_ref())
        .x_label_formatter(&|x| format!("{x:.0e}"))
        .draw()?;
    let band: Vec<(f64, f64)> = points
        .iter()
        .map(|(x, e)| (*x, e.ci_high))
        .chain(points.iter().rev().map(|(x, e)| (*x, e.ci_low)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, ESTIMATE.mix(0.2))))?
        .label("confidence interval")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], ESTIMATE.mix(0.2)));
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|(x, e)| (*x, e.estimate)),
            ESTIMATE.stroke_width(2),
        ))?
        .label("estimate")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], ESTIMATE.stroke_width(2)));
    chart.draw_series(
        points
            .iter()
            .map(|(x, e)| Circle::new((*x, e.estimate), 3, ESTIMATE.filled())),
    )?;
    if let Some(r) = reference {
        chart
            .draw_series(LineSeries::new(
                [(x_min, r), (x_max, r)],
                REFERENCE.stroke_width(1),
            ))?
            .label(format!("reference {r}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], REFERENCE));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
