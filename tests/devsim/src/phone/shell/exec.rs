//! What the shell executes besides its own syntax: `sh` (`-c`, a script file, or a
//! script on stdin), `.`/`source`, `#!/system/bin/sh` scripts, and pushed programs,
//! which run as host processes (`phone::process`) in the foreground or background.

use std::io::Read;

use super::Output;
use super::expand::Redirections;
use super::run::Shell;

impl Shell<'_> {
    pub(super) fn sh_builtin(&mut self, argv: &[String], stdin: &mut dyn Read) -> Output {
        let mut sub = self.subshell();
        let out = match argv.get(1).map(String::as_str) {
            Some("-c") => match argv.get(2) {
                Some(script) => sub.run_text(script, stdin),
                None => return self.fail("-c: option requires an argument", 1),
            },
            Some(file) if !file.starts_with('-') => {
                let out = sub.run_script_file(file, stdin, true);
                self.status = sub.status;
                self.disconnect |= sub.disconnect;
                return out;
            }
            Some(opt) if opt != "-" && opt != "-s" => {
                return self.fail(&format!("{opt}: unknown option"), 1);
            }
            _ => {
                let mut text = Vec::new();
                if let Err(e) = stdin.read_to_end(&mut text) {
                    return self.fail(&format!("read error: {e}"), 1);
                }
                sub.run_text(&String::from_utf8_lossy(&text), &mut std::io::empty())
            }
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
