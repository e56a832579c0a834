//! The apiserver firewall, as a pure model: which rules hardnode wants for a [`Spec`] (container
//! CIDRs × apiserver addresses, hooked into OUTPUT/FORWARD/INPUT), how an `iptables -S` listing
//! is read back, and whether what the kernel holds is what hardnode wants ([`assess`]).
//!
//! No I/O here: `remedy::firewall` runs the commands and `engine` evaluates the
//! `firewall.apiserver-blocked` rule with the same [`assess`], so `status` and `check` can never
//! disagree.
//!
//! Every rule hardnode adds lives in the chain [`CHAIN`] of the filter table, and each rule in it
//! and each jump to it carries an iptables comment starting `hardnode:`. The comment names the
//! rule's content (`hardnode: block 10.244.0.0/16 -> 192.0.2.10/32 tcp:6443`), so the kernel's
//! listing can be compared with the wanted rules exactly, whatever spelling iptables prints the
//! matches in, and `remove` finds exactly hardnode's rules and nothing else.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cidr::{Cidr, Endpoint};
use crate::netfilter::{Family, quote_restore, split_rule};

pub mod rclocal;
pub mod systemd;

/// hardnode's own chain in the filter table.
pub const CHAIN: &str = "HARDNODE-APISERVER";
/// The comment on every jump to [`CHAIN`].
pub const JUMP_COMMENT: &str = "hardnode: apiserver block";
/// The prefix of every comment hardnode writes.
pub const COMMENT_PREFIX: &str = "hardnode:";

/// The built-in chains hardnode hooks into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Hook {
    /// Traffic from this host's own network namespace (routed/VPC pod networking where pod
    /// traffic leaves through the host stack).
    Output,
    /// Traffic routed through the node (overlay/tunnel networking, bridged pods).
    Forward,
    /// Traffic to the node itself: a host-network apiserver on a control-plane node.
    Input,
}

impl Hook {
    pub const ALL: [Hook; 3] = [Hook::Output, Hook::Forward, Hook::Input];

    pub fn chain(self) -> &'static str {
        match self {
            Hook::Output => "OUTPUT",
            Hook::Forward => "FORWARD",
            Hook::Input => "INPUT",
        }
    }

    fn from_chain(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|hook| hook.chain() == name)
    }
}

/// `--mode`: which hooks; `all` is OUTPUT and FORWARD, plus INPUT when an apiserver address is
/// one of this node's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Output,
    Forward,
    Input,
    All,
}

impl Mode {
    /// The hooks for these modes; `apiserver_is_local` decides INPUT for `all`.
    pub fn hooks(modes: &[Mode], apiserver_is_local: bool) -> BTreeSet<Hook> {
        let mut hooks = BTreeSet::new();
        for mode in modes {
            match mode {
                Mode::Output => {
                    hooks.insert(Hook::Output);
                }
                Mode::Forward => {
                    hooks.insert(Hook::Forward);
                }
                Mode::Input => {
                    hooks.insert(Hook::Input);
                }
                Mode::All => {
                    hooks.extend([Hook::Output, Hook::Forward]);
                    if apiserver_is_local {
                        hooks.insert(Hook::Input);
                    }
                }
            }
        }
        hooks
    }
}

/// The address this node uses to reach an apiserver (its route), or why it is unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub apiserver: IpAddr,
    pub source: Option<IpAddr>,
    pub error: Option<String>,
}

impl Route {
    /// The apiserver address is one of this node's own (a control-plane node).
    pub fn is_local(&self) -> bool {
        self.source == Some(self.apiserver) || self.apiserver.is_loopback()
    }
}

/// What to block: every container CIDR from every apiserver endpoint, in these hooks, except the
/// allowed sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    pub container_cidrs: Vec<Cidr>,
    pub apiservers: Vec<Endpoint>,
    pub hooks: BTreeSet<Hook>,
    pub allow: Vec<Cidr>,
}

