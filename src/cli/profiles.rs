//! `hardnode profiles install|status`: AppArmor and seccomp profiles on this node.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Error, GlobalArgs, ReportFormat, load_policy, open_root, print};
use crate::error::{EXIT_FAIL, EXIT_OK};
use crate::host::{self, HostRoot};
use crate::report;

pub(super) const PROFILES_EXAMPLES: &str = "\
Examples:
  hardnode profiles install --apparmor examples/apparmor --seccomp examples/seccomp
  hardnode profiles install                  what [profiles] of the site config lists
  hardnode profiles install --dry-run --format json
  hardnode profiles status                   installed, loaded, wanted, referenced by running pods

Exit codes: 0 done (changed or already in place), 1 not verified (e.g. installed but not loaded),
2 an invalid profile or bad input (nothing installed), 3 runtime error (apparmor_parser failed).";

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Validate, install (only when different), load and verify profiles; idempotent.
    Install(ProfilesInstallArgs),
    /// What is installed and loaded, what [profiles] wants, what running pods use but the node lacks.
    Status(ProfilesStatusArgs),
}

#[derive(Debug, Args)]
pub struct ProfilesInstallArgs {
    /// AppArmor profile file, or a directory of them; repeatable [default: [profiles] apparmor].
    #[arg(long, value_name = "DIR|FILE")]
    pub apparmor: Vec<PathBuf>,
    /// Seccomp profile file, or a directory (every *.json below it, layout kept); repeatable
    /// [default: [profiles] seccomp].
    #[arg(long, value_name = "DIR|FILE")]
    pub seccomp: Vec<PathBuf>,
    /// Load AppArmor profiles in complain mode (they log instead of deny): discovery runs.
    #[arg(long)]
    pub complain: bool,
    /// Print what would change and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ProfilesStatusArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// Profile sources from flags (paths on this machine, relative to the working directory) or, when
/// no flag is given, from `[profiles]` (host paths under the root).
fn profile_sources(
    root: &HostRoot,
    flags: &[PathBuf],
    configured: &[PathBuf],
    kind: host::profile_sources::Kind,
) -> Result<Vec<host::profile_sources::Source>, Error> {
    if flags.is_empty() {
        return host::profile_sources::collect(root, configured, kind)
            .map_err(|message| Error::Usage(format!("[profiles]: {message}")));
    }
    let live = HostRoot::new("/").map_err(|error| Error::Root {
        path: "/".into(),
        message: error.to_string(),
    })?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let absolute: Vec<PathBuf> = flags.iter().map(|path| cwd.join(path)).collect();
    host::profile_sources::collect(&live, &absolute, kind).map_err(Error::Usage)
}

pub(super) fn profiles_install(
    global: &GlobalArgs,
    args: &ProfilesInstallArgs,
) -> Result<u8, Error> {
    use host::profile_sources::Kind;
    let root = HostRoot::new(&global.root).map_err(|error| Error::Root {
        path: global.root.clone(),
        message: error.to_string(),
    })?;
    let policy = load_policy(global, &root)?;
    // Flags of one kind replace that kind's [profiles] list; the other kind is left alone only
    // when it is configured and no flag at all was given.
    let any_flag = !args.apparmor.is_empty() || !args.seccomp.is_empty();
    let configured = |list: &Vec<PathBuf>| if any_flag { Vec::new() } else { list.clone() };
    let request = crate::remedy::profiles::Request {
        apparmor: profile_sources(
            &root,
            &args.apparmor,
            &configured(&policy.profiles.apparmor),
            Kind::AppArmor,
        )?,
        seccomp: profile_sources(
            &root,
            &args.seccomp,
            &configured(&policy.profiles.seccomp),
            Kind::Seccomp,
        )?,
        seccomp_dir: policy.seccomp.profile_dir.clone(),
        complain: args.complain,
        dry_run: args.dry_run,
    };
    let report = crate::remedy::profiles::install(&root, &request)?;
    print("profiles report", |buffer| match args.format {
        ReportFormat::Text => report::render_profiles_install_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    Ok(if report.dry_run || report.outcome.verified {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}

pub(super) fn profiles_status(global: &GlobalArgs, args: &ProfilesStatusArgs) -> Result<u8, Error> {
    use host::profile_sources::{Kind, collect};
    let root = open_root(global)?;
    let policy = load_policy(global, &root)?;
    let mut errors = Vec::new();
    let mut wanted = |paths: &[PathBuf], kind| match collect(&root, paths, kind) {
        Ok(sources) => sources,
        Err(error) => {
            errors.push(format!("[profiles] {error}"));
            Vec::new()
        }
    };
    let apparmor = wanted(&policy.profiles.apparmor, Kind::AppArmor);
    let seccomp = wanted(&policy.profiles.seccomp, Kind::Seccomp);
    let report = crate::remedy::profiles::status(
        &root,
        &apparmor,
        &seccomp,
        &policy.seccomp.profile_dir,
        errors,
    );
    print("profiles status", |buffer| match args.format {
        ReportFormat::Text => report::render_profiles_status_text(&report, buffer),
        ReportFormat::Json => report::render_json(&report, buffer),
    })?;
    Ok(if report.ok { EXIT_OK } else { EXIT_FAIL })
}
