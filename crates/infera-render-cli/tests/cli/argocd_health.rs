//! The Argo CD health check of `FoundationDBCluster` (`integrations/argocd/health/`), run by the
//! real `lua5.1` as Argo CD runs it: the object as the global `obj`, the script unchanged, the
//! returned table's `status` and `message` read back. Argo CD's VM is gopher-lua, a Lua 5.1; for
//! scripts from argocd-cm it opens only the base functions, `package`, `table` and an `os` with
//! `time` and `date` (argo-cd v3.5.1: util/lua/lua.go, `runLuaWithResourceActionParameters`,
//! and util/lua/oslib_safe.go), and no `string` library, so strings have no methods either. Each
//! sample of `testdata/` runs both with every library (as Argo CD's own tests do, with
//! `UseOpenLibs`) and in that sandbox, and must match `testdata/cases.yaml` exactly. The
//! rendered `FoundationDBCluster` of an example, before the operator wrote a status, must be
//! Progressing.

#![allow(clippy::panic)]

use crate::common::{TEST_SEED, run, tool, workspace};
use serde::Deserialize;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const FOLDER: &str = "integrations/argocd/health";
const SCRIPT: &str = "foundationdbcluster.lua";
const CASES: &str = "testdata/cases.yaml";

/// `testdata/cases.yaml`, in the layout of Argo CD's `health_test.yaml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    tests: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    health_status: Health,
    input_path: String,
}

#[derive(Deserialize, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Health {
    status: String,
    message: String,
}

/// How the script runs: with every standard library, or with only what Argo CD opens.
#[derive(Clone, Copy, Debug)]
enum Libraries {
    Open,
    ArgoSandbox,
}

fn folder() -> PathBuf {
    workspace().join(FOLDER)
}

/// `value` as a Lua expression that builds the same table Argo CD builds from the object
/// (argo-cd util/lua/lua.go `decodeValue`: objects and arrays become tables, numbers numbers,
/// null nil).
fn lua_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("nil"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // serde_json writes integers as integers and floats in a form Lua reads back.
        Value::Number(number) => write!(out, "{number}").expect("write to a String"),
        Value::String(text) => lua_string(text, out),
        Value::Array(items) => {
            out.push('{');
            for item in items {
                lua_value(item, out);
                out.push_str(", ");
            }
            out.push('}');
        }
        Value::Object(map) => {
            out.push('{');
            for (key, item) in map {
                out.push('[');
                lua_string(key, out);
                out.push_str("] = ");
                lua_value(item, out);
                out.push_str(", ");
            }
            out.push('}');
        }
    }
}

/// A Lua 5.1 string literal holding exactly the bytes of `text`: printable ASCII as itself
/// (but `"` and `\` escaped), every other byte as a three-digit decimal escape, so that neither
/// a quote, a newline, a NUL nor a byte of a multi-byte character can end or alter the literal.
fn lua_string(text: &str, out: &mut String) {
    out.push('"');
    for byte in text.bytes() {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => write!(out, "\\{byte:03}").expect("write to a String"),
        }
    }
    out.push('"');
}

/// A Lua program that sets `obj`, loads the script at `script` unchanged, takes the libraries
/// away when asked, runs the script and prints `status`, a newline and `message`; or `error`
/// and the reason.
fn driver(obj: &Value, script: &Path, libraries: Libraries) -> String {
    let mut out = String::from("obj = ");
    lua_value(obj, &mut out);
    out.push_str("\nlocal chunk = assert(loadfile(");
    lua_string(&script.display().to_string(), &mut out);
    out.push_str("))\nlocal write = io.write\n");
    if matches!(libraries, Libraries::ArgoSandbox) {
        // What argocd-cm scripts get without useOpenLibs: base, package, table, and an os with
        // time and date only (require("os") returns that one too); no string library, so no
        // string methods; no io, math, debug, coroutine.
        out.push_str(
            r#"local safe_os = { time = os.time, date = os.date }
for _, name in ipairs({ "io", "string", "math", "debug", "coroutine" }) do
  _G[name] = nil
  package.loaded[name] = nil
end
os = safe_os
package.loaded.os = safe_os
require = function(name)
  if name == "os" then
    return safe_os
  end
  error("module '" .. tostring(name) .. "' not found")
end
getmetatable("").__index = nil
"#,
        );
    }
    out.push_str(
        r#"local ok, hs = pcall(chunk)
if not ok then
  write("error\n", tostring(hs))
elseif type(hs) ~= "table" then
  write("error\nthe script returned a ", type(hs))
elseif type(hs.status) ~= "string" or type(hs.message) ~= "string" then
  write("error\nstatus or message is not a string")
else
  write(hs.status, "\n", hs.message)
end
"#,
    );
    out
}

