//! hardnode: benchmark and remediate the hardening of a Kubernetes node.
//!
//! Data flows one way: `host` reads the node into [`host::Facts`], `engine` evaluates the rules of
//! `benchmark` over those facts into findings, `remedy` changes the node, and `report` renders
//! what they produced; `cli` sits on top. Only `host` (and the read-only netfilter listing) reads
//! the system and only `remedy` changes it; `engine` and `report` are pure.
//!
//! The modules form layers, bottom first — a module uses its own layer (without a cycle) and the
//! layers below, never one above (`tests/architecture.rs` checks it; ARCHITECTURE.md maps it):
//!
//! 1. primitives: [`lines`], [`date`], [`parallel`], [`cidr`], [`value`], [`error`], [`names`],
//!    [`command`], [`procstatus`], [`probe`];
//! 2. vocabulary: [`seccomp`], [`netfilter`], [`firewall`], [`benchmark`], [`manifest`],
//!    [`config`], [`privilege`], and `embedded` (the build-time step, here only for its tests);
//! 3. [`host`]; 4. [`engine`]; 5. [`remedy`]; 6. [`report`]; 7. [`cli`].

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

// Primitives.
pub mod cidr;
pub mod command;
pub mod date;
pub mod error;
pub mod lines;
pub mod names;
pub mod parallel;
pub mod probe;
pub mod procstatus;
pub mod value;

// Vocabulary: the rule language, the site policy, the firewall and pod-manifest models.
pub mod benchmark;
pub mod config;
// The build-time step `build.rs` runs; here only for its tests.
#[cfg(test)]
mod embedded;
pub mod firewall;
pub mod manifest;
pub mod netfilter;
pub mod privilege;
pub mod seccomp;

// The layers.
pub mod cli;
pub mod engine;
pub mod host;
pub mod remedy;
pub mod report;
