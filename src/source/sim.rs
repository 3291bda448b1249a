//! The built-in simulator: a deterministic, seeded generator of realistic telemetry.

/// A named set of conditions the simulator reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A January in which river flow is a tenth of summer's and the country runs short.
    WinterShortage,
    /// A July of surplus water with the CASA-1000 window open.
    SummerSurplus,
}

impl Scenario {
    pub const NAMES: [&str; 2] = ["winter-shortage", "summer-surplus"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "winter-shortage" => Some(Scenario::WinterShortage),
            "summer-surplus" => Some(Scenario::SummerSurplus),
            _ => None,
        }
    }
}
