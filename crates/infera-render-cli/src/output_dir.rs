//! Writing the output folder safely.
//!
//! - **Atomic:** every file is first written to a staging folder inside `DIR`; then existing
//!   targets are moved aside and the new files moved into place, and any failure rolls all of it
//!   back. A failed run leaves `DIR` as it was.
//! - **Nothing foreign is lost:** `DIR/.infera-render-manifest.json` records every file this tool
//!   wrote, with its SHA-256. A file that is not in the manifest, or that changed since, is never
//!   overwritten or deleted: the run stops and names it. Files written by a previous run that the
//!   new output no longer has are removed (unless they were edited).
//! - **No escape through symlinks:** no write goes through a symbolic link inside `DIR`.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The manifest of files written by infera-render, inside the output folder.
pub const MANIFEST: &str = ".infera-render-manifest.json";
const STAGING_PREFIX: &str = ".infera-render-staging-";

/// Why writing failed (nothing in the folder changed).
#[derive(Debug)]
pub enum WriteError {
    /// Files the run would overwrite or delete but must not.
    Conflicts(Vec<String>),
    /// An I/O failure.
    Io(String),
}

/// What a successful write did.
#[derive(Debug, Default)]
pub struct WriteReport {
    /// Files created or replaced.
    pub written: usize,
    /// Files left as they were (same content).
    pub unchanged: usize,
    /// Files of a previous run removed because the output no longer has them.
    pub removed: Vec<String>,
    /// Files of a previous run the output no longer has, kept because they were edited.
    pub kept_edited: Vec<String>,
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn io_error(what: &str, path: &Path, error: &io::Error) -> WriteError {
    WriteError::Io(format!("cannot {what} {}: {error}", path.display()))
}

/// The output folder's manifest (`.infera-render-manifest.json`): which files this tool wrote,
/// each with the SHA-256 of what it wrote.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct WriteManifest {
    /// Always `infera-render`.
    #[serde(default)]
    generator: String,
    /// What the file is, for a reader who finds it.
    #[serde(default)]
    note: String,
    /// Relative path → SHA-256 (hex) of the content written.
    files: BTreeMap<String, String>,
}

/// The manifest: relative path → SHA-256 of the content written.
fn read_manifest(dir: &Path) -> Result<BTreeMap<String, String>, WriteError> {
    let path = dir.join(MANIFEST);
    match fs::symlink_metadata(&path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(io_error("read", &path, &error)),
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(WriteError::Conflicts(vec![format!(
                "{MANIFEST} is not a regular file (a symbolic link?); infera-render will not use it"
            )]));
        }
        Ok(_) => {}
    }
    let text = fs::read_to_string(&path).map_err(|error| io_error("read", &path, &error))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        WriteError::Conflicts(vec![format!(
            "{MANIFEST} is not valid JSON ({error}); move it away to start afresh"
        )])
    })?;
    let manifest: WriteManifest = serde_json::from_value(value).map_err(|_| {
        WriteError::Conflicts(vec![format!(
            "{MANIFEST} has no `files` object of paths and hashes; move it away to start afresh"
        )])
    })?;
    Ok(manifest.files)
}

fn manifest_text(files: &BTreeMap<String, String>) -> String {
    let manifest = WriteManifest {
        generator: "infera-render".to_owned(),
        note: "files infera-render wrote here, with their SHA-256; it never overwrites or deletes other files".to_owned(),
        files: files.clone(),
    };
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    text
}

/// Whether a relative output path is safe: `/`-separated plain names, no `..`, no absolute path.
fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

/// Fails if any existing directory between `dir` and `relative` (exclusive of the file) is a
/// symbolic link or not a directory.
fn check_parents(dir: &Path, relative: &str, conflicts: &mut Vec<String>) {
    let parts: Vec<&str> = relative.split('/').collect();
    let mut current = dir.to_path_buf();
    for part in &parts[..parts.len() - 1] {
        current.push(part);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                conflicts.push(format!(
                    "{} is a symbolic link; infera-render never writes through links inside the output folder",
                    current.display()
                ));
                return;
            }
            Ok(meta) if !meta.is_dir() => {
                conflicts.push(format!(
                    "{} is in the way: it is not a directory",
                    current.display()
                ));
                return;
            }
            _ => {}
        }
    }
}

