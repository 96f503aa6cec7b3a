use super::transaction::{ABANDON_AT_MOVE, AFTER_STAGING, FAIL_AT_MOVE, MOVES, NO_EXCHANGE, TXN};
use super::*;

fn options() -> WriteOptions {
    WriteOptions::default()
}

fn files(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect()
}

fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let relative = path
                .strip_prefix(dir)
                .expect("prefix")
                .display()
                .to_string();
            let meta = fs::symlink_metadata(&path).expect("meta");
            if meta.file_type().is_symlink() {
                out.insert(
                    relative,
                    format!("-> {}", fs::read_link(&path).expect("link").display()),
                );
            } else if meta.is_dir() {
                out.insert(format!("{relative}/"), String::new());
                stack.push(path);
            } else {
                out.insert(
                    relative,
                    String::from_utf8_lossy(&fs::read(&path).expect("read")).into_owned(),
                );
            }
        }
    }
    out
}

#[test]
fn writes_then_replaces_and_removes_only_its_own_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("mine.txt"), "foreign").expect("write");
    let report = write(
        dir.path(),
        &files(&[("a/x.yaml", "1"), ("a/y.yaml", "2"), ("top.json", "3")]),
        &options(),
    )
    .expect("first");
    assert_eq!(report.written, 3);
    let report = write(
        dir.path(),
        &files(&[("a/x.yaml", "1"), ("top.json", "4")]),
        &options(),
    )
    .expect("second");
    assert_eq!((report.written, report.unchanged), (1, 1));
    assert_eq!(report.removed, ["a/y.yaml"]);
    assert!(!dir.path().join("a/y.yaml").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("top.json")).expect("read"),
        "4"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("mine.txt")).expect("read"),
        "foreign"
    );
    // The same output again changes nothing, not even the manifest.
    let inode = || {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(dir.path().join(MANIFEST))
            .expect("manifest")
            .ino()
    };
    let before = inode();
    let report = write(
        dir.path(),
        &files(&[("a/x.yaml", "1"), ("top.json", "4")]),
        &options(),
    )
    .expect("third");
    assert_eq!((report.written, report.unchanged), (0, 2));
    assert_eq!(inode(), before, "an unchanged render replaced the manifest");
}

#[test]
fn refuses_foreign_and_edited_files_without_changing_anything() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &files(&[("a/x.yaml", "1")]), &options()).expect("first");
    fs::write(dir.path().join("a/x.yaml"), "edited").expect("edit");
    fs::write(dir.path().join("b.yaml"), "foreign").expect("foreign");
    let before = snapshot(dir.path());
    let Err(WriteError::Conflicts(conflicts)) = write(
        dir.path(),
        &files(&[("a/x.yaml", "2"), ("b.yaml", "new")]),
        &options(),
    ) else {
        panic!("expected conflicts");
    };
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert!(conflicts[0].contains("was edited since infera-render wrote it"));
    assert!(conflicts[1].contains("was not written by infera-render"));
    assert_eq!(before, snapshot(dir.path()));
}

#[test]
fn never_writes_through_a_symlink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("outside");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("a")).expect("symlink");
    let before = snapshot(dir.path());
    let result = write(dir.path(), &files(&[("a/x.yaml", "1")]), &options());
    assert!(
        matches!(result, Err(WriteError::Conflicts(_))),
        "{result:?}"
    );
    assert_eq!(before, snapshot(dir.path()));
    assert_eq!(fs::read_dir(outside.path()).expect("read").count(), 0);
    // A symlink where a file goes is refused too (renaming over it would be safe, but it
    // is not ours).
    std::os::unix::fs::symlink(outside.path().join("f"), dir.path().join("f.yaml"))
        .expect("symlink");
    assert!(matches!(
        write(dir.path(), &files(&[("f.yaml", "1")]), &options()),
        Err(WriteError::Conflicts(_))
    ));
}

