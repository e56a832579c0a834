//! What a rule is once loaded and validated.

use serde::Serialize;

pub use crate::probe::ComponentKind;
pub use crate::probe::FileRequest;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One benchmark rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub cis: Option<String>,
    pub section: String,
    pub title: String,
    pub severity: Severity,
    pub scored: bool,
    pub probe: Probe,
    pub expect: Option<Expect>,
    pub remediation: String,
    /// The file the rule came from (`benchmarks/kernel.toml` or a `--benchmark` path).
    pub origin: String,
    /// When the rule applies at all; otherwise it is `skip` with the reason.
    pub applies_when: Option<Condition>,
}

/// A precondition of a rule (`applies_when = { component = "kubelet" }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The component runs on this node (or, for control-plane components, has a static pod).
    ComponentRuns(ComponentKind),
}

/// Which fact a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Probe {
    /// A kernel build option (`CONFIG_SECCOMP`); when no kernel config can be read, the named
    /// field of `/proc/1/status` (present = supported) stands in for it.
    KernelConfig {
        option: String,
        status_field: Option<String>,
    },
    /// A Kubernetes component setting, resolved as the component resolves it: a config path
    /// (`authentication.anonymous.enabled`) or a flag-only setting (`--hostname-override`), with
    /// the flag that overrides the config path when the component has a config file.
    Setting {
        component: ComponentKind,
        key: String,
        flag: Option<String>,
    },
    /// A component file (named, like `kubelet.config`) or literal host paths: mode and owner.
    File(FileRequest),
    /// A named Rust probe for logic beyond comparing one value.
    Check(Check),
    /// Kernel parameters under `/proc/sys`: one key compared with the rule's `expect`, or several
    /// keys each with its own expectation (`{ sysctl = { "kernel.panic" = { eq = 10 } } }`).
    Sysctl(Vec<SysctlCheck>),
    /// An `sshd_config` keyword as sshd resolves it, with sshd's default when it is unset.
    Sshd {
        keyword: String,
        default: Option<String>,
    },
}

/// One kernel parameter and, in the multi-key form, its own expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SysctlCheck {
    /// Dotted name: `kernel.panic`.
    pub key: String,
    /// `None`: the rule's `expect` applies.
    pub expect: Option<Expect>,
}

/// The named probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    AppArmorEnabled,
    AppArmorProfiles,
    SeccompProfiles,
    /// `manifests.static-pods`: the kubelet's static pods scored with the pod-hardening rules.
    StaticPods,
    /// CIS 1.2.28: every resource's first encryption provider is aescbc, kms or secretbox.
    EncryptionProviders,
    /// NSA/CISA: secrets are encrypted at rest (their first provider is not `identity`).
    EncryptionAtRest,
    /// NSA/CISA: `--audit-policy-file` exists and parses as an audit Policy with rules.
    AuditPolicy,
    Container(ContainerCheck),
    Account(AccountCheck),
    Runtime(RuntimeCheck),
    FirewallApiserverBlocked,
}

/// The container runtime's own configuration, and the tokens mounted into pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeCheck {
    ContainerdAppArmor,
    ContainerdSeccomp,
    ContainerdCgroup,
    ContainerdUnprivileged,
    CrioAppArmor,
    CrioSeccomp,
    CrioSelinux,
    CrioCapabilities,
    DockerNoNewPrivileges,
    DockerUserns,
    DockerIcc,
    DockerLiveRestore,
    DockerSeccomp,
    DockerInsecureRegistries,
    DockerTcpTls,
    ServiceAccountTokens,
}

impl RuntimeCheck {
    pub fn runtime(self) -> &'static str {
        use RuntimeCheck::*;
        match self {
            ContainerdAppArmor | ContainerdSeccomp | ContainerdCgroup | ContainerdUnprivileged => {
                "containerd"
            }
            CrioAppArmor | CrioSeccomp | CrioSelinux | CrioCapabilities => "crio",
            DockerNoNewPrivileges
            | DockerUserns
            | DockerIcc
            | DockerLiveRestore
            | DockerSeccomp
            | DockerInsecureRegistries
            | DockerTcpTls => "docker",
            ServiceAccountTokens => "tokens",
        }
    }
}

/// The node's own privileged accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountCheck {
    Uid0,
    EmptyPasswords,
    SudoNopasswd,
}

/// The `containers.*` probes: one aspect of every running container's confinement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerCheck {
    Privileged,
    Capabilities,
    Seccomp,
    AppArmor,
    NoNewPrivs,
    RunAsRoot,
    HostNamespaces,
    HostPid,
    HostIpc,
    HostNetwork,
    NetRaw,
    SensitiveMounts,
    RuntimeSocket,
    Sshd,
    ReadonlyRootfs,
}