#[derive(Debug)]
enum Action {
    Create,
    Replace,
}

/// Writes `files` (relative path → content) into `dir`. `scope` limits which previous files may
/// be removed as stale (a path prefix such as `us-west-1/`, or everything when `None`).
pub fn write(
    dir: &Path,
    files: &[(String, String)],
    scope: Option<&[String]>,
) -> Result<WriteReport, WriteError> {
    if let Ok(meta) = fs::metadata(dir)
        && !meta.is_dir()
    {
        return Err(WriteError::Io(format!(
            "{} exists and is not a directory",
            dir.display()
        )));
    }
    fs::create_dir_all(dir).map_err(|error| io_error("create", dir, &error))?;
    let previous = read_manifest(dir)?;
    let mut conflicts = Vec::new();
    let mut actions: Vec<(&str, &str, Action)> = Vec::new();
    let mut report = WriteReport::default();
    let mut next_manifest: BTreeMap<String, String> = previous.clone();
    let new_paths: BTreeSet<&str> = files.iter().map(|(path, _)| path.as_str()).collect();

    for (relative, contents) in files {
        if !safe_relative(relative) || relative == MANIFEST || relative.starts_with(STAGING_PREFIX)
        {
            conflicts.push(format!("refusing the unsafe output path `{relative}`"));
            continue;
        }
        check_parents(dir, relative, &mut conflicts);
        let target = dir.join(relative);
        let hash = sha256(contents.as_bytes());
        match fs::symlink_metadata(&target) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => actions.push((relative, contents, Action::Create)),
            Err(error) => return Err(io_error("inspect", &target, &error)),
            Ok(meta) if !meta.file_type().is_file() => conflicts.push(format!(
                "{} exists and is not a regular file (a link or a directory); infera-render will not replace it",
                target.display()
            )),
            Ok(_) => {
                let existing = fs::read(&target).map_err(|error| io_error("read", &target, &error))?;
                let existing_hash = sha256(&existing);
                if existing_hash == hash {
                    report.unchanged += 1;
                } else if previous.get(relative.as_str()) == Some(&existing_hash) {
                    actions.push((relative, contents, Action::Replace));
                } else if previous.contains_key(relative.as_str()) {
                    conflicts.push(format!(
                        "{} was edited since infera-render wrote it; move your changes into the spec, or move the file away",
                        target.display()
                    ));
                } else {
                    conflicts.push(format!(
                        "{} exists and was not written by infera-render; move it away or choose another output folder",
                        target.display()
                    ));
                }
            }
        }
        next_manifest.insert(relative.clone(), hash);
    }

    // Files of the previous run that the new output no longer has.
    let mut stale: Vec<String> = Vec::new();
    for (relative, hash) in &previous {
        let in_scope = scope.is_none_or(|prefixes| {
            prefixes
                .iter()
                .any(|prefix| relative.starts_with(prefix.as_str()))
        });
        if new_paths.contains(relative.as_str()) || !in_scope || !safe_relative(relative) {
            continue;
        }
        let target = dir.join(relative);
        let mut parent_conflicts = Vec::new();
        check_parents(dir, relative, &mut parent_conflicts);
        if !parent_conflicts.is_empty() {
            next_manifest.remove(relative);
            continue;
        }
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_file() => {
                let existing =
                    fs::read(&target).map_err(|error| io_error("read", &target, &error))?;
                if sha256(&existing) == *hash {
                    stale.push(relative.clone());
                } else {
                    report.kept_edited.push(relative.clone());
                }
            }
            _ => {}
        }
        next_manifest.remove(relative);
    }

    if !conflicts.is_empty() {
        return Err(WriteError::Conflicts(conflicts));
    }
    // Nothing to change: touch nothing, not even the manifest.
    if actions.is_empty() && stale.is_empty() && next_manifest == previous {
        return Ok(report);
    }
    commit(
        dir,
        &actions,
        &stale,
        &manifest_text(&next_manifest),
        &mut report,
    )?;
    Ok(report)
}

