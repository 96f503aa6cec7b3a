//! The output folder's safety beyond the basic cases in `render.rs`: a re-render of a changed
//! spec removes exactly the files of objects that no longer exist and keeps everything foreign;
//! a symlinked file or manifest is never written through; a read-only folder and a full disk
//! (a tiny tmpfs) leave the folder byte-identical.
//!
//! The read-only and disk-full cases need a private mount namespace (`unshare -rm`, an
//! unprivileged user namespace). Without one they skip loudly, and fail under CI.

use crate::common::{TEST_SEED, TOOL_FILES, binary, render_into, tree, workspace};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The tree without the tool's own files and without the given foreign files.
fn own_files(dir: &Path, foreign: &[&str]) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.ends_with('/'))
        .filter(|(path, _)| !TOOL_FILES.contains(&path.as_str()))
        .filter(|(path, _)| !foreign.contains(&path.as_str()))
        .collect()
}

#[test]
fn a_changed_spec_removes_only_the_files_it_no_longer_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");

    // Before: three regions with Tailscale, phase 2.
    let first = render_into("examples/three-region.yaml", &out, true);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let foreign = [
        "README.local.md",
        "us-west-1/patch-mine.yaml",
        "ap-southeast-1/notes.txt",
    ];
    for path in foreign {
        std::fs::write(out.join(path), format!("{path}: mine\n")).expect("write foreign file");
    }
    // An edited file of an object that will disappear is kept, with a warning.
    let edited = "ap-southeast-1/deployment-inferadb-engine.yaml";
    let mut edited_text = std::fs::read_to_string(out.join(edited)).expect("read");
    edited_text.push_str("# my edit\n");
    std::fs::write(out.join(edited), &edited_text).expect("edit");

    // After: the third region dropped and Tailscale turned off.
    let text = std::fs::read_to_string(workspace().join("examples/three-region.yaml"))
        .expect("read example");
    let mut changed: Value = serde_saphyr::from_str(&text).expect("example parses");
    let regions = changed["spec"]["regions"].as_array_mut().expect("regions");
    let dropped = regions.pop().expect("a third region");
    assert_eq!(dropped["id"], "ap-southeast-1");
    changed["spec"]["tailscale"] = serde_json::json!({"enabled": false});
    let changed_path = dir.path().join("changed.json");
    std::fs::write(&changed_path, changed.to_string()).expect("write changed spec");
    let changed_spec = changed_path.to_str().expect("utf-8");

    let second = render_into(changed_spec, &out, true);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!(
            "{} is no longer rendered but was edited, so it was kept",
            out.join(edited).display()
        )),
        "{}",
        second.stderr
    );

    // What a fresh render of the changed spec writes, and nothing else of ours, remains.
    let fresh = dir.path().join("fresh");
    assert_eq!(render_into(changed_spec, &fresh, true).code, 0);
    let expected = own_files(&fresh, &[]);
    assert!(
        !expected.keys().any(|path| path.contains("tailscale")),
        "the changed spec still renders Tailscale objects"
    );
    let mut keep = foreign.to_vec();
    keep.push(edited);
    let mut written = own_files(&out, &keep);
    let mut fresh_files = expected.clone();
    // APPLY.md is the fresh one plus the objects the re-render no longer has, to delete by hand.
    let guide = String::from_utf8(written.remove("APPLY.md").expect("APPLY.md")).expect("utf-8");
    let fresh_guide =
        String::from_utf8(fresh_files.remove("APPLY.md").expect("APPLY.md")).expect("utf-8");
    let removed = guide
        .strip_prefix(fresh_guide.as_str())
        .expect("APPLY.md starts as a fresh render's");
    assert!(removed.starts_with("## Removed objects\n"), "{removed}");
    for command in [
        "kubectl --context eks-ap-southeast-1 -n inferadb delete deployment.apps inferadb-engine",
        "kubectl --context eks-ap-southeast-1 -n inferadb delete configmap inferadb-fdb-cluster-file",
        "kubectl --context eks-ap-southeast-1 delete namespace inferadb",
    ] {
        assert!(
            removed.contains(command),
            "{command} missing from {removed}"
        );
    }
    assert_eq!(
        written, fresh_files,
        "the re-rendered folder differs from a fresh render of the changed spec"
    );
    assert!(
        second
            .stderr
            .contains("are no longer rendered but keep running until you delete them"),
        "{}",
        second.stderr
    );
    for path in foreign {
        assert_eq!(
            std::fs::read_to_string(out.join(path)).expect("foreign file survives"),
            format!("{path}: mine\n")
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join(edited)).expect("edited file kept"),
        edited_text
    );
    // The dropped region's folder holds only the foreign file now.
    let left: Vec<String> = std::fs::read_dir(out.join("ap-southeast-1"))
        .expect("the folder with a foreign file stays")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["deployment-inferadb-engine.yaml", "notes.txt"]);

    // The manifest tracks exactly the files written by this run.
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join(".infera-render-manifest.json")).expect("manifest"),
    )
    .expect("manifest is JSON");
    let tracked: Vec<&String> = manifest["files"]
        .as_object()
        .expect("files")
        .keys()
        .collect();
    assert_eq!(tracked, expected.keys().collect::<Vec<_>>());

    // A third run of the same spec changes nothing.
    let before = tree(&out);
    let third = render_into(changed_spec, &out, true);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(
        third.stderr.contains("0 file(s) written"),
        "{}",
        third.stderr
    );
    assert_eq!(before, tree(&out));
}