impl Check {
    pub const ALL: &'static [(&'static str, Check)] = &[
        ("apparmor_enabled", Check::AppArmorEnabled),
        ("apparmor_profiles", Check::AppArmorProfiles),
        ("seccomp_profiles", Check::SeccompProfiles),
        ("static_pods", Check::StaticPods),
        ("encryption_providers", Check::EncryptionProviders),
        ("encryption_at_rest", Check::EncryptionAtRest),
        ("audit_policy", Check::AuditPolicy),
        (
            "containers.privileged",
            Check::Container(ContainerCheck::Privileged),
        ),
        (
            "containers.capabilities",
            Check::Container(ContainerCheck::Capabilities),
        ),
        (
            "containers.seccomp",
            Check::Container(ContainerCheck::Seccomp),
        ),
        (
            "containers.apparmor",
            Check::Container(ContainerCheck::AppArmor),
        ),
        (
            "containers.no-new-privs",
            Check::Container(ContainerCheck::NoNewPrivs),
        ),
        (
            "containers.run-as-root",
            Check::Container(ContainerCheck::RunAsRoot),
        ),
        (
            "containers.host-namespaces",
            Check::Container(ContainerCheck::HostNamespaces),
        ),
        (
            "containers.host-pid",
            Check::Container(ContainerCheck::HostPid),
        ),
        (
            "containers.host-ipc",
            Check::Container(ContainerCheck::HostIpc),
        ),
        (
            "containers.host-network",
            Check::Container(ContainerCheck::HostNetwork),
        ),
        (
            "containers.net-raw",
            Check::Container(ContainerCheck::NetRaw),
        ),
        (
            "containers.sensitive-mounts",
            Check::Container(ContainerCheck::SensitiveMounts),
        ),
        (
            "containers.runtime-socket",
            Check::Container(ContainerCheck::RuntimeSocket),
        ),
        ("containers.sshd", Check::Container(ContainerCheck::Sshd)),
        (
            "containers.readonly-rootfs",
            Check::Container(ContainerCheck::ReadonlyRootfs),
        ),
        ("accounts.uid0", Check::Account(AccountCheck::Uid0)),
        (
            "runtime.containerd-apparmor",
            Check::Runtime(RuntimeCheck::ContainerdAppArmor),
        ),
        (
            "runtime.containerd-seccomp",
            Check::Runtime(RuntimeCheck::ContainerdSeccomp),
        ),
        (
            "runtime.containerd-cgroup",
            Check::Runtime(RuntimeCheck::ContainerdCgroup),
        ),
        (
            "runtime.unprivileged-ports-icmp",
            Check::Runtime(RuntimeCheck::ContainerdUnprivileged),
        ),
        (
            "runtime.crio-apparmor",
            Check::Runtime(RuntimeCheck::CrioAppArmor),
        ),
        (
            "runtime.crio-seccomp",
            Check::Runtime(RuntimeCheck::CrioSeccomp),
        ),
        (
            "runtime.crio-selinux",
            Check::Runtime(RuntimeCheck::CrioSelinux),
        ),
        (
            "runtime.crio-capabilities",
            Check::Runtime(RuntimeCheck::CrioCapabilities),
        ),
        (
            "runtime.docker-no-new-privileges",
            Check::Runtime(RuntimeCheck::DockerNoNewPrivileges),
        ),
        (
            "runtime.docker-userns-remap",
            Check::Runtime(RuntimeCheck::DockerUserns),
        ),
        (
            "runtime.docker-icc",
            Check::Runtime(RuntimeCheck::DockerIcc),
        ),
        (
            "runtime.docker-live-restore",
            Check::Runtime(RuntimeCheck::DockerLiveRestore),
        ),
        (
            "runtime.docker-seccomp",
            Check::Runtime(RuntimeCheck::DockerSeccomp),
        ),
        (
            "runtime.docker-insecure-registries",
            Check::Runtime(RuntimeCheck::DockerInsecureRegistries),
        ),
        (
            "runtime.docker-tcp-tls",
            Check::Runtime(RuntimeCheck::DockerTcpTls),
        ),
        (
            "containers.service-account-token",
            Check::Runtime(RuntimeCheck::ServiceAccountTokens),
        ),
        (
            "accounts.empty-passwords",
            Check::Account(AccountCheck::EmptyPasswords),
        ),
        (
            "accounts.sudo-nopasswd",
            Check::Account(AccountCheck::SudoNopasswd),
        ),
        (
            "firewall_apiserver_blocked",
            Check::FirewallApiserverBlocked,
        ),
    ];

    pub fn name(self) -> &'static str {
        Check::ALL
            .iter()
            .find(|(_, check)| *check == self)
            .map_or("?", |(name, _)| name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Ne,
    Has,
    HasAny,
    Lacks,
    SubsetOf,
    Gte,
    Lte,
    Set,
    Unset,
    ModeAtMost,
    Owner,
    /// The address (`host` or `host:port`) is a loopback address; `{ loopback = true }`.
    Loopback,
}

impl Operator {
    pub const ALL: &'static [(&'static str, Operator)] = &[
        ("eq", Operator::Eq),
        ("ne", Operator::Ne),
        ("has", Operator::Has),
        ("has_any", Operator::HasAny),
        ("lacks", Operator::Lacks),
        ("subset_of", Operator::SubsetOf),
        ("gte", Operator::Gte),
        ("lte", Operator::Lte),
        ("set", Operator::Set),
        ("unset", Operator::Unset),
        ("mode_at_most", Operator::ModeAtMost),
        ("owner", Operator::Owner),
        ("loopback", Operator::Loopback),
    ];

    pub fn name(self) -> &'static str {
        Operator::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(name, _)| name)
    }
}

/// What a rule's probe must yield to pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expect {
    pub operator: Operator,
    pub value: Value,
    /// What an unset value means, when the component's default is not enough.
    pub when_unset: Option<WhenUnset>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenUnset {
    Pass,
    Fail,
    Skip,
}
