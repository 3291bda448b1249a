//! `replay --report FILE.svg`: a chart of a run that a person can read — generation,
//! domestic demand and what was served, exports, imports, curtailment, and the
//! operating state over event time.
//!
//! Decisions are step functions; the chart averages them over at most [`COLUMNS`]
//! equal slices of the run (time-weighted), so a winter draws as fast as an hour.

use crate::decision::DecisionLine;
use anyhow::Context;
use plotters::prelude::*;
use std::path::Path;

const COLUMNS: usize = 1000;

/// Time-weighted averages over one slice of the run.
#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    hours: f64,
    generation: f64,
    demand: f64,
    served: f64,
    exports: f64,
    imports: f64,
    curtailed: f64,
    /// The worst state seen in the slice: 0 normal, 1 alert, 2 emergency.
    state: u8,
}

/// Draws the decisions in `decisions` (JSON Lines) as an SVG document, over the same
/// window as the run's totals: from the first decision to the last.
pub fn svg(decisions: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(decisions)
        .with_context(|| format!("reading {}", decisions.display()))?;
    let figures = DecisionLine::parse_lines(&text).context("reading decisions")?;
    let (Some(first), Some(last)) = (figures.first(), figures.last()) else {
        anyhow::bail!("no decisions to draw");
    };
    let (start, end) = (first.micros(), last.micros().max(first.micros() + 1));
    let span = (end - start) as f64;
    let mut slices = vec![Slice::default(); COLUMNS];
    for (i, f) in figures.iter().enumerate() {
        let until = figures.get(i + 1).map_or(end, DecisionLine::micros);
        let (from, until) = (f.micros(), until);
        let b = &f.balance;
        let severity = match &*f.state {
            "emergency" => 2,
            "alert" => 1,
            _ => 0,
        };
        let first_column = (((from - start) as f64 / span) * COLUMNS as f64) as usize;
        let last_column =
            ((((until - start) as f64 / span) * COLUMNS as f64).ceil() as usize).min(COLUMNS);
        for (column, slice) in slices
            .iter_mut()
            .enumerate()
            .take(last_column)
            .skip(first_column)
        {
            let column_from = start as f64 + span * column as f64 / COLUMNS as f64;
            let column_until = start as f64 + span * (column + 1) as f64 / COLUMNS as f64;
            let overlap = (column_until.min(until as f64) - column_from.max(from as f64)).max(0.0);
            if overlap == 0.0 {
                continue;
            }
            slice.hours += overlap;
            slice.generation += b.generation_mw * overlap;
            slice.demand += (b.domestic_served_mw + b.unserved_mw) * overlap;
            slice.served += b.domestic_served_mw * overlap;
            slice.exports += (b.exports_mw + b.transit_mw) * overlap;
            slice.imports += b.imports_mw * overlap;
            slice.curtailed += b.unserved_mw * overlap;
            slice.state = slice.state.max(severity);
        }
    }
    let hours_per_column = span / 3.6e9 / COLUMNS as f64;
    let points: Vec<(f64, Slice)> = slices
        .iter()
        .enumerate()
        .filter(|(_, s)| s.hours > 0.0)
        .map(|(i, s)| {
            let w = s.hours;
            let average = Slice {
                hours: w,
                generation: s.generation / w,
                demand: s.demand / w,
                served: s.served / w,
                exports: s.exports / w,
                imports: s.imports / w,
                curtailed: s.curtailed / w,
                state: s.state,
            };
            ((i as f64 + 0.5) * hours_per_column, average)
        })
        .collect();
    let mut svg = String::new();
    draw(&mut svg, &points, span / 3.6e9, &first.ts.to_string())
        .map_err(|e| anyhow::anyhow!("drawing the report: {e}"))?;
    Ok(svg)
}

/// A line of the chart: its legend, its colour, and which average it draws.
type Series = (&'static str, RGBColor, fn(&Slice) -> f64);

fn draw(
    out: &mut String,
    points: &[(f64, Slice)],
    hours: f64,
    start: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (1400, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(680);
    let top_mw = points
        .iter()
        .map(|(_, s)| s.generation.max(s.demand).max(s.exports).max(s.imports))
        .fold(100.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&top)
        .caption(format!("Vakhsh run from {start}"), ("sans-serif", 26))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..hours, 0.0..top_mw)?;
    chart
        .configure_mesh()
        .x_desc("hours since the first decision")
        .y_desc("MW")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;
    let curtailment = RGBColor(214, 39, 40);
    chart
        .draw_series(AreaSeries::new(
            points.iter().map(|(x, s)| (*x, s.curtailed)),
            0.0,
            curtailment.mix(0.35),
        ))?
        .label("curtailed domestic demand")
        .legend(move |(x, y)| {
            Rectangle::new(
                [(x, y - 6), (x + 24, y + 6)],
                curtailment.mix(0.35).filled(),
            )
        });
    let series: [Series; 5] = [
        ("generation", RGBColor(31, 119, 180), |s| s.generation),
        ("domestic demand (requested)", RGBColor(80, 80, 80), |s| {
            s.demand
        }),
        ("domestic demand served", RGBColor(44, 160, 44), |s| {
            s.served
        }),
        ("exports and transit", RGBColor(255, 127, 14), |s| s.exports),
        ("imports", RGBColor(148, 103, 189), |s| s.imports),
    ];
    for (name, color, value) in series {
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|(x, s)| (*x, value(s))),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    let mut strip = ChartBuilder::on(&bottom)
        .margin_left(12)
        .margin_right(12)
        .margin_bottom(12)
        .x_label_area_size(0)
        .y_label_area_size(70)
        .caption(
            "operating state: green normal, orange alert, red emergency",
            ("sans-serif", 16),
        )
        .build_cartesian_2d(0.0..hours, 0.0..1.0)?;
    strip
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(0)
        .draw()?;
    let width = hours / COLUMNS as f64;
    strip.draw_series(points.iter().map(|(x, s)| {
        let color = match s.state {
            2 => RGBColor(214, 39, 40),
            1 => RGBColor(255, 160, 30),
            _ => RGBColor(60, 170, 60),
        };
        Rectangle::new(
            [(x - width / 2.0, 0.0), (x + width / 2.0, 1.0)],
            color.filled(),
        )
    }))?;
    root.present()?;
    Ok(())
}
