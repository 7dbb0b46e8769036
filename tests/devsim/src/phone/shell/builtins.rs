//! mksh's builtins as far as scripts use them: `exit`, `cd`, `export`, `readonly`,
//! `unset`, `set` (`-e`, `+e`, `--`), `shift`, `break`, `continue`, `eval`, `read`,
//! `command -v`, `wait`, `sh`/`.`, `nohup`, `setsid`, `exec`.

use std::io::Read;

use super::Output;
use super::expand::Redirections;
use super::run::{Flow, Shell};
use crate::phone::cmd;

impl Shell<'_> {
    /// Runs `argv` when it names a builtin; `None` otherwise.
    pub(super) fn builtin(
        &mut self,
        argv: &[String],
        env: &[(String, String)],
        r: &Redirections,
        stdin: &mut dyn Read,
        background: bool,
    ) -> Option<Output> {
        let name = argv.first()?.as_str();
        let args = &argv[1..];
        let mut out = Output::default();
        match name {
            "exit" => {
                self.status = match args.first() {
                    None => self.status,
                    Some(n) => match n.parse::<i64>() {
                        Ok(n) => (n & 0xff) as u8,
                        Err(_) => return Some(self.fail(&format!("exit: {n}: bad number"), 1)),
                    },
                };
                self.exited = true;
            }
            "cd" => {
                let target = args.first().cloned().unwrap_or_else(|| "/".into());
                let path = self.resolve(&target);
                match self.phone.fs().stat(&path) {
                    Ok(st) if st.is_dir() => {
                        self.cwd = path;
                        self.status = 0;
                    }
                    Ok(_) => return Some(self.fail(&format!("cd: {target}: Not a directory"), 2)),
                    Err(e) => {
                        return Some(self.fail(&format!("cd: {target}: {}", e.message()), 2));
                    }
                }
            }
            "export" | "readonly" => {
                for a in args {
                    if let Some((k, v)) = a.split_once('=') {
                        self.vars.insert(k.to_string(), v.to_string());
                    }
                }
                self.status = 0;
            }
            "unset" => {
                for a in args {
                    self.vars.remove(a);
                }
                self.status = 0;
            }
            "set" => return Some(self.set_builtin(args)),
            "shift" => {
                let n = match args.first().map(|a| a.parse::<usize>()) {
                    None => 1,
                    Some(Ok(n)) => n,
                    Some(Err(_)) => {
                        let a = args.first().cloned().unwrap_or_default();
                        return Some(self.fail(&format!("shift: {a}: bad number"), 1));
                    }
                };
                if n > self.args.len() {
                    return Some(self.fail("shift: nothing to shift", 1));
                }
                self.args.drain(..n);
                self.status = 0;
            }
            "break" | "continue" => return Some(self.break_continue(name, args)),
            "eval" => {
                let text = args.join(" ");
                self.status = 0;
                self.depth += 1;
                let out = self.run_text(&text, stdin);
                self.depth -= 1;
                return Some(out);
            }
            "read" => return Some(self.read_builtin(args, stdin)),
            "wait" | "trap" | "umask" => self.status = 0,
            "command" => match args.first().map(String::as_str) {
                Some("-v" | "-V") => {
                    self.status = 0;
                    for a in &args[1..] {
                        if is_builtin(a) || super::parse::RESERVED.contains(&a.as_str()) {
                            out.out(format!("{a}\n"));
                        } else if cmd::is_system_binary(a) || a == "sh" {
                            out.out(format!("/system/bin/{a}\n"));
                        } else {
                            self.status = 1;
                        }
                    }
                }
                Some(_) => return Some(self.dispatch(args, env, r, stdin, background)),
                None => self.status = 0,
            },
            "sh" | "/system/bin/sh" | "/bin/sh" | "mksh" | "/system/bin/mksh" => {
                return Some(self.sh_builtin(argv, stdin));
            }
            "." | "source" => {
                return Some(match args.first() {
                    None => self.fail(&format!("{name}: missing argument"), 1),
                    Some(file) => {
                        self.depth += 1;
                        let out = self.run_script_file(file, stdin, false);
                        self.depth -= 1;
                        out
                    }
                });
            }
            "nohup" | "setsid" => {
                let rest: Vec<String> = args
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
                    return Some(self.dispatch(&rest, env, r, stdin, background));
                }
            }
            "exec" => {
                let produced = self.dispatch(args, env, r, stdin, background);
                self.exited = true;
                return Some(produced);
            }
            _ => return None,
        }
        Some(out)
    }

    fn set_builtin(&mut self, args: &[String]) -> Output {
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--" => {
                    self.args = it.cloned().collect();
                    break;
                }
                "-e" => self.errexit = true,
                "+e" => self.errexit = false,
                "-o" | "+o" => match it.next().map(String::as_str) {
                    Some("errexit") => self.errexit = a == "-o",
                    Some(other) => {
                        return self.fail(&format!("set: {a} {other}: unknown option"), 1);
                    }
                    None => {}
                },
                opt if opt.starts_with(['-', '+']) && opt.len() > 1 => {
                    return self.fail(&format!("set: {opt}: unknown option"), 1);
                }
                _ => {
                    self.args = std::iter::once(a).chain(it).cloned().collect();
                    break;
                }
            }
        }
        self.status = 0;
        Output::default()
    }

    fn break_continue(&mut self, name: &str, args: &[String]) -> Output {
        let n = match args.first() {
            None => 1,
            Some(a) => match a.parse::<i64>() {
                Ok(n) if n > 0 => u32::try_from(n).unwrap_or(u32::MAX),
                Ok(_) => return self.fail(&format!("{name}: {a}: bad value"), 1),
                Err(_) => return self.fail(&format!("{name}: {a}: bad number"), 1),
            },
        };
        self.status = 0;
        if self.loops == 0 {
            let mut out = Output::default();
            out.err(format!("/system/bin/sh: {name}: can't {name}\n"));
            return out;
        }
        let mut out = Output::default();
        let levels = if n > self.loops {
            out.err(format!(
                "/system/bin/sh: {name}: can only {name} {} level(s)\n",
                self.loops
            ));
            self.loops
        } else {
            n
        };
        self.flow = Some(if name == "break" {
            Flow::Break(levels)
        } else {
            Flow::Continue(levels)
        });
        out
    }

    /// `read [-r] [NAME…]`: one line from stdin, split on IFS into the names (the last
    /// takes the rest; `REPLY` without names). Status 1 at end of input.
    fn read_builtin(&mut self, args: &[String], stdin: &mut dyn Read) -> Output {
        let raw = args.first().is_some_and(|a| a == "-r");
        let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let mut line = Vec::new();
        let mut eof = true;
        let mut byte = [0u8; 1];
        while let Ok(1) = stdin.read(&mut byte) {
            match byte[0] {
                b'\n' => {
                    if !raw && line.last() == Some(&b'\\') {
                        line.pop();
                        continue;
                    }
                    eof = false;
                    break;
                }
                b => line.push(b),
            }
        }
        let text = String::from_utf8_lossy(&line).into_owned();
        let text = if raw { text } else { unescape_read(&text) };
        let ifs = [' ', '\t', '\n'];
        if names.is_empty() {
            self.vars.insert("REPLY".into(), text);
        } else {
            let mut rest = text.trim_start_matches(ifs);
            for (i, name) in names.iter().enumerate() {
                let value = if i + 1 == names.len() {
                    std::mem::take(&mut rest).trim_end_matches(ifs).to_string()
                } else {
                    let (field, tail) = rest.split_once(ifs).unwrap_or((rest, ""));
                    rest = tail.trim_start_matches(ifs);
                    field.to_string()
                };
                self.vars.insert((*name).clone(), value);
            }
        }
        self.status = u8::from(eof);
        Output::default()
    }
}

fn unescape_read(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Names the shell runs itself (for `command -v`).
fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "exit"
            | "cd"
            | "export"
            | "readonly"
            | "unset"
            | "set"
            | "shift"
            | "break"
            | "continue"
            | "eval"
            | "read"
            | "wait"
            | "trap"
            | "umask"
            | "command"
            | "."
            | "source"
            | "exec"
            | "echo"
            | "test"
            | "["
            | "true"
            | "false"
            | ":"
            | "pwd"
            | "kill"
    )
}
