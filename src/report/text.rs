//! The text report, for a person at a terminal: grouped by section (each with its totals), one
//! line per rule with its CIS id, the actual value and evidence under every result that is not a
//! pass, the remediation block, and a one-line summary. Every line is wrapped to the width the
//! CLI hands over (the terminal's; 80 when unknown), grouped skips included; a word longer than a
//! line (a path) is kept whole. `quiet` keeps only fail, warn and error results and the summary.

use std::borrow::Cow;
use std::io::{self, Write};

use owo_colors::OwoColorize;

use super::Report;
use crate::engine::{Finding, Status};

/// How the text report is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    pub color: bool,
    /// Columns to wrap to (at least [`MIN_WIDTH`] is used).
    pub width: usize,
    /// Only fail, warn and error results, and the summary line.
    pub quiet: bool,
}

/// Narrower than this, the columns would not leave room for a word of the title.
pub const MIN_WIDTH: usize = 40;

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            color: false,
            width: 80,
            quiet: false,
        }
    }
}

pub fn render_text(report: &Report, options: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let layout = Layout {
        width: options.width.max(MIN_WIDTH),
        color: options.color,
    };
    let color = options.color;
    if !options.quiet {
        render_header(report, layout, out)?;
    }
    let shown = |finding: &&Finding| {
        !options.quiet || matches!(finding.status, Status::Fail | Status::Warn | Status::Error)
    };
    let visible: Vec<&Finding> = report.results.iter().filter(shown).collect();
    let id_width = visible
        .iter()
        .map(|finding| finding.id.chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    let cis_width = visible
        .iter()
        .map(|finding| finding.cis.as_deref().map_or(1, |cis| cis.chars().count()))
        .max()
        .unwrap_or(1)
        .min(8);
    let mut sections: Vec<&str> = Vec::new();
    for finding in &visible {
        if !sections.contains(&finding.section.as_str()) {
            sections.push(&finding.section);
        }
    }
    for section in sections {
        writeln!(out)?;
        let all: Vec<&Finding> = report
            .results
            .iter()
            .filter(|f| f.section == section)
            .collect();
        let totals: Vec<String> = Status::ALL
            .iter()
            .filter_map(|status| {
                let count = all.iter().filter(|f| f.status == *status).count();
                (count > 0).then(|| format!("{count} {}", status.as_str()))
            })
            .collect();
        let heading = format!("{section} ({})", totals.join(", "));
        for (index, line) in wrap_to(&heading, 0, layout.width).iter().enumerate() {
            if index == 0 {
                writeln!(out, "{}", paint(line, color, |s| s.bold().to_string()))?;
            } else {
                writeln!(out, "  {line}")?;
            }
        }
        let findings: Vec<&Finding> = all.into_iter().filter(shown).collect();
        let collapsed = if options.quiet {
            Vec::new()
        } else {
            collapsible_skips(&findings)
        };
        for finding in &findings {
            let in_group = finding.status == Status::Skip
                && collapsed
                    .iter()
                    .any(|(reason, _)| finding.reason.as_deref() == Some(reason));
            if !in_group {
                render_finding(finding, id_width, cis_width, layout, out)?;
            }
        }
        for (reason, ids) in collapsed {
            let label = paint(&format!("{:5}", "SKIP"), color, |s| {
                status_style(Status::Skip, s)
            });
            // The label, then the count and reason wrapped under it.
            let text = format!("{} rules: {reason}", ids.len());
            let mut lines = wrap_to(&text, 8, layout.width - 8).into_iter();
            let first = lines.next().unwrap_or_default();
            writeln!(out, "  {label} {}", first.trim_start())?;
            for line in lines {
                writeln!(out, "{line}")?;
            }
            wrap_into(out, &ids.join(", "), 8, layout.width - 8)?;
        }
    }

    if !options.quiet {
        render_remediation(report, layout, out)?;
    }
    render_summary(report, layout, out)
}

#[derive(Clone, Copy)]
struct Layout {
    width: usize,
    color: bool,
}

fn render_header(report: &Report, layout: Layout, out: &mut dyn Write) -> io::Result<()> {
    let host = &report.host;
    let unknown = || "unknown".to_string();
    let lines = [
        format!(
            "hardnode {} — {} ({}, kernel {})",
            report.tool.version,
            host.hostname.clone().unwrap_or_else(unknown),
            host.os.clone().unwrap_or_else(unknown),
            host.kernel.clone().unwrap_or_else(unknown),
        ),
        format!(
            "benchmark {} v{} (CIS {}), root {}",
            report.benchmark.name,
            report.benchmark.version,
            report.benchmark.cis,
            host.root.display()
        ),
    ];
    for line in lines {
        wrap_into(out, &line, 0, layout.width)?;
    }
    writeln!(out, "platform {}", host.platform.label())?;
    let detected = format!("detected from {}", host.platform.detected_from.join("; "));
    wrap_into(out, &detected, 2, layout.width.saturating_sub(2))?;
    if let Some(profile) = &report.benchmark.profile {
        let text = format!(
            "profile {} — {} {} ({}); results carry its ids",
            profile.id, profile.title, profile.version, profile.chosen
        );
        for (index, line) in wrap_to(&text, 2, layout.width.saturating_sub(2))
            .iter()
            .enumerate()
        {
            writeln!(out, "{}", if index == 0 { line.trim_start() } else { line })?;
        }
    }
    Ok(())
}

fn render_remediation(report: &Report, layout: Layout, out: &mut dyn Write) -> io::Result<()> {
    let color = layout.color;

    let to_fix: Vec<&Finding> = report
        .results
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn) && !f.remediation.is_empty())
        .collect();
    if !to_fix.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint("Remediation", color, |s| s.bold().to_string())
        )?;
        for finding in to_fix {
            writeln!(out, "  {}", finding.id)?;
            wrap_into(out, &finding.remediation, 4, layout.width - 4)?;
        }
    }
    Ok(())
}

