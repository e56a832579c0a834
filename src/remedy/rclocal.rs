//! `/etc/rc.local` persistence: hardnode's lines live in one block between marker comments, placed
//! before a trailing `exit 0`, so the block can be updated or removed exactly and nothing else in
//! the file is touched. The editing is pure string functions ([`upsert_block`], [`remove_block`],
//! [`find_block`]); [`write`] and [`remove`] do the atomic write through `remedy`.

use std::path::{Path, PathBuf};

use super::RemedyError;
use super::dirfd::{Ownership, Parent, Prepared};
use crate::host::HostRoot;

pub const RC_LOCAL: &str = "/etc/rc.local";
pub const BEGIN_MARKER: &str = "# BEGIN hardnode firewall (managed by hardnode; `hardnode firewall remove` deletes this block)";
pub const END_MARKER: &str = "# END hardnode firewall";
const BEGIN_PREFIX: &str = "# BEGIN hardnode firewall";

/// The block's full text (markers included), from its command lines.
pub fn block(lines: &[String]) -> String {
    let mut text = String::from(BEGIN_MARKER);
    text.push('\n');
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(END_MARKER);
    text.push('\n');
    text
}

/// The line range `[begin, end]` of hardnode's block, if the file has one.
fn block_range(lines: &[&str]) -> Result<Option<(usize, usize)>, String> {
    let Some(begin) = lines.iter().position(|line| line.starts_with(BEGIN_PREFIX)) else {
        return Ok(None);
    };
    match lines[begin..]
        .iter()
        .position(|line| line.trim_end() == END_MARKER)
    {
        Some(offset) => Ok(Some((begin, begin + offset))),
        None => Err(format!(
            "hardnode's block starts at line {} but has no `{END_MARKER}` line; fix the file by hand",
            begin + 1
        )),
    }
}

/// The command lines of hardnode's block in `text`, if any.
pub fn find_block(text: &str) -> Result<Option<Vec<String>>, String> {
    let lines: Vec<&str> = text.lines().collect();
    Ok(block_range(&lines)?.map(|(begin, end)| {
        lines[begin + 1..end]
            .iter()
            .map(|l| l.to_string())
            .collect()
    }))
}

/// The file with hardnode's block set to `lines`: replaced in place when present, else inserted
/// before a trailing `exit 0` (else appended). `None` (no file) gives a new `#!/bin/sh` script.
pub fn upsert_block(existing: Option<&str>, lines: &[String]) -> Result<String, String> {
    let new_block = block(lines);
    let Some(text) = existing else {
        return Ok(format!("#!/bin/sh\n\n{new_block}\nexit 0\n"));
    };
    let file_lines: Vec<&str> = text.lines().collect();
    if let Some((begin, end)) = block_range(&file_lines)? {
        let mut out = join(&file_lines[..begin]);
        out.push_str(&new_block);
        out.push_str(&join(&file_lines[end + 1..]));
        return Ok(out);
    }
    // The last line that is not blank or a comment: a trailing `exit 0` must stay last.
    let last_command = file_lines
        .iter()
        .rposition(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'));
    match last_command {
        Some(index) if file_lines[index].trim() == "exit 0" => {
            let mut out = join(&file_lines[..index]);
            out.push_str(&new_block);
            out.push('\n');
            out.push_str(&join(&file_lines[index..]));
            Ok(out)
        }
        _ => {
            let mut out = join(&file_lines);
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&new_block);
            Ok(out)
        }
    }
}

/// The file without hardnode's block (and the blank line hardnode put after it), or `None` when
/// there is no block.
pub fn remove_block(text: &str) -> Result<Option<String>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some((begin, mut end)) = block_range(&lines)? else {
        return Ok(None);
    };
    if lines
        .get(end + 1)
        .is_some_and(|line| line.trim().is_empty())
    {
        end += 1;
    }
    let mut out = join(&lines[..begin]);
    out.push_str(&join(&lines[end + 1..]));
    Ok(Some(out))
}

fn join(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// What [`write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Unchanged,
    Created,
    Updated { backup: Option<PathBuf> },
}

/// What writing the block would do, and the file's directory when it exists (or `create`).
struct Planned {
    parent: Option<Parent>,
    existing: Option<String>,
    content: String,
    unchanged: bool,
}

fn plan(root: &HostRoot, lines: &[String], create: bool) -> Result<Planned, RemedyError> {
    let parent = match Parent::open_existing(root, Path::new(RC_LOCAL))? {
        Some(parent) => Some(parent),
        None if !create => None,
        None => Some(Parent::open(root, Path::new(RC_LOCAL), true)?),
    };
    let (existing, executable) = match &parent {
        Some(parent) => {
            let stat = parent.lstat()?;
            let existing = parent.read_text()?;
            let executable = stat.is_some_and(|stat| stat.st_mode & 0o100 != 0);
            (existing, executable)
        }
        None => (None, false),
    };
    let content =
        upsert_block(existing.as_deref(), lines).map_err(|reason| RemedyError::Refused {
            path: RC_LOCAL.into(),
            reason,
        })?;
    let unchanged = existing.as_deref() == Some(content.as_str()) && executable;
    Ok(Planned {
        parent,
        existing,
        content,
        unchanged,
    })
}

/// A write of the block staged by [`stage`]: the new file is on disk beside rc.local, not yet
/// in place.
#[derive(Debug)]
pub struct Staged {
    prepared: Option<Prepared>,
    created: bool,
}

