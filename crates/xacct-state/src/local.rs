//! The default backend: a JSON file on local disk, with a lock file beside it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;

use crate::{check_persist, decode_from, encode, Backend, LockInfo, State, StateError};

/// State in a local file (default `state/default.json` beside the desired-state file).
///
/// - Writes are atomic: a temp file in the same directory is written, fsynced and renamed over the
///   state, then the directory is fsynced. A crash at any moment leaves either the old or the new
///   state, never a mix.
/// - The version replaced by each write is kept as `<path>.backup`.
/// - Files are created with mode 0600; the parent directory is created when missing.
/// - The lock is `<path>.lock`, holding the [`LockInfo`] JSON. It is written to a temp file and
///   hard-linked into place (exclusive: the link fails when the lock exists), so it never exists
///   without its record. A lock left by a killed process stays until `xacct force-unlock <ID>`.
///
/// File I/O is blocking; state files are small, so it is done inline.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    path: PathBuf,
}

impl LocalBackend {
    /// A backend storing state at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalBackend { path: path.into() }
    }

    /// The default location for a desired-state file: `state/default.json` in its directory.
    pub fn beside(desired_file: &Path) -> Self {
        let dir = desired_file.parent().unwrap_or_else(|| Path::new(""));
        LocalBackend::new(dir.join("state").join("default.json"))
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<path>.lock`.
    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    /// `<path>.backup`: the state as it was before the last write.
    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    fn origin(&self) -> String {
        self.path.display().to_string()
    }

    fn read_state(&self) -> Result<Option<State>, StateError> {
        match fs::read(&self.path) {
            Ok(bytes) => decode_from(&self.origin(), &bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::io("read state file", &self.path, e)),
        }
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn ensure_dir(&self) -> Result<PathBuf, StateError> {
        let dir = self.dir();
        fs::create_dir_all(&dir).map_err(|e| StateError::io("create state directory", &dir, e))?;
        Ok(dir)
    }

    /// Replace the state file with `bytes`, keeping the old one as the backup.
    fn write_atomic(&self, bytes: &[u8]) -> Result<(), StateError> {
        let dir = self.ensure_dir()?;
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.{:08x}.tmp", std::process::id(), rand::random::<u32>()));
        let result = (|| {
            let mut f = create_private(&tmp).map_err(|e| StateError::io("create temporary state file", &tmp, e))?;
            f.write_all(bytes).map_err(|e| StateError::io("write temporary state file", &tmp, e))?;
            f.sync_all().map_err(|e| StateError::io("sync temporary state file", &tmp, e))?;
            drop(f);
            self.keep_backup(&dir, &name)?;
            fs::rename(&tmp, &self.path).map_err(|e| StateError::io("replace state file", &self.path, e))?;
            sync_dir(&dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        if result.is_ok() {
            remove_orphans(&dir, &name);
        }
        result
    }

    /// Point `<path>.backup` at the current state's bytes, atomically (hard link, or copy when the
    /// file system has none), before the state is replaced.
    fn keep_backup(&self, dir: &Path, name: &str) -> Result<(), StateError> {
        if !self.path.exists() {
            return Ok(());
        }
        let backup = self.backup_path();
        let tmp = dir.join(format!(".{name}.{}.{:08x}.bak", std::process::id(), rand::random::<u32>()));
        let made = fs::hard_link(&self.path, &tmp).or_else(|_| {
            let bytes = fs::read(&self.path)?;
            let mut f = create_private(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()
        });
        let result =
            made.and_then(|()| fs::rename(&tmp, &backup)).map_err(|e| StateError::io("write state backup", &backup, e));
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn read_lock(&self) -> Result<Option<LockInfo>, StateError> {
        let path = self.lock_path();
        // The holder creates the file, then writes it: a reader can see it empty for an instant.
        let mut last = String::new();
        for attempt in 0..20 {
            match fs::read(&path) {
                Ok(bytes) => match serde_json::from_slice::<LockInfo>(&bytes) {
                    Ok(info) => return Ok(Some(info)),
                    Err(e) => last = e.to_string(),
                },
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(StateError::io("read lock file", &path, e)),
            }
            std::thread::sleep(Duration::from_millis(5 * (attempt + 1)));
        }
        Err(StateError::LockUnreadable { path, reason: last })
    }

    fn release(&self, id: &str) -> Result<(), StateError> {
        let path = self.lock_path();
        match self.read_lock()? {
            None => Err(StateError::NotLocked { given: id.to_string() }),
            Some(holder) if holder.id != id => Err(StateError::LockIdMismatch { given: id.to_string(), holder }),
            Some(_) => match fs::remove_file(&path) {
                Ok(()) => sync_dir(&self.dir()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StateError::NotLocked { given: id.to_string() }),
                Err(e) => Err(StateError::io("remove lock file", &path, e)),
            },
        }
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn describe(&self) -> String {
        format!("local file {}", self.path.display())
    }

    async fn load(&self) -> Result<Option<State>, StateError> {
        self.read_state()
    }

    async fn persist(&self, state: &State) -> Result<(), StateError> {
        let stored = self.read_state()?;
        check_persist(stored.as_ref(), state)?;
        self.write_atomic(&encode(state))
    }

    async fn replace(&self, state: &State) -> Result<(), StateError> {
        // A newer-format state is still never overwritten; a corrupt one may be.
        match self.read_state() {
            Err(e @ StateError::NewerFormat { .. }) => return Err(e),
            _ => crate::check_no_credentials(state)?,
        }
        self.write_atomic(&encode(state))
    }

    async fn lock(&self, info: &LockInfo) -> Result<(), StateError> {
        let dir = self.ensure_dir()?;
        let path = self.lock_path();
        let mut bytes = serde_json::to_vec_pretty(info).expect("lock info always serializes");
        bytes.push(b'\n');
        // The record is written to a temp file first and hard-linked into place (which fails when
        // the lock exists), so the lock file never exists without its record: a process killed
        // at any moment leaves no lock, or one `force-unlock` can read. A temp file left by a
        // killed process is removed by the next state write (`remove_orphans`).
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.{:08x}.tmp", std::process::id(), rand::random::<u32>()));
        let staged = create_private(&tmp).and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()));
        if let Err(e) = staged {
            let _ = fs::remove_file(&tmp);
            return Err(StateError::io("write lock file", &tmp, e));
        }
        let mut attempts = 0;
        let linked = loop {
            attempts += 1;
            match fs::hard_link(&tmp, &path) {
                Ok(()) => break Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match self.read_lock() {
                    Ok(Some(holder)) => break Err(StateError::Locked(holder)),
                    // Released between our attempt and the read: try again, a few times.
                    Ok(None) if attempts < 3 => continue,
                    Ok(None) => {
                        let reason = "it keeps appearing and vanishing".to_string();
                        break Err(StateError::LockUnreadable { path: path.clone(), reason });
                    }
                    Err(e) => break Err(e),
                },
                // No hard links on this file system: create the lock in place instead.
                Err(_) => break Ok(false),
            }
        };
        let _ = fs::remove_file(&tmp);
        if linked? {
            return sync_dir(&dir);
        }
        let mut attempts = 0;
        let mut f = loop {
            attempts += 1;
            match create_private(&path) {
                Ok(f) => break f,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match self.read_lock()? {
                    Some(holder) => return Err(StateError::Locked(holder)),
                    // Released between our attempt and the read: try again, a few times.
                    None if attempts < 3 => continue,
                    None => {
                        let reason = "it keeps appearing and vanishing".to_string();
                        return Err(StateError::LockUnreadable { path, reason });
                    }
                },
                Err(e) => return Err(StateError::io("create lock file", &path, e)),
            }
        };
        let written = f.write_all(&bytes).and_then(|()| f.sync_all());
        if let Err(e) = written {
            drop(f);
            let _ = fs::remove_file(&path);
            return Err(StateError::io("write lock file", &path, e));
        }
        sync_dir(&self.dir())
    }

    async fn unlock(&self, id: &str) -> Result<(), StateError> {
        self.release(id)
    }

    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.release(id)
    }

    async fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        self.read_lock()
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Create `path` exclusively with mode 0600.
fn create_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    opts.open(path)
}

fn sync_dir(dir: &Path) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| StateError::io("open state directory", dir, e))?;
        d.sync_all().map_err(|e| StateError::io("sync state directory", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Remove temp files (`.<name>.<pid>.<rand>.tmp|.bak`) left by writers that were killed: only
/// those whose process is gone. Best effort; a leftover file is harmless.
fn remove_orphans(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Some(rest) = rest.strip_suffix(".tmp").or_else(|| rest.strip_suffix(".bak")) else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks whether the process exists; nothing is delivered.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}
