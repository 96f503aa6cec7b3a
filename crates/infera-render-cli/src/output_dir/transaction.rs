//! Replacing parts of the output folder so that a killed run leaves each part wholly old or
//! wholly new, and the next run puts the rest right.
//!
//! A *unit* is one top-level entry the run changes: a region folder, `APPLY.md`,
//! `outputs.json`, the tailnet policy, the manifest. Each changed unit is first staged complete
//! in `DIR/.infera-render-txn/new-<n>` (a folder with its new files plus, hard-linked, every
//! file of the current folder the run keeps: unchanged files, foreign files, edited ones), then
//! swapped with the live entry in one `renameat2(RENAME_EXCHANGE)` (Linux; elsewhere, or on a
//! file system without it, two renames). The old entry ends in `old-<n>`.
//!
//! The journal `DIR/.infera-render-txn/journal.json` is written before the first swap. It lists
//! the units with the inode of each version and of every entry in it, which is how a later run
//! tells what a killed one had done: the inode at `DIR/<unit>` says which version is live. Its
//! state is `swapping` until every unit is in place and `committed` after (each write of it is
//! a rename, so it is whole or absent). The next run, under the folder's lock:
//! - no journal: the run died while staging; nothing in `DIR` changed, the staging goes;
//! - `swapping`: it died while swapping; every swapped unit is swapped back, so `DIR` is as it
//!   was before that run;
//! - `committed`: it died while cleaning up; the clean-up is finished.
//!
//! A version that leaves `DIR` is checked against its listing before it is deleted: an entry
//! the listing does not have (or has with another inode) was added or replaced by someone else
//! while the run worked, and is moved into the live folder rather than lost.

use super::{WriteError, io_error};
use crate::interrupt::Interrupt;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The folder of a run in progress, inside the output folder.
pub const TXN: &str = ".infera-render-txn";
const JOURNAL: &str = "journal.json";
const JOURNAL_TMP: &str = "journal.json.tmp";

/// What one unit becomes.
#[derive(Debug)]
pub enum Content<'a> {
    /// A folder: the files to write (path inside the folder → content) and the files of a
    /// previous run to drop. Everything else in the current folder is kept.
    Folder {
        /// Files created or replaced.
        write: BTreeMap<String, &'a str>,
        /// Files removed (and folders this empties).
        remove: BTreeSet<String>,
    },
    /// A file with this content, or removed (`None`).
    File(Option<&'a str>),
}

/// One top-level entry of the output folder that the run changes.
#[derive(Debug)]
pub struct Change<'a> {
    /// Its name in the output folder.
    pub name: String,
    /// What it becomes.
    pub content: Content<'a>,
}

/// What the user should hear about (none of it is an error).
#[derive(Debug, Default)]
pub struct Notices {
    /// What a previous, interrupted run left and this one put right.
    pub notes: Vec<String>,
    /// Files someone else added or replaced while a run worked, and where they were kept.
    pub warnings: Vec<String>,
}

/// One version of a unit: the inode of its top entry and, for a folder, of every entry in it
/// (relative path → inode; folders end in `/`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Version {
    inode: u64,
    #[serde(default)]
    entries: BTreeMap<String, u64>,
}

/// A unit as the journal records it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Unit {
    /// Its name in the output folder.
    name: String,
    /// Whether it is a folder.
    folder: bool,
    /// The staged version (`None`: the unit is removed).
    new: Option<Version>,
    /// The version that was live when the run staged (`None`: the unit is created).
    old: Option<Version>,
}

#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    /// Units are being swapped: a run that dies now is rolled back.
    Swapping,
    /// Every unit is in place: a run that dies now is finished.
    Committed,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Journal {
    generator: String,
    note: String,
    pid: u32,
    state: State,
    units: Vec<Unit>,
}

#[cfg(test)]
thread_local! {
    /// Test-only fault injection: fail the n-th move (1-based), as a full disk would.
    pub static FAIL_AT_MOVE: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// Test-only: stop dead at the n-th move, as a killed process would (no rollback).
    pub static ABANDON_AT_MOVE: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// Test-only: act as on a file system without `RENAME_EXCHANGE`.
    pub static NO_EXCHANGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Test-only: the moves so far.
    pub static MOVES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static ABANDONED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Test-only: runs after staging, before the first swap (someone else editing the folder).
    pub static AFTER_STAGING: std::cell::Cell<Option<fn(&Path)>> = const { std::cell::Cell::new(None) };
}

