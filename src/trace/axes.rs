//! Axes of the convergence plot: the frame of the estimate panel, clipping to it,
//! log-axis ticks, and numbers written to read well.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot::Mark;

/// What drawing on a plotters area returns.
pub(super) type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Points with fewer samples than this fraction of the last point's are left out
/// of the frame: at the usual 1/sqrt(samples) rate the intervals of those kept are
/// at most 6 times as wide as the last one.
pub(super) const FRAMED_FRACTION: f64 = 1.0 / 36.0;

/// The y-range of the estimate panel, framed on the converged part of the trace:
/// the intervals of the points with at least [`FRAMED_FRACTION`] of the last
/// point's samples, and every finite value in `keep` (the reference, the target
/// band), padded by 8% on each side. The first, noisiest points do not set the
/// scale; whatever of them lies outside is clipped when drawn.
pub(super) fn frame(marks: &[Mark], keep: &[f64]) -> (f64, f64) {
    let last = marks.last().map_or(0.0, |m| m.samples);
    let (lo, hi) = marks
        .iter()
        .filter(|m| m.samples >= last * FRAMED_FRACTION)
        .flat_map(|m| [m.low, m.high])
        .chain(keep.iter().copied())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    if lo >= hi {
        // A zero-width interval (a constant sample): a range around it.
        let half = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        return (lo - half, lo + half);
    }
    let pad = 0.08 * (hi - lo);
    (lo - pad, hi + pad)
}

/// The point at height `y` on the segment from `a` to `b`, interpolated as the log
/// x-axis draws it (linearly in log10 of samples).
pub(super) fn crossing(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
    let t = (y - a.1) / (b.1 - a.1);
    let (la, lb) = (a.0.log10(), b.0.log10());
    (10f64.powf(la + t * (lb - la)), y)
}

/// The pieces of the polyline `line` inside `lo <= y <= hi`, cut where it
/// leaves and re-enters.
pub(super) fn clip_line(line: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    if let [only] = line
        && (lo..=hi).contains(&only.1)
    {
        return vec![vec![*only]];
    }
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let dy = b.1 - a.1;
        let (t0, t1) = if dy == 0.0 {
            if (lo..=hi).contains(&a.1) {
                (0.0, 1.0)
            } else {
                (1.0, 0.0)
            }
        } else {
            let (s, u) = ((lo - a.1) / dy, (hi - a.1) / dy);
            (s.min(u).max(0.0), s.max(u).min(1.0))
        };
        if t0 > t1 {
            open = false;
            continue;
        }
        let at = |t: f64| {
            if t <= 0.0 {
                a
            } else if t >= 1.0 {
                b
            } else {
                crossing(a, b, a.1 + t * dy)
            }
        };
        if !(open && t0 == 0.0) {
            pieces.push(vec![at(t0)]);
        }
        pieces.last_mut().expect("a piece is open").push(at(t1));
        open = t1 >= 1.0;
    }
    pieces
}

