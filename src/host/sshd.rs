//! `sshd_config` read the way sshd reads it: keywords are case-insensitive, the first value
//! obtained for a keyword wins, `Include` (globs; relative paths under `/etc/ssh`) is read in
//! place, in lexical order, and `Match` blocks (`Match all` included) are recorded with their
//! criteria — a matching block overrides the global value for the connections it matches, so
//! they are kept apart. A `Match` inside an included file ends with that file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::root::{HostRoot, ReadError};

pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// sshd's own limit on nested Include.
const MAX_INCLUDE_DEPTH: usize = 16;
/// Files one run reads at most: a file that includes itself several times per level would
/// otherwise fan out exponentially within the depth limit.
const MAX_FILES_READ: usize = 256;

#[derive(Debug, Clone, Serialize)]
pub struct SshdFacts {
    pub config: PathBuf,
    /// `sshd_config` does not exist: sshd is not installed.
    pub absent: bool,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
    /// Read errors (unreadable files, include loops), each naming the file.
    pub errors: Vec<String>,
    /// Lower-cased keyword -> every occurrence, in the order sshd reads them.
    pub settings: BTreeMap<String, Vec<SshdValue>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshdValue {
    /// The first argument, as written.
    pub value: String,
    pub path: PathBuf,
    pub line: usize,
    /// The `Match` criteria this value is under, `None` in the global section.
    pub match_criteria: Option<String>,
}

impl SshdFacts {
    /// The global value sshd uses: the first occurrence outside any `Match` block.
    pub fn global(&self, keyword: &str) -> Option<&SshdValue> {
        self.settings
            .get(&keyword.to_ascii_lowercase())?
            .iter()
            .find(|value| value.match_criteria.is_none())
    }

    /// The first value in each `Match` block that sets the keyword.
    pub fn in_match_blocks(&self, keyword: &str) -> Vec<&SshdValue> {
        let mut seen = BTreeSet::new();
        self.settings
            .get(&keyword.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .filter(|value| {
                value.match_criteria.is_some()
                    && seen.insert((value.path.clone(), value.match_criteria.clone()))
            })
            .collect()
    }
}

/// Reads `sshd_config` and its includes, keeping the requested keywords.
pub fn gather(root: &HostRoot, keywords: &BTreeSet<String>) -> SshdFacts {
    let wanted: BTreeSet<String> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
    let mut facts = SshdFacts {
        config: PathBuf::from(SSHD_CONFIG),
        absent: false,
        files: Vec::new(),
        errors: Vec::new(),
        settings: BTreeMap::new(),
    };
    match root.read_to_string(Path::new(SSHD_CONFIG)) {
        Err(ReadError::NotFound) => facts.absent = true,
        Err(error) => facts.errors.push(format!("{SSHD_CONFIG} {error}")),
        Ok(text) => {
            let mut reader = Reader {
                root,
                wanted: &wanted,
                facts: &mut facts,
                stopped: false,
            };
            reader.read_text(Path::new(SSHD_CONFIG), &text, None, 0);
        }
    }
    facts
}

struct Reader<'a> {
    root: &'a HostRoot,
    wanted: &'a BTreeSet<String>,
    facts: &'a mut SshdFacts,
    /// A limit tripped: the configuration is undecided already, so nothing more is listed or
    /// read (thousands of glob Includes must not keep listing directories).
    stopped: bool,
}

impl Reader<'_> {
    /// Reads one file. `context` is the Match block the Include appeared in; a Match inside a
    /// file ends with that file.
    fn read_text(&mut self, path: &Path, text: &str, context: Option<String>, depth: usize) {
        self.facts.files.push(path.to_path_buf());
        let mut current = context.clone();
        for (index, line) in text.lines().enumerate() {
            let Some((keyword, args)) = split_line(line) else {
                continue;
            };
            let keyword = keyword.to_ascii_lowercase();
            match keyword.as_str() {
                "match" => {
                    // `Match all` is a block too: it matches every connection, so what follows
                    // it overrides the global values (sshd -T -C shows it doing so).
                    let criteria = args.join(" ");
                    current = Some(match &context {
                        Some(outer) => format!("{outer}, then {criteria}"),
                        None => criteria,
                    });
                }
                "include" => {
                    for pattern in &args {
                        self.include(pattern, current.clone(), depth + 1);
                    }
                }
                _ if self.wanted.contains(&keyword) => {
                    if let Some(value) = args.first() {
                        self.facts
                            .settings
                            .entry(keyword)
                            .or_default()
                            .push(SshdValue {
                                value: value.clone(),
                                path: path.to_path_buf(),
                                line: index + 1,
                                match_criteria: current.clone(),
                            });
                    }
                }
                _ => {}
            }
        }
    }