fn render_summary(report: &Report, layout: Layout, out: &mut dyn Write) -> io::Result<()> {
    let color = layout.color;
    let summary = &report.summary;
    writeln!(out)?;
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|status| {
            let text = format!("{} {}", summary.count(*status), status.as_str());
            if summary.count(*status) > 0 && matches!(status, Status::Fail | Status::Error) {
                paint(&text, color, |s| status_style(*status, s))
            } else {
                text
            }
        })
        .collect();
    let mut waivers = String::new();
    if summary.waived > 0 {
        waivers.push_str(&format!("; {} waived (not counted)", summary.waived));
    }
    if summary.waivers_expired > 0 {
        waivers.push_str(&format!("; {} waiver(s) expired", summary.waivers_expired));
    }
    // Wrapped as text, but the colour codes must not count: wrap the plain line, then paint.
    let line = format!(
        "{} rules: {}{waivers}",
        report.results.len(),
        counts.join(", ")
    );
    if color {
        return writeln!(out, "{line}");
    }
    wrap_into(out, &line, 0, layout.width)
}

/// Skips that share one reason ("kubelet is not running on this node") three times or more are
/// shown as one line with their ids, so a node without a control plane reads in a screen.
fn collapsible_skips<'a>(findings: &[&'a Finding]) -> Vec<(&'a str, Vec<&'a str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for finding in findings.iter().filter(|f| f.status == Status::Skip) {
        let Some(reason) = finding.reason.as_deref() else {
            continue;
        };
        match groups.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, ids)) => ids.push(&finding.id),
            None => groups.push((reason, vec![&finding.id])),
        }
    }
    groups.retain(|(_, ids)| ids.len() >= 3);
    groups
}