/// Runs `script` on `obj` with `lua`; `(status, message)`, or `("error", reason)`.
fn health_of(lua: &Path, script: &Path, obj: &Value, libraries: Libraries) -> Health {
    let dir = tempfile::tempdir().expect("tempdir");
    let program = dir.path().join("driver.lua");
    std::fs::write(&program, driver(obj, script, libraries)).expect("write the driver");
    let output = Command::new(lua)
        .arg(&program)
        .output()
        .expect("run lua5.1");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "lua5.1 failed ({libraries:?}): {stderr}"
    );
    let (status, message) = stdout
        .split_once('\n')
        .unwrap_or_else(|| panic!("no status and message ({libraries:?}): {stdout}"));
    assert!(
        !message.contains('\n'),
        "the message is one line: {message:?}"
    );
    Health {
        status: status.to_owned(),
        message: message.to_owned(),
    }
}

fn sample(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read the sample");
    let mut documents = infera_render::parse_manifests(&text).expect("the sample is YAML");
    assert_eq!(documents.len(), 1, "{} holds one object", path.display());
    documents.remove(0)
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(folder().join(CASES)).expect("read cases.yaml");
    let cases: Cases = serde_saphyr::from_str(&text).expect("cases.yaml matches its layout");
    cases.tests
}

#[test]
fn every_sample_gets_its_expected_health_with_and_without_the_libraries() {
    let Some(lua) = tool("lua5.1") else {
        return;
    };
    let script = folder().join(SCRIPT);
    let cases = cases();

    // Every sample is listed, once; every listed file exists.
    let mut listed: Vec<String> = cases.iter().map(|case| case.input_path.clone()).collect();
    listed.sort();
    let count = listed.len();
    listed.dedup();
    assert_eq!(listed.len(), count, "a sample is listed twice in {CASES}");
    let mut present: Vec<String> = std::fs::read_dir(folder().join("testdata"))
        .expect("read testdata")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml") && format!("testdata/{name}") != CASES)
        .map(|name| format!("testdata/{name}"))
        .collect();
    present.sort();
    assert_eq!(
        listed, present,
        "{CASES} must list every sample in testdata/"
    );

    // Every status Argo CD knows is reached except Missing and Unknown, which Argo CD sets
    // itself (no live object, a failing script).
    let mut statuses: Vec<&str> = cases
        .iter()
        .map(|case| case.health_status.status.as_str())
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(
        statuses,
        ["Degraded", "Healthy", "Progressing", "Suspended"]
    );

    for case in &cases {
        let obj = sample(&folder().join(&case.input_path));
        for libraries in [Libraries::Open, Libraries::ArgoSandbox] {
            assert_eq!(
                health_of(&lua, &script, &obj, libraries),
                case.health_status,
                "{} ({libraries:?})",
                case.input_path
            );
        }
    }
}

