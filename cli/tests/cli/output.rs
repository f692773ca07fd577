//! Where the data goes: a closed pipe (`| head`) is not a failure; an output that cannot be
//! written is.

use std::process::Stdio;

use crate::{command, text};

#[tokio::test]
async fn a_pipe_closed_by_its_reader_is_not_a_failure() {
    let mut child = command()
        .args(["report", "--demo", "-q", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // As `| head -c 0`: the reader is gone before the report (far more than a pipe holds) is
    // written.
    drop(child.stdout.take());

    let output = child.wait_with_output().await.unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
}

#[tokio::test]
async fn an_output_that_cannot_be_written_is_an_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");

    let output = command()
        .args(["software", "list", "--demo", "-q"])
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .await
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).starts_with("error: cannot write the output: "),
        "{}",
        text(&output.stderr)
    );
}