/// The polygon `polygon` clipped to `lo <= y <= hi` (Sutherland-Hodgman, one edge
/// at a time).
pub(super) fn clip_polygon(polygon: &[(f64, f64)], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    // Each edge as (side, bound): inside where side * (y - bound) >= 0.
    let edges = [(1.0, lo), (-1.0, hi)];
    let mut out = polygon.to_vec();
    for (side, edge) in edges {
        let inside = |p: &(f64, f64)| side * (p.1 - edge) >= 0.0;
        let input = std::mem::take(&mut out);
        for (i, &b) in input.iter().enumerate() {
            let a = input[(i + input.len() - 1) % input.len()];
            match (inside(&a), inside(&b)) {
                (true, true) => out.push(b),
                (true, false) => out.push(crossing(a, b, edge)),
                (false, true) => {
                    out.push(crossing(a, b, edge));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
    }
    out
}

/// A number in 3 significant digits, plain or in e-notation, zeros trimmed.
pub(super) fn num(x: f64) -> String {
    sig(x, 3)
}

/// A number in `digits` significant digits, plain or in e-notation, zeros trimmed.
pub(super) fn sig(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let e = x.abs().log10().floor() as i32;
    if (-3..6).contains(&e) {
        let decimals = (digits - 1 - e).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}"))
    } else {
        let decimals = (digits - 1).max(0) as usize;
        let text = format!("{x:.decimals$e}");
        let (mantissa, exponent) = text.split_once('e').expect("e-notation");
        format!("{}e{exponent}", trim_zeros(mantissa))
    }
}

pub(super) fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

/// An estimate with its half-width, both to the half-width's second significant
/// digit: `3.14137 ± 0.00020`.
pub(super) fn estimate_text(estimate: f64, half: f64) -> String {
    if half == 0.0 {
        return format!("{estimate} ± 0");
    }
    if !(half.is_finite() && half > 0.0) {
        return format!("{estimate}");
    }
    let decimals = (1 - half.log10().floor() as i32).max(0) as usize;
    format!("{estimate:.decimals$} ± {half:.decimals$}")
}

/// An integer with thousands separators: `260,046,848`.
pub(super) fn count(n: f64) -> String {
    let digits = format!("{n:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Ticks of a log axis from `lo` to `hi`: every 1..9 times a power of ten, with
/// whether it is labelled (1, 2 and 5 where the axis spans at most 3 decades,
/// powers of ten beyond; every tick when that would label fewer than two).
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, bool)> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let decades = (hi / lo).log10();
    let labelled = |m: u32| {
        if decades > 3.0 {
            m == 1
        } else {
            [1, 2, 5].contains(&m)
        }
    };
    let mut ticks = Vec::new();
    for e in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for m in 1..=9u32 {
            let v = f64::from(m) * 10f64.powi(e);
            if (lo..=hi).contains(&v) {
                ticks.push((v, labelled(m)));
            }
        }
    }
    if ticks.iter().filter(|t| t.1).count() < 2 {
        for t in &mut ticks {
            t.1 = true;
        }
    }
    ticks
}

/// A tick's label: `2e5`, `1e-3`.
pub(super) fn tick_label(v: f64) -> String {
    let e = v.log10().floor();
    format!("{:.0}e{e:.0}", v / 10f64.powf(e))
}

/// Draws the ticks, labels and grid of a log x-axis from `x` over a chart whose
/// y-axis spans `y` (plotters labels a log axis only from its first power of ten
/// and twice at each power, so carlo draws its own).
pub(super) fn x_ticks<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (v, labelled) in log_ticks(x_lo, x_hi) {
        let shade = if labelled { 0.12 } else { 0.05 };
        chart.draw_series(LineSeries::new([(v, y_lo), (v, y_hi)], BLACK.mix(shade)))?;
        if labelled {
            chart.draw_series(std::iter::once(
                EmptyElement::at((v, y_lo))
                    + PathElement::new([(0, 0), (0, 5)], BLACK)
                    + Text::new(tick_label(v), (0, 8), tick_font(HPos::Center, VPos::Top)),
            ))?;
        }
    }
    Ok(())
}

/// The y-axis counterpart of [`x_ticks`].
pub(super) fn y_ticks<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    (x_lo, x_hi): (f64, f64),
    (y_lo, y_hi): (f64, f64),
) -> DrawResult
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (v, labelled) in log_ticks(y_lo, y_hi) {
        let shade = if labelled { 0.12 } else { 0.05 };
        chart.draw_series(LineSeries::new([(x_lo, v), (x_hi, v)], BLACK.mix(shade)))?;
        if labelled {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x_lo, v))
                    + PathElement::new([(-5, 0), (0, 0)], BLACK)
                    + Text::new(tick_label(v), (-8, 0), tick_font(HPos::Right, VPos::Center)),
            ))?;
        }
    }
    Ok(())
}

pub(super) fn tick_font(h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(h, v))
}
