//! `completions` and `man`, run without credentials: bash loads the script, registers it for
//! `defender-tvm` and completes subcommands, their options and values from it; the other shells'
//! scripts register for the binary; the manual page is roff naming every command, and `--dir`
//! writes every page the others name; an unknown shell is clap's usage error.

use std::collections::BTreeSet;
use std::process::{Output, Stdio};

use crate::truth::TempDir;
use crate::{command, run, text};

/// The binary's output for `args`, which must succeed with nothing on standard error.
async fn ok(args: &[&str]) -> String {
    let output = run(&mut command(), args).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    text(&output.stdout)
}

/// `bash --norc --noprofile -c SCRIPT _ ARGS...`.
async fn bash(script: &str, args: &[&str]) -> Output {
    tokio::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script, "_"])
        .args(args)
        .output()
        .await
        .expect("bash runs")
}

/// What the sourced completion script offers for the words of a command line, the last one
/// being completed, as bash's programmable completion calls it (`COMP_WORDS`, `COMP_CWORD`, and
/// the function `complete -p` names, given the command, the word and the word before it).
const COMPLETE: &str = r#"
source "$1" || exit 10
spec=$(complete -p defender-tvm) || exit 11
function=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$spec")
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
"$function" defender-tvm "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

#[tokio::test]
async fn bash_loads_the_script_and_completes_commands_options_and_values() {
    let dir = TempDir::new("completions");
    let path = dir.path().join("defender-tvm.bash");
    std::fs::write(&path, ok(&["completions", "bash"]).await).unwrap();
    let file = path.to_str().unwrap();

    let syntax = bash(r#"bash -n "$1""#, &[file]).await;
    assert!(syntax.status.success(), "{}", text(&syntax.stderr));

    let registered = bash(r#"source "$1" && complete -p defender-tvm"#, &[file]).await;
    assert!(registered.status.success(), "{}", text(&registered.stderr));
    let spec = text(&registered.stdout);
    assert!(spec.starts_with("complete "), "{spec}");
    assert!(
        spec.contains(" -F ") && spec.trim_end().ends_with(" defender-tvm"),
        "{spec}"
    );

    // Each: the words typed, and every word the completion must offer for the last one.
    let cases: [(&[&str], &[&str]); 6] = [
        (&["defender-tvm", "rep"], &["report"]),
        (&["defender-tvm", "--format", "c"], &["csv"]),
        // Past a subcommand (what clap-rs/clap#6421 breaks for a hyphenated binary name).
        (
            &["defender-tvm", "report", "--fail"],
            &["--fail-on-missing"],
        ),
        (
            &["defender-tvm", "report", "--source", ""],
            &["calls", "export", "auto"],
        ),
        (
            &["defender-tvm", "software", "list", "--ven"],
            &["--vendor"],
        ),
        (
            &["defender-tvm", "completions", ""],
            &["bash", "elvish", "fish", "powershell", "zsh"],
        ),
    ];
    for (words, expected) in cases {
        let mut args = vec![file];
        args.extend_from_slice(words);
        let completed = bash(COMPLETE, &args).await;
        assert!(
            completed.status.success(),
            "{words:?}: {}",
            text(&completed.stderr)
        );
        let offered: BTreeSet<String> = text(&completed.stdout)
            .lines()
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        for word in expected {
            assert!(
                offered.contains(*word),
                "{words:?}: {word} not in {offered:?}"
            );
        }
        // A word being completed is only ever completed to words that start with it.
        let typed = words[words.len() - 1];
        assert!(
            offered.iter().all(|w| w.starts_with(typed)),
            "{words:?}: {offered:?}"
        );
    }
}

#[tokio::test]
async fn the_other_shells_scripts_register_for_the_binary() {
    // Each shell's own way of saying which command a script completes.
    let shells = [
        ("zsh", "#compdef defender-tvm"),
        ("fish", "complete -c defender-tvm "),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'defender-tvm'",
        ),
        ("elvish", "edit:completion:arg-completer[defender-tvm]"),
    ];
    for (shell, registers) in shells {
        let script = ok(&["completions", shell]).await;
        assert!(script.contains(registers), "{shell}: {script}");
        for subcommand in ["report", "export", "missing-kbs", "completions", "man"] {
            assert!(script.contains(subcommand), "{shell}: no {subcommand}");
        }
    }
}

#[tokio::test]
async fn the_script_goes_to_output_and_a_failed_write_is_an_error() {
    let dir = TempDir::new("completions");
    let path = dir.path().join("_defender-tvm");
    let stdout = ok(&["completions", "zsh", "--output", path.to_str().unwrap()]).await;
    assert!(stdout.is_empty(), "{stdout}");
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, ok(&["completions", "zsh"]).await);

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = command()
        .args(["completions", "bash"])
        .stdout(full)
        .stderr(Stdio::piped())
        // (`output()` would pipe standard output whatever it was set to.)
        .spawn()
        .unwrap()
        .wait_with_output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).starts_with("error: cannot write the output: "),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn an_unknown_shell_is_a_usage_error() {
    let output = run(&mut command(), &["completions", "tcsh"]).await;

    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: invalid value 'tcsh' for '<SHELL>'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{stderr}"
    );
}

