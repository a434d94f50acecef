//! The SVG of a coverage study: one panel per confidence level, a point per row (a
//! cell's quantity) at its coverage, over the grey bar of its binomial band; points
//! outside their band are red.

use std::path::Path;

use plotters::prelude::*;

use super::{LEVELS, Row};
use crate::Error;

const INSIDE: RGBColor = RGBColor(31, 119, 180);
const OUTSIDE: RGBColor = RGBColor(214, 39, 40);
const BAND: RGBColor = RGBColor(200, 200, 200);

/// Draws `rows` to an SVG file at `path`.
pub fn plot(rows: &[Row], title: &str, path: &Path) -> Result<(), Error> {
    let mut svg = String::new();
    draw(rows, title, &mut svg)
        .map_err(|e| Error::Execution(format!("cannot draw {}: {e}", path.display())))?;
    crate::output::write_file(path, svg.as_bytes())
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(rows: &[Row], title: &str, svg: &mut String) -> DrawResult {
    let root = SVGBackend::with_string(svg, (1200, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let panels = root.split_evenly((LEVELS.len(), 1));
    for (panel, &level) in panels.iter().zip(&LEVELS) {
        let these: Vec<&Row> = rows.iter().filter(|r| r.confidence == level).collect();
        let outside = these.iter().filter(|r| !r.inside()).count();
        let lowest = these
            .iter()
            .map(|r| r.coverage().min(r.band().0))
            .fold(level, f64::min);
        let y_low = (lowest - 0.01).max(0.0);
        let y_high = (level + (level - y_low).max(0.02)).min(1.0) + 0.002;
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!(
                    "{:.0}% intervals: {} rows, {outside} outside their {}-sigma binomial band",
                    level * 100.0,
                    these.len(),
                    super::Z_BAND
                ),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(50)
            .build_cartesian_2d(-1.0..these.len() as f64, y_low..y_high)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("row (cell x quantity, in the CSV's order)")
            .y_desc("coverage")
            .draw()?;
        chart.draw_series(these.iter().enumerate().map(|(i, r)| {
            let (lo, hi) = r.band();
            Rectangle::new([(i as f64 - 0.3, lo), (i as f64 + 0.3, hi)], BAND.filled())
        }))?;
        chart.draw_series(LineSeries::new(
            [(-1.0, level), (these.len() as f64, level)],
            BLACK.stroke_width(1),
        ))?;
        chart.draw_series(these.iter().enumerate().map(|(i, r)| {
            let colour = if r.inside() { INSIDE } else { OUTSIDE };
            Circle::new((i as f64, r.coverage()), 2, colour.filled())
        }))?;
    }
    root.present()?;
    Ok(())
}
