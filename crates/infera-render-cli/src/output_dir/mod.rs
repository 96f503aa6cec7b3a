//! Writing the output folder safely.
//!
//! - **Crash-consistent:** every region folder and top-level file the run changes is staged
//!   whole, then swapped into place (`transaction.rs`); a killed run leaves each of them wholly
//!   old or wholly new, and the next run rolls the rest back from the journal. A failed or
//!   interrupted run (Ctrl-C, SIGTERM) rolls back itself, so `DIR` is as it was.
//! - **One writer at a time:** an exclusive lock on `DIR/.infera-render.lock` (`lock.rs`); a
//!   second run waits for the first, up to `--lock-timeout`.
//! - **Nothing foreign is lost:** `DIR/.infera-render-manifest.json` records every file this tool
//!   wrote, with its SHA-256. A file that is not in the manifest, or that changed since, is never
//!   overwritten or deleted: the run stops and names it. Files written by a previous run that the
//!   new output no longer has are removed (unless they were edited). Other files in a region
//!   folder are kept in the new folder.
//! - **No escape through symlinks:** no write goes through a symbolic link inside `DIR`.

mod lock;
#[cfg(test)]
mod tests;
mod transaction;

use crate::interrupt::Interrupt;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;
use transaction::{Change, Content};

/// The manifest of files written by infera-render, inside the output folder.
pub const MANIFEST: &str = ".infera-render-manifest.json";
/// Names infera-render keeps for itself inside the output folder.
const OWN_PREFIX: &str = ".infera-render";

/// Why writing failed (nothing in the folder changed).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Files the run would overwrite or delete but must not.
    #[error("{}", .0.join("; "))]
    Conflicts(Vec<String>),
    /// An I/O failure.
    #[error("{0}")]
    Io(String),
    /// Another run held the folder's lock for longer than the timeout.
    #[error("another infera-render{} is writing the folder", pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default())]
    Locked {
        /// The other run's process id, if it wrote it.
        pid: Option<u32>,
        /// How long this run waited.
        waited: Duration,
    },
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) stopped the run.
    #[error("interrupted")]
    Interrupted,
    /// The run decided not to write, having seen what the folder holds (a destructive change
    /// without `--allow-destructive`).
    #[error("{}", .0.join("; "))]
    Refused(Vec<String>),
}

/// What the folder holds from earlier runs, read under its lock.
pub type Previous = infera_render::diff::Previous;

/// What to write, decided from [`Previous`].
#[derive(Debug, Default)]
pub struct Prepared {
    /// Relative path → content.
    pub files: Vec<(String, String)>,
    /// The objects earlier runs wrote that the output no longer has, kept in the manifest.
    pub removed: Vec<infera_render::diff::ObjectRef>,
    /// The FoundationDB upgrade APPLY.md orders, kept in the manifest.
    pub upgrade: Option<infera_render::diff::Upgrade>,
}