fn render_finding(
    finding: &Finding,
    id_width: usize,
    cis_width: usize,
    layout: Layout,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = layout.width;
    let plain_label = match finding.status {
        Status::Pass => "PASS ",
        Status::Fail => "FAIL ",
        Status::Warn => "WARN ",
        Status::Skip => "SKIP ",
        Status::Error => "ERROR",
    };
    let label: Cow<str> = if layout.color {
        Cow::Owned(status_style(finding.status, plain_label))
    } else {
        Cow::Borrowed(plain_label)
    };
    let cis = finding.cis.as_deref().unwrap_or("-");
    // Titles share one column after the id and the CIS id; an id too long for its column, or a
    // terminal too narrow for the title column, puts the title under it instead.
    let columns = 2 + 5 + 1 + id_width + 2 + cis_width + 2;
    let fits = finding.id.chars().count() <= id_width
        && cis.chars().count() <= cis_width
        && columns + 20 <= width;
    let title_indent = if fits { columns } else { 8 };
    let title: Cow<str> = match &finding.profile_id {
        Some(id) => Cow::Owned(format!("{} [profile {id}]", finding.title)),
        None => Cow::Borrowed(&finding.title),
    };
    // Most titles are one line already: written as they are, what wrapping would give.
    let title_lines: Vec<Cow<str>> = if is_one_line(&title, width - title_indent) {
        vec![title]
    } else {
        wrap_to(&title, title_indent, width - title_indent)
            .into_iter()
            .map(|line| Cow::Owned(line.trim_start().to_string()))
            .collect()
    };
    let mut title_lines = title_lines.iter().map(|line| line.as_ref());
    if fits {
        let first = title_lines.next().unwrap_or_default();
        writeln!(
            out,
            "  {label} {:id_width$}  {cis:cis_width$}  {first}",
            finding.id
        )?;
    } else {
        writeln!(out, "  {label} {}  {cis}", finding.id)?;
    }
    for line in title_lines {
        writeln!(out, "{:title_indent$}{line}", "")?;
    }
    if finding.status == Status::Pass {
        return Ok(());
    }
    let mut lines = Vec::new();
    if let Some(waiver) = &finding.waiver {
        lines.push(waiver_line(waiver));
    }
    if let Some(reason) = &finding.reason {
        lines.push(reason.clone());
    }
    if matches!(finding.status, Status::Fail | Status::Warn)
        && let (Some(expected), Some(actual)) = (&finding.expected, &finding.actual)
    {
        lines.push(format!("expected {expected}, found {actual}"));
    }
    if finding.status != Status::Skip {
        for evidence in &finding.evidence {
            let at = evidence
                .path
                .as_ref()
                .map(|path| format!("{}: ", path.display()))
                .unwrap_or_default();
            lines.push(format!("[{}] {at}{}", evidence.source, evidence.detail));
        }
    }
    for line in lines {
        wrap_into(out, &line, 8, width - 8)?;
    }
    Ok(())
}

/// `waived until 2027-03-31: reason` or `waiver EXPIRED 2026-01-01 (counts again): reason`.
pub(super) fn waiver_line(waiver: &crate::engine::waivers::AppliedWaiver) -> String {
    if waiver.expired {
        format!(
            "waiver EXPIRED {} (counts again): {}",
            waiver.expires, waiver.reason
        )
    } else {
        format!("waived until {}: {}", waiver.expires, waiver.reason)
    }
}

fn status_style(status: Status, text: &str) -> String {
    match status {
        Status::Pass => text.green().to_string(),
        Status::Fail => text.red().bold().to_string(),
        Status::Warn => text.yellow().to_string(),
        Status::Skip => text.dimmed().to_string(),
        Status::Error => text.magenta().bold().to_string(),
    }
}

fn paint(text: &str, color: bool, style: impl Fn(&str) -> String) -> String {
    if color { style(text) } else { text.to_string() }
}

/// Word-wraps `text` into lines of at most `room` characters after `indent` spaces; words longer
/// than a line (paths) are kept whole rather than cut.
fn wrap_to(text: &str, indent: usize, room: usize) -> Vec<String> {
    let mut lines = Vec::new();
    wrap_each(text, room, |line| {
        lines.push(format!("{:indent$}{line}", ""))
    });
    lines
}

/// [`wrap_to`] written straight to `out`, each line after `indent` spaces and ended with a
/// newline: the report's evidence and remediation are most of its bytes, and this makes no
/// `String` per line.
fn wrap_into(out: &mut dyn Write, text: &str, indent: usize, room: usize) -> io::Result<()> {
    const SPACES: &[u8] = &[b' '; 64];
    let mut result = Ok(());
    wrap_each(text, room, |line| {
        if result.is_ok() {
            result = match SPACES.get(..indent) {
                Some(pad) => out.write_all(pad),
                None => write!(out, "{:indent$}", ""),
            }
            .and_then(|()| out.write_all(line.as_bytes()))
            .and_then(|()| out.write_all(b"\n"));
        }
    });
    result
}

/// Whether `text` is already what [`wrap_to`] makes of it in `room` columns: one line of
/// words separated by single spaces, at most `room` wide.
fn is_one_line(text: &str, room: usize) -> bool {
    !text.is_empty() && text.len() <= room && is_plain(text)
}

/// ASCII words separated by single spaces, nothing before the first or after the last: what
/// nearly every line of the report is, and what can be wrapped by looking for spaces alone.
fn is_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut after_space = false;
    for &byte in bytes {
        // Non-ASCII, or white space other than a space (char::is_whitespace over ASCII).
        if !byte.is_ascii() || matches!(byte, b'\t' | b'\n' | 0x0B | 0x0C | b'\r') {
            return false;
        }
        let space = byte == b' ';
        if space && after_space {
            return false;
        }
        after_space = space;
    }
    true
}

