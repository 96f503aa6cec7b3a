//! Renders that are killed, interrupted or run at the same time as another, into a folder that
//! holds an older render of a large spec (16 regions, ~240 files) and foreign files:
//! - killed (SIGKILL) or interrupted (SIGINT) at random moments, every region folder and
//!   top-level file is wholly the old or wholly the new render; an interrupted run rolls back
//!   itself; the next run, of either spec, ends with exactly that spec's render and no leftovers;
//! - three renders of two specs at once take turns: all succeed, none reports an edit, and the
//!   folder is wholly one of the renders;
//! - a render that cannot get the lock in time names the holder and changes nothing.

#![allow(clippy::panic)]

use crate::common::{TEST_SEED, binary, tool, tree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LOCK: &str = ".infera-render.lock";

/// A spec with `regions` regions (two host FoundationDB, the others are client regions) and
/// `replicas` engine replicas, so the two renders differ in every region's engine.
fn spec(regions: usize, replicas: u32) -> String {
    let mut text = String::from(
        "apiVersion: infera.dev/v1alpha1\nkind: MultiRegionDeployment\nmetadata:\n  name: inferadb\nspec:\n  regions:\n",
    );
    for index in 1..=regions {
        let id = format!("region-{index:02}");
        text.push_str(&format!(
            "    - id: {id}\n      is_primary: {}\n      priority: {index}\n      zones: [{id}a, {id}b, {id}c]\n      kubernetes:\n        config_context: ctx-{id}\n",
            index == 1
        ));
    }
    text.push_str(&format!(
        "  cluster_name: inferadb-fdb\n  fearless_dr:\n    enabled: true\n    usable_regions: 2\n  tailscale:\n    enabled: true\n    auth_key: \"\"\n  engine:\n    replicas: {replicas}\n"
    ));
    text
}

/// The two specs of these tests: `old` (16 regions) and `new` (15: the last region's folder
/// goes, every engine changes).
struct Specs {
    _dir: tempfile::TempDir,
    old: PathBuf,
    new: PathBuf,
}

fn specs() -> Specs {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.yaml");
    let new = dir.path().join("new.yaml");
    std::fs::write(&old, spec(16, 3)).expect("write");
    std::fs::write(&new, spec(15, 4)).expect("write");
    Specs {
        _dir: dir,
        old,
        new,
    }
}

fn render_command(spec: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("render")
        .arg("-f")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .args(["--seed-connection-string", TEST_SEED])
        .args(extra)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Renders `spec` into `out` to completion; returns stderr.
fn render(spec: &Path, out: &Path) -> String {
    let output = render_command(spec, out, &[]).output().expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

fn add_foreign_files(out: &Path) {
    std::fs::write(out.join("notes.txt"), "mine\n").expect("write");
    std::fs::write(out.join("region-01/notes.txt"), "mine\n").expect("write");
    // In the region the new spec drops: its folder must stay for this file.
    std::fs::write(out.join("region-16/notes.txt"), "mine\n").expect("write");
}

/// The folder by top-level entry (the lock file aside).
type Units = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

fn units(out: &Path) -> Units {
    let mut units = Units::new();
    for (path, bytes) in tree(out) {
        let unit = path.split('/').next().unwrap_or_default().to_owned();
        if unit != LOCK {
            units.entry(unit).or_default().insert(path, bytes);
        }
    }
    units
}

/// The paths where two folders differ, for a readable failure.
fn difference(now: &Units, expected: &Units) -> String {
    let flatten = |units: &Units| -> BTreeMap<String, Vec<u8>> {
        units.values().flat_map(|files| files.clone()).collect()
    };
    let (now, expected) = (flatten(now), flatten(expected));
    let mut lines = Vec::new();
    for path in now
        .keys()
        .chain(expected.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (now.get(path), expected.get(path)) {
            (Some(_), None) => lines.push(format!("unexpected {path}")),
            (None, Some(_)) => lines.push(format!("missing {path}")),
            (Some(a), Some(b)) if a != b => lines.push(format!("different {path}")),
            _ => {}
        }
    }
    lines.join("\n")
}

/// Entries a run leaves while it works (this version's and older versions' staging).
fn leftovers(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .expect("read")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with(".infera-render-txn") || name.starts_with(".infera-render-staging")
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// A small deterministic generator (xorshift64), so a failure can be replayed from its seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn duration(&mut self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(self.next() % nanos)
    }
}

fn signal(child: &Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process(pid, signal);
}

/// Waits until the run in `out` has begun to write (a staging entry exists), or it ended.
fn wait_until_writing(child: &mut Child, out: &Path) {
    let start = Instant::now();
    while leftovers(out).is_empty()
        && child.try_wait().ok().flatten().is_none()
        && start.elapsed() < Duration::from_secs(30)
    {
        std::hint::spin_loop();
    }
}

/// The old render with foreign files at `work/<name>`, and the two states every run must end
/// in: that folder (`old`) and the new spec rendered over a copy of it (`new`).
fn old_and_new(specs: &Specs, work: &Path, name: &str) -> (PathBuf, Units, Units) {
    let folder = work.join(name);
    render(&specs.old, &folder);
    add_foreign_files(&folder);
    let old = units(&folder);
    let reference = work.join(format!("{name}-reference"));
    copy_tree(&folder, &reference);
    render(&specs.new, &reference);
    (folder, old, units(&reference))
}

#[test]
fn a_killed_or_interrupted_render_leaves_whole_folders_and_the_next_run_puts_it_right() {
    let specs = specs();
    let work = tempfile::tempdir().expect("tempdir");
    let (template, old, new) = old_and_new(&specs, work.path(), "template");
    // A whole render of the new spec over the old one, timed: the kill moments spread over it.
    // Targeted moments spread over the part that writes: a run first reads and compares what
    // the folder holds (`diff`), and a moment past its end would prove nothing.
    let mut timings = Vec::new();
    let mut writing_times = Vec::new();
    for round in 0..3 {
        let target = work.path().join(format!("timing-{round}"));
        copy_tree(&template, &target);
        let start = Instant::now();
        let mut child = render_command(&specs.new, &target, &[])
            .spawn()
            .expect("spawn");
        wait_until_writing(&mut child, &target);
        let writing = Instant::now();
        assert!(child.wait().expect("wait").success());
        timings.push(start.elapsed());
        writing_times.push(writing.elapsed());
    }
    timings.sort();
    writing_times.sort();
    let full = timings[1];
    let writing = writing_times[1];
    assert!(
        new.contains_key("region-16"),
        "the dropped region keeps its foreign file"
    );
    assert!(!new["region-16"].keys().any(|path| path.ends_with(".yaml")));

    let seed = 0x5eed_1234_abcd_0042;
    let mut random = Random(seed);
    let mut landed_while_writing = 0;
    let rounds = 48;
    for round in 0..rounds {
        let out = work.path().join(format!("round-{round}"));
        copy_tree(&template, &out);
        let interrupt = round % 3 == 2;
        let targeted = round % 2 == 1;
        let mut child = render_command(&specs.new, &out, &[])
            .spawn()
            .expect("spawn");
        if targeted {
            wait_until_writing(&mut child, &out);
            std::thread::sleep(random.duration(writing));
        } else {
            std::thread::sleep(random.duration(full + full / 5));
        }
        signal(
            &child,
            if interrupt {
                rustix::process::Signal::INT
            } else {
                rustix::process::Signal::KILL
            },
        );
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let context = format!(
            "round {round} (seed {seed:#x}, {}, {:?}): {stderr}",
            if interrupt { "SIGINT" } else { "SIGKILL" },
            output.status
        );
        let now = units(&out);
        if now != old && now != new || !leftovers(&out).is_empty() {
            landed_while_writing += 1;
        }
        for unit in old.keys().chain(new.keys()).chain(now.keys()) {
            // A run's staging is checked below: the next run must remove it.
            if unit.starts_with(".infera-render-txn") || unit.starts_with(".infera-render-staging")
            {
                continue;
            }
            let state = now.get(unit);
            assert!(
                state == old.get(unit) || state == new.get(unit),
                "{context}\n{unit} holds neither the old nor the new render: {:?}",
                state.map(|files| files.keys().collect::<Vec<_>>())
            );
        }
        if interrupt {
            // The run caught the signal and rolled back itself (or finished, or had not begun).
            assert!(
                leftovers(&out).is_empty(),
                "{context}\nleft {:?}",
                leftovers(&out)
            );
            assert!(
                now == old || now == new,
                "{context}\nan interrupted run left a mix:\n{}",
                difference(&now, &old)
            );
            if output.status.code() == Some(130) {
                assert!(now == old, "{context}\n{}", difference(&now, &old));
                assert!(
                    stderr.contains("interrupted: nothing was written"),
                    "{context}"
                );
            }
        }
        // The next run, of either spec, ends with exactly that spec's render.
        let (next, expected) = if round % 4 < 2 {
            (&specs.old, &old)
        } else {
            (&specs.new, &new)
        };
        let stderr = render(next, &out);
        let after = units(&out);
        assert!(
            after == *expected,
            "{context}\nnext run: {stderr}\n{}",
            difference(&after, expected)
        );
        assert!(
            leftovers(&out).is_empty(),
            "{context}\nnext run left {:?}",
            leftovers(&out)
        );
        assert!(
            !stderr.contains("was edited"),
            "{context}\nnext run: {stderr}"
        );
        std::fs::remove_dir_all(&out).expect("clean");
    }
    // Most targeted kills land while the run writes; without them the test proved nothing.
    assert!(
        landed_while_writing >= rounds / 8,
        "only {landed_while_writing} of {rounds} signals arrived while a run was writing (a whole run took {full:?}, its writing {writing:?})"
    );
}

#[test]
fn renders_into_one_folder_at_the_same_time_take_turns() {
    let specs = specs();
    let work = tempfile::tempdir().expect("tempdir");
    let (out, old, new) = old_and_new(&specs, work.path(), "out");
    for round in 0..8 {
        let children: Vec<Child> = [&specs.new, &specs.old, &specs.new]
            .iter()
            .map(|spec| {
                render_command(spec, &out, &["--lock-timeout", "60"])
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("wait");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "round {round}: {stderr}");
            assert!(!stderr.contains("was edited"), "round {round}: {stderr}");
        }
        let now = units(&out);
        assert!(
            now == old || now == new,
            "round {round}: the folder is a mix"
        );
        assert!(leftovers(&out).is_empty(), "round {round}");
    }
}

#[test]
fn a_render_that_cannot_get_the_lock_names_the_holder_and_changes_nothing() {
    let Some(flock) = tool("flock") else {
        return;
    };
    let specs = specs();
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("out");
    render(&specs.old, &out);
    let before = tree(&out);
    // flock(1) holds the lock on the same file, as another run would, until it is killed.
    let ready = work.path().join("ready");
    // `-o`: the command does not inherit the lock, so killing flock releases it.
    let mut holder = Command::new(flock)
        .arg("-o")
        .arg(out.join(LOCK))
        .args(["sh", "-c", "touch \"$0\"; exec sleep 60"])
        .arg(&ready)
        .spawn()
        .expect("spawn flock");
    let start = Instant::now();
    while !ready.exists() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    let output = render_command(&specs.new, &out, &["--lock-timeout", "0.3"])
        .output()
        .expect("run");
    let waited = start.elapsed();
    let pid = holder.id();
    let _ = holder.kill();
    let _ = holder.wait();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    let expected = format!(
        "another infera-render (pid {pid}) is writing {}",
        out.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("--lock-timeout"), "{stderr}");
    assert_eq!(
        before,
        tree(&out),
        "a run that did not get the lock changed the folder"
    );
    // Once the holder is gone, the next run gets the lock at once.
    render(&specs.new, &out);
}
