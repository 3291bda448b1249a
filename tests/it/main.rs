//! Integration tests: the real `vakhsh` binary, real TCP, real HTTP.

mod area_balance;
mod check_config;
mod connections;
mod crash;
mod daemon;
mod determinism;
mod faults;
mod hostile;
mod latency;
mod live;
#[path = "../oracle/mod.rs"]
mod oracle;
mod prometheus;
mod replay;
mod scenarios;
mod schedule_oracle;
mod storage;
mod support;
mod tools;
mod water;
