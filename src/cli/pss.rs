//! The `--standard` mode of `hardnode manifest scan`: loads the Pod Security Standards controls,
//! resolves `--standard-version`, judges the inputs `manifest_scan` read, and renders the
//! verdict as text, JSON or SARIF. Kept apart from the scoring path so the two modes share only
//! the input reading.

use super::manifest::{ManifestScanArgs, ScanFormat, StandardLevel};
use super::{Error, GlobalArgs, print, use_color};
use crate::manifest::Input;
use crate::manifest::pss::{
    self,
    controls::{self, Controls, Level, Version},
};
use crate::report;

/// A validated `--standard` request: the controls, the level and the version to judge at.
pub(super) struct Request {
    controls: Controls,
    level: Level,
    version: Version,
    requested: String,
}

impl Request {
    pub(super) fn new(level: StandardLevel, args: &ManifestScanArgs) -> Result<Request, Error> {
        let controls = controls::load_embedded().map_err(|error| Error::Config {
            path: controls::EMBEDDED.0.into(),
            message: error.to_string(),
        })?;
        let requested = args
            .standard_version
            .clone()
            .unwrap_or_else(|| "latest".into());
        let version = controls
            .version(&requested)
            .map_err(|error| Error::Usage(format!("--standard-version: {error}")))?;
        Ok(Request {
            controls,
            level: match level {
                StandardLevel::Baseline => Level::Baseline,
                StandardLevel::Restricted => Level::Restricted,
            },
            version,
            requested,
        })
    }
}

pub(super) fn scan_standard(
    global: &GlobalArgs,
    args: &ManifestScanArgs,
    request: &Request,
    inputs: &[Input],
) -> Result<u8, Error> {
    let report = pss::judge_inputs(
        inputs,
        &request.controls,
        request.level,
        request.version,
        &request.requested,
    );
    print("pod security report", |buffer| match args.format {
        ScanFormat::Text => {
            let color = use_color(global.color, false);
            report::pss::render_pss_text(&report, color, buffer)
        }
        ScanFormat::Json => report::render_json(&report, buffer),
        ScanFormat::Sarif => {
            report::sarif::render_sarif(&report::pss::pss_sarif(&report, &request.controls), buffer)
        }
    })?;
    for error in &report.errors {
        eprintln!("hardnode: {error}");
    }
    Ok(report.exit_code())
}
