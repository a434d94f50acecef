//! The convergence plot: the estimate and its interval against samples (the y-axis
//! framed on the converged part), the half-width against the target, and the stop.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{
    DrawResult, FRAMED_FRACTION, clip_line, clip_polygon, count, estimate_text, frame, num, sig,
    trim_zeros, x_ticks, y_ticks,
};
use super::points;
use crate::config::Target;
use crate::engine::{Report, StopReason};

/// A trace point as drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Mark {
    pub(super) samples: f64,
    pub(super) estimate: f64,
    pub(super) std_error: f64,
    pub(super) low: f64,
    pub(super) high: f64,
}

impl Mark {
    fn half_width(&self) -> f64 {
        0.5 * (self.high - self.low)
    }
}

/// Everything the convergence plot shows, read from a report.
#[derive(Debug, Clone)]
pub(super) struct Figure {
    name: String,
    quantity: String,
    confidence: f64,
    /// Points with a finite interval, ascending in samples.
    marks: Vec<Mark>,
    /// The reference and how it was computed.
    reference: Option<(f64, &'static str)>,
    /// An approximation that is not a reference.
    approx: Option<f64>,
    target: Option<Target>,
    stop: StopReason,
    /// The samples the run would have drawn at most.
    max_samples: u64,
}

impl Figure {
    pub(super) fn of(report: &Report) -> Self {
        let (quantity, _) = &report.estimates[0];
        Figure {
            name: report.name.clone(),
            quantity: quantity.name.to_string(),
            confidence: report.job.confidence,
            // Intervals are undefined (NaN) below two samples; such points are left out.
            marks: points(report)
                .map(|(_, e)| Mark {
                    samples: e.samples as f64,
                    estimate: e.estimate,
                    std_error: e.std_error,
                    low: e.ci_low,
                    high: e.ci_high,
                })
                .filter(|m| m.low.is_finite() && m.high.is_finite())
                .collect(),
            reference: quantity
                .reference
                .filter(|(v, _)| v.is_finite())
                .map(|(v, kind)| (v, kind.name())),
            approx: quantity.approx_reference.filter(|v| v.is_finite()),
            target: report.job.target.clone(),
            stop: report.stop_reason,
            max_samples: report.job.samples,
        }
    }

    /// The half-width the target allows at `estimate`: both errors must be met, so
    /// the smaller of the two.
    fn allowed(&self, estimate: f64) -> Option<f64> {
        let target = self.target.as_ref()?;
        let rel = target.rel_error.map(|r| r * estimate.abs());
        match (target.abs_error, rel) {
            (Some(a), Some(r)) => Some(a.min(r)),
            (a, r) => a.or(r),
        }
    }

    /// The target in words.
    fn target_text(&self) -> Option<String> {
        let target = self.target.as_ref()?;
        let rel = target.rel_error.map(|r| format!("{} × |estimate|", num(r)));
        let abs = target.abs_error.map(num);
        Some(match (abs, rel) {
            (Some(a), Some(r)) => format!("half-width ≤ {a} and ≤ {r}"),
            (a, r) => format!("half-width ≤ {}", a.or(r).unwrap_or_default()),
        })
    }

    /// Why the run stopped, as the marker's label.
    fn stop_text(&self) -> &'static str {
        match (self.stop, self.target.is_some()) {
            (StopReason::Target, _) => "target met",
            (StopReason::Samples, true) => "all samples drawn, target not met",
            (StopReason::Samples, false) => "all samples drawn",
        }
    }
}

