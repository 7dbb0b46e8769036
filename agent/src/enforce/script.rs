//! A plan batch as one shell script with a step marker after every command, and the
//! evaluation of what it printed: which actions were done, which failed and why. Pure.
//!
//! ```text
//! pm hide --user 10 com.android.chrome && echo __CORRAL_STEP_<nonce>__ && bmgr --user 10 enable false && echo __CORRAL_STEP_<nonce>__
//! ```
//!
//! The batch stays one `&&` chain (it stops at the first command that fails by exit
//! status), and the markers cut its output into one piece per command, so each command's
//! text is checked against its own success text ([`super::check`]). Many Android tools fail
//! in words with exit status 0: such a failure is caught by the text check even though the
//! chain went on; the commands after it are checked too.

use corral_profiles::plan::RenderError;
use corral_profiles::{Action, UserId, Users};

use super::check::{self, Expect};

/// One command of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Index of the action in the batch.
    pub action: usize,
    /// The command line.
    pub command: String,
    /// What it must print.
    pub expect: Expect,
}

/// A rendered batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchScript {
    /// The script to run.
    pub script: String,
    /// Its commands in order.
    pub steps: Vec<Step>,
}

fn marker(nonce: u64) -> String {
    format!("__CORRAL_STEP_{nonce:016x}__")
}

/// Renders `batch` for `users` with step markers made from `nonce`.
pub fn render(batch: &[Action], users: Users, nonce: u64) -> Result<BatchScript, RenderError> {
    let mut steps = Vec::new();
    let mut parts = Vec::new();
    for (i, action) in batch.iter().enumerate() {
        for (k, command) in action.commands(users)?.into_iter().enumerate() {
            parts.push(format!("{command} && echo {}", marker(nonce)));
            steps.push(Step {
                action: i,
                command,
                expect: check::expected(action, k, users.work),
            });
        }
    }
    Ok(BatchScript {
        script: parts.join(" && "),
        steps,
    })
}

/// What became of one action of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    /// Every command printed its success text.
    Done,
    /// A command failed: the command, and why.
    Failed { command: String, reason: String },
    /// An earlier command stopped the chain.
    NotRun,
}

/// The evaluation of a batch's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// One result per action of the batch.
    pub results: Vec<ActionResult>,
    /// The user `pm create-user` created, if the batch created one.
    pub created_user: Option<UserId>,
}

/// Evaluates what `script` printed (`output`, `exit`) for `actions`.
pub fn evaluate(
    script: &BatchScript,
    actions: usize,
    output: &str,
    exit: u8,
    nonce: u64,
) -> BatchOutcome {
    let sep = format!("{}\n", marker(nonce));
    let mut pieces: Vec<&str> = output.split(sep.as_str()).collect();
    // After the last marker comes the output of the command that stopped the chain (or
    // nothing, when every command ran).
    let tail = pieces.pop().unwrap_or("");
    let mut results = vec![ActionResult::NotRun; actions];
    let mut created_user = None;
    let fail = |results: &mut Vec<ActionResult>, step: &Step, reason: String| {
        if let Some(r) = results.get_mut(step.action)
            && !matches!(r, ActionResult::Failed { .. })
        {
            *r = ActionResult::Failed {
                command: step.command.clone(),
                reason,
            };
        }
    };
    for (step, piece) in script.steps.iter().zip(&pieces) {
        match check::check(&step.expect, piece) {
            Ok(user) => {
                created_user = created_user.or(user);
                if let Some(r) = results.get_mut(step.action)
                    && *r == ActionResult::NotRun
                {
                    *r = ActionResult::Done;
                }
            }
            Err(reason) => fail(&mut results, step, reason),
        }
    }
    if pieces.len() > script.steps.len() {
        if let Some(last) = script.steps.last() {
            fail(
                &mut results,
                last,
                "output continued past the last command".into(),
            );
        }
    } else if let Some(step) = script.steps.get(pieces.len()) {
        let reason = if exit == 0 {
            format!(
                "the script ended early: {:?}",
                tail.chars().take(300).collect::<String>()
            )
        } else {
            format!(
                "exit status {exit}: {:?}",
                tail.chars().take(300).collect::<String>()
            )
        };
        fail(&mut results, step, reason);
        // Nothing after the stopping command ran.
        for r in results.iter_mut().skip(step.action + 1) {
            *r = ActionResult::NotRun;
        }
    } else if !tail.is_empty()
        && let Some(last) = script.steps.last()
    {
        fail(
            &mut results,
            last,
            format!("unexpected output after the last command: {tail:?}"),
        );
    }
    BatchOutcome {
        results,
        created_user,
    }
}

#[cfg(test)]
mod tests;
