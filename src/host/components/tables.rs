//! What each component does with a setting nobody set: its real default, per source, and which
//! flag sets which config-file field.
//!
//! kubelet defaults are those of `kubelet.config.k8s.io/v1beta1` (the KubeletConfiguration
//! reference) when a config file is used; without one the kubelet keeps the legacy flag defaults
//! for anonymous auth (`true`), webhook authentication (`false`), authorization (`AlwaysAllow`)
//! and the read-only port (`10255`). The others come from each component's `--help`.

use std::collections::{BTreeMap, BTreeSet};

use super::ComponentKind;
use crate::value::Value;

/// Where kubeadm (and the kubelet's usual `staticPodPath`) keeps static pod manifests.
pub const DEFAULT_MANIFEST_DIR: &str = "/etc/kubernetes/manifests";

/// A default: the key it fills, the flag that sets it, and its value without and with a config
/// file (`None`: no default, the setting stays unset).
pub struct Default {
    pub key: &'static str,
    pub flag: Option<&'static str>,
    pub flags_only: Option<&'static str>,
    pub with_config_file: Option<&'static str>,
    /// In a config file, a zero value (`0s`, `0`, `""`) of this non-pointer field is replaced by
    /// the default when the kubelet applies its v1beta1 defaults (kubeadm writes
    /// `streamingConnectionIdleTimeout: 0s`, which means 4h).
    pub zero_is_unset: bool,
}

const fn both(key: &'static str, flag: &'static str, value: &'static str) -> Default {
    Default {
        key,
        flag: Some(flag),
        flags_only: Some(value),
        with_config_file: Some(value),
        zero_is_unset: false,
    }
}

/// Like [`both`], for a field whose zero value in a config file means "use the default".
const fn zero_default(key: &'static str, flag: &'static str, value: &'static str) -> Default {
    Default {
        key,
        flag: Some(flag),
        flags_only: Some(value),
        with_config_file: Some(value),
        zero_is_unset: true,
    }
}

const fn split(
    key: &'static str,
    flag: &'static str,
    flags_only: &'static str,
    with_config_file: &'static str,
) -> Default {
    Default {
        key,
        flag: Some(flag),
        flags_only: Some(flags_only),
        with_config_file: Some(with_config_file),
        zero_is_unset: false,
    }
}

const fn none(key: &'static str, flag: &'static str) -> Default {
    Default {
        key,
        flag: Some(flag),
        flags_only: None,
        with_config_file: None,
        zero_is_unset: false,
    }
}

const fn flag_default(flag: &'static str, value: &'static str) -> Default {
    Default {
        key: flag,
        flag: None,
        flags_only: Some(value),
        with_config_file: Some(value),
        zero_is_unset: false,
    }
}

const KUBELET: &[Default] = &[
    split(
        "authentication.anonymous.enabled",
        "anonymous-auth",
        "true",
        "false",
    ),
    split(
        "authentication.webhook.enabled",
        "authentication-token-webhook",
        "false",
        "true",
    ),
    zero_default(
        "authentication.webhook.cacheTTL",
        "authentication-token-webhook-cache-ttl",
        "2m0s",
    ),
    none("authentication.x509.clientCAFile", "client-ca-file"),
    split(
        "authorization.mode",
        "authorization-mode",
        "AlwaysAllow",
        "Webhook",
    ),
    split("readOnlyPort", "read-only-port", "10255", "0"),
    zero_default("port", "port", "10250"),
    zero_default("address", "address", "0.0.0.0"),
    zero_default(
        "streamingConnectionIdleTimeout",
        "streaming-connection-idle-timeout",
        "4h0m0s",
    ),
    both(
        "makeIPTablesUtilChains",
        "make-iptables-util-chains",
        "true",
    ),
    both("eventRecordQPS", "event-qps", "50"),
    none("tlsCertFile", "tls-cert-file"),
    none("tlsPrivateKeyFile", "tls-private-key-file"),
    none("tlsCipherSuites", "tls-cipher-suites"),
    both("rotateCertificates", "rotate-certificates", "false"),
    both("serverTLSBootstrap", "rotate-server-certificates", "false"),
    both("podPidsLimit", "pod-max-pids", "-1"),
    both("seccompDefault", "seccomp-default", "false"),
    both("protectKernelDefaults", "protect-kernel-defaults", "false"),
    none("staticPodPath", "pod-manifest-path"),
    // Beta and on by default since Kubernetes 1.12.
    Default {
        key: "featureGates.RotateKubeletServerCertificate",
        flag: None,
        flags_only: Some("true"),
        with_config_file: Some("true"),
        zero_is_unset: false,
    },
];

