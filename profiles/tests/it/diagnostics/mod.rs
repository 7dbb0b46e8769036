//! Snapshot tests of diagnostics for broken profiles: every problem at once, with
//! file:line:col, what is wrong and a hint, rendered as on a terminal.

use corral_profiles::{Style, render, resolve};
use expect_test::Expect;

use crate::fixture::files;

mod inheritance;
mod schema;
mod values;

#[track_caller]
pub(crate) fn check(input: &str, expect: Expect) {
    let files = files(input);
    let resolution = resolve(&files, None);
    let rendered = render(&resolution.diagnostics, &files, Style::Plain);
    expect.assert_eq(rendered.trim_end());
}
