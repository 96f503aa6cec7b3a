//! One writer per output folder: an exclusive `flock` on `DIR/.infera-render.lock`.
//!
//! The lock goes with the process (the kernel drops it when the file is closed, however the
//! process ends), so a killed run never leaves the folder locked. The file stays, except when
//! the run that created it fails (so a failed first run leaves the folder as it was); a waiting
//! run that then holds the lock of a deleted file notices (the path no longer has its inode)
//! and locks the new file instead. Nothing is written into the file (a run that fails leaves the
//! folder byte-identical); the holder's pid, for the message of a run that waits in vain, comes
//! from the kernel's table of locks (`/proc/locks`, Linux).

use super::WriteError;
use crate::interrupt::Interrupt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, ErrorKind};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// The lock file inside the output folder.
pub const LOCK: &str = ".infera-render.lock";

/// How often a waiting run tries again.
const POLL: Duration = Duration::from_millis(25);

/// The held lock; dropping it releases the folder.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: std::path::PathBuf,
    /// Whether this run created the lock file.
    created: bool,
}

impl DirLock {
    /// Releases the lock of a run that failed, deleting the lock file if this run created it.
    pub fn release_after_failure(self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
        drop(self.file);
    }
}

/// Opens the lock file, creating it if needed; `true` if this call created it.
fn open(path: &Path) -> io::Result<(File, bool)> {
    let no_follow = rustix::fs::OFlags::NOFOLLOW.bits().cast_signed();
    let mut options = OpenOptions::new();
    options.read(true).write(true).custom_flags(no_follow);
    match options.clone().create_new(true).open(path) {
        Ok(file) => return Ok((file, true)),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    match options.open(path) {
        // A read-only folder can still be locked through an existing file (flock needs no
        // write access); the write itself then fails and names the reason.
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied
            ) =>
        {
            OpenOptions::new()
                .read(true)
                .custom_flags(no_follow)
                .open(path)
                .map_err(|_| error)
        }
        result => result,
    }
    .map(|file| (file, false))
}

/// Whether `path` is still the file `file` has open (a run that created it may have removed it).
fn still_there(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(on_disk), Ok(open)) => on_disk.ino() == open.ino() && on_disk.dev() == open.dev(),
        _ => false,
    }
}

/// The pid of the process that holds a `flock` on the file at `path`, from `/proc/locks`
/// (lines like `1: FLOCK  ADVISORY  WRITE 4242 00:2a:1234567 0 EOF`: the pid, then the
/// device as `major:minor` and the inode).
fn holder(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).ok()?.ino();
    let table = std::fs::read_to_string("/proc/locks").ok()?;
    table.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (kind, pid, file) = (fields.get(1)?, fields.get(4)?, fields.get(5)?);
        let on_inode = file.rsplit(':').next()?.parse::<u64>().ok()? == inode;
        (*kind == "FLOCK" && on_inode)
            .then(|| pid.parse().ok())
            .flatten()
    })
}

/// Locks `dir` for this process, waiting up to `timeout` for another run to finish.
///
/// # Errors
/// [`WriteError::Locked`] when another run holds the lock after `timeout`,
/// [`WriteError::Interrupted`] on a signal while waiting, [`WriteError::Io`] when the lock file
/// cannot be opened, [`WriteError::Conflicts`] when it is not a regular file.
pub fn acquire(
    dir: &Path,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<DirLock, WriteError> {
    let path = dir.join(LOCK);
    if let Ok(meta) = std::fs::symlink_metadata(&path)
        && !meta.file_type().is_file()
    {
        return Err(WriteError::Conflicts(vec![format!(
            "{} is not a regular file (a symbolic link?); infera-render locks the folder with it: move it away",
            path.display()
        )]));
    }
    let start = Instant::now();
    let (file, created) = loop {
        let (file, created) = open(&path).map_err(|error| {
            WriteError::Io(format!(
                "cannot open the lock file {}: {error}",
                path.display()
            ))
        })?;
        if lock(&file, &path, start, timeout, interrupt)? && still_there(&path, &file) {
            break (file, created);
        }
    };
    Ok(DirLock {
        file,
        path,
        created,
    })
}

/// Waits for the lock on `file`; `Ok(true)` once held.
fn lock(
    file: &File,
    path: &Path,
    start: Instant,
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<bool, WriteError> {
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(error)) => {
                return Err(WriteError::Io(format!(
                    "cannot lock {}: {error}",
                    path.display()
                )));
            }
        }
        if interrupt.is_set() {
            return Err(WriteError::Interrupted);
        }
        if start.elapsed() >= timeout {
            return Err(WriteError::Locked {
                pid: holder(path),
                waited: timeout,
            });
        }
        std::thread::sleep(POLL);
    }
}
