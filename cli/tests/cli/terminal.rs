//! On a terminal (a pseudo-terminal from `script`, part of util-linux): the progress bar is drawn
//! on standard error unless `--no-progress` or `-q`; tracing is coloured unless `NO_COLOR`; the
//! table fits the terminal's width and has borders; across tenants, each tenant has its own bar.

use std::process::Stdio;

use defender_tvm_demo::DemoTenant;

use crate::truth::{Source, TempDir, expected};
use crate::{BIN, READ};

/// What a terminal 100 columns wide shows while the binary runs with `args` (standard output and
/// error together, as on a screen), with `env` set.
async fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let line = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = tokio::process::Command::new("script");
    script
        .args([
            "-qec",
            &format!("stty cols 100 rows 40; exec {line}"),
            "/dev/null",
        ])
        .stdin(Stdio::null());
    for name in READ {
        script.env_remove(name);
    }
    for (name, value) in env {
        script.env(name, value);
    }
    // `script` exits as the binary did; what a test checks is the screen.
    let output = script.output().await.expect("script (util-linux) runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_progress_bar_is_drawn_on_a_terminal_unless_no_progress_or_quiet() {
    let screen = on_a_terminal(&["report", "--demo"], &[]).await;
    assert!(screen.contains("/63 software ["), "{screen}");
    assert!(screen.contains("plan: 150 software listed"), "{screen}");

    for flag in ["--no-progress", "-q"] {
        let screen = on_a_terminal(&["report", "--demo", flag], &[]).await;
        assert!(!screen.contains("software ["), "{flag}: {screen}");
        assert!(screen.contains("KB"), "{flag}: the table is still there");
    }
}

