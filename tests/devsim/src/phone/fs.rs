//! The phone's file system: Android paths mapped onto one host directory per phone.
//!
//! Paths are normalised lexically (`.` and `..` never escape the phone's root), so a
//! hostile `sync:` path cannot touch the host. Only the places the Android `shell` user
//! may write (`/data/local/tmp`, `/sdcard`) accept writes; everything else answers with
//! the errno Android would. Contents live in real host files so large pushes stream to
//! disk and pushed programs can be executed as host processes.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// File-type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170000;
/// Directory type bits.
pub const S_IFDIR: u32 = 0o040000;
/// Regular-file type bits.
pub const S_IFREG: u32 = 0o100000;

/// Directories that exist on every phone, with their Android permission bits.
const SKELETON: &[(&str, u32)] = &[
    ("/data", 0o771),
    ("/data/local", 0o751),
    ("/data/local/tmp", 0o771),
    ("/sdcard", 0o770),
    ("/system", 0o755),
    ("/system/bin", 0o751),
    ("/vendor", 0o755),
];

/// Directory trees the `shell` user may write into.
const WRITABLE: &[&str] = &["/data/local/tmp", "/sdcard"];

/// A failed file-system call, carrying the errno Android would report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {}", strerror(*errno))]
pub struct FsError {
    /// The errno value (Linux numbering, as adbd puts on the wire).
    pub errno: i32,
    /// The Android path the call was about.
    pub path: String,
}

impl FsError {
    fn new(errno: i32, path: &str) -> Self {
        FsError {
            errno,
            path: path.to_owned(),
        }
    }

    /// The message without the path, as `strerror` prints it.
    pub fn message(&self) -> &'static str {
        strerror(self.errno)
    }
}

/// Errno values used here.
pub mod errno {
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const EACCES: i32 = 13;
    pub const EEXIST: i32 = 17;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const EROFS: i32 = 30;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOTEMPTY: i32 = 39;
}

/// Bionic's `strerror` text for the errno values the simulator produces.
pub fn strerror(errno: i32) -> &'static str {
    match errno {
        errno::ENOENT => "No such file or directory",
        errno::EIO => "I/O error",
        errno::EACCES => "Permission denied",
        errno::EEXIST => "File exists",
        errno::ENOTDIR => "Not a directory",
        errno::EISDIR => "Is a directory",
        errno::EINVAL => "Invalid argument",
        errno::EROFS => "Read-only file system",
        errno::ENAMETOOLONG => "File name too long",
        errno::ENOTEMPTY => "Directory not empty",
        _ => "Unknown error",
    }
}

/// What `stat` reports for one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// Full `st_mode`: type bits and permission bits.
    pub mode: u32,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Access time, seconds since the epoch.
    pub atime: i64,
    /// Change time, seconds since the epoch.
    pub ctime: i64,
    /// Inode number (host inode; only used for `stat` output).
    pub ino: u64,
    /// Hard-link count.
    pub nlink: u32,
}

impl FileStat {
    /// True for directories.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    /// True for regular files.
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
}

/// The phone's file system rooted at a host directory.
#[derive(Debug, Clone)]
pub struct FileSystem {
    root: PathBuf,
}

/// An Android path after lexical normalisation: absolute, no `.`/`..`, no empty parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidPath {
    parts: Vec<String>,
}

impl AndroidPath {
    /// Normalises `path` (relative paths are taken from `/`). Fails on NUL bytes and
    /// on names over 255 bytes, as the kernel would.
    pub fn parse(path: &str) -> Result<Self, FsError> {
        if path.is_empty() {
            return Err(FsError::new(errno::ENOENT, path));
        }
        if path.contains('\0') || path.len() > 4096 {
            return Err(FsError::new(errno::EINVAL, path));
        }
        let mut parts: Vec<String> = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                name if name.len() > 255 => return Err(FsError::new(errno::ENAMETOOLONG, path)),
                name => parts.push(name.to_owned()),
            }
        }
        Ok(AndroidPath { parts })
    }

    /// The normalised absolute path.
    pub fn as_string(&self) -> String {
        format!("/{}", self.parts.join("/"))
    }

    /// The last component, or `/` for the root.
    pub fn file_name(&self) -> &str {
        self.parts.last().map(String::as_str).unwrap_or("/")
    }

    /// The parent directory (the root is its own parent).
    pub fn parent(&self) -> AndroidPath {
        let mut parts = self.parts.clone();
        parts.pop();
        AndroidPath { parts }
    }

    /// True when this path is `prefix` or lies below it.
    pub fn starts_with(&self, prefix: &AndroidPath) -> bool {
        self.parts.len() >= prefix.parts.len()
            && self.parts[..prefix.parts.len()] == prefix.parts[..]
    }

    /// Appends one path component.
    pub fn join(&self, name: &str) -> AndroidPath {
        let mut parts = self.parts.clone();
        parts.push(name.to_owned());
        AndroidPath { parts }
    }
}

