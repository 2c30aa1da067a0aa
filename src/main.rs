//! The `reckon` binary: parse the command line, load config, hand over to the library.

use anyhow::Context;
use clap::Parser;
use reckon::cli::{Cli, Command, ConfigCommand, KeysCommand, QueueCommand};
use reckon::config::Overrides;
use reckon::settings::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Job processes the worker starts read the same configuration.
    if let Some(path) = &cli.config {
        std::env::set_var("RECKON_CONFIG", path);
    }
    if let Some(dir) = &cli.data_dir {
        std::env::set_var("RECKON_DATA_DIR", dir);
    }
    let (listen, no_scheduler) = match &cli.command {
        Command::Serve(args) => (args.listen.clone(), args.no_scheduler),
        _ => (None, false),
    };
    match cli.command {
        Command::Config(ConfigCommand::Defaults) => {
            print!("{}", reckon::config::DEFAULTS_TOML);
            return Ok(());
        }
        Command::Openapi => {
            // A closed pipe (`reckon openapi | head`) is not an error worth a panic.
            use std::io::Write;
            let _ = writeln!(std::io::stdout(), "{}", reckon::http::openapi_json());
            return Ok(());
        }
        _ => {}
    }
    let mut config = Config::load(
        cli.config.as_deref(),
        Overrides {
            listen,
            data_dir: cli.data_dir.clone(),
        },
    )
    .context("invalid configuration")?;
    if no_scheduler {
        config.reconcile.enabled = false;
    }
    reckon::telemetry::init(&config.log);
    for name in reckon::config::unknown_env_vars() {
        tracing::warn!(variable = %name, "ignoring environment variable that maps to no config key");
    }

    match cli.command {
        Command::Serve(_) => serve(config).await,
        Command::Ship(args) => {
            let report =
                reckon::sources::server_events::ship::run(args, reckon::shutdown_signal()).await?;
            println!(
                "shipped {} lines ({} bytes) from {} file(s) in {} requests, {} retried{}",
                report.lines,
                report.bytes,
                report.files,
                report.batches,
                report.retries,
                if report.interrupted {
                    "; interrupted"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Add {
            source,
            src,
            name,
            user,
        }) => {
            let out = match user {
                Some(user) => reckon::admin::heartbeats_key_add(&config, &source, &user).await?,
                None => reckon::admin::keys_add(&config, &source, src, name).await?,
            };
            println!("{out}");
            Ok(())
        }
        Command::Keys(KeysCommand::List) => {
            println!("{}", reckon::admin::keys_list(&config).await?);
            Ok(())
        }
        Command::Keys(KeysCommand::Revoke { id }) => {
            println!("{}", reckon::admin::keys_revoke(&config, &id).await?);
            Ok(())
        }
        Command::Logs(command) => logs(&config, command).await,
        Command::Sites(command) => {
            println!(
                "{}",
                reckon::sources::pageviews::sites::run(&config, command).await?
            );
            Ok(())
        }
        Command::Tokens(command) => {
            println!("{}", reckon::access::admin::run(&config, command).await?);
            Ok(())
        }
        Command::Setup => {
            println!("{}", reckon::admin::setup(&config).await?);
            Ok(())
        }
        Command::Reindex => {
            println!("{}", reckon::admin::reindex(&config).await?);
            Ok(())
        }
        Command::Reconcile(args) => {
            let out = reckon::sources::github::admin::reconcile(
                config,
                args.org,
                args.dry_run,
                args.json,
            )
            .await
            .map_err(|e| anyhow::anyhow!(reckon::telemetry::chain(&e)))?;
            println!("{out}");
            Ok(())
        }
        Command::Backfill(args) => {
            let out = reckon::sources::github::admin::backfill(config, args.org)
                .await
                .map_err(|e| anyhow::anyhow!(reckon::telemetry::chain(&e)))?;
            println!("{out}");
            Ok(())
        }
        Command::Worker(args) => {
            let out = reckon::sources::github::admin::worker(config, args.once)
                .await
                .map_err(|e| anyhow::anyhow!(reckon::telemetry::chain(&e)))?;
            println!("{out}");
            Ok(())
        }
        Command::Queue(command) => {
            let out = match command {
                QueueCommand::List { state, limit, json } => {
                    reckon::sources::github::admin::queue_list(&config, state, limit, json).await
                }
                QueueCommand::Retry { ids, dead } => {
                    reckon::sources::github::admin::queue_retry(&config, ids, dead).await
                }
                QueueCommand::Purge { state } => {
                    reckon::sources::github::admin::queue_purge(&config, state).await
                }
            }
            .map_err(|e| anyhow::anyhow!(reckon::telemetry::chain(&e)))?;
            println!("{out}");
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            println!("{}", reckon::admin::config_summary(&config));
            Ok(())
        }
        Command::Config(ConfigCommand::Defaults) | Command::Openapi => {
            unreachable!("handled above")
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.listen_addr()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let public = match config.public_listen_addr()? {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (public_listen)"))?,
        ),
        None => None,
    };
    let base = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let data_dir = config.data_dir.clone();
    let dashboard = match (
        config.dashboard.enabled,
        reckon::http::dashboard::is_built(),
    ) {
        (true, true) => format!("http://{local}/"),
        (true, false) => "not built into this binary: install Node.js 20+ and rebuild".into(),
        (false, _) => "off (dashboard.enabled = false)".into(),
    };
    let app = reckon::App::build(config).await?;
    println!("reckon is listening on http://{local}");
    println!("  dashboard:          {dashboard}");
    println!(
        "  GitHub webhook URL: {}/hooks/github",
        base.trim_end_matches('/')
    );
    println!("  content type:       application/json");
    println!("  secret:             {}", app.secret_origin().describe());
    println!("  admin token:        {}", app.admin_token().describe());
    if let Some(public) = &public {
        println!(
            "  public listener:    http://{} (webhooks, /submit, public reads only)",
            public.local_addr()?
        );
    }
    println!("  data:               {}", data_dir.display());
    println!("  stats API:          http://{local}/api/v1/github/orgs");
    println!("  API reference:      http://{local}/api/v1/openapi.json");
    app.serve_on(listener, public, reckon::shutdown_signal())
        .await?;
    Ok(())
}

async fn logs(
    config: &reckon::settings::Config,
    command: reckon::sources::pageviews::logs::LogsCommand,
) -> anyhow::Result<()> {
    use reckon::sources::pageviews::logs::{check, follow, import, LogsCommand};
    match command {
        LogsCommand::Check(args) => {
            let summary = check::run(config, &args)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{}", summary.render());
            }
            Ok(())
        }
        LogsCommand::Follow(args) => {
            let report = follow::run(config, args, reckon::shutdown_signal()).await?;
            println!(
                "followed {} lines: {} views, {} unreadable; stored {} new, {} already stored{}",
                report.lines,
                report.views,
                report.unreadable,
                report.stored,
                report.duplicates,
                if report.interrupted { " (stopped)" } else { "" }
            );
            Ok(())
        }
        LogsCommand::Import(args) => {
            let json = args.json;
            let summary = import::run(config, args).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{}", summary.render());
            }
            Ok(())
        }
    }
}
