//! The `sync:` service: stat, list, push and pull against the phone's file system.
//!
//! Follows adbd's `file_sync_service.cpp`: pushed files get the user permission bits
//! copied to group and other, the DONE timestamp becomes the mtime (adb_client's 0 gives
//! 1970, as on a phone), a failed push answers FAIL and swallows the rest of the upload,
//! and any FAIL ends the service. A push interrupted by a closed stream leaves no file.

use std::io::{Read, Write};
use std::sync::Arc;

use super::stream::{StreamClosed, StreamIo};
use super::sync::{ID_LST2, ID_STA2, StatKind, SyncDecoder, SyncRequest};
use super::sync_reply::{self, DATA_HEADER_LEN, WireStat};
use crate::phone::fs::{AndroidPath, FileWrite, errno, strerror};
use crate::phone::{FileStat, Phone};

/// adbd reads files in `SYNC_DATA_MAX - sizeof(header)` pieces.
const RECV_CHUNK: usize = 64 * 1024 - DATA_HEADER_LEN;
/// `S_IFLNK`.
const S_IFLNK: u32 = 0o120000;
const S_IFMT: u32 = 0o170000;
/// The device number reported for every file (the data partition, 253:5).
const DEV: u64 = 0xfd05;
const AID_SHELL: u32 = 2000;
const AID_EVERYBODY: u32 = 9997;

/// What happens after a request.
enum Next {
    Continue,
    /// The service ends (QUIT, or after a FAIL).
    End,
}

/// An upload in progress.
enum Upload {
    None,
    Writing(FileWrite),
    /// The device refused the upload; DATA is swallowed until DONE.
    Draining,
}

/// Serves one `sync:` stream.
pub(crate) async fn run(mut io: StreamIo, phone: Arc<Phone>) {
    let mut session = Session {
        phone,
        upload: Upload::None,
    };
    let mut decoder = SyncDecoder::new();
    loop {
        loop {
            let next = match decoder.next_request() {
                Ok(Some(request)) => session.handle(&mut io, request).await,
                Ok(None) => break,
                Err(refusal) => {
                    tracing::debug!(serial = session.phone.serial(), %refusal, "sync request refused");
                    io.queue(&sync_reply::fail(&refusal.to_string()))
                        .await
                        .map(|()| Next::End)
                }
            };
            match next {
                Ok(Next::Continue) => {}
                Ok(Next::End) => {
                    io.close().await;
                    return;
                }
                Err(StreamClosed) => return,
            }
        }
        if io.flush().await.is_err() {
            return;
        }
        // `None`: the host closed the stream (adb_client never sends QUIT through the
        // server). A push still open is dropped, which removes its partial file.
        let Some(chunk) = io.recv().await else { return };
        decoder.feed(&chunk);
    }
}

struct Session {
    phone: Arc<Phone>,
    upload: Upload,
}

impl Session {
    async fn handle(
        &mut self,
        io: &mut StreamIo,
        request: SyncRequest,
    ) -> Result<Next, StreamClosed> {
        match request {
            SyncRequest::Stat { kind, path } => {
                let stat = self.stat(&path);
                let reply = match kind {
                    StatKind::V1 => sync_reply::stat_v1(stat.as_ref().ok()),
                    StatKind::Stat2 => sync_reply::stat_v2(ID_STA2, stat.as_ref().map_err(|e| *e)),
                    StatKind::Lstat2 => sync_reply::stat_v2(ID_LST2, stat.as_ref().map_err(|e| *e)),
                };
                io.queue(&reply).await?;
            }
            SyncRequest::List { v2, path } => self.list(io, &path, v2).await?,
            SyncRequest::Send { path, mode } => return self.start_upload(io, &path, mode).await,
            SyncRequest::Data(data) => {
                if let Upload::Writing(file) = &mut self.upload
                    && let Err(e) = file.write_all(&data)
                {
                    self.upload = Upload::Draining;
                    io.queue(&sync_reply::fail(&format!("write failed: {e}")))
                        .await?;
                }
            }
            SyncRequest::Done { mtime } => return self.finish_upload(io, mtime).await,
            SyncRequest::Recv { path } => return self.send_file(io, &path).await,
            SyncRequest::Quit => return Ok(Next::End),
        }
        Ok(Next::Continue)
    }

    fn stat(&self, path: &str) -> Result<WireStat, i32> {
        let st = self.phone.fs().stat(path).map_err(|e| e.errno)?;
        Ok(wire_stat(path, &st))
    }