impl FileSystem {
    /// Opens (creating if needed) a phone file system rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let fs = FileSystem { root: root.into() };
        fs::create_dir_all(&fs.root)?;
        for (dir, mode) in SKELETON {
            let host = fs.root.join(dir.trim_start_matches('/'));
            fs::create_dir_all(&host)?;
            fs::set_permissions(&host, fs::Permissions::from_mode(*mode | 0o700))?;
        }
        Ok(fs)
    }

    /// The host directory standing for `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of an Android path (for executing pushed programs).
    pub fn host_path(&self, path: &AndroidPath) -> PathBuf {
        let mut host = self.root.clone();
        for part in &path.parts {
            host.push(part);
        }
        host
    }

    /// True when the shell user may create or change files at `path`.
    pub fn is_writable(&self, path: &AndroidPath) -> bool {
        WRITABLE.iter().any(|w| {
            AndroidPath::parse(w)
                .map(|w| path.starts_with(&w) && path.parts.len() > w.parts.len())
                .unwrap_or(false)
        })
    }

    fn check_writable(&self, path: &AndroidPath, raw: &str) -> Result<(), FsError> {
        if self.is_writable(path) {
            return Ok(());
        }
        let system = ["system", "vendor", "product"];
        let errno = match path.parts.first() {
            Some(top) if system.contains(&top.as_str()) => errno::EROFS,
            _ => errno::EACCES,
        };
        Err(FsError::new(errno, raw))
    }

    /// `lstat` of a path.
    pub fn stat(&self, raw: &str) -> Result<FileStat, FsError> {
        let path = AndroidPath::parse(raw)?;
        let meta = fs::symlink_metadata(self.host_path(&path)).map_err(|e| map_io(&e, raw))?;
        Ok(stat_of(&meta))
    }

    /// Entries of a directory, sorted by name, without `.` and `..`.
    pub fn list(&self, raw: &str) -> Result<Vec<(String, FileStat)>, FsError> {
        let path = AndroidPath::parse(raw)?;
        let host = self.host_path(&path);
        let meta = fs::symlink_metadata(&host).map_err(|e| map_io(&e, raw))?;
        if !meta.is_dir() {
            return Err(FsError::new(errno::ENOTDIR, raw));
        }
        let mut entries = Vec::new();
        for entry in fs::read_dir(&host).map_err(|e| map_io(&e, raw))? {
            let entry = entry.map_err(|e| map_io(&e, raw))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TMP_PREFIX) {
                continue;
            }
            let meta = entry.metadata().map_err(|e| map_io(&e, raw))?;
            entries.push((name, stat_of(&meta)));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// Opens a regular file for reading.
    pub fn open_read(&self, raw: &str) -> Result<fs::File, FsError> {
        let path = AndroidPath::parse(raw)?;
        let host = self.host_path(&path);
        let meta = fs::metadata(&host).map_err(|e| map_io(&e, raw))?;
        if meta.is_dir() {
            return Err(FsError::new(errno::EISDIR, raw));
        }
        fs::File::open(&host).map_err(|e| map_io(&e, raw))
    }

    /// Reads a whole file into memory.
    pub fn read(&self, raw: &str) -> Result<Vec<u8>, FsError> {
        let mut file = self.open_read(raw)?;
        let mut data = Vec::new();
        io::Read::read_to_end(&mut file, &mut data).map_err(|e| map_io(&e, raw))?;
        Ok(data)
    }

    /// Starts writing a file. The data goes to a temporary file that replaces `raw`
    /// only on [`FileWrite::finish`]; a write dropped before that leaves no trace,
    /// like adbd deleting a partial push. Missing parent directories are created, as
    /// adb's `fixed_push_mkdir` feature promises.
    pub fn create_write(&self, raw: &str, mode: u32) -> Result<FileWrite, FsError> {
        let path = AndroidPath::parse(raw)?;
        self.check_writable(&path, raw)?;
        let host = self.host_path(&path);
        if host.is_dir() {
            return Err(FsError::new(errno::EISDIR, raw));
        }
        let parent = host
            .parent()
            .ok_or_else(|| FsError::new(errno::EINVAL, raw))?
            .to_path_buf();
        ensure_dirs(&self.root, &path.parent(), raw)?;
        let tmp = parent.join(format!("{TMP_PREFIX}{:016x}", rand::random::<u64>()));
        let file = fs::File::create(&tmp).map_err(|e| map_io(&e, raw))?;
        Ok(FileWrite {
            file: Some(file),
            tmp,
            target: host,
            mode: mode & 0o7777,
            raw: raw.to_owned(),
        })
    }

    /// Writes a whole file at once.
    pub fn write(&self, raw: &str, mode: u32, data: &[u8]) -> Result<(), FsError> {
        let mut w = self.create_write(raw, mode)?;
        w.write_all(data).map_err(|e| map_io(&e, raw))?;
        w.finish(None)
    }

    /// `mkdir` (with `parents`, like `mkdir -p`).
    pub fn mkdir(&self, raw: &str, parents: bool) -> Result<(), FsError> {
        let path = AndroidPath::parse(raw)?;
        let host = self.host_path(&path);
        if host.exists() {
            return if parents && host.is_dir() {
                Ok(())
            } else {
                Err(FsError::new(errno::EEXIST, raw))
            };
        }
        self.check_writable(&path, raw)?;
        if parents {
            ensure_dirs(&self.root, &path, raw)
        } else {
            fs::create_dir(&host).map_err(|e| map_io(&e, raw))
        }
    }

    /// Removes a file, or a directory tree when `recursive`.
    pub fn remove(&self, raw: &str, recursive: bool) -> Result<(), FsError> {
        let path = AndroidPath::parse(raw)?;
        let host = self.host_path(&path);
        let meta = fs::symlink_metadata(&host).map_err(|e| map_io(&e, raw))?;
        self.check_writable(&path, raw)?;
        if meta.is_dir() {
            if !recursive {
                return Err(FsError::new(errno::EISDIR, raw));
            }
            fs::remove_dir_all(&host).map_err(|e| map_io(&e, raw))
        } else {
            fs::remove_file(&host).map_err(|e| map_io(&e, raw))
        }
    }

    /// Sets permission bits.
    pub fn chmod(&self, raw: &str, mode: u32) -> Result<(), FsError> {
        let path = AndroidPath::parse(raw)?;
        let host = self.host_path(&path);
        fs::symlink_metadata(&host).map_err(|e| map_io(&e, raw))?;
        self.check_writable(&path, raw)?;
        // The owner bits stay usable on the host so the simulator can still manage
        // the file; what the phone reports comes from `mode`.
        fs::set_permissions(&host, fs::Permissions::from_mode(mode & 0o7777))
            .map_err(|e| map_io(&e, raw))
    }
}

