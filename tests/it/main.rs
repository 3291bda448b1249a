//! Integration tests: the real `vakhsh` binary, real TCP, real HTTP.

mod check_config;
mod daemon;
mod replay;
mod support;
