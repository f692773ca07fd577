//! The command line's arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The credentials, as `--help` and the README document them.
const CREDENTIALS: &str = "\
Credentials (or --demo for the embedded demo tenant):
  AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET  an Entra ID application's client secret
  DEFENDER_TVM_BEARER_TOKEN  a token you already have (used when no AZURE_* variable is set)
  AZURE_AUTHORITY_HOST   the sign-in host (default by cloud)
  DEFENDER_TVM_CLOUD     the cloud or region; DEFENDER_TVM_BASE_URL overrides the API URL";

/// What `--help` prints after the options: the credentials and the exit codes.
fn after_help() -> String {
    format!("{CREDENTIALS}\n\n{}", crate::exit::Exit::help())
}

/// Microsoft Defender Vulnerability Management from a terminal: which security updates are
/// missing, where, what they fix, and which to deploy first.
#[derive(Debug, Parser)]
#[command(name = "defender-tvm", version, after_help = after_help())]
#[command(
    about = "Missing security updates (KBs) across a Microsoft Defender tenant, and every Software call"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

impl Global {
    /// The output format: `--format`, else `default`.
    pub fn format_or(&self, default: Format) -> Format {
        self.format.unwrap_or(default)
    }
}

/// Options of every command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Use the embedded demo tenant (offline demo data) instead of a real one.
    #[arg(long, global = true, conflicts_with_all = ["cloud", "base_url"])]
    pub demo: bool,
    /// The cloud or region (global, europe, united-states, …, gcc, gcc-high, dod; or a host code
    /// such as eu or swa). Default: DEFENDER_TVM_CLOUD, else global.
    #[arg(long, global = true, value_name = "NAME")]
    #[arg(value_parser = str::parse::<defender_tvm::Cloud>)]
    pub cloud: Option<defender_tvm::Cloud>,
    /// Override the API base URL. Default: DEFENDER_TVM_BASE_URL, else the cloud's.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Output format (default: table; for `export`, ndjson; parquet is `history export`'s).
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// CSV: write values as they are. By default a text cell that a spreadsheet would run as a
    /// formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading '.
    #[arg(long, global = true)]
    pub csv_raw: bool,
    /// Write the output to FILE instead of standard output (for `history export`, the folder
    /// the Parquet files are written into).
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// More detail on standard error: tracing output (RUST_LOG is respected). Twice for debug.
    #[arg(long, short, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only data and errors: no plan, banner or progress.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// A TOML file of tenants: `report`, `tenants check` and `history sync` run across them
    /// (README, "Many tenants").
    /// With --demo, a demo tenant stands in for each tenant of the file.
    #[arg(long, global = true, value_name = "FILE", conflicts_with_all = ["cloud", "base_url"])]
    pub tenants: Option<PathBuf>,
    /// Only this tenant of the file (repeatable). `history` answers: only this tenant of the
    /// store; `history sync` without a file: the name to store the tenant under.
    #[arg(long, global = true, value_name = "NAME")]
    pub tenant: Vec<String>,
    /// Start N embedded demo tenants of different seeds and sizes (offline demo data) and run
    /// across them.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=20),
          conflicts_with_all = ["demo", "tenants", "cloud", "base_url"])]
    pub demo_tenants: Option<u8>,
    /// The history store, one SQLite file (`history` commands). Default: DEFENDER_TVM_STORE,
    /// else history.sqlite in the user's data directory (with --demo, a demo store apart).
    #[arg(long, global = true, value_name = "FILE", env = "DEFENDER_TVM_STORE")]
    pub store: Option<PathBuf>,
}

