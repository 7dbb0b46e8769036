//! Executes parsed shell scripts: lists, `&&`/`||`, pipelines, subshells, compound
//! commands ([`super::control`]), builtins ([`super::builtins`]), the Android and
//! toybox commands of `phone::cmd`, `#!/system/bin/sh` scripts and pushed programs
//! (host processes, see `phone::process`).
//!
//! Before each simple command the phone's fault rules are consulted and its latency is
//! paid. Nothing here may panic on any input: every failure becomes mksh's message.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::Output;
use super::lexer::{self, Op};
use super::parse::{self, AndOr, Command, Pipeline, Script};
use crate::phone::Phone;

/// How deep `sh -c`, `eval`, `.` and `$(…)` may nest.
const MAX_DEPTH: u32 = 24;
/// Stack one command line may use below where its shell started (compound commands,
/// subshells and substitutions nest; frames are much larger in debug builds).
const STACK_BUDGET: usize = 1024 * 1024;

/// The largest value one expansion may produce, and the most output one command line may
/// collect: past them the shell is killed as the low-memory killer would.
pub const MAX_VALUE: usize = 4 << 20;
pub const MAX_OUTPUT: usize = 64 << 20;

/// Roughly where the stack is now (the address of a local).
fn stack_position() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

/// A pending `break N` / `continue N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Break(u32),
    Continue(u32),
}

/// One shell process.
pub struct Shell<'p> {
    pub(super) phone: &'p Phone,
    pub(super) vars: BTreeMap<String, String>,
    pub(super) cwd: String,
    pub(super) pid: u32,
    pub(super) last_background: Option<u32>,
    /// Stderr of command substitutions, added to the command that used them.
    pub(super) pending: Output,
    pub(super) status: u8,
    /// `$0` and the positional parameters.
    pub(super) arg0: String,
    pub(super) args: Vec<String>,
    pub(super) flow: Option<Flow>,
    /// Loops enclosing the running command (for `break`/`continue`).
    pub(super) loops: u32,
    /// `set -e`.
    pub(super) errexit: bool,
    /// Inside an `if`/`while`/`until` condition (where `set -e` does not apply).
    pub(super) conditions: u32,
    /// Status of the last command substitution of the command being expanded.
    pub(super) subst_status: Option<u8>,
    /// A fatal expansion error (`bad substitution`, arithmetic errors, `${x?}`).
    pub(super) expand_error: Option<String>,
    /// Loop iterations used by this shell and every shell it started.
    pub(super) budget: Arc<AtomicU64>,
    /// How many iterations `budget` allows (see `control::MAX_LOOP_ITERATIONS`).
    pub(super) loop_limit: u64,
    /// Whether a shell of this command line was killed already (`Killed` is printed once).
    pub(super) killed: Arc<AtomicBool>,
    /// An expansion grew past [`MAX_VALUE`].
    pub(super) too_big: bool,
    pub(super) depth: u32,
    /// Where the stack was when the outermost shell started.
    stack_base: usize,
    pub(super) exited: bool,
    pub(super) disconnect: bool,
}

