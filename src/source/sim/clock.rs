//! Where in the calendar a simulated step is: the month that selects the water plan
//! and the heating season, and how much of the month is left to spread a release over.

use crate::time::Timestamp;

/// Months (January = 1) of the heating season, when a thermal plant runs for heat.
const HEATING_MONTHS: [usize; 5] = [11, 12, 1, 2, 3];

/// Where in the calendar a step is, for the water and the heating season.
pub(super) struct Clock {
    /// 1 = January.
    pub month: usize,
    /// Hours until the month ends.
    pub hours_left: f64,
    /// Share of the month still to come.
    pub month_left: f64,
    pub heating: bool,
}

impl Clock {
    pub(super) fn at(ts: Timestamp) -> Clock {
        let (start, end) = ts.month_bounds();
        let left = end.micros_since(ts).max(0) as f64;
        let month = ts.month() as usize;
        Clock {
            month,
            hours_left: left / 3.6e9,
            month_left: left / end.micros_since(start).max(1) as f64,
            heating: HEATING_MONTHS.contains(&month),
        }
    }
}
