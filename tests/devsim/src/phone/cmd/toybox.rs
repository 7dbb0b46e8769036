//! What toybox's tools share: option parsing as `lib/args.c` does it (clustered short
//! options, options after operands, `--`, a lone `-` as an operand) and reading each
//! input file (or stdin for none or `-`) with `perror_msg`'s wording.

use super::Ctx;

/// Parsed options: flags in the order given, option values, operands.
#[derive(Debug, Default)]
pub struct Opts {
    pub flags: Vec<char>,
    pub values: Vec<(char, String)>,
    pub args: Vec<String>,
}

impl Opts {
    /// Whether `-c` was given.
    pub fn has(&self, c: char) -> bool {
        self.flags.contains(&c)
    }

    /// Every value given to `-c`, in order.
    pub fn all(&self, c: char) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(move |(k, _)| *k == c)
            .map(|(_, v)| v.as_str())
    }

    /// The last value given to `-c`.
    pub fn last(&self, c: char) -> Option<&str> {
        self.all(c).last()
    }
}

/// Parses `argv[1..]`. `flags` lists options without a value, `valued` those with one.
/// `stop_at_operand` is toybox's `^`: options end at the first operand. Errors are the
/// message after `TOOL: ` (with toybox's usage hint).
pub fn parse(
    argv: &[String],
    flags: &str,
    valued: &str,
    stop_at_operand: bool,
) -> Result<Opts, String> {
    let tool = argv.first().map(String::as_str).unwrap_or("toybox");
    let tool = tool.rsplit('/').next().unwrap_or(tool);
    let hint = format!(" (see \"{tool} --help\")");
    let mut o = Opts::default();
    let mut it = argv.iter().skip(1);
    let mut options_done = false;
    while let Some(a) = it.next() {
        if options_done || a == "-" || !a.starts_with('-') {
            o.args.push(a.clone());
            options_done |= stop_at_operand;
            continue;
        }
        if a == "--" {
            options_done = true;
            continue;
        }
        let cluster: Vec<char> = a.chars().skip(1).collect();
        let mut i = 0;
        while let Some(&c) = cluster.get(i) {
            i += 1;
            if flags.contains(c) {
                o.flags.push(c);
            } else if valued.contains(c) {
                let value = if i < cluster.len() {
                    cluster[i..].iter().collect()
                } else {
                    match it.next() {
                        Some(v) => v.clone(),
                        None => return Err(format!("Missing argument to -{c}{hint}")),
                    }
                };
                o.flags.push(c);
                o.values.push((c, value));
                break;
            } else {
                let rest: String = cluster[i - 1..].iter().collect();
                return Err(format!("Unknown option '{rest}'{hint}"));
            }
        }
    }
    Ok(o)
}

/// Reads each named input (stdin for none or `-`), reporting unreadable ones as
/// `TOOL: NAME: error` on stderr. Returns `(name, bytes)` per readable input and whether
/// any failed.
pub fn read_inputs(
    ctx: &mut Ctx<'_>,
    tool: &str,
    names: &[String],
) -> (Vec<(String, Vec<u8>)>, bool) {
    let mut out = Vec::new();
    let mut failed = false;
    let stdin_only = [String::from("-")];
    let names = if names.is_empty() {
        &stdin_only[..]
    } else {
        names
    };
    for name in names {
        if name == "-" {
            let mut data = Vec::new();
            let _ = ctx.stdin.read_to_end(&mut data);
            out.push((name.clone(), data));
            continue;
        }
        let path = ctx.path(name);
        match ctx.phone.fs().read(&path) {
            Ok(data) => out.push((name.clone(), data)),
            Err(e) => {
                ctx.errln(format!("{tool}: {name}: {}", e.message()));
                failed = true;
            }
        }
    }
    (out, failed)
}

/// Splits text into lines without their `\n`; a last line without one still counts.
pub fn lines(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut v: Vec<String> = text.split('\n').map(str::to_string).collect();
    if text.ends_with('\n') || text.is_empty() {
        v.pop();
    }
    v
}
