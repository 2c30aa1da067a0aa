//! `reckon-job`: runs exactly one queued task from its kind and JSON spec and exits.
//! 0: done. 75: failed, retry later. 65: failed permanently (unknown kind, bad spec or
//! config, or GitHub refusing for good). The last stdout line is the outcome as JSON.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use reckon::launcher::{JobOutcome, EXIT_DONE, EXIT_PERMANENT, EXIT_RETRYABLE};
use reckon::queue::{Task, LEGACY_KIND};
use reckon::sources::github::sync::{SyncContext, SyncJobs};
use reckon::telemetry::chain as error_chain;

#[derive(Debug, Parser)]
#[command(
    name = "reckon-job",
    version,
    about = "Run one Reckon task from its kind and JSON spec, then exit: 0 done, 75 retryable, 65 permanent.",
    after_help = "Spec examples:\n  {\"task\":\"pull_requests\",\"org\":\"acme\",\"repo\":\"widgets\",\"since\":1767225600000}\n  {\"task\":\"team_members\",\"org\":\"acme\",\"team\":\"docs\"}\n  {\"task\":\"backfill\",\"org\":\"acme\"}\nConfiguration is read as `reckon` reads it: --config / RECKON_CONFIG, then RECKON_* variables."
)]
struct Args {
    /// The task spec as JSON; `-` reads it from stdin.
    #[arg(long, env = "RECKON_JOB_SPEC", value_name = "JSON")]
    spec: String,
    /// The task's kind; without it, a GitHub sync task (`github-sync`).
    #[arg(long, env = "RECKON_JOB_KIND", value_name = "KIND")]
    kind: Option<String>,
    /// Config file to read instead of ./reckon.toml.
    #[arg(long, env = "RECKON_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

fn outcome_line(status: &str, fields: serde_json::Value) {
    let mut line = serde_json::json!({ "status": status });
    if let (Some(line), Some(fields)) = (line.as_object_mut(), fields.as_object()) {
        line.extend(fields.clone());
    }
    println!("{line}");
}

fn permanent(error: String) -> ExitCode {
    outcome_line("permanent", serde_json::json!({ "error": error }));
    ExitCode::from(EXIT_PERMANENT as u8)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let raw = if args.spec == "-" {
        let mut buf = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut buf) {
            return permanent(format!("cannot read the spec from stdin: {e}"));
        }
        buf
    } else {
        args.spec
    };
    let task = match serde_json::from_str(&raw) {
        Ok(payload) => Task {
            kind: args.kind.unwrap_or_else(|| LEGACY_KIND.to_owned()),
            payload,
        },
        Err(e) => return permanent(format!("invalid task spec: {e}")),
    };
    // Unknown kinds and bad specs fail before any config or store is touched.
    match reckon::sources::task_kinds().describe(&task) {
        Ok(d) if d.in_worker => {
            return permanent(format!(
                "`{}` tasks plan into the queue, so the worker runs them, not a job",
                d.name
            ))
        }
        Ok(_) => {}
        Err(e) => return permanent(e),
    }
    let config = match reckon::settings::Config::load(args.config.as_deref(), Default::default()) {
        Ok(config) => config,
        Err(e) => return permanent(format!("invalid configuration: {}", error_chain(&e))),
    };
    reckon::telemetry::init(&config.log);
    let store = match reckon::open_store(&config).await {
        Ok(store) => store,
        Err(e) => {
            let error = format!("cannot open the store: {}", error_chain(&e));
            outcome_line("retryable", serde_json::json!({ "error": error }));
            return ExitCode::from(EXIT_RETRYABLE as u8);
        }
    };
    let github = match reckon::sources::github::upstream::GithubClient::new(&config.github.api) {
        Ok(github) => github,
        Err(e) => return permanent(error_chain(&e)),
    };
    let jobs = reckon::sources::jobs(SyncJobs::new(SyncContext { store, github }));
    match jobs.run(&task).await {
        JobOutcome::Done(report) => {
            outcome_line("done", serde_json::json!({ "report": report }));
            ExitCode::from(EXIT_DONE as u8)
        }
        JobOutcome::Retryable { error, retry_at } => {
            outcome_line(
                "retryable",
                serde_json::json!({ "error": error, "retry_at": retry_at }),
            );
            ExitCode::from(EXIT_RETRYABLE as u8)
        }
        JobOutcome::Permanent(error) => permanent(error),
    }
}
