//! hardnode: benchmark and remediate the hardening of a Kubernetes node.
//!
//! Data flows one way: `host` reads the node into [`host::Facts`], `engine` evaluates the rules of
//! `benchmark` over those facts into findings, and `report` renders them. Only `host` reads the
//! system and only `remedy` changes it; `engine` and `report` are pure.

// A root tool must not die on what a host file or a syscall returns: outside tests, no
// `unwrap`, `expect` or `panic!` (an error with its reason instead). Tests may assert freely.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod benchmark;
pub mod cidr;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod firewall;
pub mod host;
pub mod lines;
pub mod manifest;
pub mod parallel;
pub mod privilege;
pub mod remedy;
pub mod report;
pub mod seccomp;