impl<'p> Shell<'p> {
    /// A fresh `sh` as adbd starts it: cwd `/`, Android's environment.
    pub fn new(phone: &'p Phone) -> Self {
        let vars = [
            ("PATH", "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:/system_ext/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin"),
            ("HOME", "/"),
            ("USER", "shell"),
            ("LOGNAME", "shell"),
            ("SHELL", "/bin/sh"),
            ("TMPDIR", "/data/local/tmp"),
            ("ANDROID_DATA", "/data"),
            ("ANDROID_ROOT", "/system"),
            ("EXTERNAL_STORAGE", "/sdcard"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Shell {
            phone,
            vars,
            cwd: "/".into(),
            pid: phone.processes().allocate_pid(),
            last_background: None,
            pending: Output::default(),
            status: 0,
            arg0: "/system/bin/sh".into(),
            args: Vec::new(),
            flow: None,
            loops: 0,
            errexit: false,
            conditions: 0,
            subst_status: None,
            expand_error: None,
            budget: Arc::new(AtomicU64::new(0)),
            loop_limit: super::control::MAX_LOOP_ITERATIONS,
            killed: Arc::new(AtomicBool::new(false)),
            too_big: false,
            depth: 0,
            stack_base: stack_position(),
            exited: false,
            disconnect: false,
        }
    }

    /// A child shell (`sh -c`, `( … )`, `$(…)`): same variables, parameters and
    /// directory, sharing the loop budget.
    pub fn subshell(&self) -> Shell<'p> {
        Shell {
            phone: self.phone,
            vars: self.vars.clone(),
            cwd: self.cwd.clone(),
            pid: self.phone.processes().allocate_pid(),
            last_background: None,
            pending: Output::default(),
            status: self.status,
            arg0: self.arg0.clone(),
            args: self.args.clone(),
            flow: None,
            loops: 0,
            errexit: self.errexit,
            conditions: 0,
            subst_status: None,
            expand_error: None,
            budget: Arc::clone(&self.budget),
            loop_limit: self.loop_limit,
            killed: Arc::clone(&self.killed),
            too_big: false,
            depth: self.depth + 1,
            stack_base: self.stack_base,
            exited: false,
            disconnect: false,
        }
    }

    /// Lowers (or raises) how many loop iterations this shell and its children may run
    /// in total (tests of hostile scripts).
    pub fn set_loop_limit(&mut self, iterations: u64) {
        self.loop_limit = iterations;
    }

    /// `$?`.
    pub fn status(&self) -> u8 {
        self.status
    }

    /// True when a fault or reboot cut the connection.
    pub fn disconnected(&self) -> bool {
        self.disconnect
    }

    /// True when nothing more may run in this list (exit, disconnect, break/continue).
    pub(super) fn stopped(&self) -> bool {
        self.exited || self.disconnect || self.flow.is_some()
    }

    /// Lexes, parses and runs a script.
    pub fn run_text(&mut self, text: &str, stdin: &mut dyn Read) -> Output {
        let mut out = Output::default();
        if self.depth > MAX_DEPTH {
            out.err("/system/bin/sh: too much recursion\n");
            self.status = 2;
            return out;
        }
        let parsed = lexer::lex(text)
            .map_err(|e| (e.to_string(), 1))
            .and_then(|tokens| {
                parse::parse(tokens).map_err(|e| {
                    let code = if matches!(e, parse::ParseError::Unsupported(_)) {
                        2
                    } else {
                        1
                    };
                    (e.to_string(), code)
                })
            });
        match parsed {
            Ok(script) => out.extend(self.script(&script, stdin)),
            Err((msg, code)) => {
                out.err(format!("/system/bin/sh: {msg}\n"));
                self.status = code;
            }
        }
        out
    }

    pub(super) fn script(&mut self, script: &Script, stdin: &mut dyn Read) -> Output {
        let mut out = Output::default();
        if self.stack_base.abs_diff(stack_position()) > STACK_BUDGET {
            out.err("/system/bin/sh: too much recursion\n");
            self.status = 2;
            self.exited = true;
            return out;
        }
        for item in &script.items {
            if self.stopped() {
                break;
            }
            out.extend(self.chain(&item.chain, stdin, item.background));
            if item.background {
                self.status = 0;
            }
            if out.chunks.iter().map(|(_, b)| b.len()).sum::<usize>() > MAX_OUTPUT {
                self.kill(&mut out, "the output passed the simulator's memory limit");
            }
        }
        out
    }

    /// Ends this shell as a killed process: status 137 and, once per command line,
    /// `Killed` on stderr.
    pub(super) fn kill(&mut self, out: &mut Output, why: &str) {
        if !self.killed.swap(true, Ordering::Relaxed) {
            tracing::warn!("simulated shell killed: {why}");
            out.err("Killed\n");
        }
        self.status = 137;
        self.exited = true;
    }

    fn chain(&mut self, chain: &AndOr, stdin: &mut dyn Read, background: bool) -> Output {
        let single = chain.rest.is_empty();
        let mut out = self.pipeline(&chain.first, stdin, background && single);
        let mut last = &chain.first;
        for (op, pipeline) in &chain.rest {
            if self.stopped() {
                return out;
            }
            let run = match op {
                Op::And => self.status == 0,
                _ => self.status != 0,
            };
            if !run {
                return out;
            }
            out.extend(self.pipeline(pipeline, stdin, false));
            last = pipeline;
        }
        // `set -e`: a failing last command of a list outside conditions ends the shell.
        if self.errexit && self.conditions == 0 && self.status != 0 && !last.negate {
            self.exited = true;
        }
        out
    }

    fn pipeline(&mut self, p: &Pipeline, stdin: &mut dyn Read, background: bool) -> Output {
        let mut out = Output::default();
        let last = p.commands.len().saturating_sub(1);
        let mut carried: Option<Vec<u8>> = None;
        for (i, command) in p.commands.iter().enumerate() {
            if self.exited || self.disconnect {
                break;
            }
            let produced = match carried.take() {
                Some(data) => self.command(command, &mut Cursor::new(data), false),
                None if i == 0 => self.command(command, stdin, background && last == 0),
                None => self.command(command, &mut std::io::empty(), false),
            };
            if i == last {
                out.extend(produced);
            } else {
                carried = Some(produced.bytes_of(1));
                out.push(2, &produced.bytes_of(2));
            }
        }
        if p.negate {
            self.status = u8::from(self.status == 0);
        }
        out
    }

    fn command(&mut self, command: &Command, stdin: &mut dyn Read, background: bool) -> Output {
        match command {
            Command::Simple(simple) => self.simple(simple, stdin, background),
            Command::Subshell(script, redirs) => {
                let mut r = match self.open_redirections(redirs) {
                    Ok(r) => r,
                    Err(msg) => return self.fail(&msg, 1),
                };
                let mut sub = self.subshell();
                let produced = match r.stdin.take() {
                    Some(data) => sub.script(script, &mut Cursor::new(data)),
                    None => sub.script(script, stdin),
                };
                self.status = sub.status;
                self.disconnect |= sub.disconnect;
                let routed = r.route(produced);
                self.flush_files(&r);
                routed
            }
            Command::Compound(compound, redirs) => {
                let mut r = match self.open_redirections(redirs) {
                    Ok(r) => r,
                    Err(msg) => return self.fail(&msg, 1),
                };
                let produced = match r.stdin.take() {
                    Some(data) => self.compound(compound, &mut Cursor::new(data)),
                    None => self.compound(compound, stdin),
                };
                let routed = r.route(produced);
                self.flush_files(&r);
                routed
            }
        }
    }

    pub(super) fn fail(&mut self, msg: &str, status: u8) -> Output {
        let mut out = Output::default();
        out.err(format!("/system/bin/sh: {msg}\n"));
        self.status = status;
        out
    }

    /// Reports a fatal expansion error: the command does not run and the shell exits.
    pub(super) fn take_expand_error(&mut self, out: &mut Output) -> bool {
        if std::mem::take(&mut self.too_big) {
            self.expand_error = None;
            out.extend(std::mem::take(&mut self.pending));
            self.kill(out, "an expansion passed the simulator's memory limit");
            return true;
        }
        match self.expand_error.take() {
            Some(msg) => {
                out.extend(std::mem::take(&mut self.pending));
                out.extend(self.fail(&msg, 1));
                self.exited = true;
                true
            }
            None => false,
        }
    }
}
