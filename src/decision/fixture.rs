//! A small grid and its schedules, for the tests of emitting and writing decisions.

use crate::grid::Grid;
use crate::schedule::{
    Balance, ContractReason, ContractSchedule, OperatingState, Schedule, Served, TierOutcome,
};
use crate::time::Timestamp;
use serde_json::json;

pub fn grid() -> Grid {
    let tree = json!({
        "areas": [{"id": "a", "kind": "domestic"}, {"id": "n", "kind": "neighbor"}],
        "plants": [{"id": "p", "area": "a", "capacity_mw": 100, "unit_mw": 50}],
        "loads": [{"id": "l", "area": "a", "tier": 1, "class": "essential"}],
        "data_centers": [{"id": "dc", "area": "a", "firm_tier": 2, "flexible_tier": 3}],
        "lines": [{"id": "a-n", "from": "a", "to": "n", "capacity_mw": 40}],
        "contracts": [{"id": "x", "from": "a", "to": "n", "firmness": "firm", "tier": 2, "max_mw": 30}],
        "schedule": {"interval": "1s", "deadband_mw": 1.0, "heartbeat": "10s"},
    });
    crate::config::from_value(&tree).unwrap().grid
}

/// A normal schedule serving `load_mw` to the load.
pub fn schedule(load_mw: f64) -> Schedule {
    let served = |mw| Served {
        requested_mw: mw,
        served_mw: mw,
    };
    Schedule {
        state: OperatingState::Normal,
        reserve_required_mw: 0.0,
        reserve_mw: 0.0,
        balance: Balance {
            generation_mw: load_mw + 20.4,
            domestic_served_mw: load_mw + 0.4,
            exports_mw: 20.0,
            ..Balance::default()
        },
        plants: vec![load_mw + 20.4],
        loads: vec![served(load_mw)],
        data_centers: vec![[served(0.25), served(0.15)]],
        contracts: vec![ContractSchedule {
            requested_mw: 30.0,
            scheduled_mw: 20.0,
            reason: ContractReason::LineCapacity,
        }],
        lines: vec![-0.0],
        tiers: vec![TierOutcome {
            tier: 1,
            requested_mw: load_mw,
            served_mw: load_mw,
        }],
        ramps_relaxed: false,
    }
}

/// `second` seconds into a fixed day.
pub fn at(second: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000 + second * 1_000_000)
}