/// How to write.
#[derive(Debug, Default)]
pub struct WriteOptions {
    /// Only files under these prefixes (`us-west-1/`) may be removed as stale; `None`: any.
    pub scope: Option<Vec<String>>,
    /// How long to wait for another run's lock.
    pub lock_timeout: Duration,
    /// Set by a signal: the run stops and rolls back.
    pub interrupt: Interrupt,
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
    /// What an interrupted earlier run left, and how this run put it right.
    pub recovered: Vec<String>,
    /// Files someone else added while a run worked, and where they were kept.
    pub rescued: Vec<String>,
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn io_error(what: &str, path: &Path, error: &io::Error) -> WriteError {
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
    /// Objects earlier runs wrote that the output no longer has and that may still run in a
    /// cluster: APPLY.md lists them until `--forget-removed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    removed_objects: Vec<infera_render::diff::ObjectRef>,
    /// The FoundationDB upgrade an earlier run started: APPLY.md keeps ordering it while the
    /// spec's version is its target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_upgrade: Option<infera_render::diff::Upgrade>,
}

/// The manifest as read: the files, the removed objects, the pending upgrade.
#[derive(Debug, Default, PartialEq)]
struct Manifest {
    files: BTreeMap<String, String>,
    removed: Vec<infera_render::diff::ObjectRef>,
    upgrade: Option<infera_render::diff::Upgrade>,
}

/// The manifest: relative path → SHA-256 of the content written, and the removed objects.
fn read_manifest(dir: &Path) -> Result<Manifest, WriteError> {
    let path = dir.join(MANIFEST);
    match fs::symlink_metadata(&path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Manifest::default()),
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
    Ok(Manifest {
        files: manifest.files,
        removed: manifest.removed_objects,
        upgrade: manifest.pending_upgrade,
    })
}

fn manifest_text(manifest: &Manifest) -> String {
    let manifest = WriteManifest {
        generator: "infera-render".to_owned(),
        note: "files infera-render wrote here, with their SHA-256; it never overwrites or deletes other files".to_owned(),
        files: manifest.files.clone(),
        removed_objects: manifest.removed.clone(),
        pending_upgrade: manifest.upgrade.clone(),
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

/// What the folder holds of `manifest`: its files as they are in `dir` now (regular files with
/// UTF-8 text, reached without a symbolic link), and the paths it lists that are not such a file
/// any more (writing reports them).
fn previous(dir: &Path, manifest: &Manifest) -> Result<Previous, WriteError> {
    let mut files = BTreeMap::new();
    let mut unreadable = Vec::new();
    for relative in manifest.files.keys() {
        if !safe_relative(relative) || relative.starts_with(OWN_PREFIX) {
            continue;
        }
        let mut parent_conflicts = Vec::new();
        check_parents(dir, relative, &mut parent_conflicts);
        // A link or a file in the way of its folder: writing stops on it (a conflict).
        if !parent_conflicts.is_empty() {
            continue;
        }
        let target = dir.join(relative);
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_file() => {
                let bytes = fs::read(&target).map_err(|error| io_error("read", &target, &error))?;
                match String::from_utf8(bytes) {
                    Ok(text) => {
                        files.insert(relative.clone(), text);
                    }
                    Err(_) => unreadable.push(relative.clone()),
                }
            }
            Ok(_) => unreadable.push(relative.clone()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                unreadable.push(relative.clone());
            }
            Err(error) => return Err(io_error("inspect", &target, &error)),
        }
    }
    Ok(Previous {
        files,
        removed: manifest.removed.clone(),
        unreadable,
        upgrade: manifest.upgrade.clone(),
    })
}

/// What `dir` holds from earlier runs, without locking or changing anything (`diff`). A missing
/// folder holds nothing.
///
/// # Errors
/// When the folder or its manifest cannot be read.
pub fn read_previous(dir: &Path) -> Result<Previous, WriteError> {
    match fs::metadata(dir) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Previous::default()),
        Err(error) => return Err(io_error("read", dir, &error)),
        Ok(meta) if !meta.is_dir() => {
            return Err(WriteError::Io(format!(
                "{} exists and is not a directory",
                dir.display()
            )));
        }
        Ok(_) => {}
    }
    let manifest = read_manifest(dir)?;
    previous(dir, &manifest)
}

/// The SHA-256 of the file at `relative` as it is now: from what [`previous`] read under the
/// lock, or read here when it is not text (a file this tool did not write, or edited).
fn current_hash(on_disk: &Previous, relative: &str, target: &Path) -> Result<String, WriteError> {
    Ok(match on_disk.files.get(relative) {
        Some(text) => sha256(text.as_bytes()),
        None => sha256(&fs::read(target).map_err(|error| io_error("read", target, &error))?),
    })
}

/// Writes `files` (relative path → content) into `dir`: [`write_with`] with nothing to decide.
///
/// # Errors
/// [`WriteError`]; in every case `dir` holds what it held before (a lock file aside).
#[cfg(test)]
pub fn write(
    dir: &Path,
    files: &[(String, String)],
    options: &WriteOptions,
) -> Result<WriteReport, WriteError> {
    write_with(dir, options, |previous| {
        Ok(Prepared {
            files: files.to_vec(),
            removed: previous.removed.clone(),
            upgrade: previous.upgrade.clone(),
        })
    })
}

/// Writes what `prepare` decides from the folder's [`Previous`] contents into `dir`, under its
/// lock, after putting right what an interrupted run left.
///
/// # Errors
/// [`WriteError`]; in every case `dir` holds what it held before (a lock file aside).
pub fn write_with(
    dir: &Path,
    options: &WriteOptions,
    prepare: impl FnOnce(&Previous) -> Result<Prepared, WriteError>,
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
    let lock = lock::acquire(dir, options.lock_timeout, &options.interrupt)?;
    let result = write_locked(dir, options, prepare);
    if result.is_err() {
        lock.release_after_failure();
    }
    result
}