impl Spec {
    /// The safety refusals that need no host knowledge: an empty or everything-CIDR, a CIDR that
    /// contains an apiserver address. Each message names the offending value.
    pub fn check_safety(&self) -> Result<(), String> {
        if self.container_cidrs.is_empty() {
            return Err("no container CIDR given (pass --container-cidr CIDR)".into());
        }
        if self.apiservers.is_empty() {
            return Err("no apiserver address given (pass --apiserver ADDR[:PORT])".into());
        }
        if self.hooks.is_empty() {
            return Err("no chain selected (pass --mode output|forward|input|all)".into());
        }
        for cidr in &self.container_cidrs {
            if cidr.is_everything() {
                return Err(format!(
                    "refusing container CIDR {cidr}: it matches every address, so it would cut \
                     this node and everything else off the apiserver"
                ));
            }
            for apiserver in &self.apiservers {
                if cidr.contains(apiserver.address) {
                    return Err(format!(
                        "refusing container CIDR {cidr}: it contains the apiserver address {}",
                        apiserver.address
                    ));
                }
            }
        }
        if let Some(allow) = self.allow.iter().find(|allow| allow.is_everything()) {
            return Err(format!(
                "refusing --allow {allow}: it exempts every source, so nothing would be blocked"
            ));
        }
        Ok(())
    }

    /// Refuses the spec when a container CIDR contains `source`, the address this node itself
    /// uses to reach `apiserver` (its route to it): the block would cut the node off.
    pub fn check_node_source(
        &self,
        apiserver: &Endpoint,
        source: std::net::IpAddr,
    ) -> Result<(), String> {
        match self
            .container_cidrs
            .iter()
            .find(|cidr| cidr.contains(source))
        {
            Some(cidr) => Err(format!(
                "refusing container CIDR {cidr}: it contains {source}, the address this node \
                 itself uses to reach the apiserver {}; the node would lose the apiserver",
                apiserver.address
            )),
            None => Ok(()),
        }
    }

    /// The rules hardnode wants for one family, in chain order (allows first).
    pub fn desired(&self, family: Family) -> Desired {
        let in_family = |cidr: &Cidr| cidr.is_ipv6() == (family == Family::Ipv6);
        let apiservers: Vec<&Endpoint> = self
            .apiservers
            .iter()
            .filter(|api| api.address.is_ipv6() == (family == Family::Ipv6))
            .collect();
        let mut rules = Vec::new();
        let blocked: Vec<&Cidr> = self
            .container_cidrs
            .iter()
            .filter(|c| in_family(c))
            .collect();
        if blocked.is_empty() || apiservers.is_empty() {
            return Desired::default();
        }
        for allow in self.allow.iter().filter(|c| in_family(c)) {
            for api in &apiservers {
                rules.push(ManagedRule::new(Action::Allow, *allow, api));
            }
        }
        for cidr in blocked {
            for api in &apiservers {
                rules.push(ManagedRule::new(Action::Block, *cidr, api));
            }
        }
        Desired {
            hooks: self.hooks.iter().copied().collect(),
            rules,
        }
    }

    /// Container CIDRs or apiservers whose family has no counterpart, so nothing blocks them.
    pub fn unmatched_families(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for cidr in &self.container_cidrs {
            if !self
                .apiservers
                .iter()
                .any(|api| api.address.is_ipv6() == cidr.is_ipv6())
            {
                notes.push(format!(
                    "container CIDR {cidr} has no apiserver address of the same IP family; \
                     nothing is blocked for it"
                ));
            }
        }
        notes
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `-j RETURN`: an `--allow`ed source leaves hardnode's chain before the block.
    Allow,
    /// `-j REJECT`: the connection is refused at once rather than left to time out.
    Block,
}

/// One rule in [`CHAIN`]: its iptables arguments (without the chain) and its comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedRule {
    pub action: Action,
    pub source: Cidr,
    pub destination: Cidr,
    pub port: Option<u16>,
    pub comment: String,
}

impl ManagedRule {
    fn new(action: Action, source: Cidr, api: &Endpoint) -> ManagedRule {
        let destination = Cidr::host(api.address);
        let verb = match action {
            Action::Allow => "allow",
            Action::Block => "block",
        };
        let port = api
            .port
            .map_or(String::new(), |port| format!(" tcp:{port}"));
        ManagedRule {
            action,
            source,
            destination,
            port: api.port,
            comment: format!("{COMMENT_PREFIX} {verb} {source} -> {destination}{port}"),
        }
    }

