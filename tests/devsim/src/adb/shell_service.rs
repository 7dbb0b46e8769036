//! `shell:`, `shell,v2,…:`, `exec:` and `abb…:` streams: feeds the host's bytes to the
//! phone's shell as stdin and sends back what the command printed.
//!
//! The phone's shell is blocking and returns the output when the command ends, so it runs
//! on a blocking thread; stdin reaches it through a bounded channel, so a command that
//! reads a large APK from stdin pulls it at its own pace and the host is throttled by
//! flow control. Raw framing merges stderr into stdout (adbd's `kNone` protocol dups
//! stderr onto the socket); shell v2 keeps them apart and adds the exit status.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::service::Framing;
use super::shell_protocol::{
    self, ID_CLOSE_STDIN, ID_EXIT, ID_STDERR, ID_STDIN, ID_STDOUT, ShellDecoder,
};
use super::stream::StreamIo;
use crate::phone::{Phone, ShellOutcome};

/// Stdin chunks buffered between the stream and the command.
const STDIN_DEPTH: usize = 4;

/// Runs one command and closes the stream; output is not sent before `not_before`.
pub(crate) async fn run_command(
    mut io: StreamIo,
    phone: Arc<Phone>,
    command: String,
    framing: Framing,
    not_before: tokio::time::Instant,
) {
    let (stdin_tx, stdin_rx) = mpsc::channel::<Vec<u8>>(STDIN_DEPTH);
    let shell = Arc::clone(&phone);
    let mut job = tokio::task::spawn_blocking(move || {
        let mut stdin = ChannelReader::new(stdin_rx);
        shell.run_shell(&command, &mut stdin)
    });
    let mut stdin = StdinPump::new(stdin_tx, framing);
    let joined = loop {
        tokio::select! {
            joined = &mut job => break joined,
            chunk = io.recv(), if stdin.wants_more() => match chunk {
                Some(bytes) => stdin.push(&bytes),
                // The host closed the stream: nobody is left to read the output.
                None => return,
            },
            _ = stdin.deliver(), if stdin.has_pending() => {}
        }
    };
    let outcome = joined.unwrap_or_else(|e| {
        tracing::error!(serial = phone.serial(), error = %e, "shell command crashed");
        ShellOutcome {
            stderr: b"devsim: the simulated shell crashed\n".to_vec(),
            exit: 255,
            ..ShellOutcome::default()
        }
    });
    // A command that rebooted the phone answers first (a reboot requested in the
    // background lets the script finish on a phone too), then the phone goes down.
    if outcome.rebooted {
        if send_outcome(&mut io, &outcome, framing, true).await.is_ok() {
            io.close_and_reboot().await;
        } else {
            io.rebooted();
        }
        return;
    }
    if outcome.disconnect {
        io.disconnect("the phone dropped the connection while running a command");
        return;
    }
    // Only when needed: even an elapsed sleep waits for the timer's next millisecond tick.
    if tokio::time::Instant::now() < not_before {
        tokio::time::sleep_until(not_before).await;
    }
    if send_outcome(&mut io, &outcome, framing, true).await.is_ok() {
        io.close().await;
    }
}

/// Sends a command's output (and, with shell v2 and `with_exit`, its exit status).
async fn send_outcome(
    io: &mut StreamIo,
    outcome: &ShellOutcome,
    framing: Framing,
    with_exit: bool,
) -> Result<(), super::stream::StreamClosed> {
    match framing {
        Framing::Raw => {
            io.send_all(&outcome.stdout).await?;
            io.send_all(&outcome.stderr).await?;
        }
        Framing::ShellV2 => {
            let piece = io
                .max_payload()
                .saturating_sub(shell_protocol::HEADER_LEN)
                .max(1);
            for (id, data) in [(ID_STDOUT, &outcome.stdout), (ID_STDERR, &outcome.stderr)] {
                for chunk in data.chunks(piece) {
                    io.queue(&shell_protocol::encode(id, chunk)).await?;
                }
            }
            if with_exit {
                io.queue(&shell_protocol::encode(ID_EXIT, &[outcome.exit]))
                    .await?;
            }
        }
    }
    io.flush().await
}

/// An interactive shell (`adb shell` with no command): runs one line at a time. At end
/// of input (v2 close-stdin) it exits with the last command's status, like `sh`.
pub(crate) async fn run_interactive(io: StreamIo, phone: Arc<Phone>, framing: Framing, pty: bool) {
    let prompt = format!("{}:/ $ ", phone.config().device);
    let mut session = Interactive {
        io,
        phone,
        framing,
        pty,
        prompt,
        last_status: 0,
    };
    let mut decoder = ShellDecoder::new();
    let mut line = Vec::new();
    if session.prompt().await.is_err() {
        return;
    }
    let exit = 'session: loop {
        let Some(bytes) = session.io.recv().await else {
            return;
        };
        let (input, end_of_input) = match framing {
            Framing::Raw => (bytes, false),
            Framing::ShellV2 => {
                let mut input = Vec::new();
                let mut closed = false;
                for piece in decoder.feed(&bytes) {
                    match piece.id {
                        ID_STDIN => input.extend_from_slice(&piece.data),
                        ID_CLOSE_STDIN => closed = true,
                        _ => {}
                    }
                }
                (input, closed)
            }
        };
        if pty && send_text(&mut session.io, &input, framing).await.is_err() {
            return;
        }
        for byte in input {
            if byte != b'\n' && byte != b'\r' {
                line.push(byte);
                continue;
            }
            match session.line(std::mem::take(&mut line)).await {
                Step::Next => {}
                Step::Exit(code) => break 'session code,
                Step::Gone => return,
            }
        }
        if end_of_input {
            match session.line(std::mem::take(&mut line)).await {
                Step::Next => break 'session session.last_status,
                Step::Exit(code) => break 'session code,
                Step::Gone => return,
            }
        }
    };
    let mut io = session.io;
    if framing == Framing::ShellV2 {
        let _ = io.queue(&shell_protocol::encode(ID_EXIT, &[exit])).await;
    }
    io.close().await;
}

