//! The scenario knobs of `[simulator]`, checked whether or not the live simulator is
//! enabled, because `vakhsh simulate` reads them too.

use super::checker::Checker;
use crate::config::raw;
use crate::grid::{DataCenter, Index, Line};
use crate::source::sim::{Growth, Knobs, LineTrip};

/// A per-second hazard cannot exceed one: at most one dip a second.
const MAX_TRIPS_PER_WEEK: f64 = 7.0 * 86_400.0;

pub(super) fn check_knobs(
    c: &mut Checker,
    raw: &raw::SimulatorTable,
    data_centers: &[DataCenter],
    lines: &[Line],
    index: &Index,
) -> Knobs {
    let dc_trips_per_week = raw.dc_trips_per_week;
    if !(dc_trips_per_week.is_finite() && (0.0..=MAX_TRIPS_PER_WEEK).contains(&dc_trips_per_week)) {
        c.error(
            "simulator.dc_trips_per_week".into(),
            dc_trips_per_week,
            format!("write a rate from 0 to {MAX_TRIPS_PER_WEEK} (one a second)"),
        );
    }
    Knobs {
        growth: check_growth(c, raw, data_centers, index),
        trip: check_trip(c, raw, lines, index),
        dc_trips_per_week,
        inflow_share: check_inflow_share(c, raw.inflow_share),
    }
}

/// A share of a normal year's natural inflow: a wet year may bring twice as much.
fn check_inflow_share(c: &mut Checker, share: Option<f64>) -> Option<f64> {
    if let Some(share) = share
        && !(share.is_finite() && share > 0.0 && share <= 2.0)
    {
        c.error(
            "simulator.inflow_share".into(),
            share,
            "a share of a normal year's inflow: write a number above 0 and at most 2",
        );
    }
    share
}

fn check_growth(
    c: &mut Checker,
    raw: &raw::SimulatorTable,
    data_centers: &[DataCenter],
    index: &Index,
) -> Growth {
    let site = raw.dc_growth_site.as_deref().and_then(|id| {
        let path = "simulator.dc_growth_site".to_string();
        c.reference(&index.data_centers, path, id, "data center")
    });
    let grown: Vec<&DataCenter> = match site {
        Some(at) => vec![&data_centers[at]],
        None => data_centers.iter().collect(),
    };
    let mut size = |key: &str, value: Option<f64>| {
        let mw = value?;
        let path = format!("simulator.{key}");
        if !(mw.is_finite() && mw > 0.0) {
            c.error(path, mw, "must be a finite number above 0");
        } else if let Some(d) = grown
            .iter()
            .find(|d| d.capacity_mw.is_some_and(|cap| mw > cap))
        {
            let capacity = d.capacity_mw.unwrap_or_default();
            c.error(
                path,
                mw,
                format!(
                    "above the capacity_mw ({capacity}) of data center {:?}",
                    d.id
                ),
            );
        }
        Some(mw)
    };
    let from_mw = size("dc_growth_from_mw", raw.dc_growth_from_mw);
    let to_mw = size("dc_growth_to_mw", raw.dc_growth_to_mw);
    Growth {
        site,
        from_mw,
        to_mw,
        over: c.timeout("simulator.dc_growth_over".into(), &raw.dc_growth_over),
    }
}

fn check_trip(
    c: &mut Checker,
    raw: &raw::SimulatorTable,
    lines: &[Line],
    index: &Index,
) -> LineTrip {
    let line = match raw.line_trip_line.as_deref() {
        Some(id) => c.reference(&index.lines, "simulator.line_trip_line".into(), id, "line"),
        // The greatest capacity, the first of them on a tie.
        None => (0..lines.len())
            .rev()
            .max_by(|&a, &b| lines[a].capacity_mw.total_cmp(&lines[b].capacity_mw)),
    };
    LineTrip {
        line,
        at_s: time_of_day(c, &raw.line_trip_at),
        duration: c.timeout("simulator.line_trip_for".into(), &raw.line_trip_for),
    }
}

/// `"HH:MM"` as seconds after midnight.
fn time_of_day(c: &mut Checker, text: &str) -> i64 {
    let parsed = text.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m) && text.len() == 5)
            .then_some(h * 3600 + m * 60)
    });
    parsed.unwrap_or_else(|| {
        c.error(
            "simulator.line_trip_at".into(),
            format!("{text:?}"),
            "expected a local time of day as \"HH:MM\" (UTC+5), e.g. \"14:30\"",
        );
        0
    })
}