    fn include(&mut self, pattern: &str, context: Option<String>, depth: usize) {
        if self.stopped {
            return;
        }
        if depth > MAX_INCLUDE_DEPTH {
            self.stopped = true;
            // sshd itself refuses such a configuration, so the whole of it is undecided: the
            // error names the main file.
            self.facts.errors.push(format!(
                "{SSHD_CONFIG}: Include {pattern}: nested too deep (include loop?)"
            ));
            return;
        }
        let absolute = if pattern.starts_with('/') {
            PathBuf::from(pattern)
        } else {
            Path::new("/etc/ssh").join(pattern)
        };
        for path in expand_glob(self.root, &absolute) {
            if self.stopped {
                return;
            }
            if self.facts.files.len() >= MAX_FILES_READ {
                self.stopped = true;
                self.facts.errors.push(format!(
                    "{SSHD_CONFIG}: Include {pattern}: more than {MAX_FILES_READ} files read (include loop?)"
                ));
                return;
            }
            match self.root.read_to_string(&path) {
                Ok(text) => self.read_text(&path, &text, context.clone(), depth),
                // A glob that matches nothing, or a missing file, is not an error to sshd.
                Err(ReadError::NotFound) => {}
                Err(error) => self
                    .facts
                    .errors
                    .push(format!("{} {error}", path.display())),
            }
        }
    }
}

/// Expands `*` and `?` in the last component, sorted as glob(3) sorts.
fn expand_glob(root: &HostRoot, pattern: &Path) -> Vec<PathBuf> {
    let name = pattern
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?', '[']) {
        return vec![pattern.to_path_buf()];
    }
    let Some(dir) = pattern.parent() else {
        return Vec::new();
    };
    root.read_dir_names(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|candidate| !candidate.starts_with('.') && glob_match(&name, candidate))
        .map(|candidate| dir.join(candidate))
        .collect()
}

/// `*` and `?` matching without recursion: on a mismatch only the last `*` is retried, so a
/// pattern like `*a*a*a*a*b` costs O(pattern × name), not exponential time.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
            }
            Some(c) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((star_pi, star_ti)) => {
                    pi = star_pi + 1;
                    ti = star_ti + 1;
                    star = Some((star_pi, star_ti + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A config line's keyword and arguments: `Keyword arg`, `Keyword=arg`, `"quoted arg"`;
/// `None` for blank and comment lines.
fn split_line(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_string();
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    while chars.peek().is_some() {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        if first == '#' {
            break;
        }
        let mut arg = String::new();
        if first == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                arg.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                arg.push(c);
                chars.next();
            }
        }
        args.push(arg);
    }
    Some((keyword, args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_include_limit_stops_the_walk_once_tripped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf_d = dir.path().join("etc/ssh/conf.d");
        std::fs::create_dir_all(&conf_d).expect("mkdir");
        for i in 0..300 {
            std::fs::write(conf_d.join(format!("{i:03}.conf")), "PermitRootLogin no\n")
                .expect("write");
        }
        let config = "Include /etc/ssh/conf.d/*.conf\n".repeat(2_000);
        std::fs::write(dir.path().join("etc/ssh/sshd_config"), config).expect("write");
        let root = HostRoot::new(dir.path()).expect("root");
        let facts = gather(&root, &BTreeSet::from(["permitrootlogin".to_string()]));
        // The limit trips once, and nothing is read after it.
        assert_eq!(facts.files.len(), MAX_FILES_READ, "{:?}", facts.errors);
        assert_eq!(facts.errors.len(), 1, "{:?}", facts.errors);
        assert!(facts.errors[0].contains("more than 256 files"));
    }

    /// The plain recursive definition the iterative matcher must agree with.
    fn reference_glob(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|skip| reference_glob(&p[1..], &t[skip..])),
            Some('?') => !t.is_empty() && reference_glob(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && reference_glob(&p[1..], &t[1..]),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn glob_match_agrees_with_the_recursive_definition(
            pattern in "[ab*?]{0,8}", text in "[ab]{0,10}"
        ) {
            let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
            prop_assert_eq!(glob_match(&pattern, &text), reference_glob(&p, &t));
        }

        #[test]
        fn split_line_never_panics(line in "\\PC{0,80}") {
            let _ = split_line(&line);
        }
    }

    #[test]
    fn include_glob_with_many_stars_is_not_exponential() {
        // The recursive matcher needed ~2^30 steps for this; the iterative one is immediate.
        let pattern = format!("{}b", "*a".repeat(30));
        assert!(!glob_match(&pattern, &"a".repeat(60)));
        assert!(glob_match("*.conf", "50-cloud-init.conf"));
        assert!(!glob_match("*.conf", "50-cloud-init.conf.bak"));
    }

    #[test]
    fn lines_split_like_sshd() {
        assert_eq!(
            split_line("PermitRootLogin=no"),
            Some(("PermitRootLogin".into(), vec!["no".into()]))
        );
        assert_eq!(
            split_line("  passwordauthentication   yes # trailing"),
            Some(("passwordauthentication".into(), vec!["yes".into()]))
        );
        assert_eq!(
            split_line("Include \"/etc/ssh/a b.conf\" x.conf"),
            Some((
                "Include".into(),
                vec!["/etc/ssh/a b.conf".into(), "x.conf".into()]
            ))
        );
        assert_eq!(split_line("# PermitRootLogin yes"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.conf", "50-cloud-init.conf"));
        assert!(!glob_match("*.conf", "50-cloud-init.conf.bak"));
        assert!(glob_match("a?c", "abc"));
    }
}
