//! Routes the Android shell of programs running on a simulated phone back into that
//! phone.
//!
//! A [`ShellRouter`] is a loopback TCP listener in the simulator process. A program the
//! phone starts gets `PATH=<shim dir>:…`, where the shim dir holds symlinks named `sh`,
//! `pm`, `cmd`, `am`, `dpm`, `content`, `settings`, `bmgr` and `getprop` pointing at the
//! hosting executable, plus [`ENV_ROUTER`], [`ENV_SERIAL`] and a random per-phone
//! [`ENV_TOKEN`]. The hosting binary's `main` must first call [`run_shim_if_invoked`]:
//! when argv[0]'s basename is one of those names and the router variable is set, it
//! sends the command line (and its stdin, unless that is a terminal) to the router,
//! which runs it with `Phone::run_shell` as the shell user, and the shim exits with
//! the phone's exit code after writing its stdout and stderr.
//!
//! Wire format (all lengths little-endian `u32`): request `CDSR1\n`, token, command,
//! stdin, each as length + bytes; response a status byte (0 ran, 1 refused), stdout,
//! stderr as length + bytes, then the exit byte. A connection closed without a response
//! means the phone dropped the connection (fault or reboot).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use super::Phone;

/// The router's `127.0.0.1:PORT`.
pub const ENV_ROUTER: &str = "CORRAL_DEVSIM_ROUTER";
/// The phone's serial.
pub const ENV_SERIAL: &str = "CORRAL_DEVSIM_SERIAL";
/// The phone's routing token.
pub const ENV_TOKEN: &str = "CORRAL_DEVSIM_TOKEN";
/// The shim `sh`, for programs that want an absolute path to the phone's shell.
pub const ENV_SH: &str = "CORRAL_DEVSIM_SH";

/// Program names the shim answers to.
pub const SHIM_NAMES: &[&str] = &[
    "sh", "pm", "cmd", "am", "dpm", "content", "settings", "bmgr", "getprop",
];

const MAGIC: &[u8] = b"CDSR1\n";
const MAX_TOKEN: usize = 256;
const MAX_COMMAND: usize = 1 << 20;
const MAX_STDIN: usize = 256 << 20;

/// Where a phone's programs reach their shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub addr: SocketAddr,
    pub token: String,
}

type Phones = Arc<Mutex<HashMap<String, Weak<Phone>>>>;

/// The loopback listener that runs routed shell commands in registered phones.
#[derive(Debug)]
pub struct ShellRouter {
    addr: SocketAddr,
    phones: Phones,
}

impl ShellRouter {
    /// Binds `127.0.0.1:0` and serves in a background thread for the life of the process.
    pub fn start() -> io::Result<Arc<ShellRouter>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let phones: Phones = Arc::default();
        let shared = phones.clone();
        std::thread::Builder::new()
            .name("devsim-shell-router".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let phones = shared.clone();
                    let _ = std::thread::Builder::new()
                        .name("devsim-shell-route".into())
                        .spawn(move || {
                            if let Err(e) = serve(stream, &phones) {
                                tracing::debug!(error = %e, "routed shell connection failed");
                            }
                        });
                }
            })?;
        Ok(Arc::new(ShellRouter { addr, phones }))
    }

    /// One router for the whole process, started on first use. Phones that were not
    /// registered with a router explicitly use this one.
    pub fn global() -> io::Result<Arc<ShellRouter>> {
        static GLOBAL: OnceLock<Arc<ShellRouter>> = OnceLock::new();
        if let Some(r) = GLOBAL.get() {
            return Ok(r.clone());
        }
        let router = ShellRouter::start()?;
        Ok(GLOBAL.get_or_init(|| router).clone())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Lets `phone`'s programs reach it through this router (a fresh token each time).
    pub fn register(&self, phone: &Arc<Phone>) {
        self.register_weak(Arc::downgrade(phone), phone);
    }

    pub(super) fn register_weak(&self, weak: Weak<Phone>, phone: &Phone) {
        let token = format!("{:032x}", rand::random::<u128>());
        self.phones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), weak);
        phone.set_route(RouteInfo {
            addr: self.addr,
            token,
        });
    }
}

fn read_chunk(r: &mut impl Read, max: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "chunk too large",
        ));
    }
    let mut buf = Vec::new();
    r.take(len as u64).read_to_end(&mut buf)?;
    if buf.len() != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short chunk"));
    }
    Ok(buf)
}