/// The pages a page's list of commands names (`defender\-tvm\-report(1)`), unescaped.
fn named_pages(page: &str) -> Vec<String> {
    let Some((_, commands)) = page.split_once("\n.SH SUBCOMMANDS\n") else {
        return Vec::new();
    };
    let commands = commands.split("\n.SH ").next().unwrap_or_default();
    let lines: Vec<&str> = commands.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0] == ".TP")
        .map(|pair| {
            let name = pair[1].replace("\\-", "-");
            name.strip_suffix("(1)").unwrap_or(&name).to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_manual_page_is_roff_naming_every_command() {
    let page = ok(&["man"]).await;

    assert!(page.starts_with('.'), "{page}");
    let title = page.lines().find(|l| l.starts_with(".TH ")).unwrap();
    assert!(title.starts_with(".TH defender-tvm 1 "), "{title}");
    assert!(page.contains("\n.SH NAME\ndefender\\-tvm \\- "), "{page}");
    let names = named_pages(&page);
    let expected = [
        "report",
        "tenants",
        "missing-kbs",
        "machine-missing-kbs",
        "software",
        "export",
        "history",
        "completions",
        "man",
    ];
    assert_eq!(
        names,
        expected.map(|c| format!("defender-tvm-{c}")).to_vec(),
        "{page}"
    );
    // The credentials and exit codes of --help.
    assert!(page.contains("DEFENDER_TVM_BEARER_TOKEN"), "{page}");
    assert!(page.contains("Exit codes:"), "{page}");
}

#[tokio::test]
async fn man_dir_writes_every_page_the_pages_name() {
    let dir = TempDir::new("man");
    let pages = dir.path().join("man1");
    let stdout = ok(&["man", "--dir", pages.to_str().unwrap()]).await;
    assert!(stdout.is_empty(), "{stdout}");

    let written: BTreeSet<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(written.contains("defender-tvm.1"), "{written:?}");
    assert!(
        written.contains("defender-tvm-software-list.1"),
        "{written:?}"
    );
    assert_eq!(
        std::fs::read_to_string(pages.join("defender-tvm.1")).unwrap(),
        ok(&["man"]).await
    );
    for file in &written {
        let page = std::fs::read_to_string(pages.join(file)).unwrap();
        let name = file.strip_suffix(".1").unwrap();
        assert!(page.contains(&format!(".TH {name} 1 ")), "{file}");
        for named in named_pages(&page) {
            assert!(
                written.contains(&format!("{named}.1")),
                "{file} names {named}"
            );
        }
    }
}
