//! Building blocks of pods: security contexts, env vars, volumes, probes, spreading.

use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMapVolumeSource, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HTTPGetAction, KeyToPath, ObjectFieldSelector, PodAffinityTerm, PodAntiAffinity,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecretKeySelector, SecretVolumeSource, SecurityContext, TopologySpreadConstraint, Volume,
    VolumeMount, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub(crate) use crate::upstream::{FDB_UID, INFERADB_UID};

/// A hardened container: non-root (as `uid` when given), no privilege escalation, every
/// capability dropped, RuntimeDefault seccomp, and a read-only root filesystem when asked.
pub(crate) fn hardened(uid: Option<i64>, read_only_root: bool) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(read_only_root),
        run_as_non_root: Some(true),
        run_as_user: uid,
        run_as_group: uid,
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".to_owned()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

/// `name=value`.
pub(crate) fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// `name` from the downward API (`metadata.name`, `metadata.namespace`, ...).
pub(crate) fn env_field(name: &str, field_path: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field_path.to_owned(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// `name` from a key of an existing Secret.
pub(crate) fn env_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                ..SecretKeySelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// An `emptyDir` volume.
pub(crate) fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

/// One key of a ConfigMap as a file.
pub(crate) fn config_map_file(name: &str, config_map: &str, key: &str, path: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map.to_owned(),
            items: Some(vec![KeyToPath {
                key: key.to_owned(),
                path: path.to_owned(),
                ..KeyToPath::default()
            }]),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// One key of a Secret as a file (mode 0400).
pub(crate) fn secret_file(name: &str, secret: &str, key: &str, path: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(0o400),
            items: Some(vec![KeyToPath {
                key: key.to_owned(),
                path: path.to_owned(),
                ..KeyToPath::default()
            }]),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A volume mount.
pub(crate) fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

/// CPU and memory quantities.
pub(crate) fn quantities(cpu: &str, memory: &str) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_owned(), Quantity(cpu.to_owned())),
        ("memory".to_owned(), Quantity(memory.to_owned())),
    ])
}

/// Equal requests and limits.
pub(crate) fn fixed_resources(cpu: &str, memory: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(quantities(cpu, memory)),
        limits: Some(quantities(cpu, memory)),
        ..ResourceRequirements::default()
    }
}

/// An HTTP GET probe on a named or numbered port; each attempt fails after `timeout_seconds`
/// (the kubelet's default, 1 s, when `None`).
pub(crate) fn http_probe(
    path: &str,
    port: IntOrString,
    period_seconds: i32,
    failure_threshold: i32,
    timeout_seconds: Option<i32>,
) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port,
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period_seconds),
        failure_threshold: Some(failure_threshold),
        timeout_seconds,
        ..Probe::default()
    }
}

/// Spread replicas over zones (best effort) and prefer one per node.
pub(crate) fn spread(
    selector: &BTreeMap<String, String>,
) -> (Vec<TopologySpreadConstraint>, Affinity) {
    let label_selector = LabelSelector {
        match_labels: Some(selector.clone()),
        ..LabelSelector::default()
    };
    let zones = TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "topology.kubernetes.io/zone".to_owned(),
        when_unsatisfiable: "ScheduleAnyway".to_owned(),
        label_selector: Some(label_selector.clone()),
        ..TopologySpreadConstraint::default()
    };
    let affinity = Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![
                WeightedPodAffinityTerm {
                    weight: 100,
                    pod_affinity_term: PodAffinityTerm {
                        label_selector: Some(label_selector),
                        topology_key: "kubernetes.io/hostname".to_owned(),
                        ..PodAffinityTerm::default()
                    },
                },
            ]),
            ..PodAntiAffinity::default()
        }),
        ..Affinity::default()
    };
    (vec![zones], affinity)
}

/// A workload's selector and pod template: `matchLabels` on the (immutable) selector labels,
/// and the pod labelled with the full set plus the selector.
pub(crate) fn template(
    selector: BTreeMap<String, String>,
    mut labels: BTreeMap<String, String>,
    annotations: Option<BTreeMap<String, String>>,
    spec: PodSpec,
) -> (LabelSelector, PodTemplateSpec) {
    labels.extend(selector.clone());
    let pod = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations,
            ..ObjectMeta::default()
        }),
        spec: Some(spec),
    };
    let selector = LabelSelector {
        match_labels: Some(selector),
        ..LabelSelector::default()
    };
    (selector, pod)
}

/// The pod-level security context: the volumes' group and RuntimeDefault seccomp. Users and
/// `runAsNonRoot` are set per container, because a pod-level `runAsNonRoot` keeps a root
/// (privileged) Tailscale sidecar from starting (docs/inferadb-and-tailscale.md §7, trap 13).
pub(crate) fn pod_security(fs_group: i64) -> PodSecurityContext {
    PodSecurityContext {
        fs_group: Some(fs_group),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// Prometheus scrape annotations for `/metrics` on `port`, when monitoring is enabled.
pub(crate) fn scrape_annotations(enabled: bool, port: u16) -> Option<BTreeMap<String, String>> {
    enabled.then(|| {
        BTreeMap::from([
            ("prometheus.io/scrape".to_owned(), "true".to_owned()),
            ("prometheus.io/port".to_owned(), port.to_string()),
            ("prometheus.io/path".to_owned(), "/metrics".to_owned()),
        ])
    })
}
