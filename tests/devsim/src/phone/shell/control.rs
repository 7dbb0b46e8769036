//! Running compound commands: `if`, `for`, `while`/`until`, `case`, `{ …; }`, with
//! `break N`/`continue N`.
//!
//! **Bounded:** all loops of one command line (every shell it starts included) share
//! [`MAX_LOOP_ITERATIONS`] (`Shell::set_loop_limit` changes it). The shell whose loop goes past it is killed as a runaway
//! process would be: `Killed` on stderr (once), status 137, nothing more runs in it.
//! Values and output past the memory limits of `run` end the same way.

use std::io::Read;
use std::sync::atomic::Ordering;

use super::Output;
use super::glob::glob_matches;
use super::parse::{Compound, Script};
use super::run::{Flow, Shell};

/// Loop iterations one command line may run.
pub const MAX_LOOP_ITERATIONS: u64 = 100_000;

impl Shell<'_> {
    pub(super) fn compound(&mut self, c: &Compound, stdin: &mut dyn Read) -> Output {
        match c {
            Compound::Brace(body) => self.script(body, stdin),
            Compound::If {
                branches,
                otherwise,
            } => {
                let mut out = Output::default();
                for (cond, body) in branches {
                    out.extend(self.condition(cond, stdin));
                    if self.stopped() {
                        return out;
                    }
                    if self.status == 0 {
                        out.extend(self.script(body, stdin));
                        return out;
                    }
                }
                match otherwise {
                    Some(body) => out.extend(self.script(body, stdin)),
                    None => self.status = 0,
                }
                out
            }
            Compound::For { var, words, body } => {
                let items: Vec<String> = match words {
                    Some(words) => words.iter().flat_map(|w| self.expand_fields(w)).collect(),
                    None => self.args.clone(),
                };
                let mut out = Output::default();
                if self.take_expand_error(&mut out) {
                    return out;
                }
                out.extend(std::mem::take(&mut self.pending));
                self.status = 0;
                self.loops += 1;
                for item in items {
                    if !self.tick(&mut out) {
                        break;
                    }
                    self.vars.insert(var.clone(), item);
                    out.extend(self.script(body, stdin));
                    if self.end_of_iteration() {
                        break;
                    }
                }
                self.loops -= 1;
                out
            }
            Compound::Loop { until, cond, body } => {
                let mut out = Output::default();
                let mut status = 0;
                self.loops += 1;
                loop {
                    if !self.tick(&mut out) {
                        break;
                    }
                    out.extend(self.condition(cond, stdin));
                    if self.end_of_iteration() {
                        status = self.status;
                        break;
                    }
                    if (self.status == 0) == *until {
                        break;
                    }
                    out.extend(self.script(body, stdin));
                    status = self.status;
                    if self.end_of_iteration() {
                        status = self.status;
                        break;
                    }
                }
                self.loops -= 1;
                if !self.exited {
                    self.status = status;
                }
                out
            }
            Compound::Case { word, arms } => {
                let subject = self.expand_single(word);
                let mut out = Output::default();
                if self.take_expand_error(&mut out) {
                    return out;
                }
                for (patterns, body) in arms {
                    for p in patterns {
                        let pattern = self.pattern(p);
                        if self.take_expand_error(&mut out) {
                            return out;
                        }
                        if glob_matches(&pattern, &subject) {
                            out.extend(std::mem::take(&mut self.pending));
                            self.status = 0;
                            out.extend(self.script(body, stdin));
                            return out;
                        }
                    }
                }
                out.extend(std::mem::take(&mut self.pending));
                self.status = 0;
                out
            }
        }
    }

    /// Runs a condition list (where `set -e` does not apply).
    fn condition(&mut self, cond: &Script, stdin: &mut dyn Read) -> Output {
        self.conditions += 1;
        let out = self.script(cond, stdin);
        self.conditions -= 1;
        out
    }

    /// After a loop body: consumes a `break`/`continue` meant for this loop. True when
    /// the loop must end (break, an outer continue, exit).
    fn end_of_iteration(&mut self) -> bool {
        match self.flow {
            Some(Flow::Break(n)) => {
                self.flow = (n > 1).then_some(Flow::Break(n - 1));
                true
            }
            Some(Flow::Continue(n)) if n > 1 => {
                self.flow = Some(Flow::Continue(n - 1));
                true
            }
            Some(Flow::Continue(_)) => {
                self.flow = None;
                false
            }
            None => self.exited || self.disconnect,
        }
    }

    /// Takes one loop iteration from the shared budget; past it the shell is killed.
    fn tick(&mut self, out: &mut Output) -> bool {
        let used = self.budget.fetch_add(1, Ordering::Relaxed) + 1;
        if used <= self.loop_limit {
            return true;
        }
        let why = format!("the loops ran {} iterations", self.loop_limit);
        self.kill(out, &why);
        false
    }
}
