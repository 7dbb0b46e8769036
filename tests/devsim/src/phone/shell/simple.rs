//! Simple commands: expanding words and assignments, redirections, the phone's fault
//! rules and latency, then builtins, `phone::cmd` programs or files.

use std::io::{Cursor, Read};

use super::Output;
use super::expand::Redirections;
use super::parse::Simple;
use super::run::Shell;
use crate::faults::FaultAction;
use crate::phone::cmd;

impl Shell<'_> {
    pub(super) fn simple(
        &mut self,
        simple: &Simple,
        stdin: &mut dyn Read,
        background: bool,
    ) -> Output {
        self.subst_status = None;
        let declaration = simple
            .words
            .first()
            .and_then(|w| w.literal())
            .is_some_and(|w| matches!(w.as_str(), "export" | "readonly"));
        let mut argv = Vec::new();
        for (i, w) in simple.words.iter().enumerate() {
            if declaration && i > 0 && w.assignment_name().is_some() {
                argv.push(self.expand_single(w));
            } else {
                argv.extend(self.expand_fields(w));
            }
        }
        // Assignments take effect left to right (`X=1 Y=$X`); in front of a command
        // they only last for it.
        let mut env = Vec::new();
        let mut saved = Vec::new();
        for (name, word) in &simple.assigns {
            let value = self.expand_single(word);
            let value = value
                .split_once('=')
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            saved.push((name.clone(), self.vars.insert(name.clone(), value.clone())));
            env.push((name.clone(), value));
        }
        if !argv.is_empty() {
            for (name, old) in saved.into_iter().rev() {
                match old {
                    Some(v) => self.vars.insert(name, v),
                    None => self.vars.remove(&name),
                };
            }
        }
        let mut out = Output::default();
        if self.take_expand_error(&mut out) {
            return out;
        }
        out = std::mem::take(&mut self.pending);
        let mut r = match self.open_redirections(&simple.redirs) {
            Ok(r) => r,
            Err(msg) => {
                out.extend(self.fail(&msg, 1));
                return out;
            }
        };
        if argv.is_empty() {
            self.status = self.subst_status.unwrap_or(0);
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
        let boots = self.phone.shell_reboots();
        let produced = match r.stdin.take() {
            Some(data) => self.dispatch(&argv, &env, &r, &mut Cursor::new(data), background),
            None => self.dispatch(&argv, &env, &r, stdin, background),
        };
        out.extend(r.route(produced));
        self.flush_files(&r);
        // The command rebooted the phone (`svc power reboot`): nothing after it runs.
        if self.phone.shell_reboots() != boots {
            self.disconnect = true;
        }
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
        if let Some(out) = self.builtin(argv, env, r, stdin, background) {
            return out;
        }
        if let Some(handler) = cmd::lookup(name) {
            let mut ctx = cmd::Ctx::new(self.phone, stdin, &self.cwd);
            self.status = handler(&mut ctx, argv);
            return ctx.out;
        }
        if name.contains('/') {
            return self.exec_path(argv, env, r, stdin, background);
        }
        self.fail(&format!("{name}: inaccessible or not found"), 127)
    }
}
