//! Many tenants: `--tenants FILE` (or `--demo-tenants N`), then `report` across them, or
//! `tenants check`. Each tenant signs in with its own credential and keeps its own budgets; a
//! failing tenant is its own failure (exit 4) and the others finish.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use defender_tvm::{
    ClientBuilder, Error, SoftwareQuery,
    report::{ReportEvent, SoftwareResult},
    tenants::{Tenants, TenantsFile},
};
use defender_tvm_demo::{DEFAULT_SEED, DemoTenant};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};

use crate::args::{By, Global, ReportArgs};
use crate::checkpoint::Checkpoint;
use crate::commands::report;
use crate::datasets;
use crate::error::CliError;
use crate::exit::Exit;
use crate::output;
use crate::terminal::{self, Notices};

/// How many tenants are asked at once (each under its own budgets).
const AT_ONCE: usize = 4;

/// The tenants, and the demo tenants they talk to when `--demo-tenants` was given (kept alive).
pub struct Many {
    tenants: Tenants,
    _demos: Vec<DemoTenant>,
}

/// Reads `--tenants FILE` (or starts `--demo-tenants N`), and keeps the `--tenant` ones.
pub async fn connect(
    global: &Global,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Many, CliError> {
    let notices = Notices::new(global, &indicatif::ProgressBar::hidden());
    let say = |line: String| notices.say(line);
    let (tenants, demos) = match (&global.tenants, global.demo_tenants) {
        (Some(path), _) if global.demo => {
            let names = TenantsFile::names(path).map_err(|e| match e {
                Error::InvalidInput(invalid) => CliError::Usage(invalid.message),
                other => CliError::Api(other),
            })?;
            let (tenants, demos) = start_demos(&names).await?;
            say(format!(
                "using {} embedded demo tenants in place of the file's (offline demo data, not \
                 real tenants)",
                names.len()
            ));
            (tenants, demos)
        }
        (Some(path), _) => {
            let file = Tenants::from_file(path, env).map_err(|e| match e {
                Error::InvalidInput(invalid) => CliError::Usage(invalid.message),
                other => CliError::Api(other),
            })?;
            for warning in &file.warnings {
                say(format!("warning: {warning}"));
            }
            (file.tenants, Vec::new())
        }
        (None, Some(count)) => {
            let names: Vec<String> = (1..=count).map(|i| format!("demo-{i}")).collect();
            let (tenants, demos) = start_demos(&names).await?;
            say(format!(
                "using {count} embedded demo tenants (offline demo data, not real tenants)"
            ));
            (tenants, demos)
        }
        (None, None) => {
            return Err(CliError::Usage(
                "--tenant picks among --tenants FILE or --demo-tenants N".into(),
            ));
        }
    };
    let tenants = tenants.select(&global.tenant).map_err(|e| match e {
        Error::InvalidInput(invalid) => CliError::Usage(invalid.message),
        other => CliError::Api(other),
    })?;
    Ok(Many {
        tenants,
        _demos: demos,
    })
}

impl Many {
    /// The tenants.
    pub fn tenants(&self) -> &Tenants {
        &self.tenants
    }
}

/// A demo tenant for each name, of different seeds and sizes (300 to 750 devices, 100 to 180
/// software).
async fn start_demos(names: &[String]) -> Result<(Tenants, Vec<DemoTenant>), CliError> {
    let mut tenants = Tenants::new();
    let mut demos = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let demo = DemoTenant::builder()
            .seed(DEFAULT_SEED + i as u64)
            .devices(300 + (i * 150) % 450)
            .software(100 + (i * 40) % 100)
            .start()
            .await
            .map_err(|e| CliError::Io(format!("cannot start a demo tenant: {e}")))?;
        let client = ClientBuilder::from_vars(|var| demo.var(var))?.build()?;
        tenants = tenants.with(name.clone(), client)?;
        demos.push(demo);
    }
    Ok((tenants, demos))
}

/// `report` across the tenants.
pub async fn report(many: &Many, global: &Global, args: &ReportArgs) -> Result<Exit, CliError> {
    if args.by == By::Device {
        return Err(CliError::Usage(
            "--by device reads one tenant; pick it with --tenant NAME and drop --tenants".into(),
        ));
    }
    // One checkpoint file per tenant, beside the one named: FILE.NAME.
    let mut checkpoints: BTreeMap<String, Checkpoint> = BTreeMap::new();
    let mut kept: BTreeMap<String, Vec<SoftwareResult>> = BTreeMap::new();
    if let Some(path) = &args.checkpoint {
        for tenant in many.tenants.iter() {
            let (checkpoint, done) = Checkpoint::open(&checkpoint_path(path, tenant.name()))?;
            checkpoints.insert(tenant.name().to_owned(), checkpoint);
            kept.insert(tenant.name().to_owned(), done);
        }
    }
    let bars = Bars::new(global, &many.tenants);
    let write_error: Mutex<Option<CliError>> = Mutex::new(None);
    let combined = many
        .tenants
        .report(
            AT_ONCE,
            |tenant| report::options(args).resume(kept.get(tenant).cloned().unwrap_or_default()),
            |tenant, event| {
                if let ReportEvent::SoftwareDone { result, .. } = &event
                    && let Some(checkpoint) = checkpoints.get_mut(tenant)
                    && let Err(e) = checkpoint.append(result)
                    && let Ok(mut slot) = write_error.lock()
                {
                    slot.get_or_insert(e);
                }
                bars.show(tenant, &event);
            },
        )
        .await;
    bars.clear();
    if let Ok(Some(e)) = write_error.into_inner() {
        return Err(e);
    }
    if !global.quiet {
        for part in &combined.tenants {
            match &part.report {
                Ok(report) => eprintln!(
                    "tenant {}: {} missing KBs across {} software{}",
                    part.tenant,
                    report.kbs.len(),
                    report.software_count,
                    if report.partial { " (partial)" } else { "" }
                ),
                Err(error) => eprintln!("warning: tenant {} failed: {error}", part.tenant),
            }
        }
    }
    let exit = terminal::report_exit(
        combined.partial(),
        !combined.kbs.is_empty(),
        args.fail_on_missing,
    );
    output::emit(&datasets::tenants(combined), global)?;
    Ok(exit)
}

