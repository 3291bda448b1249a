//! The grid: its configured model and its telemetry state.

mod model;
mod telemetry;

pub use model::*;
pub use telemetry::*;