/// What an interactive line led to.
enum Step {
    Next,
    Exit(u8),
    /// The stream or the connection is gone.
    Gone,
}

struct Interactive {
    io: StreamIo,
    phone: Arc<Phone>,
    framing: Framing,
    pty: bool,
    prompt: String,
    last_status: u8,
}

impl Interactive {
    async fn prompt(&mut self) -> Result<(), super::stream::StreamClosed> {
        if self.pty {
            send_text(&mut self.io, self.prompt.as_bytes(), self.framing).await?;
        }
        Ok(())
    }

    async fn line(&mut self, raw: Vec<u8>) -> Step {
        let text = String::from_utf8_lossy(&raw).trim().to_owned();
        if let Some(code) = exit_status(&text) {
            return Step::Exit(code);
        }
        if !text.is_empty() {
            let shell = Arc::clone(&self.phone);
            let Ok(mut outcome) =
                tokio::task::spawn_blocking(move || shell.run_shell(&text, &mut io::empty())).await
            else {
                return Step::Gone;
            };
            if outcome.rebooted {
                self.io.rebooted();
                return Step::Gone;
            }
            if outcome.disconnect {
                self.io
                    .disconnect("the phone dropped the connection while running a command");
                return Step::Gone;
            }
            self.last_status = outcome.exit;
            let sent = if self.pty {
                // A terminal shows both streams, with `\r\n` line ends.
                outcome.stdout.append(&mut outcome.stderr);
                send_text(&mut self.io, &outcome.stdout, self.framing).await
            } else {
                send_outcome(&mut self.io, &outcome, self.framing, false).await
            };
            if sent.is_err() {
                return Step::Gone;
            }
        }
        match self.prompt().await {
            Ok(()) => Step::Next,
            Err(_) => Step::Gone,
        }
    }
}

/// `exit` or `exit N` typed at the prompt.
fn exit_status(line: &str) -> Option<u8> {
    let mut words = line.split_whitespace();
    if words.next() != Some("exit") {
        return None;
    }
    Some(
        words
            .next()
            .and_then(|n| n.parse::<i64>().ok())
            .map_or(0, |n| n as u8),
    )
}

/// Terminal output: a PTY turns `\n` into `\r\n`.
async fn send_text(
    io: &mut StreamIo,
    text: &[u8],
    framing: Framing,
) -> Result<(), super::stream::StreamClosed> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    match framing {
        Framing::Raw => io.send_all(&out).await,
        Framing::ShellV2 => {
            io.queue(&shell_protocol::encode(ID_STDOUT, &out)).await?;
            io.flush().await
        }
    }
}

/// Moves the host's stdin bytes to the command, in order, without blocking the stream
/// loop; v2 `close-stdin` becomes end of file.
struct StdinPump {
    tx: Option<mpsc::Sender<Vec<u8>>>,
    decoder: Option<ShellDecoder>,
    pending: VecDeque<Option<Vec<u8>>>,
}

impl StdinPump {
    fn new(tx: mpsc::Sender<Vec<u8>>, framing: Framing) -> Self {
        StdinPump {
            tx: Some(tx),
            decoder: (framing == Framing::ShellV2).then(ShellDecoder::new),
            pending: VecDeque::new(),
        }
    }

    fn wants_more(&self) -> bool {
        self.pending.len() < STDIN_DEPTH
    }

    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.tx.is_none() {
            return;
        }
        match self.decoder.as_mut() {
            None => self.pending.push_back(Some(bytes.to_vec())),
            Some(decoder) => {
                for piece in decoder.feed(bytes) {
                    match piece.id {
                        ID_STDIN if !piece.data.is_empty() => {
                            self.pending.push_back(Some(piece.data))
                        }
                        ID_CLOSE_STDIN => self.pending.push_back(None),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Hands the oldest pending item to the command once it has room.
    async fn deliver(&mut self) {
        match self.pending.front() {
            None => return,
            Some(None) => {
                // close-stdin: the command sees end of file.
                self.tx = None;
                self.pending.clear();
                return;
            }
            Some(Some(_)) => {}
        }
        let Some(tx) = self.tx.as_ref() else {
            self.pending.clear();
            return;
        };
        let delivered = match tx.reserve().await {
            Ok(permit) => {
                if let Some(Some(data)) = self.pending.pop_front() {
                    permit.send(data);
                }
                true
            }
            // The command is done reading (or done).
            Err(_) => false,
        };
        if !delivered {
            self.tx = None;
            self.pending.clear();
        }
    }
}

/// A blocking [`Read`] over a channel of chunks; end of file when the sender is gone.
struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.pos == self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_lines() {
        assert_eq!(exit_status("exit"), Some(0));
        assert_eq!(exit_status("exit 3"), Some(3));
        assert_eq!(exit_status("exit 256"), Some(0));
        assert_eq!(exit_status("exitx"), None);
        assert_eq!(exit_status("echo exit"), None);
    }

    #[test]
    fn channel_reader_reads_across_chunks_until_the_sender_goes() {
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(b"ab".to_vec()).unwrap();
        tx.try_send(b"cde".to_vec()).unwrap();
        drop(tx);
        let mut out = String::new();
        ChannelReader::new(rx).read_to_string(&mut out).unwrap();
        assert_eq!(out, "abcde");
    }
}
