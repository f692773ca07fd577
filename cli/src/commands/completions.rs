//! `completions` and `man`: shell completion scripts (`clap_complete`) and manual pages
//! (`clap_mangen`), generated from the arguments' definitions alone, so they need no credentials
//! and no network.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::{Cli, Global};
use crate::error::CliError;
use crate::exit::Exit;
use crate::output;

/// What `completions --help` prints after the options: where each shell looks for its script.
pub const COMPLETIONS_HELP: &str = "\
Install (then start a new shell):
  defender-tvm completions bash > ~/.local/share/bash-completion/completions/defender-tvm
  defender-tvm completions zsh > ~/.zfunc/_defender-tvm   (fpath+=~/.zfunc before compinit)
  defender-tvm completions fish > ~/.config/fish/completions/defender-tvm.fish
  defender-tvm completions powershell >> $PROFILE
  defender-tvm completions elvish >> ~/.config/elvish/rc.elv";

/// What `man --help` prints after the options: where the pages go.
pub const MAN_HELP: &str = "\
Install:
  defender-tvm man > ~/.local/share/man/man1/defender-tvm.1
  defender-tvm man --dir ~/.local/share/man/man1     (every page; then: man defender-tvm-report)";

/// Writes the completion script for `shell` to `--output` or standard output.
pub fn completions(shell: Shell, global: &Global) -> Result<Exit, CliError> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    // `clap_complete` panics when its writer fails, so the script is made in memory (which
    // cannot fail) and written after, where a failure is an error like any other.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, name.as_str(), &mut script);
    if shell == Shell::Bash {
        script = bash_labels(script, &name);
    }
    write(&script, global)
}

/// The bash script with its subcommands' `case` labels spelled as its dispatch loop spells
/// them. clap_complete (4.6.12) writes a hyphenated binary name as `defender__tvm` in the loop
/// but `defender__subcmd__tvm` in the labels, so that nothing after a subcommand completes
/// (clap-rs/clap#6421); once that is fixed upstream, there is nothing left to replace.
fn bash_labels(script: Vec<u8>, name: &str) -> Vec<u8> {
    match String::from_utf8(script) {
        Ok(text) => text
            .replace(&name.replace('-', "__subcmd__"), &name.replace('-', "__"))
            .into_bytes(),
        Err(e) => e.into_bytes(),
    }
}

/// Writes `defender-tvm(1)` to `--output` or standard output, or, with `dir`, one page per
/// command (`defender-tvm.1`, `defender-tvm-report.1`, `defender-tvm-software-list.1`, …) into
/// `dir`, the pages the first one's list of commands names.
pub fn man(dir: Option<&Path>, global: &Global) -> Result<Exit, CliError> {
    // `help` is not a page of its own (`--help` is an option of every page).
    let command = Cli::command().disable_help_subcommand(true);
    if let Some(dir) = dir {
        let failed = |e: std::io::Error| {
            CliError::Io(format!(
                "cannot write the manual pages to {}: {e}",
                dir.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        clap_mangen::generate_to(command, dir).map_err(failed)?;
        return Ok(Exit::Done);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| CliError::Io(format!("cannot render the manual page: {e}")))?;
    write(&page, global)
}

/// Writes `bytes` to `--output` or standard output (a closed pipe is not a failure).
fn write(bytes: &[u8], global: &Global) -> Result<Exit, CliError> {
    let mut out = output::writer(global)?;
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(Exit::Done),
        Err(e) => match output::write_failure(global, &e) {
            Some(error) => Err(error),
            None => Ok(Exit::Done),
        },
    }
}
