//! The main job runs: the example `missing_kbs`, built by `cargo test` beside this binary, run
//! without credentials, answers from the embedded demo tenant and says so on its first line.

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/missing_kbs`, next to this test binary's `deps/` folder.
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile.join("examples").join("missing_kbs")
}

#[test]
fn the_main_job_runs_on_the_embedded_tenant_without_credentials() {
    let path = example();
    assert!(
        path.exists(),
        "{} is built by `cargo test` (run the README's test command)",
        path.display()
    );
    let output = Command::new(&path)
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("DEFENDER_TVM_BEARER_TOKEN")
        .env_remove("DEFENDER_TVM_BASE_URL")
        .env_remove("DEFENDER_TVM_CLOUD")
        .output()
        .expect("the example starts");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let first_line = stdout.lines().next().unwrap_or_default();
    assert!(
        first_line.contains("embedded demo tenant"),
        "the first line says where data comes from: {stdout}"
    );
    assert!(
        stdout.contains("Cumulative Update for Windows 11"),
        "{stdout}"
    );
    assert!(stdout.contains("missing KBs."), "{stdout}");
}