#[test]
fn a_failed_swap_rolls_back_at_every_step() {
    // Every move of the swap is made to fail in turn: the folder must be unchanged each time.
    for fail_at in 1.. {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            &files(&[("a/x.yaml", "1"), ("gone.yaml", "g"), ("z.yaml", "z")]),
            &options(),
        )
        .expect("first");
        fs::write(dir.path().join("foreign.txt"), "mine").expect("foreign");
        fs::write(dir.path().join("a/notes.txt"), "mine").expect("foreign");
        let before = snapshot(dir.path());
        MOVES.with(|moves| moves.set(0));
        FAIL_AT_MOVE.with(|fail| fail.set(Some(fail_at)));
        let result = write(
            dir.path(),
            &files(&[("a/x.yaml", "2"), ("b/c/y.yaml", "3"), ("z.yaml", "z")]),
            &options(),
        );
        FAIL_AT_MOVE.with(|fail| fail.set(None));
        let moves = MOVES.with(std::cell::Cell::get);
        if fail_at > moves {
            assert!(result.is_ok(), "{result:?}");
            assert!(
                fail_at > 4,
                "only {moves} moves: the swap was not exercised"
            );
            break;
        }
        assert!(
            matches!(result, Err(WriteError::Io(_))),
            "{fail_at}: {result:?}"
        );
        assert_eq!(
            before,
            snapshot(dir.path()),
            "failure at move {fail_at} left changes"
        );
    }
}

/// The first render of the crash tests, with foreign files in and beside its folder.
const FIRST: [(&str, &str); 4] = [
    ("a/x.yaml", "1"),
    ("a/y.yaml", "2"),
    ("gone.yaml", "g"),
    ("z.yaml", "z"),
];
/// The second: `a/x.yaml` replaced, `a/y.yaml` and `gone.yaml` removed, `b/` created.
const SECOND: [(&str, &str); 3] = [("a/x.yaml", "2"), ("b/c/y.yaml", "3"), ("z.yaml", "z2")];

fn with_foreign_files(dir: &Path) {
    fs::write(dir.join("foreign.txt"), "mine").expect("foreign");
    fs::write(dir.join("a/notes.txt"), "mine").expect("foreign");
    fs::create_dir(dir.join("a/sub")).expect("mkdir");
    fs::write(dir.join("a/sub/deep.txt"), "deep").expect("foreign");
    std::os::unix::fs::symlink("notes.txt", dir.join("a/link")).expect("symlink");
}

/// The folder by top-level entry (the lock and a run in progress aside).
fn by_unit(dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (path, bytes) in snapshot(dir) {
        let unit = path.split('/').next().unwrap_or_default().to_owned();
        if unit == LOCK_FILE || unit == TXN {
            continue;
        }
        out.entry(unit).or_default().insert(path, bytes);
    }
    out
}

const LOCK_FILE: &str = ".infera-render.lock";

/// The state a folder ends in after `renders`, each written completely.
fn rendered_state(renders: &[&[(&str, &str)]]) -> BTreeMap<String, BTreeMap<String, String>> {
    let dir = tempfile::tempdir().expect("tempdir");
    for (index, render) in renders.iter().enumerate() {
        write(dir.path(), &files(render), &options()).expect("render");
        if index == 0 {
            with_foreign_files(dir.path());
        }
    }
    by_unit(dir.path())
}

#[test]
fn a_run_stopped_dead_at_any_move_leaves_whole_units_and_the_next_run_rolls_it_back() {
    stop_dead_at_every_move(false);
}

/// Without `RENAME_EXCHANGE` a unit is briefly absent between two renames; the next run puts
/// it back.
#[test]
fn without_an_atomic_exchange_the_next_run_still_rolls_back() {
    NO_EXCHANGE.with(|flag| flag.set(true));
    stop_dead_at_every_move(true);
    NO_EXCHANGE.with(|flag| flag.set(false));
}

fn stop_dead_at_every_move(may_be_absent: bool) {
    let old = rendered_state(&[&FIRST]);
    let new = rendered_state(&[&FIRST, &SECOND]);
    for stop_at in 1.. {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &files(&FIRST), &options()).expect("first");
        with_foreign_files(dir.path());
        MOVES.with(|moves| moves.set(0));
        ABANDON_AT_MOVE.with(|stop| stop.set(Some(stop_at)));
        let result = write(dir.path(), &files(&SECOND), &options());
        ABANDON_AT_MOVE.with(|stop| stop.set(None));
        super::transaction::reset_abandoned();
        if result.is_ok() {
            assert!(
                stop_at > 5,
                "only {stop_at} moves: the swap was not exercised"
            );
            break;
        }
        // Each unit is wholly old or wholly new.
        let now = by_unit(dir.path());
        for unit in old.keys().chain(new.keys()).chain(now.keys()) {
            let state = now.get(unit);
            assert!(
                state == old.get(unit)
                    || state == new.get(unit)
                    || (may_be_absent && state.is_none()),
                "stopped at move {stop_at}: {unit} is neither old nor new: {state:?}"
            );
        }
        assert!(
            dir.path().join(TXN).exists(),
            "stopped at {stop_at}: no journal"
        );
        // The next run, of either render, rolls back first and then does its own work.
        let (next, expected) = if stop_at % 2 == 0 {
            (&FIRST[..], &old)
        } else {
            (&SECOND[..], &new)
        };
        let report = write(dir.path(), &files(next), &options()).expect("next run");
        assert!(
            report
                .recovered
                .iter()
                .any(|note| note.contains("rolled back")
                    || note.contains("nothing else had changed")),
            "stopped at {stop_at}: {:?}",
            report.recovered
        );
        assert_eq!(&by_unit(dir.path()), expected, "stopped at {stop_at}");
        assert!(
            !dir.path().join(TXN).exists(),
            "stopped at {stop_at}: leftovers"
        );
    }
}