fn write_chunk(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let len = u32::try_from(data.len()).map_err(|_| io::Error::other("chunk too large"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(data)
}

fn serve(mut stream: TcpStream, phones: &Phones) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut magic = [0u8; 6];
    stream.read_exact(&mut magic)?;
    if magic != MAGIC {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "bad magic"));
    }
    let token = read_chunk(&mut stream, MAX_TOKEN)?;
    let command = read_chunk(&mut stream, MAX_COMMAND)?;
    let stdin = read_chunk(&mut stream, MAX_STDIN)?;
    let phone = std::str::from_utf8(&token).ok().and_then(|t| {
        phones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(t)
            .and_then(Weak::upgrade)
    });
    let mut reply = Vec::new();
    match phone {
        None => {
            reply.push(1);
            write_chunk(&mut reply, b"")?;
            write_chunk(&mut reply, b"devsim: unknown phone token\n")?;
            reply.push(255);
        }
        Some(phone) => {
            let command = String::from_utf8_lossy(&command).into_owned();
            let outcome = phone.run_shell(&command, &mut io::Cursor::new(stdin));
            if outcome.disconnect {
                return Ok(());
            }
            reply.push(0);
            write_chunk(&mut reply, &outcome.stdout)?;
            write_chunk(&mut reply, &outcome.stderr)?;
            reply.push(outcome.exit);
        }
    }
    stream.write_all(&reply)
}

/// Quotes one argument for mksh (plain words stay as they are).
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// The phone command line a shim invocation stands for.
pub fn shim_command_line(name: &str, args: &[String]) -> String {
    if let ("sh", Some("-c"), Some(script)) = (name, args.first().map(String::as_str), args.get(1))
    {
        return script.clone();
    }
    let mut line = name.to_string();
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    line
}

/// Where and as whom a shim connects (from [`ENV_ROUTER`] and [`ENV_TOKEN`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimTarget {
    pub addr: String,
    pub token: String,
}

/// Runs one routed command; returns the exit code, with the phone's output written to
/// `stdout`/`stderr`.
pub fn run_shim(
    target: &ShimTarget,
    name: &str,
    args: &[String],
    stdin: &[u8],
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let command = shim_command_line(name, args);
    match exchange(&target.addr, &target.token, &command, stdin) {
        Ok((out, err, code)) => {
            let _ = stdout.write_all(&out);
            let _ = stderr.write_all(&err);
            let _ = stdout.flush();
            i32::from(code)
        }
        Err(e) => {
            let _ = writeln!(
                stderr,
                "/system/bin/sh: connection to the simulated phone lost: {e}"
            );
            255
        }
    }
}

fn exchange(
    addr: &str,
    token: &str,
    command: &str,
    stdin: &[u8],
) -> io::Result<(Vec<u8>, Vec<u8>, u8)> {
    let mut stream = TcpStream::connect(addr)?;
    let mut req = MAGIC.to_vec();
    write_chunk(&mut req, token.as_bytes())?;
    write_chunk(&mut req, command.as_bytes())?;
    write_chunk(&mut req, stdin)?;
    stream.write_all(&req)?;
    let mut status = [0u8; 1];
    stream.read_exact(&mut status)?;
    let out = read_chunk(&mut stream, usize::MAX)?;
    let err = read_chunk(&mut stream, usize::MAX)?;
    let mut code = [0u8; 1];
    stream.read_exact(&mut code)?;
    Ok((out, err, code[0]))
}

/// Call first in the `main` of any binary that hosts simulated phones: when this
/// process was started as a phone program's `sh` (or `pm`, `cmd`, …) it runs the
/// command in the phone and exits; otherwise it returns at once.
pub fn run_shim_if_invoked() {
    let mut argv = std::env::args_os();
    let argv0: OsString = argv.next().unwrap_or_default();
    let name = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !SHIM_NAMES.contains(&name.as_str()) || std::env::var_os(ENV_ROUTER).is_none() {
        return;
    }
    let args: Vec<String> = argv.map(|a| a.to_string_lossy().into_owned()).collect();
    let target = ShimTarget {
        addr: std::env::var(ENV_ROUTER).unwrap_or_default(),
        token: std::env::var(ENV_TOKEN).unwrap_or_default(),
    };
    let mut input = Vec::new();
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        let _ = stdin.lock().take(MAX_STDIN as u64).read_to_end(&mut input);
    }
    let code = run_shim(
        &target,
        &name,
        &args,
        &input,
        &mut io::stdout(),
        &mut io::stderr(),
    );
    std::process::exit(code);
}
