//! The rules the grid is run by: `[reserve]`, `[states]`, `[schedule]` and `[time]`.

use super::checker::Checker;
use crate::config::raw;
use crate::grid::{Reserve, ScheduleSettings, States, TimeSettings};
use std::time::Duration;

/// The shortest tick but "after every event": every tick the watermark passes is
/// evaluated, so a tick of microseconds would make one event cost millions of
/// schedules and copies of the state.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

pub(super) fn check_reserve(c: &mut Checker, r: raw::ReserveTable) -> Reserve {
    let tier = c.tier("reserve.tier".into(), r.tier);
    let min_mw = c.non_negative("reserve.min_mw".into(), r.min_mw);
    if !(0.0..=1.0).contains(&r.fraction_of_demand) {
        c.error(
            "reserve.fraction_of_demand".into(),
            r.fraction_of_demand,
            "must be between 0 and 1",
        );
    }
    Reserve {
        tier,
        min_mw,
        largest_unit: r.largest_unit,
        fraction_of_demand: r.fraction_of_demand,
    }
}

pub(super) fn check_states(c: &mut Checker, raw: raw::StatesTable) -> States {
    States {
        alert_margin_mw: c.non_negative("states.alert_margin_mw".into(), raw.alert_margin_mw),
        hold: c.duration("states.hold".into(), &raw.hold),
    }
}

pub(super) fn check_schedule(c: &mut Checker, raw: raw::ScheduleTable) -> ScheduleSettings {
    let schedule = ScheduleSettings {
        interval: c.duration("schedule.interval".into(), &raw.interval),
        deadband_mw: c.non_negative("schedule.deadband_mw".into(), raw.deadband_mw),
        heartbeat: c.duration("schedule.heartbeat".into(), &raw.heartbeat),
    };
    if !schedule.interval.is_zero() && schedule.interval < MIN_INTERVAL {
        c.error(
            "schedule.interval".into(),
            format!("{:?}", raw.interval),
            format!(
                "must be \"0s\" (after every event) or at least {}",
                humantime::format_duration(MIN_INTERVAL)
            ),
        );
    }
    if schedule.heartbeat.is_zero() {
        c.error(
            "schedule.heartbeat".into(),
            format!("{:?}", raw.heartbeat),
            "must be longer than 0s",
        );
    }
    schedule
}

pub(super) fn check_time(c: &mut Checker, raw: raw::TimeTable) -> TimeSettings {
    TimeSettings {
        allowed_lateness: c.duration("time.allowed_lateness".into(), &raw.allowed_lateness),
        max_ahead: c.duration("time.max_ahead".into(), &raw.max_ahead),
    }
}