/// Test-only: lets the next run act again after a stop.
#[cfg(test)]
pub fn reset_abandoned() {
    ABANDONED.with(|abandoned| abandoned.set(false));
}

/// Whether a test stopped the run dead (it must then neither roll back nor clean up).
fn abandoned() -> bool {
    #[cfg(test)]
    {
        ABANDONED.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// Counts a move for the test-only fault injection.
fn count_move() -> io::Result<()> {
    #[cfg(test)]
    {
        let count = MOVES.with(|moves| {
            moves.set(moves.get() + 1);
            moves.get()
        });
        if FAIL_AT_MOVE.with(std::cell::Cell::get) == Some(count) {
            return Err(io::Error::other("injected failure"));
        }
        if ABANDON_AT_MOVE.with(std::cell::Cell::get) == Some(count) {
            ABANDONED.with(|abandoned| abandoned.set(true));
            return Err(io::Error::other("abandoned"));
        }
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> io::Result<()> {
    count_move()?;
    fs::rename(from, to)
}

/// Moves `from` to `to`, failing if `to` exists (where the system can tell atomically).
fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    count_move()?;
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(errno) if !unsupported(errno) => return Err(errno.into()),
            Err(_) => {}
        }
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

#[cfg(target_os = "linux")]
fn unsupported(errno: rustix::io::Errno) -> bool {
    use rustix::io::Errno;
    errno == Errno::INVAL || errno == Errno::NOSYS || errno == Errno::OPNOTSUPP
}

/// Exchanges `a` and `b` atomically; `Ok(false)` when the system or file system cannot.
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(test)]
    if NO_EXCHANGE.with(std::cell::Cell::get) {
        return Ok(false);
    }
    count_move()?;
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(true),
            Err(errno) if !unsupported(errno) => return Err(errno.into()),
            Err(_) => {}
        }
    }
    let _ = (a, b);
    Ok(false)
}

/// Puts `version` at `live` and what was at `live` at `aside` (a free path): one atomic
/// exchange where possible, else two renames (between which `live` is briefly absent, which the
/// journal covers).
fn swap_into_place(version: &Path, live: &Path, aside: &Path) -> io::Result<()> {
    if exchange(version, live)? {
        rename(version, aside)
    } else {
        rename(live, aside)?;
        rename(version, live)
    }
}

/// The inode at `path` (not following a link), `None` if nothing is there.
fn inode(path: &Path) -> io::Result<Option<u64>> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta.ino())),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

fn slot(txn: &Path, kind: &str, index: usize) -> PathBuf {
    txn.join(format!("{kind}-{index}"))
}

/// A hard link to `from` (inode `inode`) at `to`, or a copy where the file system refuses the
/// link; returns the inode at `to`.
fn link_or_copy(from: &Path, to: &Path, inode: u64) -> io::Result<u64> {
    if fs::hard_link(from, to).is_ok() {
        return Ok(inode);
    }
    fs::copy(from, to)?;
    Ok(fs::symlink_metadata(to)?.ino())
}

/// The inode at `path`, which must exist.
fn inode_of(path: &Path) -> Result<u64, WriteError> {
    fs::symlink_metadata(path)
        .map(|meta| meta.ino())
        .map_err(|error| io_error("inspect", path, &error))
}

/// The listings of a folder's two versions, built while staging: relative path → inode.
#[derive(Default)]
struct Listings {
    /// Every entry of the live folder (the old version).
    seen: BTreeMap<String, u64>,
    /// Every entry of the staged folder (the new version).
    kept: BTreeMap<String, u64>,
}

