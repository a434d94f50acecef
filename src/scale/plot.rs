//! The SVG of a scaling study: speedup against workers per backend with the ideal
//! line, and throughput against workers, each point the median of its repeats with
//! whiskers from the fastest to the slowest repeat.
//!
//! Backends differ in colour, marker shape and dash, and are dodged a few pixels
//! sideways, so one that lies on another (threads and processes often do) stays
//! visible. A caption says how to read a point above the ideal line.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::{Machine, Point, median};
use crate::Error;

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

/// The caption's lines on points above the ideal line.
const ABOVE_IDEAL: [&str; 2] = [
    "Above the ideal line: every sample costs the same work at any worker count, so a point whose whiskers cross the line",
    "is within timing noise; clear of it, the 1-worker baseline ran slow (a busy machine) or the workers gained cache (superlinear).",
];

/// Draws the study to an SVG file at `path`.
pub fn plot(points: &[Point], machine: &Machine, title: &str, path: &Path) -> Result<(), Error> {
    let rows: Vec<Row> = points
        .iter()
        .map(|p| Row {
            backend: p.backend.name(),
            workers: p.workers,
            samples: p.samples,
            seconds: p.seconds.clone(),
        })
        .collect();
    let mut svg = String::new();
    draw(&rows, machine, title, &mut svg)
        .map_err(|e| Error::Execution(format!("cannot draw {}: {e}", path.display())))?;
    crate::output::write_file(path, svg.as_bytes())
}

/// A measured point as the plot needs it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    backend: &'static str,
    workers: usize,
    samples: u64,
    /// Wall-clock seconds of each repeat.
    seconds: Vec<f64>,
}

/// A value with its range over the repeats: `(low, median, high)`.
type Spread = (f64, f64, f64);

impl Row {
    /// Samples per second: at the slowest, the median and the fastest repeat.
    fn rate(&self) -> Spread {
        let n = self.samples as f64;
        let slowest = self
            .seconds
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let fastest = self.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        (n / slowest, n / median(&self.seconds), n / fastest)
    }
}

/// The speedup of `row` against the 1-worker row of its backend: the ratio of the
/// median throughputs (the CSV's `speedup`), and its range over every pair of a
/// repeat of `row` and a repeat of the baseline. NaN without a baseline.
fn speedup(row: &Row, rows: &[Row]) -> Spread {
    let Some(base) = rows
        .iter()
        .find(|b| b.backend == row.backend && b.workers == 1)
    else {
        return (f64::NAN, f64::NAN, f64::NAN);
    };
    let (lo, mid, hi) = row.rate();
    let (base_lo, base_mid, base_hi) = base.rate();
    (lo / base_hi, mid / base_mid, hi / base_lo)
}

/// The backends in the order of the legend (by name), each with its style index.
fn backends(rows: &[Row]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = rows.iter().map(|r| r.backend).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The x-offset of the `i`-th of `n` backends, in workers, on an axis `span`
/// workers wide: a few pixels apart, centred on the true count.
fn dodge(i: usize, n: usize, span: f64) -> f64 {
    (i as f64 - (n as f64 - 1.0) / 2.0) * 0.012 * span
}

/// The marker of the `i`-th backend, in pixels around the point: a circle, a
/// triangle, a square, a diamond.
fn marker(i: usize) -> Vec<(i32, i32)> {
    match i % 4 {
        0 => (0..12)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::PI / 6.0;
                (
                    (4.5 * a.cos()).round() as i32,
                    (4.5 * a.sin()).round() as i32,
                )
            })
            .collect(),
        1 => vec![(0, -6), (5, 4), (-5, 4)],
        2 => vec![(-4, -4), (4, -4), (4, 4), (-4, 4)],
        _ => vec![(0, -6), (5, 0), (0, 6), (-5, 0)],
    }
}

/// The dash of the `i`-th backend's line: solid, dashed, dotted, long dashes.
fn dash(i: usize) -> Option<(u32, u32)> {
    match i % 4 {
        0 => None,
        1 => Some((8, 5)),
        2 => Some((2, 4)),
        _ => Some((14, 4)),
    }
}