#[test]
fn the_samples_are_valid_clusters_for_both_operator_versions() {
    // The strict CRD check (unknown fields forbidden): every field a sample sets, and so every
    // status field the script is tested with, exists in the operator's CRD at both versions.
    for version in ["v2.33.0", "v1.45.0"] {
        let Some(validator) = infera_test_support::fdb_cluster_validator(version) else {
            continue;
        };
        for case in cases() {
            let obj = sample(&folder().join(&case.input_path));
            let errors: Vec<String> = validator
                .iter_errors(&obj)
                .map(|error| format!("{}: {error}", error.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{} ({version}): {errors:?}",
                case.input_path
            );
        }
    }
}

#[test]
fn the_sandbox_takes_away_what_argo_cd_does_not_open() {
    let Some(lua) = tool("lua5.1") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let obj = json!({"metadata": {"generation": 1}});
    // Each probe works with every library and fails in the sandbox, so the sandbox run of the
    // samples would catch the script using any of these.
    let probes = [
        "string.upper('x')",
        "('x'):upper()",
        "math.floor(1.5)",
        "io.write('')",
        "os.getenv('HOME')",
        "os.execute('true')",
        "require('io').write('')",
        "debug.traceback()",
        "coroutine.create(function() end)",
    ];
    for probe in probes {
        let script = dir.path().join("probe.lua");
        std::fs::write(
            &script,
            format!("local _ = {probe}\nreturn {{ status = 'Healthy', message = 'ran' }}\n"),
        )
        .expect("write the probe");
        let open = health_of(&lua, &script, &obj, Libraries::Open);
        assert_eq!(
            open.status, "Healthy",
            "{probe} with every library: {open:?}"
        );
        let sandboxed = health_of(&lua, &script, &obj, Libraries::ArgoSandbox);
        assert_eq!(
            sandboxed.status, "error",
            "{probe} in the sandbox: {sandboxed:?}"
        );
    }
    // What Argo CD does open stays usable.
    let script = dir.path().join("allowed.lua");
    std::fs::write(
        &script,
        "local t = {}\ntable.insert(t, tostring(tonumber('2')))\ntable.sort(t)\n\
         local _ = os.time() + #os.date('!%Y') + #require('os').date('%Y')\n\
         return { status = 'Healthy', message = table.concat(t, ',') .. type(pairs) }\n",
    )
    .expect("write the probe");
    assert_eq!(
        health_of(&lua, &script, &obj, Libraries::ArgoSandbox),
        Health {
            status: "Healthy".to_owned(),
            message: "2function".to_owned()
        }
    );
}

#[test]
fn the_lua_literal_keeps_every_string_byte_for_byte() {
    let Some(lua) = tool("lua5.1") else {
        return;
    };
    let tricky = [
        "plain",
        "",
        "quote \" and backslash \\ and \\\" both",
        "new\nline\r\ttab",
        "]] ]=] [[long brackets]] --[[",
        "nul \0 and bell \u{7} and del \u{7f}",
        "digits after an escape: \u{1}23 \u{7f}9",
        "\u{fc}n\u{ef}c\u{f6}d\u{e9} \u{2713} \u{1f980}",
        "\"); os.exit(1) --",
    ];
    // The strings as array items and as object keys (each key's value is its index).
    let keys: serde_json::Map<String, Value> = tricky
        .iter()
        .zip(1..)
        .map(|(text, index)| ((*text).to_owned(), json!(index)))
        .collect();
    let value = json!({"items": tricky, "keys": keys, "number": -12, "float": 0.5, "none": null});
    let mut program = String::from("local v = ");
    lua_value(&value, &mut program);
    // Each string written as <length>:<bytes>, items in order, then the keys by their index.
    program.push_str(
        "\nlocal out = {}\nfor i = 1, #v.items do\n  out[#out + 1] = #v.items[i] .. ':' .. v.items[i]\nend\n\
         local keys = {}\nfor key, index in pairs(v.keys) do\n  keys[index] = key\nend\n\
         for i = 1, #keys do\n  out[#out + 1] = #keys[i] .. ':' .. keys[i]\nend\n\
         out[#out + 1] = tostring(v.number) .. ' ' .. tostring(v.float) .. ' ' .. tostring(v.none)\n\
         io.write(table.concat(out))\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("literal.lua");
    std::fs::write(&path, &program).expect("write the program");
    let output = Command::new(&lua).arg(&path).output().expect("run lua5.1");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut expected = Vec::new();
    for _ in 0..2 {
        for text in tricky {
            expected.extend_from_slice(format!("{}:", text.len()).as_bytes());
            expected.extend_from_slice(text.as_bytes());
        }
    }
    expected.extend_from_slice(b"-12 0.5 nil");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(output.stdout, expected);
}

#[test]
fn the_rendered_cluster_is_progressing_until_the_operator_writes_a_status() {
    let Some(lua) = tool("lua5.1") else {
        return;
    };
    let script = folder().join(SCRIPT);
    let spec = "examples/three-region.yaml";
    // Bootstrap phase 1 (no seed) and phase 2 (seeded) of the region that runs FoundationDB.
    let phase_1 = ["render", "-f", spec, "--region", "us-west-1"];
    let phase_2 = [
        "render",
        "-f",
        spec,
        "--region",
        "us-west-1",
        "--seed-connection-string",
        TEST_SEED,
    ];
    for args in [&phase_1[..], &phase_2[..]] {
        let result = run(args);
        assert_eq!(result.code, 0, "{args:?}: {}", result.stderr);
        let documents = infera_render::parse_manifests(&result.stdout).expect("the output is YAML");
        let clusters: Vec<&Value> = documents
            .iter()
            .filter(|doc| {
                doc["kind"] == "FoundationDBCluster"
                    && doc["apiVersion"] == "apps.foundationdb.org/v1beta2"
            })
            .collect();
        assert!(
            !clusters.is_empty(),
            "{args:?} renders no FoundationDBCluster"
        );
        for cluster in clusters {
            let name = cluster["metadata"]["name"].as_str().unwrap_or_default();
            assert!(
                cluster.get("status").is_none(),
                "{name}: a status is rendered"
            );
            for libraries in [Libraries::Open, Libraries::ArgoSandbox] {
                assert_eq!(
                    health_of(&lua, &script, cluster, libraries),
                    Health {
                        status: "Progressing".to_owned(),
                        message: "Waiting for the operator: no status yet".to_owned()
                    },
                    "{name} ({args:?}, {libraries:?})"
                );
            }
        }
    }
}
