//! toybox `sed`: `-n`, `-e`, `-f`, `-E`/`-r`, `-i`, several scripts, and the commands
//! of [`parse`] run the way toybox's `process_line` runs them (ranges, `$` as the last
//! line of all input, `N` on the last line quitting without output, a missing final
//! newline kept).
//!
//! Bounded: a script that branches for ever is stopped after [`MAX_COMMANDS`] commands
//! and reported like a killed process (`Killed`, 137).

mod args;
mod exec;
pub mod parse;

use super::Ctx;
use super::toybox;
use parse::Script;

/// Commands one `sed` may execute before it is killed.
pub const MAX_COMMANDS: usize = 5_000_000;

/// One line of input: its text and whether it ended with a newline.
pub type Line = (String, bool);

fn split_lines(data: &[u8]) -> Vec<Line> {
    let text = String::from_utf8_lossy(data);
    let mut lines: Vec<Line> = text.split('\n').map(|l| (l.to_string(), true)).collect();
    match lines.last_mut() {
        Some((l, _)) if l.is_empty() => {
            lines.pop();
        }
        Some((_, eol)) => *eol = false,
        None => {}
    }
    lines
}

/// `sed [-inrE] [-e SCRIPT]…|SCRIPT [-f FILE]… [FILE…]`.
pub fn sed(ctx: &mut Ctx<'_>, argv: &[String]) -> u8 {
    let o = match toybox::parse(argv, "inErsz", "ef", false) {
        Ok(o) => o,
        Err(e) => {
            ctx.errln(format!("sed: {e}"));
            return 1;
        }
    };
    let extended = o.has('E') || o.has('r');
    let mut scripts: Vec<String> = o.all('e').map(str::to_string).collect();
    for f in o.all('f').map(str::to_string).collect::<Vec<_>>() {
        match ctx.phone.fs().read(&ctx.path(&f)) {
            Ok(d) => scripts.push(String::from_utf8_lossy(&d).into_owned()),
            Err(e) => {
                ctx.errln(format!("sed: {f}: {}", e.message()));
                return 1;
            }
        }
    }
    let mut files = o.args.clone();
    if scripts.is_empty() {
        if files.is_empty() {
            ctx.errln("sed: no pattern");
            return 1;
        }
        scripts.push(files.remove(0));
    }
    let mut script = Script::default();
    let mut open = Vec::new();
    for s in &scripts {
        if let Err(e) = parse::parse_into(s, extended, &mut script, &mut open) {
            ctx.errln(format!("sed: {e}"));
            return 1;
        }
    }
    if !open.is_empty() {
        ctx.errln("sed: no }");
        return 1;
    }
    let quiet = o.has('n');
    if o.has('i') {
        return in_place(ctx, &mut script, quiet, &files);
    }
    let (inputs, failed) = toybox::read_inputs(ctx, "sed", &files);
    let mut lines = Vec::new();
    for (_, data) in &inputs {
        lines.extend(split_lines(data));
    }
    let mut run = exec::Run::new(&mut script, quiet);
    let result = run.lines(&mut lines);
    ctx.out.out(&run.out);
    finish(ctx, result, failed)
}

fn finish(ctx: &mut Ctx<'_>, result: Result<(), exec::Stop>, failed: bool) -> u8 {
    match result {
        Ok(()) => u8::from(failed),
        Err(exec::Stop::Error(msg)) => {
            ctx.errln(format!("sed: {msg}"));
            1
        }
        Err(exec::Stop::Killed) => {
            tracing::warn!("sed ran more than {MAX_COMMANDS} commands; killed");
            ctx.errln("Killed");
            137
        }
    }
}

fn in_place(ctx: &mut Ctx<'_>, script: &mut Script, quiet: bool, files: &[String]) -> u8 {
    let mut failed = false;
    for name in files {
        if name == "-" {
            ctx.errln("sed: -i on stdin");
            failed = true;
            continue;
        }
        let path = ctx.path(name);
        let data = match ctx.phone.fs().read(&path) {
            Ok(d) => d,
            Err(e) => {
                ctx.errln(format!("sed: {name}: {}", e.message()));
                failed = true;
                continue;
            }
        };
        for c in &mut script.commands {
            c.hit = false;
        }
        let mut lines = split_lines(&data);
        let mut run = exec::Run::new(script, quiet);
        let result = run.lines(&mut lines);
        let mode = ctx
            .phone
            .fs()
            .stat(&path)
            .map(|s| s.mode & 0o7777)
            .unwrap_or(0o644);
        if let Err(e) = ctx.phone.fs().write(&path, mode, &run.out) {
            ctx.errln(format!("sed: {name}: {}", e.message()));
            failed = true;
        }
        if result.is_err() {
            return finish(ctx, result, failed);
        }
    }
    u8::from(failed)
}
