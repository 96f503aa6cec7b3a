//! Facts about the software infera-render renders for, in one place, each with its source:
//! the users its images run as and the versions where its behaviour changes.

use crate::syntax::version::Version;

/// The uid/gid FoundationDB's images run as (the operator, its init containers, fdbserver).
pub(crate) const FDB_UID: i64 = 4059;

/// The uid/gid the InferaDB images run as (`nonroot`: engine@a31e3c3:Dockerfile
/// `useradd -r -u 65532`). The wait-for-FoundationDB step runs as it too: every FoundationDB
/// client of the pod must be able to replace the cluster file, and the client gives the
/// replacement its predecessor's owner (FDB@7.3.43:flow/Platform.actor.cpp:2323-2360,
/// `atomicReplace` chowns the new file to the old one's uid and gid), which a process without
/// `CAP_CHOWN` can only do for a file it owns.
pub(crate) const INFERADB_UID: i64 = 65532;

/// The first Tailscale release whose containerboot serves `/healthz` (`TS_ENABLE_HEALTH_CHECK`,
/// `TS_LOCAL_ADDR_PORT`) and writes Events to its Pod
/// (tailscale@v1.78.3:kube/kubeclient/client.go:407-440; neither exists at v1.76.0).
pub(crate) const CONTAINERBOOT_1_78: Version = Version::new(1, 78, 0);

/// The lowest FoundationDB version operator 1.x supports
/// (OP@v1.45.0:api/v1beta2/foundationdb_version.go).
pub(crate) const OPERATOR_V1_MIN_FDB: Version = Version::new(6, 2, 20);

/// The lowest FoundationDB version operator 2.x supports
/// (OP@v2.33.0:api/v1beta2/foundationdb_version.go).
pub(crate) const OPERATOR_V2_MIN_FDB: Version = Version::new(7, 1, 0);
