//! The SVG of a scaling study: speedup against workers per backend with the ideal
//! line, and throughput against workers.

use std::path::Path;

use plotters::prelude::*;

use super::{Machine, Point};
use crate::Error;

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// Draws the study to an SVG file at `path`.
pub fn plot(points: &[Point], machine: &Machine, title: &str, path: &Path) -> Result<(), Error> {
    let mut svg = String::new();
    draw(points, machine, title, &mut svg)
        .map_err(|e| Error::Execution(format!("cannot draw {}: {e}", path.display())))?;
    crate::output::write_file(path, svg.as_bytes())
}

fn draw(
    points: &[Point],
    machine: &Machine,
    title: &str,
    svg: &mut String,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!("{title} on {} ({} cores)", machine.cpu, machine.cores),
        ("sans-serif", 18),
    )?;
    let (left, right) = root.split_horizontally(500);
    let max_workers = points.iter().map(|p| p.workers).max().unwrap_or(1) as f64;
    let mut backends: Vec<_> = points.iter().map(|p| p.backend).collect();
    backends.dedup();
    backends.sort_by_key(|b| b.name());
    backends.dedup();

    let speedups: Vec<(usize, f64)> = points
        .iter()
        .map(|p| {
            let base = points
                .iter()
                .find(|b| b.backend == p.backend && b.workers == 1)
                .map_or(f64::NAN, Point::rate);
            (p.workers, p.rate() / base)
        })
        .collect();
    let top = speedups
        .iter()
        .map(|s| s.1)
        .filter(|s| s.is_finite())
        .fold(max_workers, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&left)
        .caption("speedup against 1 worker", ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(0.5..max_workers + 0.5, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .x_labels(max_workers as usize + 1)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("speedup")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(1.0, 1.0), (max_workers, max_workers)],
            BLACK.mix(0.4).stroke_width(1),
        ))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.mix(0.4)));
    for (i, backend) in backends.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let series: Vec<(f64, f64)> = points
            .iter()
            .zip(&speedups)
            .filter(|(p, _)| p.backend == *backend)
            .map(|(_, s)| (s.0 as f64, s.1))
            .collect();
        chart
            .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))?
            .label(backend.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
        chart.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()?;

    let top_rate = points.iter().map(Point::rate).fold(0.0, f64::max) / 1e6 * 1.1;
    let mut chart = ChartBuilder::on(&right)
        .caption("throughput", ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.5..max_workers + 0.5, 0.0..top_rate.max(1e-9))?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .x_labels(max_workers as usize + 1)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("million samples / s")
        .draw()?;
    for (i, backend) in backends.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let series: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.backend == *backend)
            .map(|p| (p.workers as f64, p.rate() / 1e6))
            .collect();
        chart
            .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))?
            .label(backend.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
        chart.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