/// Writes the staged files and moves them into place, rolling everything back on failure.
fn commit(
    dir: &Path,
    actions: &[(&str, &str, Action)],
    stale: &[String],
    manifest: &str,
    report: &mut WriteReport,
) -> Result<(), WriteError> {
    let staging = dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    if fs::symlink_metadata(&staging).is_ok() {
        fs::remove_dir_all(&staging).map_err(|error| io_error("remove", &staging, &error))?;
    }
    fs::create_dir(&staging).map_err(|error| io_error("create", &staging, &error))?;
    let result = stage_and_swap(dir, &staging, actions, stale, manifest);
    let _ = fs::remove_dir_all(&staging);
    result?;
    report.written = actions.len();
    report.removed = stale.to_vec();
    Ok(())
}

#[cfg(test)]
thread_local! {
    /// Test-only fault injection: fail the n-th move of the swap (1-based).
    static FAIL_AT_MOVE: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    static MOVES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Renames `from` to `to` (with test-only fault injection).
fn move_path(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(test)]
    {
        let count = MOVES.with(|moves| {
            moves.set(moves.get() + 1);
            moves.get()
        });
        if FAIL_AT_MOVE.with(std::cell::Cell::get) == Some(count) {
            return Err(io::Error::other("injected failure"));
        }
    }
    fs::rename(from, to)
}

/// Writes `contents` to the staging file `staged`; errors name `target`, the output file it
/// stands for (a full disk fails here, so the user learns which file did not fit).
///
/// No `fsync`, like kubectl, kustomize and Helm: one per file made a three-region render four
/// times slower. The output is regenerated from the spec, and after a power loss mid-run the
/// manifest's hashes tell a file that never reached the disk from the one written.
fn write_staged(staged: &Path, target: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let write = || -> io::Result<()> { fs::File::create(staged)?.write_all(contents) };
    write().map_err(|error| {
        WriteError::Io(format!(
            "cannot write {} (staged as {}): {error}",
            target.display(),
            staged.display()
        ))
    })
}

/// The undo log of a swap.
#[derive(Default)]
struct Undo {
    /// Directories created in `dir`, to remove on rollback (deepest last).
    created_dirs: Vec<PathBuf>,
    /// New files moved into place, to remove on rollback.
    placed: Vec<PathBuf>,
    /// (backup, original) pairs, to move back on rollback.
    backups: Vec<(PathBuf, PathBuf)>,
}

impl Undo {
    fn rollback(self) {
        for path in self.placed.iter().rev() {
            let _ = fs::remove_file(path);
        }
        for (backup, original) in self.backups.iter().rev() {
            let _ = fs::rename(backup, original);
        }
        for directory in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(directory);
        }
    }
}

fn create_parents(dir: &Path, relative: &str, undo: &mut Undo) -> Result<(), WriteError> {
    let parts: Vec<&str> = relative.split('/').collect();
    let mut current = dir.to_path_buf();
    for part in &parts[..parts.len() - 1] {
        current.push(part);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(WriteError::Io(format!(
                    "{} is not a directory",
                    current.display()
                )));
            }
            Err(_) => {
                fs::create_dir(&current).map_err(|error| io_error("create", &current, &error))?;
                undo.created_dirs.push(current.clone());
            }
        }
    }
    Ok(())
}

