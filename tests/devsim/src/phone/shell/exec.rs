//! What the shell executes besides its own syntax: `sh` (`-c`, a script file, or a
//! script on stdin), `.`/`source`, `#!/system/bin/sh` scripts, and pushed programs,
//! which run as host processes (`phone::process`) in the foreground or background.

use std::io::Read;

use super::Output;
use super::expand::Redirections;
use super::run::Shell;

impl Shell<'_> {
    /// `sh [-ce…] [-c SCRIPT [ARG0 [ARG…]] | FILE [ARG…] | -s [ARG…]]`: a new shell
    /// (with the parent's variables) whose positional parameters are the arguments.
    pub(super) fn sh_builtin(&mut self, argv: &[String], stdin: &mut dyn Read) -> Output {
        let mut sub = self.subshell();
        sub.errexit = false;
        let (mut command, mut from_stdin) = (false, false);
        let mut i = 1;
        while let Some(a) = argv.get(i) {
            if a == "--" {
                i += 1;
                break;
            }
            if !a.starts_with(['-', '+']) || a.len() < 2 {
                break;
            }
            for c in a.chars().skip(1) {
                match c {
                    'c' => command = true,
                    's' => from_stdin = true,
                    'e' => sub.errexit = a.starts_with('-'),
                    'x' | 'u' | 'v' | 'f' => {}
                    other => return self.fail(&format!("-{other}: unknown option"), 1),
                }
            }
            i += 1;
        }
        let out = if command {
            let Some(script) = argv.get(i) else {
                return self.fail("-c: option requires an argument", 1);
            };
            sub.arg0 = argv.get(i + 1).unwrap_or(&argv[0]).clone();
            sub.args = argv.get(i + 2..).unwrap_or_default().to_vec();
            sub.run_text(script, stdin)
        } else if let Some(file) = argv.get(i).filter(|_| !from_stdin) {
            sub.arg0 = file.clone();
            sub.args = argv[i + 1..].to_vec();
            sub.run_script_file(file, stdin, true)
        } else {
            sub.args = argv.get(i..).unwrap_or_default().to_vec();
            let mut text = Vec::new();
            if let Err(e) = stdin.read_to_end(&mut text) {
                return self.fail(&format!("read error: {e}"), 1);
            }
            sub.run_text(&String::from_utf8_lossy(&text), &mut std::io::empty())
        };
        self.status = sub.status;
        self.disconnect |= sub.disconnect;
        out
    }

    /// Runs a file of the phone as a shell script (`sh FILE`, `. FILE`, `#!/system/bin/sh`).
    pub(super) fn run_script_file(
        &mut self,
        file: &str,
        stdin: &mut dyn Read,
        as_sh: bool,
    ) -> Output {
        let path = self.resolve(file);
        match self.phone.fs().read(&path) {
            Ok(bytes) => self.run_text(&String::from_utf8_lossy(&bytes), stdin),
            Err(e) if as_sh => self.fail(&format!("{file}: can't open: {}", e.message()), 127),
            Err(e) => self.fail(&format!("{file}: {}", e.message()), 1),
        }
    }

    pub(super) fn exec_path(
        &mut self,
        argv: &[String],
        env: &[(String, String)],
        r: &Redirections,
        stdin: &mut dyn Read,
        background: bool,
    ) -> Output {
        let name = &argv[0];
        let path = self.resolve(name);
        let st = match self.phone.fs().stat(&path) {
            Ok(st) => st,
            Err(_) => return self.fail(&format!("{name}: inaccessible or not found"), 127),
        };
        if st.is_dir() {
            return self.fail(&format!("{name}: can't execute: Is a directory"), 126);
        }
        if st.mode & 0o111 == 0 {
            return self.fail(&format!("{name}: can't execute: Permission denied"), 126);
        }
        let mut head = [0u8; 64];
        let n = self
            .phone
            .fs()
            .open_read(&path)
            .ok()
            .and_then(|mut f| f.read(&mut head).ok())
            .unwrap_or(0);
        let head = &head[..n];
        if head.starts_with(b"#!/system/bin/sh")
            || (!head.starts_with(b"#!") && !head.starts_with(b"\x7fELF"))
        {
            let mut sub = self.subshell();
            sub.arg0 = name.clone();
            sub.args = argv[1..].to_vec();
            let out = sub.run_script_file(&path, stdin, true);
            self.status = sub.status;
            self.disconnect |= sub.disconnect;
            return out;
        }
        let run = crate::phone::process::Launch {
            android_path: path,
            argv: argv.to_vec(),
            env: env.to_vec(),
            cwd: self.cwd.clone(),
        };
        if background {
            match self.phone.spawn_background(&run, r) {
                Ok(pid) => {
                    self.last_background = Some(pid);
                    self.status = 0;
                    Output::default()
                }
                Err(e) => self.fail(&format!("{name}: can't execute: {e}"), 126),
            }
        } else {
            match self.phone.run_foreground(&run) {
                Ok((out, code)) => {
                    self.status = code;
                    out
                }
                Err(e) => self.fail(&format!("{name}: can't execute: {e}"), 126),
            }
        }
    }
}