impl Staged {
    /// Whether committing changes anything.
    pub fn changes(&self) -> bool {
        self.prepared.is_some()
    }

    /// Renames the staged file into place.
    pub fn commit(self) -> Result<Written, RemedyError> {
        match self.prepared {
            None => Ok(Written::Unchanged),
            Some(prepared) => {
                let backup = prepared.commit()?;
                Ok(if self.created {
                    Written::Created
                } else {
                    Written::Updated { backup }
                })
            }
        }
    }
}

/// Writes the new `<root>/etc/rc.local` (created 0755 root-owned when missing, kept executable)
/// to a temp file beside it, and the backup of the old one: everything that can fail for lack
/// of space or a read-only `/etc` fails here, before the caller changes the kernel.
pub fn stage(root: &HostRoot, lines: &[String]) -> Result<Staged, RemedyError> {
    let planned = plan(root, lines, true)?;
    let created = planned.existing.is_none();
    let prepared = match (planned.unchanged, planned.parent) {
        (false, Some(parent)) => Some(parent.prepare(
            planned.content.as_bytes(),
            // systemd-rc-local-generator only runs an executable rc.local.
            Ownership::KeepExecutable { new_mode: 0o755 },
            !created,
        )?),
        _ => None,
    };
    Ok(Staged { prepared, created })
}

/// Puts `lines` into `<root>/etc/rc.local` atomically, relative to `/etc` opened inside the
/// root. `dry_run` computes the answer (and refuses what a write would refuse) without writing
/// or creating anything.
pub fn write(root: &HostRoot, lines: &[String], dry_run: bool) -> Result<Written, RemedyError> {
    if !dry_run {
        return stage(root, lines)?.commit();
    }
    let planned = plan(root, lines, false)?;
    Ok(if planned.unchanged {
        Written::Unchanged
    } else if planned.existing.is_some() {
        Written::Updated { backup: None }
    } else {
        Written::Created
    })
}

/// The removal of hardnode's block staged (the new rc.local written beside the old one, the
/// old one backed up); `None` when there is no block.
pub fn stage_remove(root: &HostRoot) -> Result<Option<Prepared>, RemedyError> {
    let Some(parent) = Parent::open_existing(root, Path::new(RC_LOCAL))? else {
        return Ok(None);
    };
    let Some(existing) = parent.read_text()? else {
        return Ok(None);
    };
    let refused = |reason| RemedyError::Refused {
        path: RC_LOCAL.into(),
        reason,
    };
    match remove_block(&existing).map_err(refused)? {
        None => Ok(None),
        Some(content) => Ok(Some(parent.prepare(
            content.as_bytes(),
            Ownership::Keep { new_mode: 0o755 },
            true,
        )?)),
    }
}

/// Removes hardnode's block from `<root>/etc/rc.local`; true when there was one.
pub fn remove(root: &HostRoot, dry_run: bool) -> Result<bool, RemedyError> {
    if !dry_run {
        return match stage_remove(root)? {
            Some(prepared) => prepared.commit().map(|_| true),
            None => Ok(false),
        };
    }
    let Some(parent) = Parent::open_existing(root, Path::new(RC_LOCAL))? else {
        return Ok(false);
    };
    let Some(existing) = parent.read_text()? else {
        return Ok(false);
    };
    remove_block(&existing)
        .map(|content| content.is_some())
        .map_err(|reason| RemedyError::Refused {
            path: RC_LOCAL.into(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn new_file_is_a_script_ending_in_exit_0() {
        let text = upsert_block(None, &lines(&["echo a"])).expect("block");
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.trim_end().ends_with("exit 0"));
        assert_eq!(find_block(&text).expect("ok"), Some(lines(&["echo a"])));
    }

    #[test]
    fn block_goes_before_a_trailing_exit_0_and_other_content_stays() {
        let original =
            "#!/bin/sh -e\n# site\n/usr/local/bin/site-setup\n\nexit 0\n# trailing comment\n";
        let text = upsert_block(Some(original), &lines(&["echo a"])).expect("block");
        let exit = text.find("exit 0").expect("exit kept");
        let block = text.find(BEGIN_MARKER).expect("block");
        assert!(block < exit, "{text}");
        assert!(text.contains("/usr/local/bin/site-setup\n"));
        assert!(text.ends_with("exit 0\n# trailing comment\n"));
        // Replacing updates in place; removing gives the original back.
        let updated = upsert_block(Some(&text), &lines(&["echo b"])).expect("update");
        assert_eq!(find_block(&updated).expect("ok"), Some(lines(&["echo b"])));
        assert_eq!(updated.matches(BEGIN_MARKER).count(), 1);
        assert_eq!(
            remove_block(&updated).expect("ok").as_deref(),
            Some(original)
        );
    }

    #[test]
    fn without_exit_0_the_block_is_appended() {
        let text = upsert_block(Some("#!/bin/sh\necho hi\n"), &lines(&["x"])).expect("block");
        assert!(text.starts_with("#!/bin/sh\necho hi\n\n# BEGIN"));
        assert_eq!(
            remove_block(&text).expect("ok").as_deref(),
            Some("#!/bin/sh\necho hi\n\n")
        );
    }

    #[test]
    fn an_unterminated_block_is_refused() {
        let text = format!("#!/bin/sh\n{BEGIN_MARKER}\necho x\n");
        assert!(upsert_block(Some(&text), &lines(&["y"])).is_err());
        assert!(remove_block(&text).is_err());
    }
}
