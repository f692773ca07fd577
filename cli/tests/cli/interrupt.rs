//! Long runs stop and resume: Ctrl-C stops calling at once and exits 130; a killed run resumes
//! from its checkpoint without asking again; a checkpoint whose last line was cut is repaired.

use std::time::Duration;

use defender_tvm::report::{Report, ReportEvent, ReportOptions, SoftwareResult};
use defender_tvm_demo::DemoTenant;

use crate::{
    against, checkpoint_lines, library_client, library_report, run, tempdir, text, wait_until,
    without_time,
};

const MISSING_KBS: &str = "get_missing_kbs_by_software_id";

#[tokio::test]
async fn a_killed_run_resumes_from_its_checkpoint_without_asking_again() {
    let dir = tempdir();
    let checkpoint = dir.join("checkpoint.jsonl");
    let tenant = DemoTenant::start().await.unwrap();
    tenant.faults().slow(Duration::from_millis(100));
    let args = [
        "report",
        "-q",
        "--format",
        "json",
        "--concurrency",
        "1",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let mut first = against(&tenant, tenant.client_secret())
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few software are in the checkpoint.
    wait_until(|| checkpoint_lines(&checkpoint) >= 4).await;
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    tenant.faults().clear();
    let kept = checkpoint_lines(&checkpoint);
    let asked_before = tenant.calls(MISSING_KBS);

    let second = run(&mut against(&tenant, tenant.client_secret()), &args).await;

    assert!(second.status.success(), "{}", text(&second.stderr));
    let report: Report = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        without_time(report.clone()),
        without_time(library_report().await)
    );
    let asked_after = tenant.calls(MISSING_KBS) - asked_before;
    assert_eq!(
        asked_after as usize,
        report.software_count - kept,
        "no finished software is asked again"
    );
}

#[tokio::test]
async fn ctrl_c_stops_calling_at_once_exits_130_and_leaves_a_consistent_checkpoint() {
    let dir = tempdir();
    let checkpoint = dir.join("checkpoint.jsonl");
    let tenant = DemoTenant::start().await.unwrap();
    // One call at a time, each answered 300 ms after it arrives.
    tenant.faults().slow(Duration::from_millis(300));
    let args = [
        "report",
        "-q",
        "--concurrency",
        "1",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let mut child = against(&tenant, tenant.client_secret())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Two software are done and the third is being answered: the next call cannot arrive
    // before that answer, 300 ms after the third arrived.
    wait_until(|| checkpoint_lines(&checkpoint) >= 2 && tenant.calls(MISSING_KBS) >= 3).await;
    let asked = tenant.calls(MISSING_KBS);
    let pid = child.id().unwrap().to_string();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(interrupted.success());

    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("it stops")
        .unwrap();

    assert_eq!(status.code(), Some(130));
    // The tenant counts calls on arrival: none arrived after the signal.
    assert_eq!(
        tenant.calls(MISSING_KBS),
        asked,
        "no call after the interrupt"
    );
    let text = std::fs::read_to_string(&checkpoint).unwrap();
    let records: Vec<SoftwareResult> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("every checkpoint line is whole"))
        .collect();
    assert!(records.len() >= 2 && records.len() as u64 <= asked);
}