/// Copies the folder `live` into `staged` (which exists), hard-linking its files, skipping the
/// relative paths `skip` names, and records both versions' entries. Folders keep their
/// permissions.
fn carry(
    live: &Path,
    staged: &Path,
    prefix: &str,
    skip: &dyn Fn(&str) -> bool,
    listings: &mut Listings,
    interrupt: &Interrupt,
) -> Result<(), WriteError> {
    let entries = fs::read_dir(live).map_err(|error| io_error("read", live, &error))?;
    for entry in entries {
        if interrupt.is_set() {
            return Err(WriteError::Interrupted);
        }
        let entry = entry.map_err(|error| io_error("read", live, &error))?;
        let from = entry.path();
        let to = staged.join(entry.file_name());
        let relative = format!("{prefix}{}", entry.file_name().to_string_lossy());
        // Not following a link (`DirEntry::metadata` does not).
        let meta = entry
            .metadata()
            .map_err(|error| io_error("inspect", &from, &error))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            let relative = format!("{relative}/");
            listings.seen.insert(relative.clone(), meta.ino());
            fs::create_dir(&to).map_err(|error| io_error("create", &to, &error))?;
            listings.kept.insert(relative.clone(), inode_of(&to)?);
            carry(&from, &to, &relative, skip, listings, interrupt)?;
            fs::set_permissions(&to, meta.permissions())
                .map_err(|error| io_error("set the permissions of", &to, &error))?;
            continue;
        }
        listings.seen.insert(relative.clone(), meta.ino());
        if skip(&relative) {
        } else if kind.is_file() {
            let inode = link_or_copy(&from, &to, meta.ino())
                .map_err(|error| io_error("keep", &from, &error))?;
            listings.kept.insert(relative, inode);
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(|error| io_error("read", &from, &error))?;
            std::os::unix::fs::symlink(target, &to)
                .map_err(|error| io_error("keep the link", &from, &error))?;
            listings.kept.insert(relative, inode_of(&to)?);
        } else {
            return Err(WriteError::Conflicts(vec![format!(
                "{} is not a file, a folder or a link; infera-render cannot keep it in the new folder: move it away",
                from.display()
            )]));
        }
    }
    Ok(())
}

/// Writes `contents` to the staged file `staged`; errors name `target`, the output file it
/// stands for (a full disk fails here, so the user learns which file did not fit).
///
/// No `fsync`, like kubectl, kustomize and Helm: one per file made a three-region render four
/// times slower. The output is regenerated from the spec, and after a power loss mid-run the
/// manifest's hashes tell a file that never reached the disk from the one written.
/// Returns the staged file's inode.
fn write_staged(staged: &Path, target: &Path, contents: &[u8]) -> Result<u64, WriteError> {
    let write = || -> io::Result<u64> {
        let mut file = fs::File::create(staged)?;
        file.write_all(contents)?;
        Ok(file.metadata()?.ino())
    };
    write().map_err(|error| {
        WriteError::Io(format!(
            "cannot write {} (staged as {}): {error}",
            target.display(),
            staged.display()
        ))
    })
}

/// Stages `change` at `staged`; returns the unit's journal entry.
fn stage(
    dir: &Path,
    change: &Change,
    staged: &Path,
    interrupt: &Interrupt,
) -> Result<Unit, WriteError> {
    let live = dir.join(&change.name);
    let live_meta = match fs::symlink_metadata(&live) {
        Ok(meta) => Some(meta),
        Err(error) if error.kind() == ErrorKind::NotFound => None,
        Err(error) => return Err(io_error("inspect", &live, &error)),
    };
    match &change.content {
        Content::File(contents) => {
            let old = live_meta.map(|meta| Version {
                inode: meta.ino(),
                entries: BTreeMap::new(),
            });
            let new = match contents {
                Some(contents) => {
                    let inode = write_staged(staged, &live, contents.as_bytes())?;
                    Some(Version {
                        inode,
                        entries: BTreeMap::new(),
                    })
                }
                None => None,
            };
            Ok(Unit {
                name: change.name.clone(),
                folder: false,
                new,
                old,
            })
        }
        Content::Folder { write, remove } => {
            fs::create_dir(staged).map_err(|error| io_error("create", staged, &error))?;
            let mut listings = Listings::default();
            let old = match &live_meta {
                Some(meta) => {
                    let skip =
                        |relative: &str| write.contains_key(relative) || remove.contains(relative);
                    carry(&live, staged, "", &skip, &mut listings, interrupt)?;
                    Some(Version {
                        inode: meta.ino(),
                        entries: std::mem::take(&mut listings.seen),
                    })
                }
                None => None,
            };
            for (relative, contents) in write {
                if interrupt.is_set() {
                    return Err(WriteError::Interrupted);
                }
                let path = staged.join(relative);
                // Folders a rendered path needs that the live folder lacks (none today: the
                // files of a region are side by side).
                let mut folder = String::new();
                let parts: Vec<&str> = relative.split('/').collect();
                for part in &parts[..parts.len() - 1] {
                    folder.push_str(part);
                    folder.push('/');
                    if !listings.kept.contains_key(&folder) {
                        let at = staged.join(&folder);
                        fs::create_dir_all(&at).map_err(|error| io_error("create", &at, &error))?;
                        listings.kept.insert(folder.clone(), inode_of(&at)?);
                    }
                }
                let inode = write_staged(&path, &live.join(relative), contents.as_bytes())?;
                listings.kept.insert(relative.clone(), inode);
            }
            // Folders that removing a previous run's files empties go too.
            for relative in remove {
                let mut parent = staged.join(relative);
                while parent.pop() && parent != staged {
                    if fs::remove_dir(&parent).is_err() {
                        break;
                    }
                }
            }
            if let Some(meta) = &live_meta {
                fs::set_permissions(staged, meta.permissions())
                    .map_err(|error| io_error("set the permissions of", staged, &error))?;
            }
            let emptied = write.is_empty()
                && !remove.is_empty()
                && fs::read_dir(staged).is_ok_and(|mut entries| entries.next().is_none());
            let new = if emptied {
                fs::remove_dir(staged).map_err(|error| io_error("remove", staged, &error))?;
                None
            } else {
                // Entries of folders that removing files emptied stay listed: a listing may name
                // more than there is, never less.
                Some(Version {
                    inode: inode_of(staged)?,
                    entries: listings.kept,
                })
            };
            Ok(Unit {
                name: change.name.clone(),
                folder: true,
                new,
                old,
            })
        }
    }
}

