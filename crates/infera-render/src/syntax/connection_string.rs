//! FoundationDB connection strings (the cluster file's content):
//! `description:ID@address:port[:tls][,address:port...]`.

/// Why `text` is not an FDB connection string, if it is not.
#[must_use]
pub fn connection_string_problem(text: &str) -> Option<String> {
    let expected = "expected `description:ID@address:port,...` as printed by `kubectl get foundationdbcluster <name> -o jsonpath='{.status.connectionString}'`";
    let Some((identity, coordinators)) = text.split_once('@') else {
        return Some(format!("`{text}` has no `@`; {expected}"));
    };
    let Some((description, id)) = identity.split_once(':') else {
        return Some(format!(
            "`{identity}` has no `description:ID` part; {expected}"
        ));
    };
    if description.is_empty()
        || !description
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Some(format!(
            "the description `{description}` must be letters, digits and '_'; {expected}"
        ));
    }
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(format!(
            "the ID `{id}` must be letters and digits; {expected}"
        ));
    }
    if coordinators.is_empty() {
        return Some(format!("no coordinator addresses after `@`; {expected}"));
    }
    for address in coordinators.split(',') {
        if let Some(problem) = coordinator_problem(address) {
            return Some(format!("coordinator `{address}`: {problem}; {expected}"));
        }
    }
    None
}

fn coordinator_problem(address: &str) -> Option<&'static str> {
    let address = address.strip_suffix(":tls").unwrap_or(address);
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let Some((host, port)) = rest.split_once("]:") else {
            return Some("an IPv6 address is written `[address]:port`");
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Some("not a valid IPv6 address");
        }
        (host, port)
    } else {
        let Some((host, port)) = address.rsplit_once(':') else {
            return Some("missing `:port`");
        };
        (host, port)
    };
    if port.parse::<u16>().map_or(true, |port| port == 0) {
        return Some("the port must be a number from 1 to 65535");
    }
    let hostname_ok = !host.is_empty()
        && host.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    (!hostname_ok && host.parse::<std::net::IpAddr>().is_err())
        .then_some("not an IP address or host name")
}

#[cfg(test)]
mod tests {
    use super::connection_string_problem;

    #[test]
    fn accepts_operator_connection_strings() {
        for text in [
            "inferadb_fdb:Vw8Jx2tWvAlUbZ3NwHxQbE@10.1.2.3:4501,10.1.2.4:4501,10.1.2.5:4501",
            "a:b@10.0.0.1:4500:tls",
            "a:b@[fd00::1]:4501",
            "a:b@inferadb-fdb-us-west-1a-storage-1.inferadb-fdb-us-west-1a.inferadb.svc.cluster.local:4501",
        ] {
            assert_eq!(connection_string_problem(text), None, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_strings() {
        for text in [
            "",
            "nope",
            "a@1.2.3.4:1",
            "a-b:c@1.2.3.4:1",
            "a:b@",
            "a:b@1.2.3.4",
            "a:b@1.2.3.4:0",
            "a:b@1.2.3.4:99999",
            "a:b@[zz]:1",
            "a:b-c@1.2.3.4:1",
        ] {
            assert!(connection_string_problem(text).is_some(), "{text}");
        }
    }
}
