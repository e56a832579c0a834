//! Command-line parsing the way the Kubernetes components parse their own arguments (spf13/pflag,
//! and Go's `flag` package for etcd): `--k=v`, `--k v`, `-k=v`, `-k v`, bare booleans, repeated
//! flags (the last one wins), `--feature-gates` merged across repeats into a map.
//!
//! Whether `--k v` consumes `v` depends on whether `--k` is a boolean flag: pflag gives boolean
//! flags an implicit value, so `--anonymous-auth false` is the flag `true` followed by a stray
//! positional `false`. Each component's boolean flags are listed in [`boolean_flags`]; an unknown
//! flag followed by a token that is not itself a flag takes it as its value (every Kubernetes
//! component takes no positional arguments, so that reading cannot steal one).

use std::collections::BTreeMap;

use serde::Serialize;

/// One flag as it appeared on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagValue {
    /// The value; `"true"` for a bare boolean flag.
    pub value: String,
    /// How many times the flag was given (the last occurrence wins).
    pub occurrences: usize,
}

/// Parsed arguments: flags by name (without dashes), feature gates, and positionals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParsedArgs {
    pub flags: BTreeMap<String, FlagValue>,
    /// `--feature-gates`, merged across repeats as the components' `MapStringBool` does.
    pub feature_gates: BTreeMap<String, String>,
    /// Arguments that are not flags (`k3s server`'s `server`, or a value after a boolean flag).
    pub positionals: Vec<String>,
    /// Things that could not be understood, kept for the facts instead of being dropped.
    pub problems: Vec<String>,
}

impl ParsedArgs {
    /// The value of `--name` (given with or without dashes).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.flags
            .get(name.trim_start_matches('-'))
            .map(|flag| flag.value.as_str())
    }
}

/// Parses `args` (argv without argv[0]) for a component whose boolean flags are `booleans`.
pub fn parse(args: &[String], booleans: &[&str]) -> ParsedArgs {
    let mut parsed = ParsedArgs::default();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        if arg == "--" {
            parsed.positionals.extend(args[index..].iter().cloned());
            break;
        }
        let Some(body) = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-').filter(|rest| !rest.is_empty()))
        else {
            parsed.positionals.push(arg.clone());
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None if booleans.contains(&body) => (body.to_string(), "true".to_string()),
            None => match args.get(index) {
                Some(next) if !looks_like_flag(next) => {
                    index += 1;
                    (body.to_string(), next.clone())
                }
                _ => {
                    // pflag would refuse to start ("flag needs an argument"); the process runs, so
                    // the flag is most likely a boolean hardnode does not know of.
                    parsed.problems.push(format!(
                        "--{body} has no value and is not a known boolean flag; read as true"
                    ));
                    (body.to_string(), "true".to_string())
                }
            },
        };
        if name.is_empty() {
            parsed.problems.push(format!("{arg:?} is not a flag"));
            continue;
        }
        if name == "feature-gates" {
            merge_feature_gates(&mut parsed, &value);
        }
        let entry = parsed.flags.entry(name).or_insert(FlagValue {
            value: String::new(),
            occurrences: 0,
        });
        entry.value = value;
        entry.occurrences += 1;
    }
    parsed
}

fn looks_like_flag(token: &str) -> bool {
    token.len() > 1 && token.starts_with('-') && token.parse::<f64>().is_err()
}

/// `A=true,B=false` into the map; a later repeat adds to (and overrides keys of) the earlier.
fn merge_feature_gates(parsed: &mut ParsedArgs, value: &str) {
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((gate, enabled)) => {
                parsed
                    .feature_gates
                    .insert(gate.trim().to_string(), enabled.trim().to_string());
            }
            None => parsed
                .problems
                .push(format!("--feature-gates entry {part:?} is not Name=bool")),
        }
    }
}