/// [`write`] once the folder is locked.
fn write_locked(
    dir: &Path,
    options: &WriteOptions,
    prepare: impl FnOnce(&Previous) -> Result<Prepared, WriteError>,
) -> Result<WriteReport, WriteError> {
    let mut notices = transaction::recover(dir)?;
    transaction::remove_legacy_staging(dir, &mut notices)?;
    let mut report = WriteReport {
        recovered: notices.notes,
        rescued: notices.warnings,
        ..WriteReport::default()
    };
    let manifest = read_manifest(dir)?;
    let on_disk = previous(dir, &manifest)?;
    let Prepared {
        files,
        removed,
        upgrade,
    } = prepare(&on_disk)?;
    let files = &files;
    let previous = &manifest.files;
    let mut conflicts = Vec::new();
    let mut writes: Vec<(&str, &str)> = Vec::new();
    let mut next_manifest: BTreeMap<String, String> = previous.clone();
    let new_paths: BTreeSet<&str> = files.iter().map(|(path, _)| path.as_str()).collect();

    for (relative, contents) in files {
        if !safe_relative(relative) || relative.starts_with(OWN_PREFIX) {
            conflicts.push(format!("refusing the unsafe output path `{relative}`"));
            continue;
        }
        check_parents(dir, relative, &mut conflicts);
        let target = dir.join(relative);
        let hash = sha256(contents.as_bytes());
        match fs::symlink_metadata(&target) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => writes.push((relative, contents)),
            Err(error) => return Err(io_error("inspect", &target, &error)),
            Ok(meta) if !meta.file_type().is_file() => conflicts.push(format!(
                "{} exists and is not a regular file (a link or a directory); infera-render will not replace it",
                target.display()
            )),
            Ok(_) => {
                let existing_hash = current_hash(&on_disk, relative, &target)?;
                if existing_hash == hash {
                    report.unchanged += 1;
                } else if previous.get(relative.as_str()) == Some(&existing_hash) {
                    writes.push((relative, contents));
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
    for (relative, hash) in previous {
        let in_scope = options.scope.as_ref().is_none_or(|prefixes| {
            prefixes
                .iter()
                .any(|prefix| relative.starts_with(prefix.as_str()))
        });
        if new_paths.contains(relative.as_str())
            || !in_scope
            || !safe_relative(relative)
            || relative.starts_with(OWN_PREFIX)
        {
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
                if current_hash(&on_disk, relative, &target)? == *hash {
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
    let next = Manifest {
        files: next_manifest,
        removed,
        upgrade,
    };
    if writes.is_empty() && stale.is_empty() && next == manifest {
        return Ok(report);
    }
    let manifest = manifest_text(&next);
    let changes = units(&writes, &stale, &manifest);
    let notices = transaction::commit(dir, &changes, &options.interrupt)?;
    report.rescued.extend(notices.warnings);
    report.written = writes.len();
    report.removed = stale;
    Ok(report)
}

/// The top-level entries the run changes, in the order they are swapped: region folders, then
/// files, the manifest last (it changes once every file it describes is in place).
fn units<'a>(
    writes: &[(&'a str, &'a str)],
    stale: &'a [String],
    manifest: &'a str,
) -> Vec<Change<'a>> {
    let mut folders: BTreeMap<&str, (BTreeMap<String, &str>, BTreeSet<String>)> = BTreeMap::new();
    let mut top_files: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for (relative, contents) in writes {
        match relative.split_once('/') {
            Some((folder, inside)) => {
                folders
                    .entry(folder)
                    .or_default()
                    .0
                    .insert(inside.to_owned(), *contents);
            }
            None => {
                top_files.insert(relative, Some(*contents));
            }
        }
    }
    for relative in stale {
        match relative.split_once('/') {
            Some((folder, inside)) => {
                folders
                    .entry(folder)
                    .or_default()
                    .1
                    .insert(inside.to_owned());
            }
            None => {
                top_files.insert(relative, None);
            }
        }
    }
    let mut changes: Vec<Change> = folders
        .into_iter()
        .map(|(name, (write, remove))| Change {
            name: name.to_owned(),
            content: Content::Folder { write, remove },
        })
        .collect();
    changes.extend(top_files.into_iter().map(|(name, contents)| Change {
        name: name.to_owned(),
        content: Content::File(contents),
    }));
    changes.push(Change {
        name: MANIFEST.to_owned(),
        content: Content::File(Some(manifest)),
    });
    changes
}