impl Global {
    /// Whether the command runs across several tenants.
    pub fn many_tenants(&self) -> bool {
        self.tenants.is_some() || self.demo_tenants.is_some()
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns fitted to the terminal.
    Table,
    /// One JSON document.
    Json,
    /// One JSON record a line.
    Ndjson,
    /// CSV with one header row.
    Csv,
    /// One self-contained HTML page.
    Html,
    /// Markdown, for tickets and chat (for `report`: a summary and the top of the deploy plan).
    Markdown,
    /// A folder of Parquet files (`history export` only, with --output DIR).
    Parquet,
}

impl Format {
    /// Whether `command` writes this format: parquet is `history export`'s alone (and it writes
    /// nothing else).
    pub fn written_by(self, command: &Command) -> bool {
        let export = matches!(command, Command::History(HistoryCommand::Export));
        (self == Format::Parquet) == export
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The estate report: every missing KB across the tenant, in priority order.
    Report(ReportArgs),
    /// Many tenants: check each one of --tenants (or --demo-tenants).
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// The missing KBs of one software.
    MissingKbs {
        /// For example microsoft-_-windows_11.
        software_id: String,
    },
    /// The missing KBs of one device.
    MachineMissingKbs {
        /// The device (machine) id.
        machine_id: String,
    },
    /// The software inventory and one software's details.
    #[command(subcommand)]
    Software(SoftwareCommand),
    /// Every row of an export snapshot (software vulnerabilities by default), as NDJSON, CSV or
    /// JSON, streamed.
    Export(ExportArgs),
    /// History: every snapshot kept in a SQLite store, and what changed, how fast fixes land,
    /// what is past its SLA, and the trend.
    #[command(subcommand)]
    History(HistoryCommand),
    /// The shell completion script for SHELL (no credentials, no network).
    #[command(after_help = crate::commands::completions::COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page, defender-tvm(1), in roff (no credentials, no network).
    #[command(after_help = crate::commands::completions::MAN_HELP)]
    Man {
        /// Write every page (defender-tvm.1, defender-tvm-report.1, …) into DIR instead.
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        dir: Option<PathBuf>,
    },
}

/// Where a report's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// One getmissingkbs call per software (and a device listing per KB with --devices).
    Calls,
    /// One snapshot of the via-files export: exact devices, CVEs, exploitability and age for
    /// every KB (needs Vulnerability.Read.All).
    Export,
    /// The export when the calls would take longer or with --devices, else the calls; the
    /// calls when the export is refused.
    Auto,
}

/// How an export is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// GZIP files on blob storage (any estate size).
    Files,
    /// JSON pages (estates under about 100,000 devices).
    Json,
}

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// How to read the export [default: files; the changes have JSON pages only].
    #[arg(long, value_enum)]
    pub via: Option<Via>,
    /// The software inventory instead of the software vulnerabilities.
    #[arg(long)]
    pub inventory: bool,
    /// Only what changed since TIME (RFC 3339, at most 14 days back); the delta export has JSON
    /// pages only.
    #[arg(long, value_name = "TIME", conflicts_with = "inventory")]
    #[arg(value_parser = parse_since)]
    pub changes_since: Option<defender_tvm::export::ChangesSince>,
    /// Files read at once (--via files).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// An RFC 3339 time the changes export takes, for `--changes-since`.
fn parse_since(text: &str) -> Result<defender_tvm::export::ChangesSince, String> {
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-11-23T00:00:00Z ({e})"))?;
    defender_tvm::export::ChangesSince::new(time).map_err(|e| e.to_string())
}

/// `report` options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Only software of this vendor (repeatable).
    #[arg(long, value_name = "V")]
    pub vendor: Vec<String>,
    /// Only these software ids (repeatable).
    #[arg(long, value_name = "ID", conflicts_with = "vendor")]
    pub software: Vec<String>,
    /// Ask about every software, not only those with weaknesses.
    #[arg(long, conflicts_with_all = ["vendor", "software"])]
    pub all_software: bool,
    /// Also list each KB's devices (exact device counts; one more call per KB).
    #[arg(long)]
    pub devices: bool,
    /// Calls at a time (the rate limit still paces them).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Append each finished software to FILE, and skip what FILE holds on a rerun.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Exit with 3 when at least one KB is missing.
    #[arg(long)]
    pub fail_on_missing: bool,
    /// Where the data comes from.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
    /// One row per KB (the report), or per device with the KBs to deploy to it (lists each KB's
    /// devices, as --devices does).
    #[arg(long, value_enum, default_value_t = By::Kb)]
    pub by: By,
    /// Count every Windows cumulative update in the deploy plan, instead of only the newest of
    /// each version (which installs the older ones too).
    #[arg(long)]
    pub no_collapse: bool,
}

/// What a report's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// One row per missing KB, in priority order.
    Kb,
    /// One row per device: the KBs to deploy to it, those needing most first.
    Device,
}

/// `tenants` subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Sign in to each tenant and make one cheap call: a table of tenant, API, sign-in and the
    /// permission found missing, to validate a tenants file before the first run.
    Check,
}

/// `software` subcommands.
#[derive(Debug, Subcommand)]
pub enum SoftwareCommand {
    /// List the software inventory.
    List {
        /// Only this vendor.
        #[arg(long, value_name = "V")]
        vendor: Option<String>,
        /// Only this name.
        #[arg(long, value_name = "N")]
        name: Option<String>,
        /// At most N items (one request; at most 10,000).
        #[arg(long, value_name = "N")]
        top: Option<u32>,
    },
    /// One software.
    Get {
        /// For example microsoft-_-windows_11.
        software_id: String,
    },
    /// The vulnerabilities of a software.
    Vulnerabilities {
        /// For example microsoft-_-windows_11.
        software_id: String,
    },
    /// The devices with a software.
    Machines {
        /// For example microsoft-_-windows_11.
        software_id: String,
    },
    /// The versions of a software and their installations.
    Distributions {
        /// For example microsoft-_-windows_11.
        software_id: String,
    },
}