#[test]
fn files_added_or_replaced_while_a_run_works_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &files(&FIRST), &options()).expect("first");
    with_foreign_files(dir.path());
    // After staging, before the swap: someone adds a file and saves a foreign one anew.
    AFTER_STAGING.with(|hook| {
        hook.set(Some(|dir: &Path| {
            fs::write(dir.join("a/late.txt"), "late").expect("late");
            fs::write(dir.join("a/notes.tmp"), "edited").expect("edit");
            fs::rename(dir.join("a/notes.tmp"), dir.join("a/notes.txt")).expect("save");
        }));
    });
    let report = write(dir.path(), &files(&SECOND), &options());
    AFTER_STAGING.with(|hook| hook.set(None));
    let report = report.expect("second");
    let read = |path: &str| fs::read_to_string(dir.path().join(path)).expect("read");
    assert_eq!(read("a/late.txt"), "late");
    assert_eq!(read("a/notes.txt"), "edited");
    assert_eq!(read("a/x.yaml"), "2");
    assert_eq!(report.rescued.len(), 2, "{:?}", report.rescued);
    assert!(!dir.path().join("a/notes.txt.infera-render-kept").exists());
}

#[test]
fn an_interrupted_run_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &files(&FIRST), &options()).expect("first");
    with_foreign_files(dir.path());
    let before = snapshot(dir.path());
    let interrupted = WriteOptions::default();
    interrupted.interrupt.set();
    assert!(matches!(
        write(dir.path(), &files(&SECOND), &interrupted),
        Err(WriteError::Interrupted)
    ));
    assert_eq!(before, snapshot(dir.path()));
}

#[test]
fn a_second_writer_waits_for_the_lock_then_names_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &files(&FIRST), &options()).expect("first");
    let before = snapshot(dir.path());
    let held = lock::acquire(dir.path(), Duration::ZERO, &Interrupt::default()).expect("lock");
    let waiting = WriteOptions {
        lock_timeout: Duration::from_millis(120),
        ..WriteOptions::default()
    };
    let start = std::time::Instant::now();
    let result = write(dir.path(), &files(&SECOND), &waiting);
    assert!(start.elapsed() >= Duration::from_millis(120));
    let Err(WriteError::Locked { pid, .. }) = result else {
        panic!("expected the lock to be held: {result:?}");
    };
    if Path::new("/proc/locks").exists() {
        assert_eq!(pid, Some(std::process::id()));
    }
    assert_eq!(before, snapshot(dir.path()));
    drop(held);
    write(dir.path(), &files(&SECOND), &waiting).expect("free again");
}

#[test]
fn staging_folders_of_older_versions_are_removed_when_their_run_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gone = dir.path().join(".infera-render-staging-999999999");
    let running = dir
        .path()
        .join(format!(".infera-render-staging-{}", std::process::id()));
    for staging in [&gone, &running] {
        fs::create_dir_all(staging.join("new")).expect("mkdir");
    }
    let report = write(dir.path(), &files(&FIRST), &options()).expect("write");
    assert!(!gone.exists());
    assert!(running.exists(), "a running process's staging was removed");
    assert_eq!(report.recovered.len(), 1, "{:?}", report.recovered);
}

#[test]
fn rejects_unsafe_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in ["../x", "/etc/x", "a/../../x", "", MANIFEST] {
        assert!(
            matches!(
                write(dir.path(), &files(&[(bad, "1")]), &options()),
                Err(WriteError::Conflicts(_))
            ),
            "{bad}"
        );
    }
}
