//! The command line: one binary, one subcommand per role. Parsing lives here and the
//! work in the library, so `main` stays a thin shell.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "reckon",
    version,
    about = "Webhook ingestion and reconciliation: GitHub org webhooks and server events in, durable storage and statistics out.",
    after_help = "With no configuration at all, `reckon serve` stores into ./reckon-data and listens on 127.0.0.1:8080.\nConfiguration layers: built-in defaults (`reckon config defaults`), then reckon.toml, then RECKON_* variables, then flags."
)]
pub struct Cli {
    /// Config file to read instead of ./reckon.toml.
    #[arg(long, global = true, env = "RECKON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Data folder for the embedded store (overrides `data_dir` / RECKON_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: webhook receiver, stats API and health endpoints.
    Serve(ServeArgs),
    /// Manage API keys: for server sources that use `auth = "api-key"`, and heartbeats
    /// keys for editors (`--source heartbeats --user NAME`).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Issue, list and revoke read tokens: what may read the API and the dashboard.
    #[command(subcommand)]
    Tokens(crate::access::admin::TokensCommand),
    /// Register and list the sites whose page views are counted.
    #[command(subcommand)]
    Sites(crate::sources::pageviews::sites::SitesCommand),
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Rebuild every projection (orgs, repos, teams, members, PRs) from the stored raw
    /// events, e.g. after an upgrade that projects more. Safe while `reckon serve` runs.
    Reindex,
    /// Create or migrate the Elasticsearch index templates, indices and aliases
    /// (store = "elasticsearch"). Idempotent; `serve` also does this at start.
    Setup,
    /// Print the HTTP API's OpenAPI 3.1 document (JSON), e.g. to generate a client.
    Openapi,
    /// Compare each org's counts with GitHub's, scan webhook deliveries, and repair
    /// the drift. Runs the planned sync tasks here, then checks again. Exits 0 when
    /// the run completed, whatever drift it found.
    Reconcile(ReconcileArgs),
    /// Load an org's history from GitHub: repos, teams, members and every PR.
    Backfill(BackfillArgs),
    /// Run queued sync tasks until stopped (the worker role on its own).
    Worker(WorkerArgs),
    /// Inspect and manage the sync-task queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Tail a game server's xlog files (DCSS `logfile`, `milestones`) and send new
    /// lines to a Reckon's POST /submit, at least once, remembering where it stopped.
    Ship(crate::sources::server_events::ship::ShipArgs),
    /// Web servers' access logs (nginx, Apache, custom formats, JSON lines) as page views.
    #[command(subcommand)]
    Logs(crate::sources::pageviews::logs::LogsCommand),
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Reconcile only this org (default: every org in github.orgs / RECKON_GITHUB_ORGS).
    #[arg(long)]
    pub org: Option<String>,
    /// Compare and report only: queue nothing, redeliver nothing, save nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the reports as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The org to load.
    #[arg(long)]
    pub org: String,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Run the tasks that are due now, then exit.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List tasks with their state, attempts and last error.
    List {
        /// Only tasks in this state: ready, leased, done or dead.
        #[arg(long)]
        state: Option<String>,
        /// Most tasks to list.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue dead tasks again with fresh attempts.
    Retry {
        /// Task ids from `reckon queue list`.
        ids: Vec<i64>,
        /// Retry every dead task.
        #[arg(long)]
        dead: bool,
    },
    /// Delete finished tasks.
    Purge {
        /// `done` or `dead`.
        #[arg(long)]
        state: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `listen` / RECKON_LISTEN), e.g. 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Do not run the reconcile scheduler here (sets `reconcile.enabled = false`): for
    /// replicas where another process, or EventBridge Scheduler on AWS, fires it.
    #[arg(long)]
    pub no_scheduler: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key for one source and print it (it is shown only once).
    Add {
        /// The source the key may submit to: one configured with auth = "api-key", or
        /// `heartbeats` (with --user) for an editor's WakaTime plugin.
        #[arg(long)]
        source: String,
        /// With `--source heartbeats`: the user whose coding time the key sends and reads.
        #[arg(long, required_if_eq("source", "heartbeats"))]
        user: Option<String>,
        /// The one server (`src`, e.g. `cpo`) the key may submit events for at POST
        /// /submit; a body naming another server is refused with 403.
        #[arg(long)]
        src: Option<String>,
        /// A label to recognise the key by, e.g. the host that uses it.
        #[arg(long)]
        name: Option<String>,
    },
    /// List keys (ids, sources, labels, dates; never the keys themselves).
    List,
    /// Revoke a key by id; requests with it are refused from then on.
    Revoke {
        /// The key id shown by `reckon keys list`.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the commented built-in defaults, a starting point for reckon.toml.
    Defaults,
    /// Load and validate the configuration, then print a summary (secrets redacted).
    Check,
}