#[test]
fn a_symlinked_file_or_manifest_is_never_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render_into("examples/two-region.yaml", &out, false).code, 0);
    let outside = dir.path().join("outside.yaml");
    std::fs::write(&outside, "outside\n").expect("write");

    for planted in [
        "us-west-1/namespace-inferadb.yaml",
        ".infera-render-manifest.json",
    ] {
        let target = out.join(planted);
        let saved = std::fs::read(&target).expect("read");
        std::fs::remove_file(&target).expect("rm");
        std::os::unix::fs::symlink(&outside, &target).expect("symlink");
        let before = tree(&out);
        let result = render_into("examples/two-region.yaml", &out, true);
        assert_eq!(result.code, 3, "{planted}: {}", result.stderr);
        assert!(
            result.stderr.contains("not a regular file"),
            "{planted}: {}",
            result.stderr
        );
        assert_eq!(before, tree(&out), "{planted}: the folder changed");
        assert_eq!(
            std::fs::read_to_string(&outside).expect("read"),
            "outside\n",
            "{planted}: a write went through the symlink"
        );
        std::fs::remove_file(&target).expect("rm link");
        std::fs::write(&target, saved).expect("restore");
    }
}

/// Runs `script` (POSIX sh, `$1`.. = `args`) as root of a private user and mount namespace, so
/// it may mount; `None` after a loud skip when this machine does not allow that.
fn in_private_mount_namespace(script: &str, args: &[&str]) -> Option<crate::common::Run> {
    let probe = Command::new("unshare").args(["-rm", "true"]).output();
    if !probe.as_ref().is_ok_and(|output| output.status.success()) {
        infera_test_support::skip(&format!(
            "SKIPPED: `unshare -rm` (an unprivileged mount namespace) is not available here ({}); the read-only and disk-full output tests did not run",
            probe.map_or_else(
                |error| error.to_string(),
                |output| String::from_utf8_lossy(&output.stderr).into_owned()
            )
        ));
        return None;
    }
    let output = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, "sh"])
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("run unshare");
    Some(crate::common::finish(output))
}

#[test]
fn a_read_only_output_folder_is_left_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(
        render_into("examples/three-region.yaml", &out, false).code,
        0
    );
    std::fs::write(out.join("notes.txt"), "mine\n").expect("write");
    let before = tree(&out);
    let out_arg = out.to_str().expect("utf-8");
    let script = r#"set -e
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
exec "$2" render -f examples/three-region.yaml -o "$1" --seed-connection-string "$3"
"#;
    let Some(result) = in_private_mount_namespace(script, &[out_arg, binary(), TEST_SEED]) else {
        return;
    };
    assert_eq!(result.code, 3, "{}", result.stderr);
    assert!(
        result.stderr.contains("Read-only file system"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains(&format!("nothing was written to {out_arg}")),
        "{}",
        result.stderr
    );
    assert_eq!(before, tree(&out), "a failed run changed the folder");
}

#[test]
fn a_full_disk_leaves_the_output_folder_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).expect("mkdir");
    // The tmpfs exists only inside the namespace, so the whole scenario runs there and leaves
    // its snapshots (every path, and the SHA-256 of every file) in `dir`. 256 KiB holds the
    // single-region output (about 124 KiB of pages) but not the everything-enabled one.
    let script = r#"set -e
disk="$1"; bin="$2"; work="$3"; seed="$4"
mount -t tmpfs -o size=256k tmpfs "$disk"
"$bin" render -f examples/single-region.yaml -o "$disk/out" 2>"$work/first.stderr"
echo mine >"$disk/out/notes.txt"
snapshot() {
  cd "$disk/out"
  find . | LC_ALL=C sort | while IFS= read -r path; do
    if [ -f "$path" ]; then sha256sum "$path"; else echo "directory $path"; fi
  done
  cd - >/dev/null
}
snapshot >"$work/before"
set +e
"$bin" render -f examples/everything-enabled.yaml -o "$disk/out" --seed-connection-string "$seed" --allow-destructive 2>"$work/second.stderr"
echo $? >"$work/second.code"
snapshot >"$work/after"
"#;
    let work = dir.path().to_str().expect("utf-8");
    let Some(result) = in_private_mount_namespace(
        script,
        &[disk.to_str().expect("utf-8"), binary(), work, TEST_SEED],
    ) else {
        return;
    };
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    assert_eq!(
        result.code,
        0,
        "the scenario failed: {}{}",
        result.stderr,
        read("first.stderr")
    );
    let stderr = read("second.stderr");
    assert_eq!(read("second.code").trim(), "3", "{stderr}");
    assert!(
        stderr.contains("No space left on device") && stderr.contains("nothing was written to"),
        "{stderr}"
    );
    // The error names the output file that did not fit, not only a staging file.
    assert!(stderr.contains(".yaml (staged as "), "{stderr}");
    let before = read("before");
    assert!(
        before.contains("./notes.txt") && before.contains("./.infera-render-manifest.json"),
        "{before}"
    );
    assert_eq!(before, read("after"), "a full disk changed the folder");
}