/// The boolean flags of each component: these never consume the next argument.
pub fn boolean_flags(component: &str) -> &'static [&'static str] {
    match component {
        "kubelet" => &[
            "add-dir-header",
            "skip-headers",
            "skip-log-headers",
            "one-output",
            "runonce",
            "cpu-cfs-quota",
            "anonymous-auth",
            "authentication-token-webhook",
            "make-iptables-util-chains",
            "rotate-certificates",
            "rotate-server-certificates",
            "protect-kernel-defaults",
            "seccomp-default",
            "fail-swap-on",
            "enable-server",
            "enable-debugging-handlers",
            "enable-controller-attach-detach",
            "register-node",
            "register-schedulable",
            "serialize-image-pulls",
            "cgroups-per-qos",
            "exit-on-lock-contention",
            "keep-terminated-pod-volumes",
            "kernel-memcg-notification",
            "local-storage-capacity-isolation",
            "enforce-node-allocatable-hard",
            "alsologtostderr",
            "logtostderr",
            "help",
            "version",
        ],
        "kube-apiserver" => &[
            "add-dir-header",
            "skip-headers",
            "skip-log-headers",
            "one-output",
            "permit-port-sharing",
            "permit-address-sharing",
            "disable-http2-serving",
            "anonymous-auth",
            "allow-privileged",
            "profiling",
            "enable-bootstrap-token-auth",
            "service-account-lookup",
            "service-account-extend-token-expiration",
            "enable-aggregator-routing",
            "enable-garbage-collector",
            "enable-priority-and-fairness",
            "enable-logs-handler",
            "contention-profiling",
            "audit-log-compress",
            "audit-log-truncate-enabled",
            "audit-webhook-truncate-enabled",
            "watch-cache",
            "logtostderr",
            "alsologtostderr",
            "help",
            "version",
        ],
        "kube-controller-manager" => &[
            "add-dir-header",
            "skip-headers",
            "skip-log-headers",
            "one-output",
            "permit-port-sharing",
            "permit-address-sharing",
            "disable-http2-serving",
            "profiling",
            "contention-profiling",
            "use-service-account-credentials",
            "allocate-node-cidrs",
            "configure-cloud-routes",
            "enable-garbage-collector",
            "enable-hostpath-provisioner",
            "enable-dynamic-provisioning",
            "enable-taint-manager",
            "leader-elect",
            "logtostderr",
            "alsologtostderr",
            "help",
            "version",
        ],
        "kube-scheduler" => &[
            "add-dir-header",
            "skip-headers",
            "skip-log-headers",
            "one-output",
            "permit-port-sharing",
            "permit-address-sharing",
            "disable-http2-serving",
            "profiling",
            "contention-profiling",
            "leader-elect",
            "logtostderr",
            "alsologtostderr",
            "help",
            "version",
        ],
        "kube-proxy" => &[
            "add-dir-header",
            "skip-headers",
            "skip-log-headers",
            "one-output",
            "masquerade-all",
            "profiling",
            "bind-address-hard-fail",
            "cleanup",
            "cleanup-ipvs",
            "logtostderr",
            "alsologtostderr",
            "help",
            "version",
        ],
        "etcd" => &[
            "client-cert-auth",
            "peer-client-cert-auth",
            "auto-tls",
            "peer-auto-tls",
            "enable-pprof",
            "strict-reconfig-check",
            "enable-v2",
            "force-new-cluster",
            "debug",
            "experimental-initial-corrupt-check",
            "help",
            "version",
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn equals_and_space_separated_values() {
        let parsed = parse(
            &args(&[
                "--config=/var/lib/kubelet/config.yaml",
                "--kubeconfig",
                "/etc/kubernetes/kubelet.conf",
                "-v=2",
            ]),
            boolean_flags("kubelet"),
        );
        assert_eq!(parsed.get("config"), Some("/var/lib/kubelet/config.yaml"));
        assert_eq!(
            parsed.get("--kubeconfig"),
            Some("/etc/kubernetes/kubelet.conf")
        );
        assert_eq!(parsed.get("v"), Some("2"));
        assert!(parsed.positionals.is_empty());
    }

    #[test]
    fn bare_booleans_do_not_consume_the_next_argument() {
        let parsed = parse(
            &args(&["--anonymous-auth", "--read-only-port", "0"]),
            boolean_flags("kubelet"),
        );
        assert_eq!(parsed.get("anonymous-auth"), Some("true"));
        assert_eq!(parsed.get("read-only-port"), Some("0"));
        // pflag: `--anonymous-auth false` is `true` plus a positional.
        let parsed = parse(
            &args(&["--anonymous-auth", "false"]),
            boolean_flags("kubelet"),
        );
        assert_eq!(parsed.get("anonymous-auth"), Some("true"));
        assert_eq!(parsed.positionals, vec!["false".to_string()]);
        let parsed = parse(&args(&["--anonymous-auth=false"]), boolean_flags("kubelet"));
        assert_eq!(parsed.get("anonymous-auth"), Some("false"));
    }

    #[test]
    fn space_separated_value_is_not_true() {
        let parsed = parse(
            &args(&["--authorization-mode", "Node,RBAC", "--profiling", "false"]),
            boolean_flags("kube-apiserver"),
        );
        assert_eq!(parsed.get("authorization-mode"), Some("Node,RBAC"));
        // --profiling is boolean in the apiserver: the space-separated `false` is ignored by it.
        assert_eq!(parsed.get("profiling"), Some("true"));
    }

    #[test]
    fn repeated_flags_last_wins_and_single_dash_works() {
        let parsed = parse(
            &args(&[
                "-read-only-port=10255",
                "--read-only-port=0",
                "-data-dir",
                "/x",
            ]),
            &[],
        );
        assert_eq!(parsed.get("read-only-port"), Some("0"));
        assert_eq!(parsed.flags["read-only-port"].occurrences, 2);
        assert_eq!(parsed.get("data-dir"), Some("/x"));
    }

    #[test]
    fn feature_gates_become_a_map_merged_across_repeats() {
        let parsed = parse(
            &args(&[
                "--feature-gates=A=true,B=false",
                "--feature-gates",
                "C=true,A=false",
            ]),
            &[],
        );
        assert_eq!(
            parsed.feature_gates.get("A").map(String::as_str),
            Some("false")
        );
        assert_eq!(
            parsed.feature_gates.get("B").map(String::as_str),
            Some("false")
        );
        assert_eq!(
            parsed.feature_gates.get("C").map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn negative_numbers_are_values_not_flags() {
        let parsed = parse(&args(&["--pod-max-pids", "-1"]), boolean_flags("kubelet"));
        assert_eq!(parsed.get("pod-max-pids"), Some("-1"));
    }

    #[test]
    fn a_valueless_unknown_flag_is_noted() {
        let parsed = parse(&args(&["--mystery", "--x=1"]), &[]);
        assert_eq!(parsed.get("mystery"), Some("true"));
        assert_eq!(parsed.problems.len(), 1);
    }
}