fn write_journal(txn: &Path, journal: &Journal) -> Result<(), WriteError> {
    let mut text = serde_json::to_string(journal).unwrap_or_default();
    text.push('\n');
    let tmp = txn.join(JOURNAL_TMP);
    let path = txn.join(JOURNAL);
    write_staged(&tmp, &path, text.as_bytes())?;
    rename(&tmp, &path).map_err(|error| io_error("write", &path, &error))
}

/// Puts the staged version of unit `index` in place.
fn swap_in(dir: &Path, txn: &Path, index: usize, unit: &Unit) -> Result<(), WriteError> {
    let live = dir.join(&unit.name);
    let new = slot(txn, "new", index);
    let old = slot(txn, "old", index);
    let result = match (&unit.new, &unit.old) {
        (Some(_), Some(_)) => swap_into_place(&new, &live, &old),
        (Some(_), None) => rename_new(&new, &live),
        (None, Some(_)) => rename(&live, &old),
        (None, None) => Ok(()),
    };
    result.map_err(|error| io_error("replace", &live, &error))
}

/// Puts the old version of unit `index` back in place, from whatever state a run left it in
/// (found by inode); a version that leaves `DIR` goes to a free slot.
fn roll_back(dir: &Path, txn: &Path, index: usize, unit: &Unit) -> io::Result<()> {
    let live = dir.join(&unit.name);
    let slots = [
        slot(txn, "new", index),
        slot(txn, "old", index),
        slot(txn, "back", index),
    ];
    let live_inode = inode(&live)?;
    let old_inode = unit.old.as_ref().map(|version| version.inode);
    if live_inode == old_inode {
        return Ok(());
    }
    let new_inode = unit.new.as_ref().map(|version| version.inode);
    let mut located = None;
    let mut free = None;
    for path in &slots {
        match inode(path)? {
            Some(found) if Some(found) == old_inode => located = Some(path),
            None if free.is_none() => free = Some(path),
            _ => {}
        }
    }
    let free = free.ok_or_else(|| io::Error::other("no free slot"))?;
    match (live_inode, located) {
        // The new version is live: swap the old one back, or move it away if there was none.
        (Some(live_now), Some(old)) if Some(live_now) == new_inode => {
            swap_into_place(old, &live, free)
        }
        (Some(live_now), None) if Some(live_now) == new_inode && old_inode.is_none() => {
            rename(&live, free)
        }
        // Nothing is live (a removed unit, or between the two renames of a swap).
        (None, Some(old)) => rename(old, &live),
        // Someone else's entry, or nothing to do.
        _ => Ok(()),
    }
}

/// A free name for a rescued entry at `wanted`: itself, or with `.infera-render-kept[-n]`.
fn free_name(wanted: &Path) -> PathBuf {
    if fs::symlink_metadata(wanted).is_err() {
        return wanted.to_path_buf();
    }
    let base = wanted.as_os_str().to_string_lossy().into_owned();
    (0..)
        .map(|n| {
            PathBuf::from(if n == 0 {
                format!("{base}.infera-render-kept")
            } else {
                format!("{base}.infera-render-kept-{n}")
            })
        })
        .find(|candidate| fs::symlink_metadata(candidate).is_err())
        .unwrap_or_else(|| wanted.to_path_buf())
}

