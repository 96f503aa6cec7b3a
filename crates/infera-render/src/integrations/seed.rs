//! The seed from the cluster: `kubectl get foundationdbcluster NAME -o json` in, its
//! `status.connectionString` out, once the operator has reconciled the object.
//!
//! Reconciled means `status.generations.reconciled == metadata.generation`: the operator sets
//! `reconciled` to the generation only when nothing is pending
//! (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1967-1978), and kubectl-fdb reads it so
//! (OP@v2.33.0:kubectl-fdb/cmd/analyze.go:276). The connection string is `status.connectionString`
//! (same file:317-318).

use serde_json::Value;

/// The most `kubectl get -o json` output read (one object is a few tens of KiB).
pub const MAX_CLUSTER_JSON_BYTES: usize = 4 * 1024 * 1024;

/// A reconciled FoundationDBCluster's connection string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSeed {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, if the JSON has one.
    pub namespace: Option<String>,
    /// `status.connectionString`.
    pub connection_string: String,
}

/// Reads the connection string from the JSON of one FoundationDBCluster (or a `List` holding
/// exactly one).
///
/// # Errors
/// A message saying what is wrong and what to do: not JSON, not a FoundationDBCluster, not
/// reconciled yet, no connection string.
pub fn seed_from_cluster(text: &str) -> Result<ClusterSeed, String> {
    const READ: &str = "kubectl get foundationdbcluster NAME -o json";
    if text.len() > MAX_CLUSTER_JSON_BYTES {
        return Err(format!(
            "it is {} bytes, more than the {MAX_CLUSTER_JSON_BYTES} one object takes; pipe the output of `{READ}` into it",
            text.len()
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|error| {
        format!("it is not JSON ({error}); pipe the output of `{READ}` into it")
    })?;
    let text_at = |value: &Value, pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let object = match text_at(&value, "/kind").as_deref() {
        Some("FoundationDBCluster") => value,
        Some("List") => {
            let items = value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match <[Value; 1]>::try_from(items) {
                Ok([item]) if text_at(&item, "/kind").as_deref() == Some("FoundationDBCluster") => {
                    item
                }
                Ok(_) => {
                    return Err(format!(
                        "it is a List whose item is not a FoundationDBCluster; read one with `{READ}`"
                    ));
                }
                Err(items) => {
                    return Err(format!(
                        "it is a List of {} objects; name the one to read: `{READ}`",
                        items.len()
                    ));
                }
            }
        }
        Some(kind) => {
            return Err(format!(
                "it is a {kind}, not a FoundationDBCluster; read one with `{READ}`"
            ));
        }
        None => {
            return Err(format!(
                "it has no `kind`, so it is not a Kubernetes object; pipe the output of `{READ}` into it"
            ));
        }
    };
    let name = text_at(&object, "/metadata/name").unwrap_or_default();
    let generation = object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64);
    let reconciled = object
        .pointer("/status/generations/reconciled")
        .and_then(Value::as_i64);
    match (generation, reconciled) {
        (Some(generation), Some(reconciled)) if reconciled == generation => {}
        (generation, reconciled) => {
            let shown = |value: Option<i64>| value.map_or("absent".to_owned(), |v| v.to_string());
            return Err(format!(
                "FoundationDBCluster {name} is not reconciled yet (status.generations.reconciled is {}, metadata.generation is {}): wait until the operator has reconciled it (APPLY.md's wait step), then read it again; if it cannot finish (a region is down), pass its connection string yourself: --seed-connection-string \"$(kubectl get foundationdbcluster {name} -o jsonpath='{{.status.connectionString}}')\"",
                shown(reconciled),
                shown(generation)
            ));
        }
    }
    let connection_string = text_at(&object, "/status/connectionString")
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| {
            format!("FoundationDBCluster {name} has no status.connectionString yet: wait until the operator has created the database, then read it again")
        })?;
    Ok(ClusterSeed {
        name,
        namespace: text_at(&object, "/metadata/namespace"),
        connection_string,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(generation: i64, reconciled: Option<i64>, connection: Option<&str>) -> String {
        let mut status = json!({});
        if let Some(reconciled) = reconciled {
            status["generations"] = json!({"reconciled": reconciled});
        }
        if let Some(connection) = connection {
            status["connectionString"] = json!(connection);
        }
        json!({"apiVersion": "apps.foundationdb.org/v1beta2", "kind": "FoundationDBCluster",
            "metadata": {"name": "inferadb-fdb-us-west-1", "namespace": "inferadb", "generation": generation},
            "status": status})
        .to_string()
    }

    #[test]
    fn reads_a_reconciled_cluster_and_a_list_of_one() {
        let text = cluster(3, Some(3), Some("db:abc@10.0.0.1:4501"));
        let seed = seed_from_cluster(&text).expect("reconciled");
        assert_eq!(seed.connection_string, "db:abc@10.0.0.1:4501");
        assert_eq!(seed.name, "inferadb-fdb-us-west-1");
        assert_eq!(seed.namespace.as_deref(), Some("inferadb"));
        let list = format!(r#"{{"apiVersion":"v1","kind":"List","items":[{text}]}}"#);
        assert_eq!(seed_from_cluster(&list), Ok(seed));
    }

    #[test]
    fn refuses_what_is_not_ready_or_not_a_cluster() {
        for (text, expected) in [
            (
                cluster(3, Some(2), Some("db:abc@10.0.0.1:4501")),
                "not reconciled yet (status.generations.reconciled is 2, metadata.generation is 3)",
            ),
            (cluster(1, None, None), "reconciled is absent"),
            (
                cluster(1, Some(1), None),
                "has no status.connectionString yet",
            ),
            (
                cluster(1, Some(1), Some(" ")),
                "has no status.connectionString yet",
            ),
            ("not json".to_owned(), "it is not JSON"),
            (
                r#"{"kind":"Pod"}"#.to_owned(),
                "it is a Pod, not a FoundationDBCluster",
            ),
            (
                r#"{"kind":"List","items":[]}"#.to_owned(),
                "a List of 0 objects",
            ),
            ("[1]".to_owned(), "it has no `kind`"),
        ] {
            let error = seed_from_cluster(&text).expect_err(&text);
            assert!(error.contains(expected), "{error}");
        }
    }
}
