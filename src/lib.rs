//! Vakhsh keeps a hydro-dominated power grid in balance in real time.
//!
//! Telemetry flows source → decode → ingest → scheduler → sinks (see [`pipeline`]);
//! the scheduler's rules live apart in [`schedule`] so they can be tested and
//! benchmarked without a runtime. `docs/architecture.md` draws the tree and follows one
//! event through it.

pub mod cli;
pub mod config;
pub mod daemon;
pub mod decision;
pub mod diff;
pub mod edge;
pub mod event;
pub mod grid;
pub mod http;
pub mod latency;
pub mod listener;
pub mod log;
pub mod metrics;
pub mod pipeline;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod sink;
pub mod source;
pub mod status;
pub mod time;
pub mod totals;