    /// The arguments after `-A CHAIN`.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "-s".to_string(),
            self.source.to_string(),
            "-d".to_string(),
            self.destination.to_string(),
        ];
        if let Some(port) = self.port {
            args.extend(["-p", "tcp", "-m", "tcp", "--dport"].map(String::from));
            args.push(port.to_string());
        }
        args.extend(["-m", "comment", "--comment"].map(String::from));
        args.push(self.comment.clone());
        args.push("-j".into());
        args.push(
            match self.action {
                Action::Allow => "RETURN",
                Action::Block => "REJECT",
            }
            .into(),
        );
        args
    }
}

/// The arguments after `-I HOOK 1` of hardnode's jump.
pub fn jump_args() -> Vec<String> {
    ["-m", "comment", "--comment", JUMP_COMMENT, "-j", CHAIN]
        .map(String::from)
        .to_vec()
}

/// What hardnode wants in one family. Empty (no hooks, no rules) means "nothing of hardnode's".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Desired {
    pub hooks: Vec<Hook>,
    pub rules: Vec<ManagedRule>,
}

impl Desired {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// One rule of an `iptables -S` listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedRule {
    pub chain: String,
    /// The words after `-A CHAIN`.
    pub args: Vec<String>,
    /// The listing line as printed.
    pub line: String,
}

impl ListedRule {
    fn option(&self, name: &str) -> Option<&str> {
        let position = self.args.iter().position(|word| word == name)?;
        // `! -s X` negates: treat a negated match as unknown (None).
        if position > 0 && self.args[position - 1] == "!" {
            return None;
        }
        self.args.get(position + 1).map(String::as_str)
    }

    pub fn target(&self) -> Option<&str> {
        self.option("-j").or_else(|| self.option("-g"))
    }

    pub fn comment(&self) -> Option<&str> {
        self.option("--comment")
    }

    fn cidr(&self, name: &str) -> Option<Cidr> {
        self.option(name).and_then(|text| text.parse().ok())
    }

    fn negates(&self, name: &str) -> bool {
        self.args
            .windows(2)
            .any(|pair| pair[0] == "!" && pair[1] == name)
    }
}

/// A filter-table listing, read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub chain_exists: bool,
    pub rules: Vec<ListedRule>,
}

impl Listing {
    /// Reads `iptables -t filter -S` lines.
    pub fn parse(lines: &[String]) -> Listing {
        let mut listing = Listing::default();
        for line in lines {
            let words = split_rule(line);
            match words.as_slice() {
                [flag, chain] if flag == "-N" && chain == CHAIN => listing.chain_exists = true,
                [flag, chain, rest @ ..] if flag == "-A" => listing.rules.push(ListedRule {
                    chain: chain.clone(),
                    args: rest.to_vec(),
                    line: line.clone(),
                }),
                _ => {}
            }
        }
        listing
    }

    fn chain(&self, name: &str) -> impl Iterator<Item = &ListedRule> {
        self.rules.iter().filter(move |rule| rule.chain == name)
    }

    /// Every rule anywhere that jumps to hardnode's chain.
    pub fn jumps(&self) -> impl Iterator<Item = &ListedRule> {
        self.rules
            .iter()
            .filter(|rule| rule.target() == Some(CHAIN) && rule.chain != CHAIN)
    }

    /// Whether anything of hardnode's is in this table.
    pub fn has_managed(&self) -> bool {
        self.chain_exists || self.jumps().next().is_some()
    }
}

/// Whether the kernel holds what hardnode wants, and what is wrong if not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub in_place: bool,
    /// What differs from the wanted state, one sentence each.
    pub problems: Vec<String>,
    /// Rules before hardnode's jump that may accept the traffic it blocks (the block is dead).
    pub shadowed_by: Vec<String>,
    /// Hand-made rules that block the same traffic: "present, not managed".
    pub unmanaged: Vec<String>,
}

/// Targets that never accept a packet, so a rule with one of them before hardnode's jump cannot
/// make the block dead. Anything else (ACCEPT, a jump to a CNI's chain) may.
const NON_ACCEPTING_TARGETS: &[&str] = &[
    "DROP", "REJECT", "RETURN", "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TRACE", "CT",
    "NOTRACK", "AUDIT", "TCPMSS", "CLASSIFY", "DSCP", "TOS", "CHECKSUM", "NFQUEUE",
];

