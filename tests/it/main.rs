//! Integration tests: the real `vakhsh` binary, real TCP, real HTTP.

mod check_config;
mod crash;
mod daemon;
mod replay;
mod support;