    async fn list(&self, io: &mut StreamIo, path: &str, v2: bool) -> Result<(), StreamClosed> {
        let fs = self.phone.fs();
        // opendir failing just ends the listing, as in adbd.
        if let Ok(entries) = fs.list(path) {
            let parent = AndroidPath::parse(path).map(|p| p.parent().as_string());
            let mut dots = vec![(".".to_owned(), fs.stat(path))];
            if let Ok(parent) = parent {
                dots.push(("..".to_owned(), fs.stat(&parent)));
            }
            let dots = dots
                .into_iter()
                .filter_map(|(name, st)| st.ok().map(|st| (name, st)));
            for (name, st) in dots.chain(entries) {
                let wire = wire_stat(&format!("{path}/{name}"), &st);
                let mut record = Vec::new();
                if v2 {
                    sync_reply::dent_v2(&mut record, &name, Ok(&wire));
                } else {
                    sync_reply::dent_v1(&mut record, &name, &wire);
                }
                io.queue(&record).await?;
            }
        }
        let mut done = Vec::new();
        sync_reply::list_done(&mut done, v2);
        io.queue(&done).await
    }

    async fn start_upload(
        &mut self,
        io: &mut StreamIo,
        path: &str,
        mode: u32,
    ) -> Result<Next, StreamClosed> {
        if mode & S_IFMT == S_IFLNK {
            // The simulated file system has no symlinks; adbd's symlink() failing reads so.
            io.queue(&sync_reply::fail("symlink failed: Operation not permitted"))
                .await?;
            return Ok(Next::End);
        }
        // adbd copies the user bits to group and other (files on /data are 0666 after a
        // push of a 0644 file).
        let mut mode = mode & 0o777;
        mode |= (mode >> 3) & 0o070;
        mode |= (mode >> 3) & 0o007;
        match self.phone.fs().create_write(path, mode) {
            Ok(file) => self.upload = Upload::Writing(file),
            Err(e) => {
                self.upload = Upload::Draining;
                io.queue(&sync_reply::fail(&format!(
                    "couldn't create file: {}",
                    e.message()
                )))
                .await?;
            }
        }
        Ok(Next::Continue)
    }

    async fn finish_upload(&mut self, io: &mut StreamIo, mtime: u32) -> Result<Next, StreamClosed> {
        match std::mem::replace(&mut self.upload, Upload::None) {
            Upload::Writing(file) => {
                // `finish` syncs the file to disk: keep that off the async threads.
                let finished = tokio::task::spawn_blocking(move || file.finish(Some(mtime))).await;
                match finished {
                    Ok(Ok(())) => io.queue(&sync_reply::okay()).await?,
                    Ok(Err(e)) => {
                        io.queue(&sync_reply::fail(&format!("write failed: {}", e.message())))
                            .await?;
                        return Ok(Next::End);
                    }
                    Err(e) => {
                        tracing::error!(serial = self.phone.serial(), error = %e, "finishing a push crashed");
                        io.queue(&sync_reply::fail("write failed: I/O error"))
                            .await?;
                        return Ok(Next::End);
                    }
                }
                Ok(Next::Continue)
            }
            // The FAIL went out when the upload was refused; now the service ends.
            Upload::Draining | Upload::None => Ok(Next::End),
        }
    }

    async fn send_file(&self, io: &mut StreamIo, path: &str) -> Result<Next, StreamClosed> {
        let mut file = match self.phone.fs().open_read(path) {
            Ok(file) => file,
            Err(e) => {
                io.queue(&sync_reply::fail(&format!("open failed: {}", e.message())))
                    .await?;
                return Ok(Next::End);
            }
        };
        // Each DATA record fits one WRTE, so adb_client (which expects a record header
        // at the start of a payload) can follow.
        let chunk = RECV_CHUNK
            .min(io.max_payload().saturating_sub(DATA_HEADER_LEN))
            .max(1);
        let mut record = vec![0u8; DATA_HEADER_LEN + chunk];
        loop {
            let n = match file.read(&mut record[DATA_HEADER_LEN..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let message = strerror(e.raw_os_error().unwrap_or(errno::EIO));
                    io.queue(&sync_reply::fail(&format!("read failed: {message}")))
                        .await?;
                    return Ok(Next::End);
                }
            };
            let mut header = Vec::with_capacity(DATA_HEADER_LEN);
            sync_reply::data_header(&mut header, n);
            record[..DATA_HEADER_LEN].copy_from_slice(&header);
            io.queue(&record[..DATA_HEADER_LEN + n]).await?;
        }
        let mut done = Vec::new();
        sync_reply::recv_done(&mut done);
        io.queue(&done).await?;
        Ok(Next::Continue)
    }
}

/// A file's stat as adbd reports it, with Android's owners: the shell user owns what it
/// pushed to `/data/local/tmp`; shared storage is `root:everybody`; the rest is root's.
fn wire_stat(path: &str, st: &FileStat) -> WireStat {
    let normalised = AndroidPath::parse(path)
        .map(|p| p.as_string())
        .unwrap_or_default();
    let (uid, gid) = if normalised.starts_with("/data/local/tmp") {
        (AID_SHELL, AID_SHELL)
    } else if normalised.starts_with("/sdcard") || normalised.starts_with("/storage") {
        (0, AID_EVERYBODY)
    } else {
        (0, 0)
    };
    WireStat {
        dev: DEV,
        ino: st.ino,
        mode: st.mode,
        nlink: st.nlink,
        uid,
        gid,
        size: st.size,
        atime: st.atime,
        mtime: st.mtime,
        ctime: st.ctime,
    }
}