const TMP_PREFIX: &str = ".devsim-partial-";

fn ensure_dirs(root: &Path, path: &AndroidPath, raw: &str) -> Result<(), FsError> {
    let mut host = root.to_path_buf();
    for part in &path.parts {
        host.push(part);
        match fs::symlink_metadata(&host) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(FsError::new(errno::ENOTDIR, raw)),
            Err(_) => {
                fs::create_dir(&host).map_err(|e| map_io(&e, raw))?;
                fs::set_permissions(&host, fs::Permissions::from_mode(0o775))
                    .map_err(|e| map_io(&e, raw))?;
            }
        }
    }
    Ok(())
}

/// A file being written; see [`FileSystem::create_write`].
#[derive(Debug)]
pub struct FileWrite {
    file: Option<fs::File>,
    tmp: PathBuf,
    target: PathBuf,
    mode: u32,
    raw: String,
}

impl FileWrite {
    /// Moves the data into place with its mode and modification time (seconds since the
    /// epoch; `None` keeps the current time).
    pub fn finish(mut self, mtime: Option<u32>) -> Result<(), FsError> {
        let raw = self.raw.clone();
        let file = self
            .file
            .take()
            .ok_or_else(|| FsError::new(errno::EIO, &raw))?;
        file.sync_data().map_err(|e| map_io(&e, &raw))?;
        if let Some(secs) = mtime {
            let when = UNIX_EPOCH + Duration::from_secs(u64::from(secs));
            file.set_modified(when).map_err(|e| map_io(&e, &raw))?;
        }
        drop(file);
        fs::set_permissions(&self.tmp, fs::Permissions::from_mode(self.mode | 0o600))
            .map_err(|e| map_io(&e, &raw))?;
        fs::rename(&self.tmp, &self.target).map_err(|e| map_io(&e, &raw))?;
        Ok(())
    }
}