/// Compares a listing with the wanted rules of one family.
pub fn assess(spec: &Spec, desired: &Desired, listing: &Listing) -> Assessment {
    let mut assessment = Assessment::default();
    let problems = &mut assessment.problems;
    if desired.is_empty() {
        if listing.chain_exists {
            problems.push(format!("chain {CHAIN} exists but no rule is wanted in it"));
        }
        for jump in listing.jumps() {
            problems.push(format!("unwanted jump: {}", jump.line));
        }
    } else {
        if !listing.chain_exists {
            problems.push(format!("chain {CHAIN} does not exist"));
        } else {
            let have: Vec<Option<&str>> = listing.chain(CHAIN).map(ListedRule::comment).collect();
            let want: Vec<Option<&str>> = desired
                .rules
                .iter()
                .map(|rule| Some(rule.comment.as_str()))
                .collect();
            if have != want {
                problems.push(format!(
                    "chain {CHAIN} holds [{}], wanted [{}]",
                    describe_comments(&have),
                    describe_comments(&want)
                ));
            }
        }
        for hook in Hook::ALL {
            let rules: Vec<&ListedRule> = listing.chain(hook.chain()).collect();
            let jumps: Vec<usize> = rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.target() == Some(CHAIN))
                .map(|(index, _)| index)
                .collect();
            let wanted = desired.hooks.contains(&hook);
            match (wanted, jumps.as_slice()) {
                (true, []) => problems.push(format!("no jump to {CHAIN} in {}", hook.chain())),
                (true, [first, rest @ ..]) => {
                    if !rest.is_empty() {
                        problems.push(format!(
                            "{} jumps to {CHAIN} {} times",
                            hook.chain(),
                            jumps.len()
                        ));
                    }
                    for earlier in &rules[..*first] {
                        if may_accept(earlier, spec) {
                            assessment.shadowed_by.push(earlier.line.clone());
                        }
                    }
                }
                (false, []) => {}
                (false, _) => problems.push(format!(
                    "{} jumps to {CHAIN} but that chain is not selected",
                    hook.chain()
                )),
            }
            for rule in &rules {
                if is_hand_made_block(rule, spec) {
                    assessment.unmanaged.push(rule.line.clone());
                }
            }
        }
        for jump in listing.jumps() {
            if Hook::from_chain(&jump.chain).is_none() {
                problems.push(format!("unexpected jump: {}", jump.line));
            }
        }
        if !assessment.shadowed_by.is_empty() {
            problems.push(format!(
                "{} rule(s) before hardnode's jump may accept the same traffic, so the block \
                 never sees it",
                assessment.shadowed_by.len()
            ));
        }
    }
    assessment.in_place = assessment.problems.is_empty();
    assessment
}