/// Moves every entry of the folder version at `root` that `known` does not list (or lists
/// with another inode) into the live folder `live`, so nothing someone else put there is lost.
fn rescue(
    root: &Path,
    prefix: &str,
    known: &BTreeMap<String, u64>,
    live: &Path,
    warnings: &mut Vec<String>,
) -> io::Result<()> {
    for entry in fs::read_dir(root.join(prefix))? {
        let entry = entry?;
        let meta = fs::symlink_metadata(entry.path())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = if meta.is_dir() {
            format!("{prefix}{name}/")
        } else {
            format!("{prefix}{name}")
        };
        let recorded = known.get(&key).copied();
        if recorded == Some(meta.ino()) {
            if meta.is_dir() {
                rescue(root, &key, known, live, warnings)?;
            }
            continue;
        }
        let wanted = live.join(prefix).join(entry.file_name());
        if inode(&wanted)? == Some(meta.ino()) {
            // The same file is live already (the run kept it by a hard link).
            continue;
        }
        if let Some(parent) = wanted.parent() {
            fs::create_dir_all(parent)?;
        }
        // The copy this run kept of an entry that was replaced since takes the newer one's
        // place; anything else is kept beside what is there.
        let kept_copy = recorded.is_some() && inode(&wanted)? == recorded && !meta.is_dir();
        let target = if kept_copy {
            wanted
        } else {
            free_name(&wanted)
        };
        fs::rename(entry.path(), &target)?;
        warnings.push(format!(
            "{} was added or replaced while infera-render was writing the folder; it was kept as {}",
            live.join(prefix).join(entry.file_name()).display(),
            target.display()
        ));
    }
    Ok(())
}

/// Rescues what others added to the versions leaving `DIR`, then deletes the run's folder.
fn discard(dir: &Path, txn: &Path, units: &[Unit], notices: &mut Notices) -> io::Result<()> {
    for (index, unit) in units.iter().enumerate() {
        if !unit.folder {
            continue;
        }
        let live = dir.join(&unit.name);
        for kind in ["new", "old", "back"] {
            let path = slot(txn, kind, index);
            let Some(found) = inode(&path)? else {
                continue;
            };
            let version = [&unit.new, &unit.old]
                .into_iter()
                .flatten()
                .find(|version| version.inode == found);
            if let Some(version) = version {
                rescue(&path, "", &version.entries, &live, &mut notices.warnings)?;
            }
        }
    }
    match fs::remove_file(txn.join(JOURNAL)) {
        Err(error) if error.kind() != ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    fs::remove_dir_all(txn)
}

/// Changes the output folder `dir` as `changes` say, unit by unit, crash-consistently (the
/// module's comment). On an error or a signal every unit is put back, so `dir` is as it was.
///
/// # Errors
/// [`WriteError::Io`] (rolled back), [`WriteError::Conflicts`] for an entry that cannot be kept
/// (before anything changed), [`WriteError::Interrupted`] after a signal (rolled back).
pub fn commit(
    dir: &Path,
    changes: &[Change],
    interrupt: &Interrupt,
) -> Result<Notices, WriteError> {
    let txn = dir.join(TXN);
    fs::create_dir(&txn).map_err(|error| io_error("create", &txn, &error))?;
    let mut notices = Notices::default();
    let mut units = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        match stage(dir, change, &slot(&txn, "new", index), interrupt) {
            Ok(unit) => units.push(unit),
            Err(error) => {
                let _ = fs::remove_dir_all(&txn);
                return Err(error);
            }
        }
    }
    let mut journal = Journal {
        generator: "infera-render".to_owned(),
        note: "a run of infera-render in progress: the next run finishes or rolls it back; do not edit".to_owned(),
        pid: std::process::id(),
        state: State::Swapping,
        units,
    };
    let swapped = (|| {
        if interrupt.is_set() {
            return Err(WriteError::Interrupted);
        }
        write_journal(&txn, &journal)?;
        #[cfg(test)]
        if let Some(hook) = AFTER_STAGING.with(std::cell::Cell::get) {
            hook(dir);
        }
        for (index, unit) in journal.units.iter().enumerate() {
            if interrupt.is_set() {
                return Err(WriteError::Interrupted);
            }
            swap_in(dir, &txn, index, unit)?;
        }
        journal.state = State::Committed;
        write_journal(&txn, &journal)
    })();
    if let Err(error) = swapped {
        if abandoned() {
            return Err(error);
        }
        for (index, unit) in journal.units.iter().enumerate().rev() {
            if let Err(rollback) = roll_back(dir, &txn, index, unit) {
                return Err(WriteError::Io(format!(
                    "{error}; then rolling back failed too ({rollback}): the next run of infera-render on {} rolls back from its journal",
                    dir.display()
                )));
            }
        }
        let _ = discard(dir, &txn, &journal.units, &mut notices);
        for warning in &notices.warnings {
            crate::report::warning(warning);
        }
        return Err(error);
    }
    if let Err(error) = discard(dir, &txn, &journal.units, &mut notices) {
        notices.warnings.push(format!(
            "the new files are in place, but cleaning up {} failed ({error}); the next run finishes it",
            txn.display()
        ));
    }
    Ok(notices)
}