/// The wrapping itself: `emit` is handed each line, without indentation. Greedy: as many words
/// as fit in `room` characters, a word longer than that on a line of its own.
fn wrap_each(text: &str, room: usize, mut emit: impl FnMut(&str)) {
    for paragraph in text.lines() {
        if is_plain(paragraph) {
            wrap_plain(paragraph, room, &mut emit);
        } else {
            wrap_words(paragraph, room, &mut emit);
        }
    }
}

/// [`wrap_each`] of any one paragraph, word by word.
fn wrap_words(paragraph: &str, room: usize, emit: &mut impl FnMut(&str)) {
    let mut line = String::new();
    // The width so far, in characters (a byte count would wrap non-ASCII text early).
    let mut width = 0;
    for word in paragraph.split_whitespace() {
        let word_width = word.chars().count();
        if !line.is_empty() && width + 1 + word_width > room {
            emit(&line);
            line.clear();
            width = 0;
        }
        if !line.is_empty() {
            line.push(' ');
            width += 1;
        }
        line.push_str(word);
        width += word_width;
    }
    emit(&line);
}

/// [`wrap_each`] of a [plain](is_plain) paragraph, without copying a word: each line is a slice
/// of it, ending at the last space that leaves it at most `room` wide.
fn wrap_plain(paragraph: &str, room: usize, emit: &mut impl FnMut(&str)) {
    let mut rest = paragraph;
    while rest.len() > room {
        let fitting = rest
            .as_bytes()
            .get(..=room)
            .and_then(|head| head.iter().rposition(|&byte| byte == b' '));
        // A first word longer than the line stands alone.
        let Some(end) = fitting.or_else(|| rest.find(' ')) else {
            break;
        };
        let (line, after) = rest.split_at(end);
        emit(line);
        rest = after.get(1..).unwrap_or_default();
    }
    emit(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paragraphs_wrap_as_word_by_word_wrapping_does() {
        // Every text of up to 7 characters over "ab \t" and every room up to 9, then longer
        // pseudo-random texts of words, spaces and tabs at widths around their words' lengths.
        let alphabet = ['a', 'b', ' ', '\t'];
        let mut texts = vec![String::new()];
        for length in 1..=7u32 {
            for mut code in 0..4usize.pow(length) {
                let mut text = String::new();
                for _ in 0..length {
                    text.push(alphabet[code % 4]);
                    code /= 4;
                }
                texts.push(text);
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let word_length = (seed % 15) as usize;
                text.push_str(&"x".repeat(word_length));
                text.push(if seed.is_multiple_of(29) { '\n' } else { ' ' });
            }
            texts.push(text.trim_end().to_string());
        }
        let mut plain = 0;
        for text in &texts {
            for room in 0..=16 {
                let mut got = Vec::new();
                wrap_each(text, room, |line| got.push(line.to_string()));
                let mut word_by_word = Vec::new();
                for paragraph in text.lines() {
                    plain += usize::from(is_plain(paragraph));
                    wrap_words(paragraph, room, &mut |line| {
                        word_by_word.push(line.to_string())
                    });
                }
                assert_eq!(got, word_by_word, "{text:?} in {room}");
            }
        }
        assert!(
            plain > 10_000,
            "too few plain paragraphs to test the fast path: {plain}"
        );
    }

    #[test]
    fn one_line_titles_are_what_wrapping_makes_of_them() {
        let texts = [
            "Ensure that the --anonymous-auth argument is set to false",
            " leading",
            "trailing ",
            "two  spaces",
            "tab\there",
            "",
            "é accent",
            "exactly twenty chars",
            "twenty-one characters",
        ];
        for text in texts {
            for room in [10, 20, 21, 80] {
                let wrapped = wrap_to(text, 0, room);
                let same = wrapped.len() == 1 && wrapped[0] == text;
                if is_one_line(text, room) {
                    assert!(same, "{text:?} in {room}: {wrapped:?}");
                }
            }
        }
        assert!(is_one_line("exactly twenty chars", 20));
        assert!(!is_one_line("twenty-one characters", 20));
    }

    #[test]
    fn wrap_keeps_lines_within_width() {
        let text = "word ".repeat(40);
        for width in [40, 80, 132] {
            for line in wrap_to(&text, 8, width - 8) {
                assert!(line.chars().count() <= width, "{line}");
                assert!(line.starts_with("        word"));
            }
        }
    }
}