fn describe_comments(comments: &[Option<&str>]) -> String {
    comments
        .iter()
        .map(|comment| comment.unwrap_or("<rule without comment>"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `rule` (before hardnode's jump) may accept traffic from a container CIDR to an
/// apiserver: its target may accept and its addresses, when it names them, overlap ours. Other
/// matches (interfaces, conntrack state) are not decided here, so this errs towards "may".
fn may_accept(rule: &ListedRule, spec: &Spec) -> bool {
    let target = rule.target().unwrap_or("");
    if target.is_empty() || NON_ACCEPTING_TARGETS.contains(&target) {
        return false;
    }
    let source_overlaps = rule.negates("-s")
        || rule
            .cidr("-s")
            .is_none_or(|source| spec.container_cidrs.iter().any(|c| c.overlaps(&source)));
    let destination_overlaps = rule.negates("-d")
        || rule.cidr("-d").is_none_or(|destination| {
            spec.apiservers
                .iter()
                .any(|api| destination.contains(api.address))
        });
    source_overlaps && destination_overlaps
}

/// A rule not written by hardnode that rejects or drops a container CIDR to an apiserver.
fn is_hand_made_block(rule: &ListedRule, spec: &Spec) -> bool {
    if rule
        .comment()
        .is_some_and(|comment| comment.starts_with(COMMENT_PREFIX))
    {
        return false;
    }
    if !matches!(rule.target(), Some("REJECT" | "DROP")) {
        return false;
    }
    let (Some(source), Some(destination)) = (rule.cidr("-s"), rule.cidr("-d")) else {
        return false;
    };
    spec.container_cidrs
        .iter()
        .any(|cidr| cidr.overlaps(&source))
        && spec
            .apiservers
            .iter()
            .any(|api| destination.contains(api.address))
}

/// The iptables-restore script that makes the table hold exactly `desired`: declaring the chain
/// flushes it, every existing jump is deleted, the wanted jumps go first in their chains. Applied
/// with `--noflush`, in one transaction.
pub fn apply_script(desired: &Desired, listing: &Listing) -> String {
    let mut script = format!("*filter\n:{CHAIN} - [0:0]\n");
    for jump in listing.jumps() {
        script.push_str(&restore_line("-D", &jump.chain, &jump.args));
    }
    for hook in &desired.hooks {
        let mut args = vec!["1".to_string()];
        args.extend(jump_args());
        script.push_str(&restore_line("-I", hook.chain(), &args));
    }
    for rule in &desired.rules {
        script.push_str(&restore_line("-A", CHAIN, &rule.args()));
    }
    script.push_str("COMMIT\n");
    script
}

/// The iptables-restore script that removes every jump to hardnode's chain and the chain.
pub fn remove_script(listing: &Listing) -> String {
    let mut script = format!("*filter\n:{CHAIN} - [0:0]\n");
    for jump in listing.jumps() {
        script.push_str(&restore_line("-D", &jump.chain, &jump.args));
    }
    script.push_str(&format!("-X {CHAIN}\nCOMMIT\n"));
    script
}

fn restore_line(flag: &str, chain: &str, args: &[String]) -> String {
    let mut line = format!("{flag} {chain}");
    for arg in args {
        line.push(' ');
        line.push_str(&quote_restore(arg));
    }
    line.push('\n');
    line
}

/// Shell lines that restore `desired` at boot with `binary` (an absolute path). Each line is
/// idempotent (`-C … || -I …`), so running them twice adds nothing.
pub fn shell_lines(desired: &Desired, binary: &str) -> Vec<String> {
    if desired.is_empty() {
        return Vec::new();
    }
    let run = |args: &[String]| {
        let mut line = format!("{binary} -w 10");
        for arg in args {
            line.push(' ');
            line.push_str(&sh_quote(arg));
        }
        line
    };
    let with = |flag: &[&str], args: Vec<String>| {
        let mut all: Vec<String> = flag.iter().map(|s| s.to_string()).collect();
        all.extend(args);
        all
    };
    let mut lines = vec![format!(
        "{} 2>/dev/null || true",
        run(&with(&["-N", CHAIN], vec![]))
    )];
    for rule in &desired.rules {
        lines.push(format!(
            "{} 2>/dev/null || {}",
            run(&with(&["-C", CHAIN], rule.args())),
            run(&with(&["-A", CHAIN], rule.args()))
        ));
    }
    for hook in &desired.hooks {
        lines.push(format!(
            "{} 2>/dev/null || {}",
            run(&with(&["-C", hook.chain()], jump_args())),
            run(&with(&["-I", hook.chain(), "1"], jump_args()))
        ));
    }
    lines
}

/// Quotes a word for `sh`: bare when it is made of safe characters, else in single quotes.
pub fn sh_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The `-A` lines hardnode wants in a family.
pub fn rule_lines(desired: &Desired) -> Vec<String> {
    let mut lines = Vec::new();
    for hook in &desired.hooks {
        let args: Vec<String> = jump_args().iter().map(|a| quote_restore(a)).collect();
        lines.push(format!("-I {} 1 {}", hook.chain(), args.join(" ")));
    }
    for rule in &desired.rules {
        let args: Vec<String> = rule.args().iter().map(|a| quote_restore(a)).collect();
        lines.push(format!("-A {CHAIN} {}", args.join(" ")));
    }
    lines
}

/// Where the rules are kept for the next boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Persist {
    /// A marker-delimited block in `/etc/rc.local` (the default).
    RcLocal,
    /// A oneshot unit, `hardnode-firewall.service`, for hosts where rc.local never runs.
    Systemd,
    /// Not persisted: the rules vanish at reboot.
    None,
}

impl Persist {
    pub fn as_str(self) -> &'static str {
        match self {
            Persist::RcLocal => "rc-local",
            Persist::Systemd => "systemd",
            Persist::None => "none",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.chain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cidrs: &[&str], apis: &[&str], hooks: &[Hook], allow: &[&str]) -> Spec {
        Spec {
            container_cidrs: cidrs.iter().map(|c| c.parse().expect("cidr")).collect(),
            apiservers: apis.iter().map(|a| a.parse().expect("endpoint")).collect(),
            hooks: hooks.iter().copied().collect(),
            allow: allow.iter().map(|c| c.parse().expect("cidr")).collect(),
        }
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn safety_refusals_name_the_value() {
        let err = |s: Spec| s.check_safety().expect_err("refused");
        assert!(
            err(spec(&["0.0.0.0/0"], &["192.0.2.10"], &[Hook::Output], &[])).contains("0.0.0.0/0")
        );
        assert!(err(spec(&["::/0"], &["2001:db8::1"], &[Hook::Output], &[])).contains("::/0"));
        assert!(
            err(spec(
                &["192.0.2.0/24"],
                &["192.0.2.10"],
                &[Hook::Output],
                &[]
            ))
            .contains("contains the apiserver address 192.0.2.10")
        );
        assert!(err(spec(&[], &["192.0.2.10"], &[Hook::Output], &[])).contains("--container-cidr"));
        let ok = spec(&["10.244.0.0/16"], &["192.0.2.10"], &[Hook::Output], &[]);
        assert!(ok.check_safety().is_ok());
        let api: Endpoint = "192.0.2.10".parse().expect("endpoint");
        assert!(
            ok.check_node_source(&api, "10.244.0.1".parse().expect("ip"))
                .is_err()
        );
        assert!(
            ok.check_node_source(&api, "192.0.2.1".parse().expect("ip"))
                .is_ok()
        );
    }

    #[test]
    fn all_mode_adds_input_only_for_a_local_apiserver() {
        assert_eq!(
            Mode::hooks(&[Mode::All], false),
            [Hook::Output, Hook::Forward].into()
        );
        assert_eq!(
            Mode::hooks(&[Mode::All], true),
            [Hook::Output, Hook::Forward, Hook::Input].into()
        );
        assert_eq!(Mode::hooks(&[Mode::Input], false), [Hook::Input].into());
    }

    #[test]
    fn desired_rules_split_by_family_with_allows_first() {
        let s = spec(
            &["10.244.0.0/16", "fd00:10:244::/56"],
            &["192.0.2.10:6443", "[2001:db8::10]:6443"],
            &[Hook::Forward],
            &["10.244.5.0/24"],
        );
        let v4 = s.desired(Family::Ipv4);
        assert_eq!(v4.rules.len(), 2);
        assert_eq!(v4.rules[0].action, Action::Allow);
        assert_eq!(
            v4.rules[1].comment,
            "hardnode: block 10.244.0.0/16 -> 192.0.2.10/32 tcp:6443"
        );
        let v6 = s.desired(Family::Ipv6);
        assert_eq!(v6.rules.len(), 1);
        assert_eq!(v6.rules[0].destination.to_string(), "2001:db8::10/128");
        let only_v4 = spec(&["10.244.0.0/16"], &["192.0.2.10"], &[Hook::Forward], &[]);
        assert!(only_v4.desired(Family::Ipv6).is_empty());
    }

    #[test]
    fn listing_round_trip_is_in_place() {
        let s = spec(
            &["10.244.0.0/16"],
            &["192.0.2.10:6443"],
            &[Hook::Output, Hook::Forward],
            &[],
        );
        let desired = s.desired(Family::Ipv4);
        let listing = Listing::parse(&lines(
            "-P INPUT ACCEPT\n-N HARDNODE-APISERVER\n\
             -A FORWARD -m comment --comment \"hardnode: apiserver block\" -j HARDNODE-APISERVER\n\
             -A FORWARD -s 10.244.0.0/16 -j ACCEPT\n\
             -A OUTPUT -m comment --comment \"hardnode: apiserver block\" -j HARDNODE-APISERVER\n\
             -A HARDNODE-APISERVER -s 10.244.0.0/16 -d 192.0.2.10/32 -p tcp -m tcp --dport 6443 -m comment --comment \"hardnode: block 10.244.0.0/16 -> 192.0.2.10/32 tcp:6443\" -j REJECT --reject-with icmp-port-unreachable",
        ));
        let assessment = assess(&s, &desired, &listing);
        assert!(assessment.in_place, "{assessment:?}");
    }

    #[test]
    fn an_accept_before_the_jump_is_reported_as_shadowing() {
        let s = spec(&["10.244.0.0/16"], &["192.0.2.10"], &[Hook::Forward], &[]);
        let desired = s.desired(Family::Ipv4);
        let listing = Listing::parse(&lines(
            "-N HARDNODE-APISERVER\n\
             -A FORWARD -s 10.245.0.0/16 -j ACCEPT\n\
             -A FORWARD -j LOG\n\
             -A FORWARD -s 10.244.0.0/16 -j ACCEPT\n\
             -A FORWARD -m comment --comment \"hardnode: apiserver block\" -j HARDNODE-APISERVER\n\
             -A HARDNODE-APISERVER -s 10.244.0.0/16 -d 192.0.2.10/32 -m comment --comment \"hardnode: block 10.244.0.0/16 -> 192.0.2.10/32\" -j REJECT",
        ));
        let assessment = assess(&s, &desired, &listing);
        assert!(!assessment.in_place);
        assert_eq!(
            assessment.shadowed_by,
            ["-A FORWARD -s 10.244.0.0/16 -j ACCEPT"]
        );
    }

    #[test]
    fn hand_made_rules_and_wrong_content_are_named() {
        let s = spec(&["10.244.0.0/16"], &["192.0.2.10"], &[Hook::Output], &[]);
        let desired = s.desired(Family::Ipv4);
        let listing = Listing::parse(&lines(
            "-N HARDNODE-APISERVER\n\
             -A OUTPUT -s 10.244.0.0/16 -d 192.0.2.10/32 -j REJECT --reject-with icmp-port-unreachable\n\
             -A HARDNODE-APISERVER -s 10.9.0.0/16 -d 192.0.2.10/32 -m comment --comment \"hardnode: block 10.9.0.0/16 -> 192.0.2.10/32\" -j REJECT",
        ));
        let assessment = assess(&s, &desired, &listing);
        assert!(!assessment.in_place);
        assert_eq!(assessment.unmanaged.len(), 1);
        assert!(assessment.problems.iter().any(|p| p.contains("no jump")));
        assert!(
            assessment
                .problems
                .iter()
                .any(|p| p.contains("10.9.0.0/16"))
        );
    }

    #[test]
    fn scripts_delete_every_jump_and_quote_comments() {
        let s = spec(&["10.244.0.0/16"], &["192.0.2.10"], &[Hook::Output], &[]);
        let listing = Listing::parse(&lines(
            "-N HARDNODE-APISERVER\n-A FORWARD -j HARDNODE-APISERVER\n",
        ));
        let script = apply_script(&s.desired(Family::Ipv4), &listing);
        assert!(
            script.contains("-D FORWARD -j HARDNODE-APISERVER\n"),
            "{script}"
        );
        assert!(script.contains(
            "-I OUTPUT 1 -m comment --comment \"hardnode: apiserver block\" -j HARDNODE-APISERVER\n"
        ));
        assert!(script.ends_with("COMMIT\n"));
        let removal = remove_script(&listing);
        assert!(removal.contains("-X HARDNODE-APISERVER\n"));
    }

    #[test]
    fn shell_lines_are_idempotent_pairs() {
        let s = spec(
            &["10.244.0.0/16"],
            &["192.0.2.10:6443"],
            &[Hook::Forward],
            &[],
        );
        let lines = shell_lines(&s.desired(Family::Ipv4), "/usr/sbin/iptables-nft");
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1]
                .starts_with("/usr/sbin/iptables-nft -w 10 -C HARDNODE-APISERVER -s 10.244.0.0/16")
        );
        assert!(lines[1].contains("'hardnode: block 10.244.0.0/16 -> 192.0.2.10/32 tcp:6443'"));
        assert!(lines[2].contains("|| /usr/sbin/iptables-nft -w 10 -I FORWARD 1 -m comment"));
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
    }
}