/// `FILE.NAME`: a tenant's own checkpoint beside the file named.
fn checkpoint_path(path: &Path, tenant: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(tenant);
    PathBuf::from(name)
}

/// `tenants check`: signs in to each tenant and lists one software.
pub async fn check(many: &Many, global: &Global) -> Result<Exit, CliError> {
    let outcomes = many
        .tenants
        .run(AT_ONCE * 2, |tenant| async move {
            tenant
                .client()
                .software(SoftwareQuery::new().top(1))
                .await
                .map(|_| ())
        })
        .await;
    let apis: BTreeMap<&str, &str> = many
        .tenants
        .iter()
        .map(|t| (t.name(), t.client().base_url()))
        .collect();
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|outcome| {
            let (sign_in, call, missing) = match &outcome.result {
                Ok(()) => ("ok".to_owned(), "ok".to_owned(), String::new()),
                Err(Error::Auth(e)) => {
                    (format!("failed: {e}"), "not made".to_owned(), String::new())
                }
                Err(e) => {
                    let missing = match e {
                        Error::Api(api) if api.status.as_u16() == 403 => {
                            api.permission.application.to_owned()
                        }
                        _ => String::new(),
                    };
                    ("ok".to_owned(), format!("failed: {e}"), missing)
                }
            };
            vec![
                outcome.tenant.clone(),
                apis.get(outcome.tenant.as_str())
                    .map(|api| (*api).to_owned())
                    .unwrap_or_default(),
                sign_in,
                call,
                missing,
            ]
        })
        .collect();
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    output::emit(&datasets::tenant_checks(rows, failed), global)?;
    Ok(if failed > 0 {
        Exit::Partial
    } else {
        Exit::Done
    })
}

/// A progress bar per tenant (software done of selected), on a terminal only.
struct Bars {
    multi: Option<MultiProgress>,
    bars: BTreeMap<String, ProgressBar>,
}

impl Bars {
    fn new(global: &Global, tenants: &Tenants) -> Self {
        if !terminal::shows_progress(global) {
            return Self {
                multi: None,
                bars: BTreeMap::new(),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = terminal::style("{prefix:>12} {pos}/{len} [{bar:30}] {msg}");
        let bars = tenants
            .iter()
            .map(|t| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(style.clone());
                bar.set_prefix(t.name().to_owned());
                (t.name().to_owned(), bar)
            })
            .collect();
        Self {
            multi: Some(multi),
            bars,
        }
    }

    fn show(&self, tenant: &str, event: &ReportEvent<'_>) {
        let Some(bar) = self.bars.get(tenant) else {
            return;
        };
        let progress = match event {
            ReportEvent::SoftwareDone { progress, .. } | ReportEvent::Tick { progress } => progress,
            _ => return,
        };
        bar.set_length(progress.software_total as u64);
        bar.set_position(progress.software_done as u64);
        if progress.failures > 0 {
            bar.set_message(format!("{} failed", progress.failures));
        }
    }

    fn clear(&self) {
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_tenants_differ_in_seed_and_size_the_first_being_the_default_demo() {
        let names: Vec<String> = ["north", "south", "east"].map(String::from).to_vec();
        let (tenants, demos) = start_demos(&names).await.unwrap();
        assert_eq!(tenants.len(), 3);
        let estates: Vec<(u64, usize, usize)> = demos
            .iter()
            .map(|d| {
                (
                    d.truth().seed,
                    d.truth().devices.len(),
                    d.truth().software.len(),
                )
            })
            .collect();
        assert_eq!(
            estates,
            [
                (20_251_014, 300, 100),
                (20_251_015, 450, 140),
                (20_251_016, 600, 180),
            ]
        );
    }

    #[test]
    fn a_tenants_bar_says_how_many_failed_once_any_did() {
        let bar = ProgressBar::hidden();
        let bars = Bars {
            multi: None,
            bars: BTreeMap::from([("north".to_owned(), bar.clone())]),
        };
        let mut progress = defender_tvm::report::Progress::default();
        progress.software_total = 10;
        progress.software_done = 4;
        bars.show("north", &ReportEvent::Tick { progress });
        assert_eq!(bar.position(), 4);
        assert_eq!(bar.length(), Some(10));
        assert_eq!(bar.message(), "", "nothing failed yet");
        progress.failures = 2;
        bars.show("north", &ReportEvent::Tick { progress });
        assert_eq!(bar.message(), "2 failed");
    }
}
