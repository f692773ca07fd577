//! Exit codes: one list, which `--help` prints and `main` returns, so scripts can branch on them.

use std::process::ExitCode;

/// How the command line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done.
    Done,
    /// Failed: the API, the sign-in, the network, a file.
    Failed,
    /// A usage or configuration error (clap's own included), or input the library refused.
    Usage,
    /// `--fail-on-missing`, and at least one KB is missing.
    Missing,
    /// The report is partial (some software or device listing failed); wins over `Missing`.
    Partial,
    /// Interrupted with Ctrl-C (a `--checkpoint` file keeps what finished).
    Interrupted,
}

impl Exit {
    /// Every exit, in the order `--help` lists them.
    pub const ALL: [Exit; 6] = [
        Exit::Done,
        Exit::Failed,
        Exit::Usage,
        Exit::Missing,
        Exit::Partial,
        Exit::Interrupted,
    ];

    /// The process's exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Missing => 3,
            Exit::Partial => 4,
            Exit::Interrupted => 130,
        }
    }

    /// What it means, as `--help` says it.
    fn meaning(self) -> &'static str {
        match self {
            Exit::Done => "done",
            Exit::Failed => "failed (API, sign-in, transport, a file)",
            Exit::Usage => "usage or configuration error, or input refused before sending",
            Exit::Missing => "--fail-on-missing and at least one missing KB",
            Exit::Partial => {
                "the report is partial (some software or a tenant failed); wins over 3"
            }
            Exit::Interrupted => "interrupted (Ctrl-C); a --checkpoint file keeps what finished",
        }
    }

    /// The exit codes as `--help` lists them.
    pub fn help() -> String {
        let mut text = String::from("Exit codes:");
        for exit in Exit::ALL {
            text.push_str(&format!("\n  {:<4} {}", exit.code(), exit.meaning()));
        }
        text
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn the_help_lists_every_code_once_with_its_meaning() {
        let help = Exit::help();
        let lines: Vec<&str> = help.lines().skip(1).collect();
        assert_eq!(lines.len(), Exit::ALL.len());
        for (line, code) in lines.iter().zip([0, 1, 2, 3, 4, 130]) {
            assert!(line.trim_start().starts_with(&format!("{code} ")), "{line}");
        }
        assert!(help.contains("130  interrupted"), "{help}");
    }
}