impl Write for FileWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("file already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for FileWrite {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn stat_of(meta: &fs::Metadata) -> FileStat {
    let secs = |t: io::Result<SystemTime>| {
        t.ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    };
    FileStat {
        mode: meta.mode(),
        size: meta.len(),
        mtime: secs(meta.modified()),
        atime: secs(meta.accessed()),
        ctime: meta.ctime(),
        ino: meta.ino(),
        nlink: meta.nlink() as u32,
    }
}

fn map_io(err: &io::Error, raw: &str) -> FsError {
    let errno = match err.kind() {
        io::ErrorKind::NotFound => errno::ENOENT,
        io::ErrorKind::PermissionDenied => errno::EACCES,
        io::ErrorKind::AlreadyExists => errno::EEXIST,
        io::ErrorKind::NotADirectory => errno::ENOTDIR,
        io::ErrorKind::IsADirectory => errno::EISDIR,
        io::ErrorKind::DirectoryNotEmpty => errno::ENOTEMPTY,
        io::ErrorKind::ReadOnlyFilesystem => errno::EROFS,
        _ => err.raw_os_error().unwrap_or(errno::EIO),
    };
    FsError::new(errno, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone_fs() -> (tempfile::TempDir, FileSystem) {
        let dir = tempfile::tempdir().unwrap();
        let fs = FileSystem::open(dir.path().join("root")).unwrap();
        (dir, fs)
    }

    #[test]
    fn dot_dot_never_escapes_the_phone_root() {
        let p = AndroidPath::parse("/data/local/tmp/../../../../etc/passwd").unwrap();
        assert_eq!(p.as_string(), "/etc/passwd");
    }

    #[test]
    fn writes_outside_shell_dirs_are_refused_like_android() {
        let (_d, fs) = phone_fs();
        assert_eq!(
            fs.write("/system/bin/x", 0o755, b"x").unwrap_err().errno,
            errno::EROFS
        );
        assert_eq!(
            fs.write("/data/x", 0o644, b"x").unwrap_err().errno,
            errno::EACCES
        );
        fs.write("/data/local/tmp/x", 0o644, b"hello").unwrap();
        assert_eq!(fs.read("/data/local/tmp/x").unwrap(), b"hello");
    }

    #[test]
    fn a_dropped_write_leaves_nothing_behind() {
        let (_d, fs) = phone_fs();
        let mut w = fs.create_write("/data/local/tmp/part", 0o644).unwrap();
        w.write_all(b"half").unwrap();
        drop(w);
        assert_eq!(
            fs.stat("/data/local/tmp/part").unwrap_err().errno,
            errno::ENOENT
        );
        assert!(fs.list("/data/local/tmp").unwrap().is_empty());
    }

    #[test]
    fn finish_applies_mode_and_mtime() {
        let (_d, fs) = phone_fs();
        let mut w = fs.create_write("/sdcard/a/b/c.bin", 0o100755).unwrap();
        w.write_all(b"abc").unwrap();
        w.finish(Some(0)).unwrap();
        let st = fs.stat("/sdcard/a/b/c.bin").unwrap();
        assert!(st.is_file());
        assert_eq!(st.mode & 0o777, 0o755);
        assert_eq!(st.mtime, 0);
        assert_eq!(st.size, 3);
    }
}