const ESTIMATE: RGBColor = RGBColor(31, 119, 180);
const REFERENCE: RGBColor = RGBColor(214, 39, 40);
const TARGET: RGBColor = RGBColor(44, 160, 44);
const STOP: RGBColor = RGBColor(60, 60, 60);
const APPROX: RGBColor = RGBColor(140, 140, 140);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(super) fn draw(fig: &Figure, svg: &mut String) -> DrawResult {
    let root = SVGBackend::with_string(svg, (1060, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "{}: {} against samples ({}% confidence)",
        fig.name,
        fig.quantity,
        trim_zeros(&format!("{:.4}", fig.confidence * 100.0))
    );
    let root = root.titled(&title, ("sans-serif", 18))?;
    let (main, side) = root.split_horizontally(730);
    let (upper, lower) = main.split_vertically(360);

    let (x_min, x_max) = match (fig.marks.first(), fig.marks.last()) {
        (Some(a), Some(b)) => (a.samples / 1.5, b.samples * 1.5),
        _ => (1.0, 10.0),
    };
    let legend = draw_estimates(fig, &upper, (x_min, x_max))?;
    draw_half_widths(fig, &lower, (x_min, x_max))?;
    draw_side(fig, &side, &legend)?;
    root.present()?;
    Ok(())
}

/// What the side panel explains about the upper panel.
struct Legend {
    /// Early estimates drawn at the frame's edge.
    beyond: usize,
    /// Samples from which the frame holds the intervals, when earlier ones were clipped.
    clipped_before: Option<f64>,
    /// Whether the approximation, if any, lies inside the frame (and was drawn).
    approx_inside: bool,
}

/// The upper panel: the estimate, its interval, the reference, the target band
/// and the stop, framed by [`frame`].
fn draw_estimates(
    fig: &Figure,
    area: &Area<'_>,
    (x_min, x_max): (f64, f64),
) -> Result<Legend, Box<dyn std::error::Error>> {
    let last = fig.marks.last().copied();
    let band_half = last.and_then(|m| fig.allowed(m.estimate).map(|h| (m.estimate, h)));
    let mut keep: Vec<f64> = fig.reference.iter().map(|r| r.0).collect();
    if let Some((centre, half)) = band_half {
        keep.extend([centre - half, centre + half]);
    }
    let (y_lo, y_hi) = frame(&fig.marks, &keep);

    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d((x_min..x_max).log_scale(), y_lo..y_hi)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|_| String::new())
        .y_desc(fig.quantity.as_str())
        .max_light_lines(0)
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    x_ticks(&mut chart, (x_min, x_max), (y_lo, y_hi))?;

    let band: Vec<(f64, f64)> = fig
        .marks
        .iter()
        .map(|m| (m.samples, m.high))
        .chain(fig.marks.iter().rev().map(|m| (m.samples, m.low)))
        .collect();
    let clipped = clip_polygon(&band, y_lo, y_hi);
    if clipped.len() >= 3 {
        chart.draw_series(std::iter::once(Polygon::new(clipped, ESTIMATE.mix(0.2))))?;
    }
    if let Some((centre, half)) = band_half {
        for y in [centre - half, centre + half] {
            chart.draw_series(DashedLineSeries::new(
                [(x_min, y), (x_max, y)],
                8,
                5,
                TARGET.stroke_width(2),
            ))?;
        }
    }
    if let Some((r, _)) = fig.reference {
        chart.draw_series(LineSeries::new(
            [(x_min, r), (x_max, r)],
            REFERENCE.stroke_width(1),
        ))?;
    }
    let approx_inside = fig.approx.is_some_and(|a| (y_lo..=y_hi).contains(&a));
    if let Some(a) = fig.approx.filter(|_| approx_inside) {
        chart.draw_series(DashedLineSeries::new(
            [(x_min, a), (x_max, a)],
            2,
            4,
            APPROX.stroke_width(1),
        ))?;
    }
    let line: Vec<(f64, f64)> = fig.marks.iter().map(|m| (m.samples, m.estimate)).collect();
    for piece in clip_line(&line, y_lo, y_hi) {
        chart.draw_series(LineSeries::new(piece, ESTIMATE.stroke_width(2)))?;
    }
    let inside = |m: &&Mark| (y_lo..=y_hi).contains(&m.estimate);
    chart.draw_series(
        fig.marks
            .iter()
            .filter(inside)
            .map(|m| Circle::new((m.samples, m.estimate), 3, ESTIMATE.filled())),
    )?;
    let beyond: Vec<&Mark> = fig.marks.iter().filter(|m| !inside(m)).collect();
    chart.draw_series(beyond.iter().map(|m| {
        // A triangle at the frame's edge, pointing towards the estimate.
        let (y, s) = if m.estimate > y_hi {
            (y_hi, 1)
        } else {
            (y_lo, -1)
        };
        EmptyElement::at((m.samples, y))
            + Polygon::new(vec![(-6, s * 10), (6, s * 10), (0, 0)], ESTIMATE.filled())
    }))?;
    if let Some(m) = last {
        chart.draw_series(std::iter::once(ErrorBar::new_vertical(
            m.samples,
            m.low.max(y_lo),
            m.estimate.clamp(y_lo, y_hi),
            m.high.min(y_hi),
            ESTIMATE.stroke_width(2),
            10,
        )))?;
        stop_marker(&mut chart, m.samples, (y_lo, y_hi))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("stop: {}", fig.stop_text()),
            (m.samples / 1.08, y_hi),
            ("sans-serif", 13)
                .into_font()
                .color(&STOP)
                .pos(Pos::new(HPos::Right, VPos::Top)),
        )))?;
    }
    let first_framed = last.map_or(0.0, |l| l.samples * FRAMED_FRACTION);
    let clipped_before = fig
        .marks
        .iter()
        .any(|m| m.samples < first_framed && (m.low < y_lo || m.high > y_hi))
        .then(|| {
            fig.marks
                .iter()
                .find(|m| m.samples >= first_framed)
                .map_or(first_framed, |m| m.samples)
        });
    Ok(Legend {
        beyond: beyond.len(),
        clipped_before,
        approx_inside,
    })
}

