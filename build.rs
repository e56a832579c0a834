//! Build-time work, two parts:
//! - the embedded data files — node rules (`benchmark::load::EMBEDDED`), benchmark profiles, pod
//!   rules and Pod Security Standards controls — are parsed and validated with the loaders the
//!   binary uses for user-supplied files and written out as Rust (`src/embedded/mod.rs`,
//!   `embedded::generate`; the files land in `$OUT_DIR` and are included by
//!   `src/benchmark/compiled.rs`, `src/benchmark/compiled_profiles.rs` and
//!   `src/manifest/compiled.rs`): a run starts with its data built instead of parsing TOML, and a
//!   broken embedded file fails the build with the loader's own message (file, line, item). A
//!   file added to an `EMBEDDED` list needs nothing here;
//! - the build's identity for `--version` and the reports: the git commit (or `HARDNODE_COMMIT`
//!   when building from a tarball) and the target triple. Reads only `git`'s own answers; without
//!   git the commit is `unknown`, never a guess.

// The loader and the model, compiled into this script from the same sources as the library.
#[allow(dead_code)]
#[path = "src/error.rs"]
mod error;
#[allow(dead_code)]
#[path = "src/lines.rs"]
mod lines;
#[allow(dead_code)]
#[path = "src/parallel.rs"]
mod parallel;
#[allow(dead_code)]
#[path = "src/probe.rs"]
mod probe;
#[allow(dead_code)]
#[path = "src/value.rs"]
mod value;

// The module paths are the library's (`crate::benchmark::…`, `crate::manifest::…`), so the
// loaders compile unchanged; the re-exports are the library's `benchmark/mod.rs` ones they use.
#[allow(dead_code, unused_imports)]
#[path = "src/benchmark"]
mod benchmark {
    pub mod codegen;
    pub mod load;
    pub mod model;
    pub mod profiles;

    pub(crate) use load::parse_expect;
    pub use load::{EMBEDDED, parse_files};
    pub use model::{Expect, Operator, Rule, WhenUnset};

    /// The library's twin includes what this script writes; the loader calls it only from
    /// `load_profiles`, which the script never runs. Here "compiled" can only mean parsed now.
    pub mod compiled_profiles {
        use super::model::Rule;
        use super::profiles::{Profile, ProfileError};

        pub fn load_profiles(rules: &[Rule]) -> Result<Vec<Profile>, ProfileError> {
            super::profiles::parse_embedded(rules)
        }
    }
}

#[allow(dead_code)]
#[path = "src/manifest"]
mod manifest {
    pub mod rules;
    pub mod pss {
        pub mod controls;
    }

    /// As `benchmark::compiled_profiles` above: the library's twin includes this script's output.
    pub mod compiled {
        use super::pss::controls::{self, Controls, ControlsError};
        use super::rules::{self, RuleSet};
        use crate::error::InputError;

        pub fn pod_rules() -> Result<RuleSet, InputError> {
            rules::parse_embedded()
        }

        pub fn controls() -> Result<Controls, ControlsError> {
            controls::parse_embedded()
        }
    }
}

#[allow(dead_code)]
#[path = "src/embedded/mod.rs"]
mod embedded;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn record_build_identity() {
    println!("cargo:rerun-if-env-changed=HARDNODE_COMMIT");
    let commit = std::env::var("HARDNODE_COMMIT")
        .ok()
        .filter(|commit| !commit.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    // Rebuild when HEAD moves: HEAD itself, and the branch ref it points at.
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(&["rev-parse", "--git-path", &reference])
    {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]) {
        println!("cargo:rerun-if-changed={packed}");
    }
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=HARDNODE_COMMIT={commit}");
    println!("cargo:rustc-env=HARDNODE_TARGET={target}");
}

fn main() -> ExitCode {
    record_build_identity();
    for watched in [
        "benchmarks",
        "rules",
        "src/benchmark/load.rs",
        "src/benchmark/model.rs",
        "src/benchmark/codegen.rs",
        "src/benchmark/profiles.rs",
        "src/manifest/rules.rs",
        "src/manifest/pss/controls.rs",
        "src/embedded",
        "src/probe.rs",
        "src/value.rs",
        "src/lines.rs",
        "src/error.rs",
        "src/parallel.rs",
    ] {
        println!("cargo::rerun-if-changed={watched}");
    }
    let files = match embedded::generate(&embedded::EMBEDDED) {
        Ok(files) => files,
        Err(error) => {
            // Cargo shows a failed build script's stderr: the file, the line and the item.
            eprintln!("error: an embedded data file is invalid: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        eprintln!("error: cargo did not set OUT_DIR");
        return ExitCode::FAILURE;
    };
    for (name, source) in files {
        let out = PathBuf::from(&out_dir).join(name);
        if let Err(error) = std::fs::write(&out, source) {
            eprintln!("error: cannot write {}: {error}", out.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
