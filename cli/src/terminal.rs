//! What a person sees on standard error, decided once for every command: whether progress bars
//! are drawn, the lines meant for a person (printed above a bar), and the exit code a report's
//! outcome gives.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::Global;
use crate::exit::Exit;

/// Whether progress bars are drawn: standard error is a terminal, and neither `-q` nor
/// `--no-progress` was given.
pub fn shows_progress(global: &Global) -> bool {
    !global.quiet && !global.no_progress && std::io::stderr().is_terminal()
}

/// A progress bar of `len` steps (unknown: `None`) drawn as `template` says, when progress is
/// shown; a hidden one otherwise.
pub fn bar(global: &Global, len: Option<u64>, template: &str) -> ProgressBar {
    if !shows_progress(global) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(style(template));
    bar
}

/// A bar style from `template` (indicatif's default when the template does not parse).
pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Lines meant for a person (the plan, warnings, summaries): on standard error unless `-q`,
/// whether it is a terminal or a file; printed above the progress bar when one is drawn (only
/// the bar itself is terminal-only).
pub struct Notices {
    quiet: bool,
    bar: ProgressBar,
}

impl Notices {
    /// Notices printed above `bar` (a clone of it: the bar may be replaced later with
    /// [`Notices::above`]).
    pub fn new(global: &Global, bar: &ProgressBar) -> Self {
        Self {
            quiet: global.quiet,
            bar: bar.clone(),
        }
    }

    /// Prints above `bar` from now on.
    pub fn above(&mut self, bar: &ProgressBar) {
        self.bar = bar.clone();
    }

    /// One line, unless `-q`.
    pub fn say(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }
}

/// The exit of a finished report: partial (something failed) before `--fail-on-missing` with a
/// missing KB, else done.
pub fn report_exit(partial: bool, any_missing: bool, fail_on_missing: bool) -> Exit {
    if partial {
        Exit::Partial
    } else if fail_on_missing && any_missing {
        Exit::Missing
    } else {
        Exit::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_report_exits_partial_even_with_fail_on_missing() {
        assert_eq!(report_exit(true, true, true), Exit::Partial);
        assert_eq!(report_exit(true, false, false), Exit::Partial);
        assert_eq!(report_exit(false, true, true), Exit::Missing);
        assert_eq!(report_exit(false, true, false), Exit::Done);
        assert_eq!(report_exit(false, false, true), Exit::Done);
    }
}
