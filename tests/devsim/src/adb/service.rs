//! OPEN destinations: which service a host asks for, parsed the way adbd 29 parses them.
//!
//! Pure; no I/O. Unknown destinations are an error the connection answers with
//! `CLSE(0, their-id)`.

/// How a command's output reaches the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Raw bytes; stdout and stderr merged; no exit status.
    Raw,
    /// Shell protocol v2 packets: stdout, stderr and exit status apart.
    ShellV2,
}

/// A service a host can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// `shell[,args]:command` or `exec:command`. An empty command is an interactive shell.
    Shell {
        command: String,
        framing: Framing,
        /// A PTY was asked for (explicitly, or by an empty command without `raw`).
        pty: bool,
        /// Started as `exec:`/`abb_exec:` (a process, no shell session).
        exec: bool,
    },
    /// `sync:` — file transfer.
    Sync,
    /// `reboot:[target]`.
    Reboot { target: String },
    /// A service that answers a fixed text and closes (`root:` on a production build).
    Message(&'static str),
}

/// The destination is not a service adbd offers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service {0:?}")]
pub struct UnknownService(pub String);

/// Parses an OPEN payload (trailing NULs are stripped, as adbd does).
pub fn parse(destination: &[u8]) -> Result<Service, UnknownService> {
    let end = destination
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&destination[..end]).into_owned();
    if let Some(rest) = text.strip_prefix("shell") {
        return parse_shell(rest).ok_or(UnknownService(text));
    }
    if let Some(command) = text.strip_prefix("exec:") {
        return Ok(Service::Shell {
            command: command.to_owned(),
            framing: Framing::Raw,
            pty: false,
            exec: true,
        });
    }
    if let Some(args) = text.strip_prefix("abb_exec:") {
        return Ok(Service::Shell {
            command: abb_command(args),
            framing: Framing::Raw,
            pty: false,
            exec: true,
        });
    }
    if let Some(args) = text.strip_prefix("abb:") {
        return Ok(Service::Shell {
            command: abb_command(args),
            framing: Framing::ShellV2,
            pty: false,
            exec: false,
        });
    }
    if let Some(target) = text.strip_prefix("reboot:") {
        return Ok(Service::Reboot {
            target: target.to_owned(),
        });
    }
    match text.as_str() {
        "sync:" => Ok(Service::Sync),
        "root:" => Ok(Service::Message(
            "adbd cannot run as root in production builds\n",
        )),
        "unroot:" => Ok(Service::Message("adbd not running as root\n")),
        _ => Err(UnknownService(text)),
    }
}

/// `shell[,arg…]:command` after the word `shell`. Arguments: `v2`, `raw`, `pty`,
/// `TERM=…`; others are ignored, as in adbd.
fn parse_shell(rest: &str) -> Option<Service> {
    let (args, command) = rest.split_once(':')?;
    if !(args.is_empty() || args.starts_with(',')) {
        return None;
    }
    let mut framing = Framing::Raw;
    let mut pty = None;
    for arg in args.split(',').filter(|a| !a.is_empty()) {
        match arg {
            "v2" => framing = Framing::ShellV2,
            "raw" => pty = Some(false),
            "pty" => pty = Some(true),
            _ => {}
        }
    }
    Some(Service::Shell {
        command: command.to_owned(),
        framing,
        pty: pty.unwrap_or(command.is_empty()),
        exec: false,
    })
}

/// `abb` arguments are NUL-separated; they run as `cmd <args…>`, each argument quoted
/// for the shell.
fn abb_command(args: &str) -> String {
    let mut command = String::from("cmd");
    for arg in args.split('\0') {
        command.push(' ');
        command.push_str(&shell_quote(arg));
    }
    command
}

/// Quotes one word for `/system/bin/sh`: unchanged when it has no special characters,
/// otherwise in single quotes.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(destination: &[u8], expect: Expect) {
        expect.assert_eq(&format!("{:?}", parse(destination)));
    }

    #[test]
    fn shell_destinations_as_clients_send_them() {
        check(
            b"shell:pm list users\0",
            expect![[
                r#"Ok(Shell { command: "pm list users", framing: Raw, pty: false, exec: false })"#
            ]],
        );
        check(
            b"shell,v2,TERM=xterm,raw:exit 3\0",
            expect![[
                r#"Ok(Shell { command: "exit 3", framing: ShellV2, pty: false, exec: false })"#
            ]],
        );
        check(
            b"shell,v2,pty:",
            expect![[r#"Ok(Shell { command: "", framing: ShellV2, pty: true, exec: false })"#]],
        );
        check(
            b"shell:",
            expect![[r#"Ok(Shell { command: "", framing: Raw, pty: true, exec: false })"#]],
        );
        check(
            b"shell,raw:",
            expect![[r#"Ok(Shell { command: "", framing: Raw, pty: false, exec: false })"#]],
        );
        check(
            b"shellx:ls",
            expect![[r#"Err(UnknownService("shellx:ls"))"#]],
        );
        check(b"shell", expect![[r#"Err(UnknownService("shell"))"#]]);
    }

    #[test]
    fn exec_and_abb_run_commands() {
        check(
            b"exec:cmd package 'install' -S 1234\0",
            expect![[
                r#"Ok(Shell { command: "cmd package 'install' -S 1234", framing: Raw, pty: false, exec: true })"#
            ]],
        );
        check(
            b"abb_exec:package\0install\0-S\x001234\0",
            expect![[
                r#"Ok(Shell { command: "cmd package install -S 1234", framing: Raw, pty: false, exec: true })"#
            ]],
        );
        check(
            b"abb:package\0list packages\0it's",
            expect![[
                r#"Ok(Shell { command: "cmd package 'list packages' 'it'\\''s'", framing: ShellV2, pty: false, exec: false })"#
            ]],
        );
    }

    #[test]
    fn other_services() {
        check(b"sync:\0", expect!["Ok(Sync)"]);
        check(b"reboot:\0", expect![[r#"Ok(Reboot { target: "" })"#]]);
        check(
            b"reboot:bootloader",
            expect![[r#"Ok(Reboot { target: "bootloader" })"#]],
        );
        check(
            b"root:\0",
            expect![[r#"Ok(Message("adbd cannot run as root in production builds\n"))"#]],
        );
        check(
            b"jdwp:123\0",
            expect![[r#"Err(UnknownService("jdwp:123"))"#]],
        );
        check(b"\0\0", expect![[r#"Err(UnknownService(""))"#]]);
        check(b"\xff\xfe", expect![[r#"Err(UnknownService("��"))"#]]);
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("com.whatsapp"), "com.whatsapp");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$(reboot)"), "'$(reboot)'");
    }
}