/// Where `history` answers look: `WHEN` is a date (2026-11-30), an RFC 3339 time, or a duration
/// back from now (7d, 24h, 2w).
#[derive(Debug, Args)]
pub struct HistoryWindow {
    /// From WHEN (the last snapshot at or before it; default: the snapshot before the last).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Until WHEN (the last snapshot at or before it; default: the last).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

/// The SLA defaults, and where they come from, for `--help`.
pub const SLA_HELP: &str = "\
SLA: days allowed to fix an exposure, from the service's first-seen time. The defaults take
critical=15 and high=30 from CISA Binding Operational Directive 19-02 (remediate critical
vulnerabilities within 15 days and high within 30), and medium=90 and low=180 (FedRAMP's
moderate and low).";

/// What `history export --help` adds.
pub const EXPORT_HELP: &str = "\
Example:
  defender-tvm history export --format parquet --output lake/
  duckdb -c \"SELECT severity, count(*) FROM 'lake/exposures/**/*.parquet' WHERE closed_at IS NULL GROUP BY ALL\"";

/// `history` subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Record the current export snapshot in the store (with --tenants, each tenant's; with
    /// --demo, replay the demo tenant's timeline). The same snapshot synced twice is stored
    /// once; an interrupted sync stores nothing.
    Sync {
        /// Apply the change feed since the store's last snapshot instead of a full snapshot
        /// (the feed reaches 14 days back; older stores need a full sync).
        #[arg(long)]
        delta: bool,
    },
    /// The stored snapshots: time, source, rows, devices, open exposures.
    Snapshots,
    /// The exposures new, fixed and reopened, and the devices retired, between two snapshots
    /// (by default the last two).
    Changes {
        #[command(flatten)]
        window: HistoryWindow,
        /// One row per update (default), per device, or per exposure.
        #[arg(long, value_enum, default_value_t = ChangesBy::Kb)]
        by: ChangesBy,
    },
    /// Fixed count and median and 90th-percentile days to fix, open count, open past the SLA,
    /// the oldest, and open exposures by age, per severity (or update, software, group, tenant).
    #[command(after_help = SLA_HELP)]
    Remediation {
        #[command(flatten)]
        window: HistoryWindow,
        /// Days allowed per severity (any of them; the others keep their defaults).
        #[arg(
            long,
            value_name = "SEVERITY=DAYS,...",
            default_value = "critical=15,high=30,medium=90,low=180"
        )]
        sla: String,
        /// What to count by.
        #[arg(long, value_enum, default_value_t = RemediationBy::Severity)]
        by: RemediationBy,
    },
    /// Per snapshot: open exposures, devices exposed, missing KBs, critical open, open with a
    /// known exploit, and new and fixed since the previous snapshot.
    Trend,
    /// Write the store's exposures (one row per span: open from a snapshot until the first
    /// without it) and snapshot facts as Parquet files into --output DIR, in folders
    /// tenant=NAME/date=YYYY-MM-DD that DuckDB, Spark, Azure Data Explorer, Fabric and Databricks
    /// read as they are (README, "Past one machine: Parquet"). DIR must be empty, new, or a
    /// previous export; each tenant exported replaces its own folders, others are left as they
    /// are. With --tenant NAME, that tenant alone.
    #[command(after_help = EXPORT_HELP)]
    Export,
    /// One page for people: the trend as a chart, SLA compliance per severity, what was fixed
    /// and what is new since the previous snapshot, the oldest open critical exposures
    /// (--format html, or markdown, the default on a terminal, or json).
    #[command(after_help = SLA_HELP)]
    Report {
        /// Days allowed per severity.
        #[arg(
            long,
            value_name = "SEVERITY=DAYS,...",
            default_value = "critical=15,high=30,medium=90,low=180"
        )]
        sla: String,
    },
}

/// What `history changes` rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChangesBy {
    /// One row per update: devices on which it was fixed, is new, was reopened.
    Kb,
    /// One row per device.
    Device,
    /// One row per exposure.
    Exposure,
}

/// What `history remediation` counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RemediationBy {
    /// Severity, most severe first.
    Severity,
    /// The recommended update.
    Kb,
    /// The software.
    Software,
    /// The device group.
    Group,
    /// The tenant.
    Tenant,
}