const PROXY: &[Default] = &[
    zero_default(
        "metricsBindAddress",
        "metrics-bind-address",
        "127.0.0.1:10249",
    ),
    zero_default(
        "healthzBindAddress",
        "healthz-bind-address",
        "0.0.0.0:10256",
    ),
    both("bindAddress", "bind-address", "0.0.0.0"),
    none("clientConnection.kubeconfig", "kubeconfig"),
];

const APISERVER: &[Default] = &[
    flag_default("--anonymous-auth", "true"),
    flag_default("--authorization-mode", "AlwaysAllow"),
    flag_default("--profiling", "true"),
    flag_default("--service-account-lookup", "true"),
    flag_default("--service-account-extend-token-expiration", "true"),
    flag_default("--request-timeout", "1m0s"),
    flag_default("--secure-port", "6443"),
    flag_default("--audit-log-maxage", "0"),
    flag_default("--audit-log-maxbackup", "0"),
    flag_default("--audit-log-maxsize", "0"),
    Default {
        key: "featureGates.RotateKubeletServerCertificate",
        flag: None,
        flags_only: Some("true"),
        with_config_file: Some("true"),
        zero_is_unset: false,
    },
];

const CONTROLLER_MANAGER: &[Default] = &[
    flag_default("--profiling", "true"),
    flag_default("--use-service-account-credentials", "false"),
    // Unset binds every interface: CIS 1.3.7 means this as "not 127.0.0.1".
    flag_default("--bind-address", "0.0.0.0"),
    Default {
        key: "featureGates.RotateKubeletServerCertificate",
        flag: None,
        flags_only: Some("true"),
        with_config_file: Some("true"),
        zero_is_unset: false,
    },
];

const SCHEDULER: &[Default] = &[
    flag_default("--profiling", "true"),
    flag_default("--bind-address", "0.0.0.0"),
];

const ETCD: &[Default] = &[
    flag_default("--client-cert-auth", "false"),
    flag_default("--peer-client-cert-auth", "false"),
    flag_default("--auto-tls", "false"),
    flag_default("--peer-auto-tls", "false"),
    flag_default("--data-dir", "default.etcd"),
];

pub fn defaults(kind: ComponentKind) -> &'static [Default] {
    match kind {
        ComponentKind::Kubelet => KUBELET,
        ComponentKind::Proxy => PROXY,
        ComponentKind::Apiserver => APISERVER,
        ComponentKind::ControllerManager => CONTROLLER_MANAGER,
        ComponentKind::Scheduler => SCHEDULER,
        ComponentKind::Etcd => ETCD,
    }
}

/// Which config path each flag sets: the built-in table plus the pairs rules name.
pub fn flag_to_path(
    kind: ComponentKind,
    pairs: &BTreeSet<(String, Option<String>)>,
) -> BTreeMap<String, String> {
    let mut mapping = BTreeMap::new();
    if matches!(kind, ComponentKind::Kubelet | ComponentKind::Proxy) {
        for default in defaults(kind) {
            if let Some(flag) = default.flag {
                mapping.insert(flag.to_string(), default.key.to_string());
            }
        }
        for (key, flag) in pairs {
            if let Some(flag) = flag
                && !key.starts_with('-')
            {
                mapping.insert(flag.trim_start_matches('-').to_string(), key.clone());
            }
        }
    }
    mapping
}

/// A default's text as a typed value.
pub fn typed(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => text
            .parse::<i64>()
            .map_or_else(|_| Value::str(text), Value::Int),
    }
}
