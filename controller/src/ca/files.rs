//! The CA's files on disk: `<data-dir>/ca/ca.key` (PKCS#8 PEM, mode 0600) and
//! `<data-dir>/ca/ca.crt` (PEM). The only code that reads the CA key file.
//!
//! Like Garage's secret files, a key file that its group or other users can read is
//! refused rather than used: the key signs every device identity.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::CaError;

/// Where the CA lives inside a data directory.
#[derive(Debug, Clone)]
pub(super) struct CaPaths {
    pub dir: PathBuf,
    pub key: PathBuf,
    pub cert: PathBuf,
}

impl CaPaths {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("ca");
        CaPaths {
            key: dir.join("ca.key"),
            cert: dir.join("ca.crt"),
            dir,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Unavailable {
        path: path.to_owned(),
        source,
    }
}

/// Reads the key after checking nobody but the owner can read it.
pub(super) fn read_key(path: &Path) -> Result<String, CaError> {
    let mode = fs::metadata(path).map_err(io(path))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(CaError::InsecureKeyFile {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    fs::read_to_string(path).map_err(io(path))
}

pub(super) fn read_cert(path: &Path) -> Result<String, CaError> {
    fs::read_to_string(path).map_err(io(path))
}

/// Creates the CA directory (mode 0700) if needed.
pub(super) fn create_dir(dir: &Path) -> Result<(), CaError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))
}

/// Writes `contents` to `path` atomically (temporary file, fsync, rename) with `mode`;
/// the file never exists with wider permissions, not even for a moment.
pub(super) fn write_new(path: &Path, contents: &str, mode: u32) -> Result<(), CaError> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io(&tmp))?;
    file.write_all(contents.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        // Make the rename itself durable.
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}