fn stage_and_swap(
    dir: &Path,
    staging: &Path,
    actions: &[(&str, &str, Action)],
    stale: &[String],
    manifest: &str,
) -> Result<(), WriteError> {
    // 1. Everything new goes to the staging folder first: a full disk fails here, before any
    //    file in `dir` changed.
    let new_dir = staging.join("new");
    let backup_dir = staging.join("backup");
    fs::create_dir(&new_dir).map_err(|error| io_error("create", &new_dir, &error))?;
    for (index, (relative, contents, _)) in actions.iter().enumerate() {
        let staged = new_dir.join(index.to_string());
        write_staged(&staged, &dir.join(relative), contents.as_bytes())?;
    }
    write_staged(
        &new_dir.join("manifest"),
        &dir.join(MANIFEST),
        manifest.as_bytes(),
    )?;

    // 2. Swap: renames within one file system, each undone on failure.
    let mut undo = Undo::default();
    let mut backup_count = 0;
    let mut back_up = |original: PathBuf, undo: &mut Undo| -> Result<(), WriteError> {
        // Created on first use: a render into a fresh folder replaces nothing.
        if backup_count == 0 {
            fs::create_dir(&backup_dir).map_err(|error| io_error("create", &backup_dir, &error))?;
        }
        let backup = backup_dir.join(backup_count.to_string());
        backup_count += 1;
        move_path(&original, &backup).map_err(|error| io_error("move aside", &original, &error))?;
        undo.backups.push((backup, original));
        Ok(())
    };
    let result = (|| {
        for relative in stale {
            back_up(dir.join(relative), &mut undo)?;
        }
        for (index, (relative, _, action)) in actions.iter().enumerate() {
            let target = dir.join(relative);
            create_parents(dir, relative, &mut undo)?;
            if matches!(action, Action::Replace) {
                back_up(target.clone(), &mut undo)?;
            }
            let staged = new_dir.join(index.to_string());
            move_path(&staged, &target)
                .map_err(|error| io_error("move into place", &target, &error))?;
            undo.placed.push(target);
        }
        let manifest_path = dir.join(MANIFEST);
        if fs::symlink_metadata(&manifest_path).is_ok() {
            back_up(manifest_path.clone(), &mut undo)?;
        }
        move_path(&new_dir.join("manifest"), &manifest_path)
            .map_err(|error| io_error("move into place", &manifest_path, &error))?;
        undo.placed.push(manifest_path);
        Ok(())
    })();
    if let Err(error) = result {
        undo.rollback();
        return Err(error);
    }
    // Directories emptied by removing stale files go too (only if now empty).
    for relative in stale {
        let mut parent = dir.join(relative);
        while parent.pop() && parent != dir {
            if fs::remove_dir(&parent).is_err() {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .collect()
    }

    fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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
                        format!("-> {}", fs::read_link(&path).expect("link").display())
                            .into_bytes(),
                    );
                } else if meta.is_dir() {
                    out.insert(format!("{relative}/"), Vec::new());
                    stack.push(path);
                } else {
                    out.insert(relative, fs::read(&path).expect("read"));
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
            None,
        )
        .expect("first");
        assert_eq!(report.written, 3);
        let report = write(
            dir.path(),
            &files(&[("a/x.yaml", "1"), ("top.json", "4")]),
            None,
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
            None,
        )
        .expect("third");
        assert_eq!((report.written, report.unchanged), (0, 2));
        assert_eq!(inode(), before, "an unchanged render replaced the manifest");
    }

    #[test]
    fn refuses_foreign_and_edited_files_without_changing_anything() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &files(&[("a/x.yaml", "1")]), None).expect("first");
        fs::write(dir.path().join("a/x.yaml"), "edited").expect("edit");
        fs::write(dir.path().join("b.yaml"), "foreign").expect("foreign");
        let before = snapshot(dir.path());
        let Err(WriteError::Conflicts(conflicts)) = write(
            dir.path(),
            &files(&[("a/x.yaml", "2"), ("b.yaml", "new")]),
            None,
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
        let result = write(dir.path(), &files(&[("a/x.yaml", "1")]), None);
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
            write(dir.path(), &files(&[("f.yaml", "1")]), None),
            Err(WriteError::Conflicts(_))
        ));
    }

    #[test]
    fn a_failed_swap_rolls_back_at_every_step() {
        // Every move of the swap is made to fail in turn: the folder must be unchanged each time.
        for fail_at in 1..=8 {
            let dir = tempfile::tempdir().expect("tempdir");
            write(
                dir.path(),
                &files(&[("a/x.yaml", "1"), ("gone.yaml", "g"), ("z.yaml", "z")]),
                None,
            )
            .expect("first");
            fs::write(dir.path().join("foreign.txt"), "mine").expect("foreign");
            let before = snapshot(dir.path());
            MOVES.with(|moves| moves.set(0));
            FAIL_AT_MOVE.with(|fail| fail.set(Some(fail_at)));
            let result = write(
                dir.path(),
                &files(&[("a/x.yaml", "2"), ("b/c/y.yaml", "3"), ("z.yaml", "z")]),
                None,
            );
            FAIL_AT_MOVE.with(|fail| fail.set(None));
            let moves = MOVES.with(std::cell::Cell::get);
            if fail_at > moves {
                assert!(result.is_ok(), "{result:?}");
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

    #[test]
    fn rejects_unsafe_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        for bad in ["../x", "/etc/x", "a/../../x", "", MANIFEST] {
            assert!(
                matches!(
                    write(dir.path(), &files(&[(bad, "1")]), None),
                    Err(WriteError::Conflicts(_))
                ),
                "{bad}"
            );
        }
    }
}
