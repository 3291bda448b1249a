//! Vakhsh keeps a hydro-dominated power grid in balance in real time.
//!
//! Telemetry flows source → decode/validate → grid state → scheduler → sinks
//! (see [`pipeline`]); the scheduler's rules live apart in [`schedule`] so they can be
//! tested and benchmarked without a runtime.

pub mod config;
pub mod event;
pub mod grid;
pub mod schedule;
pub mod source;
pub mod time;