/// A vertical dashed line at the stop.
fn stop_marker<'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<LogCoord<f64>, Y>>,
    samples: f64,
    (lo, hi): (f64, f64),
) -> DrawResult {
    chart.draw_series(DashedLineSeries::new(
        [(samples, lo), (samples, hi)],
        6,
        4,
        STOP.stroke_width(1),
    ))?;
    Ok(())
}

/// The lower panel: the half-width against samples on log axes, with the target
/// and a 1/sqrt(samples) guide through the last point.
fn draw_half_widths(fig: &Figure, area: &Area<'_>, (x_min, x_max): (f64, f64)) -> DrawResult {
    let widths: Vec<(f64, f64)> = fig
        .marks
        .iter()
        .map(|m| (m.samples, m.half_width()))
        .filter(|(_, h)| *h > 0.0)
        .collect();
    let allowed: Vec<(f64, f64)> = fig
        .marks
        .iter()
        .filter_map(|m| fig.allowed(m.estimate).map(|h| (m.samples, h)))
        .filter(|(_, h)| *h > 0.0 && h.is_finite())
        .collect();
    let (lo, hi) = widths
        .iter()
        .chain(&allowed)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), (_, h)| {
            (lo.min(*h), hi.max(*h))
        });
    if !lo.is_finite() {
        // No interval has a width (a constant sample): nothing to draw.
        area.draw(&Text::new(
            "every interval has zero width: no half-width to draw on a log scale",
            (90, 60),
            ("sans-serif", 13),
        ))?;
        return Ok(());
    }
    let (y_lo, y_hi) = (lo / 1.6, hi * 1.6);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d((x_min..x_max).log_scale(), (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|_| String::new())
        .x_desc("samples (log scale)")
        .y_desc("interval half-width (log scale)")
        .draw()?;
    x_ticks(&mut chart, (x_min, x_max), (y_lo, y_hi))?;
    y_ticks(&mut chart, (x_min, x_max), (y_lo, y_hi))?;
    if let Some(&(n, h)) = widths.last() {
        // 1/sqrt(samples) through the last point, from where it enters the frame.
        let start = (n * (h / y_hi).powi(2)).max(x_min);
        chart
            .draw_series(DashedLineSeries::new(
                [
                    (start, h * (n / start).sqrt()),
                    (x_max, h * (n / x_max).sqrt()),
                ],
                2,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))?
            .label("1/sqrt(samples) through the last point")
            .legend(|(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 2, 4, BLACK.mix(0.5)));
    }
    if !allowed.is_empty() {
        // A relative target moves with the estimate; an absolute one is flat.
        let line = if allowed.len() == 1 {
            vec![(x_min, allowed[0].1), (x_max, allowed[0].1)]
        } else {
            let mut line = allowed.clone();
            line.insert(0, (x_min, allowed[0].1));
            line.push((x_max, allowed[allowed.len() - 1].1));
            line
        };
        chart
            .draw_series(DashedLineSeries::new(line, 8, 5, TARGET.stroke_width(2)))?
            .label(format!("target: {}", fig.target_text().unwrap_or_default()))
            .legend(|(x, y)| {
                DashedPathElement::new([(x, y), (x + 20, y)], 8, 5, TARGET.stroke_width(2))
            });
    }
    chart
        .draw_series(LineSeries::new(widths.clone(), ESTIMATE.stroke_width(2)))?
        .label("half-width of the interval")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ESTIMATE.stroke_width(2)));
    chart.draw_series(widths.iter().map(|&p| Circle::new(p, 3, ESTIMATE.filled())))?;
    if let Some(m) = fig.marks.last() {
        stop_marker(&mut chart, m.samples, (y_lo, y_hi))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// The side panel: the legend of the upper panel and the run's numbers.
fn draw_side(fig: &Figure, area: &Area<'_>, legend: &Legend) -> DrawResult {
    let font = ("sans-serif", 13).into_font();
    let mut y = 30;
    let x = 8;
    let mut entry = |glyph: &dyn Fn(i32, i32) -> DrawResult, text: String| -> DrawResult {
        glyph(x, y)?;
        area.draw(&Text::new(text, (x + 30, y - 7), font.clone()))?;
        y += 22;
        Ok(())
    };
    let conf = trim_zeros(&format!("{:.4}", fig.confidence * 100.0));
    entry(
        &|x, y| {
            Ok(area.draw(&Rectangle::new(
                [(x, y - 6), (x + 22, y + 6)],
                ESTIMATE.mix(0.2).filled(),
            ))?)
        },
        format!("{conf}% confidence interval"),
    )?;
    entry(
        &|x, y| {
            area.draw(&PathElement::new(
                [(x, y), (x + 22, y)],
                ESTIMATE.stroke_width(2),
            ))?;
            Ok(area.draw(&Circle::new((x + 11, y), 3, ESTIMATE.filled()))?)
        },
        "estimate".into(),
    )?;
    entry(
        &|x, y| {
            Ok(area.draw(&PathElement::new(
                [(x + 11, y - 8), (x + 11, y + 8)],
                ESTIMATE.stroke_width(2),
            ))?)
        },
        "final interval".into(),
    )?;
    if let Some((r, kind)) = fig.reference {
        entry(
            &|x, y| {
                Ok(area.draw(&PathElement::new(
                    [(x, y), (x + 22, y)],
                    REFERENCE.stroke_width(1),
                ))?)
            },
            format!("reference {} ({kind})", sig(r, 6)),
        )?;
    }
    if let (Some(a), true) = (fig.approx, legend.approx_inside) {
        entry(
            &|x, y| {
                Ok(area.draw(&DashedPathElement::new(
                    [(x, y), (x + 22, y)],
                    2,
                    4,
                    APPROX.stroke_width(1),
                ))?)
            },
            format!("approximation {} (not a reference)", num(a)),
        )?;
    }
    if fig.target.is_some() {
        entry(
            &|x, y| {
                Ok(area.draw(&DashedPathElement::new(
                    [(x, y), (x + 22, y)],
                    8,
                    5,
                    TARGET.stroke_width(2),
                ))?)
            },
            "target band: final ± allowed half-width".into(),
        )?;
    }
    entry(
        &|x, y| {
            Ok(area.draw(&DashedPathElement::new(
                [(x + 11, y - 8), (x + 11, y + 8)],
                6,
                4,
                STOP.stroke_width(1),
            ))?)
        },
        format!("stop: {}", fig.stop_text()),
    )?;
    if legend.beyond > 0 {
        entry(
            &|x, y| {
                Ok(area.draw(&Polygon::new(
                    vec![(x + 5, y + 5), (x + 17, y + 5), (x + 11, y - 5)],
                    ESTIMATE.filled(),
                ))?)
            },
            format!("{} early estimate(s) beyond the frame", legend.beyond),
        )?;
    }

    y += 14;
    let mut line = |text: String| -> DrawResult {
        area.draw(&Text::new(text, (x, y), font.clone()))?;
        y += 19;
        Ok(())
    };
    if let Some(m) = fig.marks.last() {
        line(format!(
            "final: {} ({conf}%)",
            estimate_text(m.estimate, m.half_width())
        ))?;
        line(format!("after {} samples", count(m.samples)))?;
        if let Some((r, _)) = fig.reference {
            let d = m.estimate - r;
            let ratio = d / m.std_error;
            line(if ratio.is_finite() {
                format!("estimate − reference: {} ({} s.e.)", num(d), sig(ratio, 2))
            } else {
                format!("estimate − reference: {}", num(d))
            })?;
        }
    } else {
        line("no trace points".into())?;
    }
    match fig.stop {
        StopReason::Target => line("stopped: the target was met".into())?,
        StopReason::Samples => line(format!(
            "stopped: all {} samples drawn",
            count(fig.max_samples as f64)
        ))?,
    }
    if let Some(t) = fig.target_text() {
        line(format!("target: {t}"))?;
        if let Some(every) = fig
            .target
            .as_ref()
            .map(|t| t.check_every)
            .filter(|&n| n > 1)
        {
            line(format!("(checked every {every} chunks)"))?;
        }
        if let (Some(m), Some(r)) = (
            fig.marks.last(),
            fig.target.as_ref().and_then(|t| t.rel_error),
        ) {
            line(format!(
                "(at the final estimate: {})",
                num(r * m.estimate.abs())
            ))?;
        }
    }
    if let Some(n) = legend.clipped_before {
        line(format!(
            "y-axis framed on points from {} samples;",
            count(n)
        ))?;
        line("earlier intervals are clipped".into())?;
    }
    if let (Some(a), false) = (fig.approx, legend.approx_inside) {
        line(format!("approximation {} (not a reference)", num(a)))?;
        line("lies outside the frame".into())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::axes::{log_ticks, tick_label};
    use super::*;

    /// A mark at `samples` around `estimate` with half-width `half`.
    fn mark(samples: f64, estimate: f64, half: f64) -> Mark {
        Mark {
            samples,
            estimate,
            std_error: half / 1.96,
            low: estimate - half,
            high: estimate + half,
        }
    }

    /// A trace converging on pi at the 1/sqrt(samples) rate, its first point far off.
    fn converging() -> Vec<Mark> {
        let mut marks = vec![mark(1000.0, 5.0, 4.0)];
        for k in 1..=10 {
            let n = 1000.0 * 2f64.powi(k);
            marks.push(mark(n, 3.1 + 0.1 / n.sqrt(), 3.0 / n.sqrt()));
        }
        marks
    }

    fn figure(marks: Vec<Mark>, target: Option<Target>, stop: StopReason) -> Figure {
        Figure {
            name: "test".into(),
            quantity: "pi".into(),
            confidence: 0.95,
            marks,
            reference: Some((std::f64::consts::PI, "exact")),
            approx: None,
            target,
            stop,
            max_samples: 10_000_000,
        }
    }

    fn svg(fig: &Figure) -> String {
        let mut svg = String::new();
        draw(fig, &mut svg).unwrap();
        svg
    }

    #[test]
    fn the_frame_leaves_out_a_noisy_first_point() {
        let marks = converging();
        let (lo, hi) = frame(&marks, &[]);
        let last = marks.last().unwrap();
        // The first point's estimate (5) and interval (1 to 9) are outside...
        assert!(hi < 3.4 && lo > 2.8, "({lo}, {hi})");
        // ...the last intervals inside, and the last one is no sliver of the frame.
        for m in marks.iter().filter(|m| m.samples >= last.samples / 36.0) {
            assert!(lo <= m.low && m.high <= hi, "{m:?} outside ({lo}, {hi})");
        }
        assert!(2.0 * last.half_width() > (hi - lo) / 20.0, "({lo}, {hi})");
    }

    #[test]
    fn the_frame_keeps_the_reference_and_the_target_band() {
        let marks = converging();
        let (lo, hi) = frame(&marks, &[2.9, 3.5]);
        assert!(lo < 2.9 && hi > 3.5, "({lo}, {hi})");
        // A non-finite value to keep is ignored, not a NaN range.
        let (lo, hi) = frame(&marks, &[f64::NAN]);
        assert!(lo.is_finite() && hi.is_finite() && lo < hi);
    }

    #[test]
    fn the_frame_of_a_constant_or_an_empty_trace_is_a_range() {
        let constant = vec![mark(100.0, 0.0, 0.0), mark(200.0, 0.0, 0.0)];
        let (lo, hi) = frame(&constant, &[0.0]);
        assert!(lo < 0.0 && 0.0 < hi);
        let (lo, hi) = frame(&[mark(100.0, 7.0, 0.0)], &[]);
        assert!(lo < 7.0 && 7.0 < hi);
        assert_eq!(frame(&[], &[]), (-1.0, 1.0));
    }

    #[test]
    fn a_clipped_line_is_cut_where_it_crosses_on_the_log_axis() {
        let line = [(1.0, 0.0), (10.0, 2.0), (100.0, 0.0), (1000.0, 0.5)];
        let pieces = clip_line(&line, -1.0, 1.0);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        // Halfway up the first segment is halfway along it in log10 of samples.
        let (x, y) = pieces[0][1];
        assert!((x - 10f64.sqrt()).abs() < 1e-9 && y == 1.0, "{pieces:?}");
        assert_eq!(pieces[1].first().unwrap().1, 1.0);
        assert_eq!(pieces[1][1..], [(100.0, 0.0), (1000.0, 0.5)]);
        // A line inside stays whole; one outside vanishes.
        assert_eq!(clip_line(&line, -5.0, 5.0), vec![line.to_vec()]);
        assert!(clip_line(&line, 10.0, 20.0).is_empty());
    }

    #[test]
    fn a_clipped_band_stays_inside_the_frame() {
        let band = [(1.0, 5.0), (100.0, 1.5), (100.0, 0.5), (1.0, -3.0)];
        let clipped = clip_polygon(&band, 0.0, 2.0);
        assert!(clipped.len() >= 4, "{clipped:?}");
        assert!(
            clipped.iter().all(|p| (0.0..=2.0).contains(&p.1)),
            "{clipped:?}"
        );
        assert!(clipped.contains(&(100.0, 1.5)) && clipped.contains(&(100.0, 0.5)));
    }

    #[test]
    fn a_target_run_shows_its_target_and_its_stop() {
        let target = Target {
            rel_error: None,
            abs_error: Some(2e-3),
            check_every: 4,
            quantities: Vec::new(),
        };
        let text = svg(&figure(converging(), Some(target), StopReason::Target));
        for label in [
            "stop: target met",
            "target band: final ± allowed half-width",
            "target: half-width ≤ 0.002",
            "stopped: the target was met",
            "(checked every 4 chunks)",
            "1 early estimate(s) beyond the frame",
            "y-axis framed on points from 32,000 samples;",
        ] {
            assert!(text.contains(label), "no {label:?}");
        }
    }

    #[test]
    fn a_relative_target_that_was_not_met_says_so() {
        let target = Target {
            rel_error: Some(1e-6),
            abs_error: None,
            check_every: 1,
            quantities: Vec::new(),
        };
        let text = svg(&figure(converging(), Some(target), StopReason::Samples));
        for label in [
            "stop: all samples drawn, target not met",
            "target: half-width ≤ 1e-6 × |estimate|",
            "stopped: all 10,000,000 samples drawn",
        ] {
            assert!(text.contains(label), "no {label:?}");
        }
    }

    #[test]
    fn a_run_without_target_has_no_target_marks() {
        let text = svg(&figure(converging(), None, StopReason::Samples));
        assert!(text.contains("stop: all samples drawn\n"), "{text}");
        assert!(!text.contains("target"), "{text}");
        assert!(text.contains("reference 3.14159 (exact)"));
    }

    #[test]
    fn short_and_degenerate_traces_still_draw() {
        for marks in [
            vec![],
            vec![mark(1000.0, 3.1, 0.1)],
            vec![mark(1000.0, 0.0, 0.0), mark(2000.0, 0.0, 0.0)],
        ] {
            let text = svg(&figure(marks, None, StopReason::Samples));
            assert!(text.starts_with("<svg"));
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(2e-4), "2e-4");
        assert_eq!(num(0.0209), "0.0209");
        assert_eq!(num(131072.0), "131072");
        assert_eq!(sig(std::f64::consts::PI, 6), "3.14159");
        assert_eq!(
            estimate_text(3.141373849684189, 1.996e-4),
            "3.14137 ± 0.00020"
        );
        assert_eq!(estimate_text(10.45, 0.0204), "10.450 ± 0.020");
        assert_eq!(count(260046848.0), "260,046,848");
        assert_eq!(count(1000.0), "1,000");
        assert_eq!(tick_label(2e5), "2e5");
        let ticks = log_ticks(43_690.0, 150_000.0);
        let labelled: Vec<f64> = ticks.iter().filter(|t| t.1).map(|t| t.0).collect();
        assert_eq!(labelled, [5e4, 1e5]);
        let ticks = log_ticks(4e4, 4e8);
        let labelled: Vec<f64> = ticks.iter().filter(|t| t.1).map(|t| t.0).collect();
        assert_eq!(labelled, [1e5, 1e6, 1e7, 1e8]);
    }
}
