//! Where events come from: the simulator, JSON Lines files, stdin and TCP.

pub mod sim;
