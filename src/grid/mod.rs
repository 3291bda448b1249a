//! The grid: its configured model and its telemetry state.

mod model;
mod state;

pub use model::*;
pub use state::*;
