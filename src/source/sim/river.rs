//! A hydro plant's water, from `[plants.river]`: its natural inflow by month and the
//! release of the plant above it, which arrives after the travel time.

use crate::grid::{Plant, River};
use std::collections::VecDeque;

pub(super) struct Water {
    /// MW per m³/s at this plant: its capacity over its rated flow.
    pub mw_per_m3s: f64,
    /// Natural (or lateral) inflow by month, January first, already scaled by the
    /// scenario's share of a normal year.
    natural_m3s: [f64; 12],
    /// The plant above, and its releases (m³/s) on their way here, one a second,
    /// oldest first: as many as the travel time has seconds, at least one.
    upstream: Option<(usize, VecDeque<f64>)>,
    travel_s: usize,
}

impl Water {
    pub(super) fn new(plant: &Plant, river: &River, inflow_share: f64) -> Self {
        let seconds = river.travel.as_secs().max(1) as usize;
        Water {
            mw_per_m3s: plant.capacity_mw / river.rated_flow_m3s,
            natural_m3s: river.inflow_m3s.map(|flow| flow * inflow_share),
            upstream: (river.downstream_of).map(|up| (up, VecDeque::with_capacity(seconds + 1))),
            travel_s: seconds,
        }
    }

    pub(super) fn natural_m3s(&self, month: usize) -> f64 {
        self.natural_m3s[month - 1]
    }

    /// The plant whose release flows here.
    pub(super) fn upstream(&self) -> Option<usize> {
        self.upstream.as_ref().map(|(up, _)| *up)
    }

    /// What arrives from the plant above this second: its release one travel time ago.
    pub(super) fn arriving_m3s(&self) -> f64 {
        match &self.upstream {
            Some((_, on_the_way)) => on_the_way.front().copied().unwrap_or(0.0),
            None => 0.0,
        }
    }

    /// Fills the river between the plant above and this one with `release_m3s`, as
    /// if it had been released so for the whole travel time.
    pub(super) fn settle(&mut self, release_m3s: f64) {
        if let Some((_, on_the_way)) = &mut self.upstream {
            on_the_way.clear();
            on_the_way.resize(self.travel_s, release_m3s);
        }
    }

    /// One second of the river: the oldest release has arrived, `release_m3s` of the
    /// plant above sets out.
    pub(super) fn flow(&mut self, release_m3s: f64) {
        if let Some((_, on_the_way)) = &mut self.upstream {
            on_the_way.pop_front();
            on_the_way.push_back(release_m3s);
        }
    }
}
