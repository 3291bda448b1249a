//! The daemon's own settings: `[simulator]`, `[tcp]`, `[input]`, `[output]`, `[http]`,
//! `[pipeline]` and `[log]`. A source or endpoint that is not enabled is not checked,
//! but for the simulator, whose table `vakhsh simulate` reads too.

use super::checker::Checker;
use crate::config::{HttpSettings, OutputSettings, PipelineSettings, raw};
use crate::log::{LogSettings, SyncPolicy};
use crate::source::sim::{Knobs, Scenario, SimulatorSettings};
use crate::source::tcp::TcpSettings;
use std::path::PathBuf;

/// Checked whether or not the live simulator is enabled: `vakhsh simulate` reads the
/// scenario knobs of the same table.
pub(super) fn check_simulator(
    c: &mut Checker,
    raw: raw::SimulatorTable,
    knobs: Knobs,
) -> SimulatorSettings {
    let scenario = Scenario::from_name(&raw.scenario).unwrap_or_else(|| {
        c.error(
            "simulator.scenario".into(),
            format!("{:?}", raw.scenario),
            format!("unknown scenario; known: {}", Scenario::NAMES.join(", ")),
        );
        Scenario::WinterShortage
    });
    if !(0.0..=1.0).contains(&raw.faults) {
        c.error(
            "simulator.faults".into(),
            raw.faults.to_string(),
            "a fraction of lines: write a number from 0 to 1",
        );
    }
    SimulatorSettings {
        enabled: raw.enabled,
        scenario,
        seed: raw.seed,
        faults: raw.faults,
        knobs,
    }
}

pub(super) fn check_tcp(c: &mut Checker, raw: raw::TcpTable) -> Option<TcpSettings> {
    raw.enabled.then(|| TcpSettings {
        address: c.address("tcp.address".into(), &raw.address),
        max_connections: c.count("tcp.max_connections".into(), raw.max_connections),
        max_line_bytes: c.count("tcp.max_line_bytes".into(), raw.max_line_bytes),
        token: c.token("tcp.token".into(), raw.token),
        idle_timeout: c.timeout("tcp.idle_timeout".into(), &raw.idle_timeout),
        auth_timeout: c.timeout("tcp.auth_timeout".into(), &raw.auth_timeout),
    })
}

/// The files to read and whether to read stdin. Nothing to check: a path is tried
/// when the daemon opens it.
pub(super) fn check_input(raw: raw::InputTable) -> (Vec<PathBuf>, bool) {
    (raw.files.into_iter().map(Into::into).collect(), raw.stdin)
}

/// Nothing to check: a path is tried when the daemon opens it.
pub(super) fn check_output(raw: raw::OutputTable) -> OutputSettings {
    OutputSettings {
        decisions: raw.decisions.map(Into::into),
        stdout: raw.stdout,
        dead_letter: raw.dead_letter.map(Into::into),
    }
}

pub(super) fn check_http(c: &mut Checker, raw: raw::HttpTable) -> Option<HttpSettings> {
    raw.enabled.then(|| HttpSettings {
        address: c.address("http.address".into(), &raw.address),
        max_connections: c.count("http.max_connections".into(), raw.max_connections),
        max_body_bytes: c.count("http.max_body_bytes".into(), raw.max_body_bytes),
        token: c.token("http.token".into(), raw.token),
        idle_timeout: c.timeout("http.idle_timeout".into(), &raw.idle_timeout),
        auth_timeout: c.timeout("http.auth_timeout".into(), &raw.auth_timeout),
    })
}

pub(super) fn check_pipeline(c: &mut Checker, raw: raw::PipelineTable) -> PipelineSettings {
    PipelineSettings {
        batch_size: c.count("pipeline.batch_size".into(), raw.batch_size),
        lines_capacity: c.count("pipeline.lines_capacity".into(), raw.lines_capacity),
        events_capacity: c.count("pipeline.events_capacity".into(), raw.events_capacity),
        ticks_capacity: c.count("pipeline.ticks_capacity".into(), raw.ticks_capacity),
        decisions_capacity: c.count("pipeline.decisions_capacity".into(), raw.decisions_capacity),
        shutdown_grace: c.duration("pipeline.shutdown_grace".into(), &raw.shutdown_grace),
    }
}

pub(super) fn check_log(c: &mut Checker, raw: raw::LogTable) -> Option<LogSettings> {
    raw.enabled.then(|| LogSettings {
        dir: raw.dir.into(),
        sync: match raw.sync.as_str() {
            "batch" => SyncPolicy::EachBatch,
            every => {
                let period = c.duration("log.sync".into(), every);
                if period.is_zero() {
                    c.error(
                        "log.sync".into(),
                        format!("{every:?}"),
                        "write \"batch\" or a period such as \"100ms\"",
                    );
                }
                SyncPolicy::Every(period)
            }
        },
        segment_bytes: c.count("log.segment_bytes".into(), raw.segment_bytes) as u64,
    })
}
