//! What `corral enroll --all` shows while it works, as pure functions over plain data: a
//! [`Board`] of phones, each with its current step, drawn as one bar per phone (a TTY
//! redraws it in place with ANSI) or as one line per event (logs and tests), and the
//! summary table at the end.
//!
//! Must never: do I/O (the caller writes the text), or depend on the time of day (the
//! caller passes durations in).

use std::time::Duration;

use crate::domain::{ProvisionStep, StepOutcome};
use crate::provision::{Progress, ProgressState};

/// Width of the bar in characters.
const BAR: usize = 18;

/// Where one phone is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    pub phone: String,
    /// The step running or last finished.
    pub step: Option<ProvisionStep>,
    pub state: Option<ProgressState>,
    /// Steps finished (done or unchanged).
    pub finished: usize,
}

/// Every phone's lane, in the order the phones were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    pub lanes: Vec<Lane>,
}

impl Board {
    /// A board with one waiting lane per phone.
    pub fn new(phones: &[String]) -> Board {
        Board {
            lanes: phones
                .iter()
                .map(|p| Lane {
                    phone: p.clone(),
                    step: None,
                    state: None,
                    finished: 0,
                })
                .collect(),
        }
    }

    /// Applies one event; unknown phones are ignored.
    pub fn apply(&mut self, event: &Progress) {
        if let Some(lane) = self.lanes.iter_mut().find(|l| l.phone == event.phone) {
            lane.step = Some(event.step);
            lane.state = Some(event.state);
            if matches!(
                event.state,
                ProgressState::Finished(StepOutcome::Done | StepOutcome::Unchanged)
            ) {
                lane.finished += 1;
            }
        }
    }

    /// One line per phone, the phone names padded to one width.
    pub fn lines(&self) -> Vec<String> {
        let width = self.lanes.iter().map(|l| l.phone.len()).max().unwrap_or(0);
        self.lanes.iter().map(|l| lane_line(l, width)).collect()
    }
}

fn lane_line(lane: &Lane, width: usize) -> String {
    let total = ProvisionStep::ALL.len();
    let filled = lane.finished * BAR / total;
    let bar: String = "#".repeat(filled) + &"-".repeat(BAR - filled);
    let what = match (lane.step, lane.state) {
        (None, _) | (_, None) => "waiting".to_owned(),
        (Some(step), Some(ProgressState::Started)) => format!("{step} …"),
        (Some(_), Some(ProgressState::Finished(StepOutcome::Failed))) => "failed".to_owned(),
        (Some(ProvisionStep::AwaitEnrollment), Some(ProgressState::Finished(_))) => {
            "done".to_owned()
        }
        (Some(step), Some(ProgressState::Finished(outcome))) => {
            format!("{step} {}", outcome.as_str())
        }
    };
    format!(
        "{:<width$}  [{bar}] {}/{total}  {what}",
        lane.phone, lane.finished
    )
}

/// The plain one-line form of an event (stdout is not a TTY).
pub fn event_line(event: &Progress) -> String {
    let index = ProvisionStep::ALL
        .iter()
        .position(|s| *s == event.step)
        .map_or(0, |i| i + 1);
    let total = ProvisionStep::ALL.len();
    let what = match event.state {
        ProgressState::Started => "started".to_owned(),
        ProgressState::Finished(outcome) => outcome.as_str().to_owned(),
    };
    format!(
        "{}  step {index}/{total} {}  {what}",
        event.phone, event.step
    )
}

/// ANSI: move the cursor up `lines` lines to redraw the board in place.
pub fn redraw_prefix(lines: usize) -> String {
    if lines == 0 {
        String::new()
    } else {
        format!("\x1b[{lines}A")
    }
}

/// ANSI: erase the line the cursor is on before writing it again.
pub const CLEAR_LINE: &str = "\x1b[2K";

/// One row of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub phone: String,
    pub model: String,
    /// `Ok(device id)` or `Err(error with its remedy)`.
    pub result: Result<String, String>,
    pub duration: Duration,
}

/// The summary table: phone, model, result, device or error, duration; then a count.
pub fn summary(rows: &[SummaryRow]) -> String {
    let header = ["PHONE", "MODEL", "RESULT", "DURATION", "DEVICE / ERROR"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let (result, what) = match &r.result {
                Ok(device) => ("ok", device.clone()),
                Err(e) => ("FAILED", e.clone()),
            };
            [
                r.phone.clone(),
                r.model.clone(),
                result.to_owned(),
                format!("{:.1}s", r.duration.as_secs_f64()),
                what,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 5]| {
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == row.len() - 1 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        text.trim_end().to_owned()
    };
    let mut out = line(&header.map(str::to_owned));
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    out.push_str(&format!(
        "{} of {} phones provisioned{}\n",
        rows.len() - failed,
        rows.len(),
        if failed == 0 {
            String::new()
        } else {
            format!(", {failed} failed")
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(phone: &str, step: ProvisionStep, state: ProgressState) -> Progress {
        Progress {
            phone: phone.into(),
            step,
            state,
        }
    }

    #[test]
    fn the_board_follows_the_events() {
        let mut board = Board::new(&["R58M41".into(), "tcp:127.0.0.1:5556".into()]);
        board.apply(&event(
            "R58M41",
            ProvisionStep::Preflight,
            ProgressState::Finished(StepOutcome::Unchanged),
        ));
        board.apply(&event(
            "R58M41",
            ProvisionStep::WorkProfile,
            ProgressState::Started,
        ));
        board.apply(&event(
            "tcp:127.0.0.1:5556",
            ProvisionStep::Preflight,
            ProgressState::Finished(StepOutcome::Failed),
        ));
        expect_test::expect![[r#"
            [
                "R58M41              [##----------------] 1/9  work_profile …",
                "tcp:127.0.0.1:5556  [------------------] 0/9  failed",
            ]
        "#]]
        .assert_debug_eq(&board.lines());
        expect_test::expect![[r#"
            "R58M41  step 2/9 work_profile  started"
        "#]]
        .assert_debug_eq(&event_line(&event(
            "R58M41",
            ProvisionStep::WorkProfile,
            ProgressState::Started,
        )));
    }

    #[test]
    fn a_finished_phone_shows_done() {
        let mut board = Board::new(&["p".into()]);
        for step in ProvisionStep::ALL {
            board.apply(&event(
                "p",
                step,
                ProgressState::Finished(StepOutcome::Done),
            ));
        }
        expect_test::expect![[r#"
            [
                "p  [##################] 9/9  done",
            ]
        "#]]
        .assert_debug_eq(&board.lines());
    }

    #[test]
    fn the_summary_names_each_phone_and_counts_the_failures() {
        let rows = [
            SummaryRow {
                phone: "127.0.0.1:5555".into(),
                model: "Pixel_7".into(),
                result: Ok("0123456789abcdef0123456789abcdef".into()),
                duration: Duration::from_millis(12_340),
            },
            SummaryRow {
                phone: "tcp:127.0.0.1:5600".into(),
                model: "-".into(),
                result: Err("tcp:127.0.0.1:5600: unauthorized; accept the prompt".into()),
                duration: Duration::from_millis(50),
            },
        ];
        expect_test::expect![[r#"
            PHONE               MODEL    RESULT  DURATION  DEVICE / ERROR
            127.0.0.1:5555      Pixel_7  ok      12.3s     0123456789abcdef0123456789abcdef
            tcp:127.0.0.1:5600  -        FAILED  0.1s      tcp:127.0.0.1:5600: unauthorized; accept the prompt
            1 of 2 phones provisioned, 1 failed
        "#]]
        .assert_eq(&summary(&rows));
    }
}
