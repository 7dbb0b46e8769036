//! Executes parsed shell scripts: lists, `&&`/`||`, pipelines, subshells, builtins
//! (`exit`, `cd`, `export`, `unset`, `sh`, `nohup`, `setsid`, `exec`, `.`), the Android
//! and toybox commands of `phone::cmd`, `#!/system/bin/sh` scripts and pushed programs
//! (host processes, see `phone::process`).
//!
//! Before each simple command the phone's fault rules are consulted and its latency is
//! paid. Nothing here may panic on any input: every failure becomes mksh's message.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use super::Output;
use super::expand::Redirections;
use super::lexer::{self, Op};
use super::parse::{self, AndOr, Command, Pipeline, Script, Simple};
use crate::faults::FaultAction;
use crate::phone::{Phone, cmd};

/// How deep `sh -c` and `$(…)` may nest.
const MAX_DEPTH: u32 = 24;

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
    depth: u32,
    exited: bool,
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
            depth: 0,
            exited: false,
            disconnect: false,
        }
    }

    /// A child shell (`sh -c`, `( … )`, `$(…)`): same variables and directory.
    pub fn subshell(&self) -> Shell<'p> {
        Shell {
            phone: self.phone,
            vars: self.vars.clone(),
            cwd: self.cwd.clone(),
            pid: self.phone.processes().allocate_pid(),
            last_background: None,
            pending: Output::default(),
            status: self.status,
            depth: self.depth + 1,
            exited: false,
            disconnect: false,
        }
    }

    /// `$?`.
    pub fn status(&self) -> u8 {
        self.status
    }

    /// True when a fault or reboot cut the connection.
    pub fn disconnected(&self) -> bool {
        self.disconnect
    }

    fn stopped(&self) -> bool {
        self.exited || self.disconnect
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

    fn script(&mut self, script: &Script, stdin: &mut dyn Read) -> Output {
        let mut out = Output::default();
        for item in &script.items {
            if self.stopped() {
                break;
            }
            out.extend(self.chain(&item.chain, stdin, item.background));
            if item.background {
                self.status = 0;
            }
        }
        out
    }

    fn chain(&mut self, chain: &AndOr, stdin: &mut dyn Read, background: bool) -> Output {
        let single = chain.rest.is_empty();
        let mut out = self.pipeline(&chain.first, stdin, background && single);
        for (op, pipeline) in &chain.rest {
            if self.stopped() {
                break;
            }
            let run = match op {
                Op::And => self.status == 0,
                _ => self.status != 0,
            };
            if run {
                out.extend(self.pipeline(pipeline, stdin, false));
            }
        }
        out
    }

    fn pipeline(&mut self, p: &Pipeline, stdin: &mut dyn Read, background: bool) -> Output {
        let mut out = Output::default();
        let last = p.commands.len().saturating_sub(1);
        let mut carried: Option<Vec<u8>> = None;
        for (i, command) in p.commands.iter().enumerate() {
            if self.stopped() {
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
                let produced = sub.script(script, stdin);
                self.status = sub.status;
                self.disconnect |= sub.disconnect;
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

    fn simple(&mut self, simple: &Simple, stdin: &mut dyn Read, background: bool) -> Output {
        let mut argv = Vec::new();
        for w in &simple.words {
            argv.extend(self.expand_fields(w));
        }
        let mut env = Vec::new();
        for (name, word) in &simple.assigns {
            let value = self.expand_single(word);
            let value = value
                .split_once('=')
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            env.push((name.clone(), value));
        }
        let mut out = std::mem::take(&mut self.pending);
        let mut r = match self.open_redirections(&simple.redirs) {
            Ok(r) => r,
            Err(msg) => {
                out.extend(self.fail(&msg, 1));
                return out;
            }
        };
        if argv.is_empty() {
            self.vars.extend(env);
            self.status = 0;
            return out;
        }
        let line = argv.join(" ");
        match self.phone.faults().take_command_fault(&line) {
            Some(FaultAction::Fail { stderr, exit }) => {
                let mut produced = Output::default();
                produced.err(stderr);
                self.status = exit;
                out.extend(r.route(produced));
                self.flush_files(&r);
                return out;
            }
            Some(FaultAction::DropConnection) => {
                self.disconnect = true;
                return out;
            }
            Some(FaultAction::Reboot) => {
                self.phone.reboot();
                self.disconnect = true;
                return out;
            }
            None => {}
        }
        let cost = self.phone.latency().command_cost(&line);
        if !cost.is_zero() {
            std::thread::sleep(cost);
        }
        let produced = match r.stdin.take() {
            Some(data) => self.dispatch(&argv, &env, &r, &mut Cursor::new(data), background),
            None => self.dispatch(&argv, &env, &r, stdin, background),
        };
        out.extend(r.route(produced));
        self.flush_files(&r);
        out
    }

    /// Runs one expanded command.
    pub(super) fn dispatch(
        &mut self,
        argv: &[String],
        env: &[(String, String)],
        r: &Redirections,
        stdin: &mut dyn Read,
        background: bool,
    ) -> Output {
        let Some(name) = argv.first() else {
            return Output::default();
        };
        let mut out = Output::default();
        match name.as_str() {
            "exit" => {
                self.status = match argv.get(1) {
                    None => self.status,
                    Some(n) => match n.parse::<i64>() {
                        Ok(n) => (n & 0xff) as u8,
                        Err(_) => return self.fail(&format!("exit: {n}: bad number"), 1),
                    },
                };
                self.exited = true;
            }
            "cd" => {
                let target = argv.get(1).cloned().unwrap_or_else(|| "/".into());
                let path = self.resolve(&target);
                match self.phone.fs().stat(&path) {
                    Ok(st) if st.is_dir() => {
                        self.cwd = path;
                        self.status = 0;
                    }
                    Ok(_) => return self.fail(&format!("cd: {target}: Not a directory"), 2),
                    Err(e) => return self.fail(&format!("cd: {target}: {}", e.message()), 2),
                }
            }
            "export" | "readonly" => {
                for a in &argv[1..] {
                    if let Some((k, v)) = a.split_once('=') {
                        self.vars.insert(k.to_string(), v.to_string());
                    }
                }
                self.status = 0;
            }
            "unset" => {
                for a in &argv[1..] {
                    self.vars.remove(a);
                }
                self.status = 0;
            }
            "sh" | "/system/bin/sh" | "/bin/sh" | "mksh" | "/system/bin/mksh" => {
                return self.sh_builtin(argv, stdin);
            }
            "." | "source" => match argv.get(1) {
                None => return self.fail(&format!("{name}: missing argument"), 1),
                Some(file) => return self.run_script_file(file, stdin, false),
            },
            "nohup" | "setsid" => {
                let rest: Vec<String> = argv[1..]
                    .iter()
                    .skip_while(|a| a.starts_with('-'))
                    .cloned()
                    .collect();
                if rest.is_empty() {
                    out.err(format!(
                        "{name}: Needs 1 argument (see \"{name} --help\")\n"
                    ));
                    self.status = 1;
                } else {
                    return self.dispatch(&rest, env, r, stdin, background);
                }
            }
            "exec" => {
                let produced = self.dispatch(&argv[1..], env, r, stdin, background);
                self.exited = true;
                return produced;
            }
            _ => {
                if let Some(handler) = cmd::lookup(name) {
                    let mut ctx = cmd::Ctx::new(self.phone, stdin, &self.cwd);
                    self.status = handler(&mut ctx, argv);
                    return ctx.out;
                }
                if name.contains('/') {
                    return self.exec_path(argv, env, r, stdin, background);
                }
                return self.fail(&format!("{name}: inaccessible or not found"), 127);
            }
        }
        out
    }
}