#[tokio::test]
async fn a_checkpoint_whose_last_line_was_cut_is_repaired_and_that_software_asked_again() {
    // Three whole records and the start of a fourth, as a run killed while writing leaves them,
    // written by hand from the library's own results.
    let source = DemoTenant::start().await.unwrap();
    let mut results: Vec<SoftwareResult> = Vec::new();
    library_client(&source)
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap()
        .run(|event| {
            if let ReportEvent::SoftwareDone { result, .. } = event {
                results.push(result.clone());
            }
        })
        .await
        .unwrap();
    let mut file = String::new();
    for result in &results[..3] {
        file.push_str(&serde_json::to_string(result).unwrap());
        file.push('\n');
    }
    let fourth = serde_json::to_string(&results[3]).unwrap();
    file.push_str(&fourth[..fourth.len() / 2]);
    let dir = tempdir();
    let checkpoint = dir.join("checkpoint.jsonl");
    std::fs::write(&checkpoint, &file).unwrap();
    let tenant = DemoTenant::start().await.unwrap();
    let args = [
        "report",
        "-q",
        "--format",
        "json",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];

    let second = run(&mut against(&tenant, tenant.client_secret()), &args).await;

    assert!(second.status.success(), "{}", text(&second.stderr));
    let report: Report = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        without_time(report.clone()),
        without_time(library_report().await)
    );
    assert_eq!(
        tenant.calls(MISSING_KBS) as usize,
        results.len() - 3,
        "the three whole records are not asked again; the cut one is"
    );
    let repaired = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(repaired.starts_with(&file[..file.len() - fourth.len() / 2]));
    let lines: Vec<&str> = repaired.lines().collect();
    assert_eq!(lines.len(), results.len());
    for line in &lines {
        serde_json::from_str::<SoftwareResult>(line).expect("every line is a whole record");
    }

    // And the repaired file is a checkpoint like any other: a third run asks nothing.
    let third = run(&mut against(&tenant, tenant.client_secret()), &args).await;
    assert!(third.status.success(), "{}", text(&third.stderr));
    assert_eq!(tenant.calls(MISSING_KBS) as usize, results.len() - 3);
}

/// The JSON lines of the first `n` software results of the default demo estate.
async fn first_results(n: usize) -> Vec<String> {
    let source = DemoTenant::start().await.unwrap();
    let mut results = Vec::new();
    library_client(&source)
        .plan_missing_kbs_report(ReportOptions::new())
        .await
        .unwrap()
        .run(|event| {
            if let ReportEvent::SoftwareDone { result, .. } = event
                && results.len() < n
            {
                results.push(serde_json::to_string(result).unwrap());
            }
        })
        .await
        .unwrap();
    results
}

#[tokio::test]
async fn a_last_record_without_its_line_end_is_kept_and_ended() {
    let lines = first_results(3).await;
    let dir = tempdir();
    let checkpoint = dir.join("checkpoint.jsonl");
    std::fs::write(&checkpoint, lines.join("\n")).unwrap();
    let tenant = DemoTenant::start().await.unwrap();

    let output = run(
        &mut against(&tenant, tenant.client_secret()),
        &["report", "-q", "--checkpoint", checkpoint.to_str().unwrap()],
    )
    .await;

    assert!(output.status.success(), "{}", text(&output.stderr));
    let asked = tenant.calls(MISSING_KBS) as usize;
    let written = std::fs::read_to_string(&checkpoint).unwrap();
    let records: Vec<&str> = written.lines().collect();
    assert_eq!(
        records.len(),
        3 + asked,
        "3 kept, then one per software asked"
    );
    assert_eq!(
        records[..3],
        lines.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    for line in &records {
        serde_json::from_str::<SoftwareResult>(line).expect("every line is a whole record");
    }
}

#[tokio::test]
async fn a_checkpoint_with_a_line_that_is_not_a_record_is_refused_naming_the_line() {
    let lines = first_results(2).await;
    let dir = tempdir();
    let checkpoint = dir.join("not-a-checkpoint.jsonl");
    let text_of_file = format!("{}\nhello\n{}\n", lines[0], lines[1]);
    std::fs::write(&checkpoint, &text_of_file).unwrap();

    let output = run(
        &mut crate::command(),
        &[
            "report",
            "--demo",
            "-q",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: {} line 2 is not a checkpoint record",
            checkpoint.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&checkpoint).unwrap(),
        text_of_file,
        "a file that is not a checkpoint is left as it was"
    );
}

#[tokio::test]
async fn a_checkpoint_that_cannot_be_read_is_an_error_saying_so() {
    let dir = tempdir();

    let output = run(
        &mut crate::command(),
        &[
            "report",
            "--demo",
            "-q",
            "--checkpoint",
            dir.to_str().unwrap(),
        ],
    )
    .await;

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot read {}", dir.display())),
        "{stderr}"
    );
}