/// A demo tenant whose every answer takes 30 ms (so the bar, drawn at most 20 times a second,
/// is drawn during each phase), and the variables that point the binary at it.
async fn slow_tenant() -> (defender_tvm_demo::DemoTenant, Vec<(&'static str, String)>) {
    let tenant = defender_tvm_demo::DemoTenant::builder()
        .unlimited()
        .start()
        .await
        .unwrap();
    tenant.faults().slow(std::time::Duration::from_millis(30));
    let env = vec![
        ("DEFENDER_TVM_BEARER_TOKEN", tenant.issue_token()),
        ("DEFENDER_TVM_BASE_URL", tenant.base_url().to_owned()),
    ];
    (tenant, env)
}

/// The positions the bar was drawn at for `what` (`software`, `device listings`).
fn drawn(screen: &str, what: &str) -> Vec<u64> {
    let marker = format!(" {what} [");
    screen
        .split(marker.as_str())
        .filter_map(|before| before.rsplit(' ').next()?.split('/').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn the_progress_bar_counts_software_then_device_listings() {
    let (_tenant, env) = slow_tenant().await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let screen = on_a_terminal(&["report", "--source", "calls", "--devices"], &env).await;

    let software = drawn(&screen, "software");
    let listings = drawn(&screen, "device listings");
    assert!(screen.contains(" 63/63 software ["), "{screen}");
    assert!(
        listings.iter().any(|&n| n > 0) && listings.iter().all(|&n| n <= 25),
        "the bar counts listings while devices are listed: {listings:?} (software {software:?})"
    );
    assert!(screen.contains("/25 device listings ["), "{screen}");
    assert!(!screen.contains(" failed"), "nothing failed: {screen}");
}

#[tokio::test]
async fn the_progress_bar_says_how_many_failed() {
    let (tenant, env) = slow_tenant().await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tenant.faults().vanish("microsoft-_-windows_11");

    let screen = on_a_terminal(&["report"], &env).await;

    // After the failure the bar's message counts it (the warning line is apart).
    assert!(screen.contains("s 1 failed"), "{screen}");
}

#[tokio::test]
async fn the_table_on_a_terminal_has_borders_and_fits_its_width() {
    let screen = on_a_terminal(&["report", "--demo", "-q"], &[]).await;

    assert!(screen.contains('│') && screen.contains('┌'), "{screen}");
    for line in screen.lines() {
        assert!(
            line.trim_end_matches('\r').chars().count() <= 100,
            "wider than the terminal: {line}"
        );
    }
    // Cells wrap inside their column: every KB number stays whole.
    assert!(screen.contains("KB5040131"), "{screen}");
}

#[tokio::test]
async fn tracing_is_coloured_on_a_terminal_unless_no_color() {
    let args = ["-vv", "software", "get", "google-_-chrome", "--demo"];
    let coloured = on_a_terminal(&args, &[]).await;
    assert!(coloured.contains("\u{1b}["), "{coloured:?}");
    assert!(coloured.contains("DEBUG"), "{coloured}");

    let plain = on_a_terminal(&args, &[("NO_COLOR", "1")]).await;
    assert!(plain.contains("DEBUG"), "{plain}");
    // No colour (the table's borders are not colour codes either).
    assert!(!plain.contains("\u{1b}["), "{plain:?}");
}

/// The frames `name`'s bar was drawn in: (position, length) each time.
fn frames(screen: &str, name: &str) -> Vec<(u64, u64)> {
    screen
        .match_indices(&format!("{name} "))
        .filter_map(|(at, found)| {
            let (counts, _) = screen[at + found.len()..].split_once(" [")?;
            let (position, length) = counts.split_once('/')?;
            Some((position.parse().ok()?, length.parse().ok()?))
        })
        .collect()
}

#[tokio::test]
async fn across_tenants_each_tenant_has_its_own_bar() {
    let tenants = [
        ("north", demo_tenant(51, 60, 30).await),
        ("south", demo_tenant(52, 120, 70).await),
    ];
    let dir = TempDir::new("terminal");
    let path = dir.path().join("tenants.toml");
    let mut file = String::new();
    for (name, tenant) in &tenants {
        file.push_str(&format!(
            "[[tenant]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret_env = \"SECRET_{name}\"\nbase_url = \"{}\"\nauthority_host = \"{}\"\n\n",
            tenant.tenant_id(),
            tenant.client_id(),
            tenant.base_url(),
            tenant.authority_host(),
        ));
    }
    std::fs::write(&path, file).unwrap();
    let secrets: Vec<(String, &str)> = tenants
        .iter()
        .map(|(name, tenant)| (format!("SECRET_{name}"), tenant.client_secret()))
        .collect();
    let env: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (k.as_str(), *v)).collect();

    let screen = on_a_terminal(
        &[
            "--tenants",
            path.to_str().unwrap(),
            "report",
            "--source",
            "calls",
            "--format",
            "csv",
        ],
        &env,
    )
    .await;

    let selected: Vec<usize> = tenants
        .iter()
        .map(|(_, t)| expected(t.truth(), Source::Calls, true).selected)
        .collect();
    assert_ne!(selected[0], selected[1], "the tenants' counts differ");
    for (name, tenant) in &tenants {
        let want = expected(tenant.truth(), Source::Calls, true);
        // Always drawn: each bar, named, as the bars are made (before any call, when the
        // terminal's first frames are never held back by the draw rate). How many frames follow
        // depends on how fast each tenant answers, so none is required.
        let frames = frames(&screen, name);
        assert!(!frames.is_empty(), "{name}'s bar in {screen}");
        // Whatever frame was drawn counts this tenant's own software.
        assert!(
            frames
                .iter()
                .all(|&(at, of)| at <= of && (of == 0 || of == want.selected as u64)),
            "{name}: {frames:?}, {} software selected",
            want.selected
        );
        // Always said once the tenants are done: each tenant's line, as its estate says.
        let line = format!(
            "tenant {name}: {} missing KBs across {} software",
            want.kbs.len(),
            want.selected
        );
        assert!(screen.contains(&line), "{line} in {screen}");
    }
}

async fn demo_tenant(seed: u64, devices: usize, software: usize) -> DemoTenant {
    DemoTenant::builder()
        .seed(seed)
        .devices(devices)
        .software(software)
        .unlimited()
        .start()
        .await
        .unwrap()
}