/// Worker counts beyond this are drawn on log2 axes, where doublings are evenly
/// spaced (1, 2 and 4 workers would crowd a linear axis up to 64).
const LINEAR_UP_TO: usize = 16;

/// How values map onto a panel's axes: as they are, or as log2, which keeps the
/// ideal line `speedup = workers` straight.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Axes {
    Linear,
    Log2,
}

impl Axes {
    fn of(rows: &[Row]) -> Self {
        if rows.iter().any(|r| r.workers > LINEAR_UP_TO) {
            Axes::Log2
        } else {
            Axes::Linear
        }
    }

    /// A value's position on the axis.
    fn at(self, v: f64) -> f64 {
        match self {
            Axes::Linear => v,
            Axes::Log2 => v.log2(),
        }
    }

    /// The label of the tick at `position`, or none between the values shown.
    fn label(self, position: f64) -> String {
        match self {
            Axes::Linear => format!("{position}"),
            Axes::Log2 if (position - position.round()).abs() < 1e-9 => {
                let v = 2f64.powf(position.round());
                if v >= 1.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v}")
                }
            }
            Axes::Log2 => String::new(),
        }
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(rows: &[Row], machine: &Machine, title: &str, svg: &mut String) -> DrawResult {
    let root = SVGBackend::with_string(svg, (1000, 530)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!("{title} on {} ({} cores)", machine.cpu, machine.cores),
        ("sans-serif", 18),
    )?;
    let (plots, caption) = root.split_vertically(380);
    let (left, right) = plots.split_horizontally(500);
    let axes = Axes::of(rows);
    let speedups: Vec<Spread> = rows.iter().map(|r| speedup(r, rows)).collect();
    let rates: Vec<Spread> = rows
        .iter()
        .map(|r| {
            let (lo, mid, hi) = r.rate();
            (lo / 1e6, mid / 1e6, hi / 1e6)
        })
        .collect();
    let scale = if axes == Axes::Log2 {
        ", log2 axes"
    } else {
        ""
    };
    panel(
        &left,
        rows,
        &speedups,
        axes,
        &format!("speedup against 1 worker{scale}"),
        "speedup",
        true,
    )?;
    panel(
        &right,
        rows,
        &rates,
        axes,
        &format!("throughput{scale}"),
        "million samples / s",
        false,
    )?;

    let repeats = rows.iter().map(|r| r.seconds.len()).max().unwrap_or(1);
    let font = ("sans-serif", 13).into_font();
    let mut lines = vec![if repeats > 1 {
        format!(
            "Points: median of {repeats} repeats. Whiskers: fastest to slowest repeat \
             (speedup: every pairing with a 1-worker repeat)."
        )
    } else {
        "Points: one run each, so no whiskers: --repeats 3 or more shows the timing noise.".into()
    }];
    lines.push(
        "Backends are nudged sideways a few pixels so that lines on top of each other stay visible."
            .into(),
    );
    lines.extend(ABOVE_IDEAL.iter().map(|l| l.to_string()));
    legend(&caption, &backends(rows), &font)?;
    for (k, line) in lines.iter().enumerate() {
        caption.draw(&Text::new(
            line.as_str(),
            (20, 36 + 19 * k as i32),
            font.clone(),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// The y-range of a panel on `axes`: from 0 (linear) or a little below the
/// lowest whisker (log2) to a little above the highest whisker and `floor_top`.
fn y_range(values: &[Spread], floor_top: f64, axes: Axes) -> (f64, f64) {
    let finite = || values.iter().filter(|v| v.1.is_finite());
    let high = finite().map(|v| v.2).fold(floor_top, f64::max);
    match axes {
        Axes::Linear => (0.0, (high * 1.1).max(1e-9)),
        Axes::Log2 => {
            let low = finite().map(|v| v.0).fold(high, f64::min);
            (axes.at(low) - 0.3, axes.at(high) + 0.3)
        }
    }
}

/// One panel: `values` (one per row) against workers per backend, with whiskers,
/// and the ideal line `speedup = workers` when `ideal`.
fn panel(
    area: &Area<'_>,
    rows: &[Row],
    values: &[Spread],
    axes: Axes,
    caption: &str,
    y_desc: &str,
    ideal: bool,
) -> DrawResult {
    let max_workers = rows.iter().map(|r| r.workers).max().unwrap_or(1) as f64;
    let measured: Vec<usize> = rows.iter().map(|r| r.workers).collect();
    let (x_lo, x_hi) = match axes {
        Axes::Linear => (0.5, max_workers + 0.5),
        Axes::Log2 => (-0.4, axes.at(max_workers) + 0.4),
    };
    let (y_lo, y_hi) = y_range(values, if ideal { max_workers } else { 0.0 }, axes);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    // Only the measured worker counts are labelled.
    let x_label = |x: &f64| {
        let w = match axes {
            Axes::Linear => x.round(),
            Axes::Log2 => 2f64.powf(x.round()),
        };
        if (x - x.round()).abs() < 1e-9 && measured.contains(&(w as usize)) {
            format!("{w:.0}")
        } else {
            String::new()
        }
    };
    let y_label = |y: &f64| match axes {
        Axes::Linear => format!("{y}"),
        Axes::Log2 => axes.label(*y),
    };
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("workers")
        .x_labels((x_hi - x_lo).ceil() as usize + 1)
        .x_label_formatter(&x_label)
        .x_max_light_lines(0)
        .y_desc(y_desc)
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.1));
    if axes == Axes::Log2 {
        mesh.y_labels((y_hi - y_lo).ceil() as usize + 1)
            .y_label_formatter(&y_label)
            .y_max_light_lines(0);
    }
    mesh.draw()?;
    if ideal {
        let (a, b) = (axes.at(1.0), axes.at(max_workers));
        chart.draw_series(LineSeries::new(
            [(a, a), (b, b)],
            BLACK.mix(0.5).stroke_width(1),
        ))?;
    }
    let names = backends(rows);
    for (i, name) in names.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let offset = dodge(i, names.len(), x_hi - x_lo);
        let series: Vec<(f64, Spread)> = rows
            .iter()
            .zip(values)
            .filter(|(r, v)| r.backend == *name && v.1.is_finite())
            .map(|(r, &(lo, mid, hi))| {
                let x = axes.at(r.workers as f64) + offset;
                (x, (axes.at(lo), axes.at(mid), axes.at(hi)))
            })
            .collect();
        let line: Vec<(f64, f64)> = series.iter().map(|(x, v)| (*x, v.1)).collect();
        let style = colour.stroke_width(2);
        match dash(i) {
            None => chart.draw_series(LineSeries::new(line, style))?,
            Some((on, off)) => chart.draw_series(DashedLineSeries::new(line, on, off, style))?,
        };
        chart.draw_series(series.iter().map(|&(x, (lo, mid, hi))| {
            ErrorBar::new_vertical(x, lo, mid, hi, colour.stroke_width(1), 8)
        }))?;
        chart.draw_series(series.iter().map(|&(x, (_, mid, _))| {
            EmptyElement::at((x, mid)) + Polygon::new(marker(i), colour.filled())
        }))?;
    }
    Ok(())
}

/// One legend for both panels, in a row under them, where it hides no point: the
/// ideal line, then each backend's line, marker and name.
fn legend(area: &Area<'_>, names: &[&'static str], font: &FontDesc<'_>) -> DrawResult {
    let y = 14;
    let mut x = 20;
    area.draw(&PathElement::new([(x, y), (x + 28, y)], BLACK.mix(0.5)))?;
    let text = "ideal (speedup = workers)";
    area.draw(&Text::new(text, (x + 36, y - 7), font.clone()))?;
    x += 36
        + area
            .estimate_text_size(text, &TextStyle::from(font.clone()))?
            .0 as i32
        + 28;
    for (i, name) in names.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let (on, off) = dash(i).unwrap_or((28, 0));
        area.draw(&DashedPathElement::new(
            [(x, y), (x + 28, y)],
            on,
            off,
            colour.stroke_width(2),
        ))?;
        let shape: Vec<(i32, i32)> = marker(i)
            .iter()
            .map(|(px, py)| (x + 14 + px, y + py))
            .collect();
        area.draw(&Polygon::new(shape, colour.filled()))?;
        area.draw(&Text::new(*name, (x + 36, y - 7), font.clone()))?;
        x += 36
            + area
                .estimate_text_size(name, &TextStyle::from(font.clone()))?
                .0 as i32
            + 28;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(backend: &'static str, workers: usize, seconds: &[f64]) -> Row {
        Row {
            backend,
            workers,
            samples: 1_000_000,
            seconds: seconds.to_vec(),
        }
    }

    fn study() -> Vec<Row> {
        vec![
            row("threads", 1, &[1.0, 1.1, 0.9]),
            row("processes", 1, &[1.0, 1.2, 1.0]),
            row("threads", 2, &[0.5, 0.45, 0.6]),
            row("processes", 2, &[0.5, 0.5, 0.5]),
            row("threads", 4, &[0.24, 0.3, 0.26]),
            row("processes", 4, &[0.26, 0.27, 0.25]),
        ]
    }

    fn svg(rows: &[Row]) -> String {
        let machine = Machine {
            cores: 4,
            cpu: "test cpu".into(),
        };
        let mut svg = String::new();
        draw(rows, &machine, "pi (strong scaling)", &mut svg).unwrap();
        svg
    }

    #[test]
    fn whiskers_span_the_repeats() {
        let rows = study();
        let (lo, mid, hi) = rows[0].rate();
        assert_eq!((lo, mid, hi), (1e6 / 1.1, 1e6, 1e6 / 0.9));
        // The median speedup is the CSV's; its range pairs every repeat with every
        // baseline repeat.
        let (lo, mid, hi) = speedup(&rows[2], &rows);
        assert_eq!(mid, 2.0);
        assert!((lo - 0.9 / 0.6).abs() < 1e-12 && (hi - 1.1 / 0.45).abs() < 1e-12);
        // The baseline's own spread shows at 1 worker.
        let (lo, mid, hi) = speedup(&rows[0], &rows);
        assert!(lo < 1.0 && mid == 1.0 && hi > 1.0);
        // Without a baseline there is nothing to divide by.
        assert!(speedup(&row("mpi", 2, &[1.0]), &rows).1.is_nan());
    }

    #[test]
    fn every_point_has_a_whisker_in_both_panels() {
        // Each whisker is an error bar, drawn with a circle at the median (the
        // markers are polygons), so the circles count the whiskers.
        let rows = study();
        assert_eq!(svg(&rows).matches("<circle").count(), 2 * rows.len());
    }

    #[test]
    fn backends_differ_in_marker_and_dash_and_are_nudged_apart() {
        assert_ne!(marker(0), marker(1));
        assert_ne!(dash(0), dash(1));
        assert!(dodge(0, 2, 4.0) < 0.0 && dodge(1, 2, 4.0) > 0.0);
        assert_eq!(dodge(0, 1, 4.0), 0.0);
        let text = svg(&study());
        for label in ["ideal (speedup = workers)", "threads", "processes"] {
            assert!(text.contains(label), "no {label:?}");
        }
    }

    #[test]
    fn the_caption_reads_the_whiskers_and_the_ideal_line() {
        let text = svg(&study());
        assert!(text.contains("Whiskers: fastest to slowest repeat"));
        assert!(text.contains("Above the ideal line"));
        assert!(text.contains("within timing noise"));
        let single = vec![row("threads", 1, &[1.0]), row("threads", 2, &[0.6])];
        assert!(svg(&single).contains("one run each, so no whiskers"));
    }

    #[test]
    fn many_workers_go_on_log2_axes() {
        assert_eq!(Axes::of(&study()), Axes::Linear);
        let wide: Vec<Row> = [1, 2, 4, 8, 16, 32, 64]
            .iter()
            .map(|&w| row("threads", w, &[1.0 / w as f64]))
            .collect();
        assert_eq!(Axes::of(&wide), Axes::Log2);
        assert_eq!(Axes::Log2.at(64.0), 6.0);
        assert_eq!(Axes::Log2.label(5.0), "32");
        assert_eq!(Axes::Log2.label(5.5), "");
        assert!(svg(&wide).contains("log2 axes"));
    }
}