/// Finishes or rolls back a run that was killed in `dir` (the module's comment).
///
/// # Errors
/// [`WriteError::Io`] when the folder cannot be put right, [`WriteError::Conflicts`] when the
/// journal is not one infera-render wrote.
pub fn recover(dir: &Path) -> Result<Notices, WriteError> {
    let txn = dir.join(TXN);
    let mut notices = Notices::default();
    match fs::symlink_metadata(&txn) {
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(notices),
        Err(error) => return Err(io_error("inspect", &txn, &error)),
        Ok(meta) if !meta.is_dir() => {
            return Err(WriteError::Conflicts(vec![format!(
                "{} is not a folder; infera-render keeps its runs in progress there: move it away",
                txn.display()
            )]));
        }
        Ok(_) => {}
    }
    let journal_path = txn.join(JOURNAL);
    let text = match fs::read_to_string(&journal_path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == ErrorKind::NotFound => None,
        Err(error) => return Err(io_error("read", &journal_path, &error)),
    };
    let Some(text) = text else {
        // The run died while staging: nothing in `dir` changed.
        fs::remove_dir_all(&txn).map_err(|error| io_error("remove", &txn, &error))?;
        notices.notes.push(format!(
            "removed {}, what an interrupted run had staged; nothing else had changed",
            txn.display()
        ));
        return Ok(notices);
    };
    let journal: Journal = serde_json::from_str(&text).map_err(|error| {
        WriteError::Conflicts(vec![format!(
            "{} is not a journal infera-render wrote ({error}); look at what is in {}, then move it away",
            journal_path.display(),
            txn.display()
        )])
    })?;
    let put_right = |error: io::Error| {
        WriteError::Io(format!(
            "cannot put right what an interrupted run (pid {}) left in {}: {error}",
            journal.pid,
            dir.display()
        ))
    };
    if journal.state == State::Swapping {
        for (index, unit) in journal.units.iter().enumerate().rev() {
            roll_back(dir, &txn, index, unit).map_err(put_right)?;
        }
        notices.notes.push(format!(
            "rolled back a run (pid {}) that was interrupted while it replaced files: {} is as it was before that run",
            journal.pid,
            dir.display()
        ));
    } else {
        notices.notes.push(format!(
            "finished the clean-up of a run (pid {}) that was interrupted after its files were in place",
            journal.pid
        ));
    }
    discard(dir, &txn, &journal.units, &mut notices).map_err(put_right)?;
    Ok(notices)
}

/// The staging folders of earlier builds (`.infera-render-staging-<pid>`), which a killed run
/// left behind: they hold only what infera-render wrote, so those of processes that no
/// longer run are removed.
pub fn remove_legacy_staging(dir: &Path, notices: &mut Notices) -> Result<(), WriteError> {
    const LEGACY: &str = ".infera-render-staging-";
    let entries = fs::read_dir(dir).map_err(|error| io_error("read", dir, &error))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(LEGACY)
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let running = rustix::process::Pid::from_raw(pid)
            .is_some_and(|pid| rustix::process::test_kill_process(pid).is_ok());
        if running {
            continue;
        }
        let path = entry.path();
        fs::remove_dir_all(&path).map_err(|error| io_error("remove", &path, &error))?;
        notices.notes.push(format!(
            "removed {}, left by an interrupted run of an earlier infera-render",
            path.display()
        ));
    }
    Ok(())
}
