//! Argument parsing the way Android's `ShellCommand` does it (`getNextOption`,
//! `getNextArg`, `getNextArgRequired`), so option errors read like the real ones.

/// A cursor over a command's arguments (after the subcommand).
#[derive(Debug, Clone)]
pub struct Args<'a> {
    args: &'a [String],
    pos: usize,
    /// Data glued to a short option (`-S123`).
    glued: Option<String>,
}

impl<'a> Args<'a> {
    /// Starts at `args[0]`.
    pub fn new(args: &'a [String]) -> Self {
        Args {
            args,
            pos: 0,
            glued: None,
        }
    }

    /// The next option (`-x`, `--long`), or `None` at the first non-option or `--`.
    pub fn next_option(&mut self) -> Option<String> {
        self.glued = None;
        let arg = self.args.get(self.pos)?;
        if !arg.starts_with('-') || arg == "-" {
            return None;
        }
        self.pos += 1;
        if arg == "--" {
            return None;
        }
        if !arg.starts_with("--") && arg.len() > 2 {
            self.glued = Some(arg[2..].to_string());
            return Some(arg[..2].to_string());
        }
        Some(arg.clone())
    }

    /// The next argument (or data glued to the last option).
    pub fn next_arg(&mut self) -> Option<String> {
        if let Some(g) = self.glued.take() {
            return Some(g);
        }
        let arg = self.args.get(self.pos)?;
        self.pos += 1;
        Some(arg.clone())
    }

    /// The next argument, or the `IllegalArgumentException` text `ShellCommand` throws.
    pub fn next_arg_required(&mut self) -> Result<String, String> {
        let prev = self
            .args
            .get(self.pos.wrapping_sub(1))
            .cloned()
            .unwrap_or_default();
        self.next_arg().ok_or_else(|| {
            format!("java.lang.IllegalArgumentException: Argument expected after \"{prev}\"")
        })
    }

    /// Peeks at the next argument.
    pub fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(String::as_str)
    }

    /// Everything not consumed yet.
    pub fn rest(&self) -> &'a [String] {
        &self.args[self.pos.min(self.args.len())..]
    }
}

/// `UserHandle.parseUserArg`: a number, `all` (-1), `current`/`cur` (0 here).
pub fn parse_user(arg: &str) -> Option<i64> {
    match arg {
        "all" => Some(-1),
        "current" | "cur" => Some(0),
        n => n.parse::<i64>().ok(),
    }
}

/// Java's `NumberFormatException` text for a bad `Integer.parseInt`.
pub fn number_format(arg: &str) -> String {
    format!("java.lang.NumberFormatException: For input string: \"{arg}\"")
}
