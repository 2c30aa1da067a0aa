//! `reckon ship`: what a DCSS server operator runs next to the game server. It follows
//! the local xlog files (`logfile`, `milestones`) and posts every new complete line to
//! Reckon's `/submit`, at least once, surviving restarts, rotation and truncation.
//!
//! Wire protocol: `POST {url}/submit` with `Authorization: Bearer <key>`,
//! `Content-Type: text/plain; charset=utf-8`, `X-Xlog-File: <file key>`,
//! `X-Xlog-Offset: <byte offset of the body's first line>`, optional `X-Xlog-Src`, and
//! a body of complete `\n`-terminated lines. 204 means stored (duplicates included).

mod send;
pub(crate) mod state;
pub(crate) mod tail;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::Duration;

use secrecy::SecretString;
use tracing::info;

pub use state::StateError;
pub use tail::file_key;

use send::{Delivery, Sender};
use state::{PathState, StateFile};
use tail::{Limits, Tracker};

/// Follow DCSS xlog files and ship new lines to Reckon's `/submit`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Each file is shipped from its start the first time, then from where the state file says the server got to. \
Lines are sent only once complete (ending in a newline), at least once: the server stores each (server, file, offset) once. \
Rotation (logfile renamed, a new one created) and truncation are detected; the rest of a rotated file is shipped first."
)]
pub struct ShipArgs {
    /// Server name, sent as X-Xlog-Src; Reckon checks it is the API key's server.
    #[arg(long, env = "RECKON_SHIP_SRC", value_name = "NAME")]
    pub src: Option<String>,
    /// API key of the server source (`reckon keys add --source NAME --src SERVER`). Prefer the environment
    /// variable, which keeps the key out of `ps`.
    #[arg(long, env = "RECKON_SHIP_KEY", value_name = "KEY", value_parser = parse_key, hide_env_values = true)]
    pub key: SecretString,
    /// Reckon's base URL, e.g. https://reckon.example; lines go to <URL>/submit.
    #[arg(long, env = "RECKON_SHIP_URL", value_name = "URL")]
    pub url: reqwest::Url,
    /// The xlog files to follow, e.g. saves/logfile saves/milestones. Name the live
    /// files only, not rotated copies such as logfile.1. Missing files are waited for.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Where to remember how far the server has stored each file.
    #[arg(long, value_name = "PATH", default_value = "reckon-ship-state.json")]
    pub state: PathBuf,
    /// Most bytes per request (a longer single line is still sent, alone).
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024, value_parser = parse_positive)]
    pub batch_bytes: usize,
    /// Most lines per request.
    #[arg(long, value_name = "LINES", default_value_t = 1000, value_parser = parse_positive)]
    pub batch_lines: usize,
    /// How often to look at the files for new lines, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub poll_ms: u64,
    /// Ship the complete lines there are now, then exit (for cron and tests).
    #[arg(long)]
    pub once: bool,
    /// Give up on a request after this many seconds; it is then retried.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout_secs: u64,
    /// First wait before retrying a failed request, in milliseconds; it doubles with
    /// every attempt, up to --retry-max-ms. Retries go on until stopped.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub retry_base_ms: u64,
    /// Longest wait between retries, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub retry_max_ms: u64,
}

fn parse_key(text: &str) -> Result<SecretString, String> {
    if text.trim().is_empty() {
        return Err("the API key is empty".into());
    }
    Ok(SecretString::from(text))
}

fn parse_positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("expected a whole number above 0, got {text:?}")),
        Ok(n) => Ok(n),
    }
}

/// What a run shipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShipReport {
    /// Lines the server acknowledged (blank lines included).
    pub lines: u64,
    pub bytes: u64,
    /// Requests answered 204.
    pub batches: u64,
    /// Distinct file keys (file lineages) lines were shipped from.
    pub files: usize,
    /// Requests that failed and were sent again.
    pub retries: u64,
    /// Stopped by the shutdown signal rather than by `--once` finishing.
    pub interrupted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("--url {url} is not an http:// or https:// URL")]
    Url { url: String },
    #[error("the API key cannot be sent in an HTTP header (use visible ASCII characters)")]
    Key(#[source] reqwest::header::InvalidHeaderValue),
    #[error("--src {src:?} cannot be sent in an HTTP header")]
    Src {
        src: String,
        #[source]
        source: reqwest::header::InvalidHeaderValue,
    },
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("cannot build the request")]
    Request(#[source] reqwest::Error),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot {action} {path}")]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has a line longer than {limit} bytes at offset {offset}")]
    LineTooLong {
        path: PathBuf,
        offset: u64,
        limit: usize,
    },
    #[error("the server refused the lines of {file} at offset {offset}: HTTP {status}{}: {message}",
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Refused {
        file: String,
        offset: u64,
        status: u16,
        code: Option<String>,
        message: String,
    },
}

/// The shutdown signal, pollable both without waiting (between batches) and as a
/// future (while sleeping), however often.
pub(crate) struct Shutdown<'a> {
    signal: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
    fired: bool,
}

impl<'a> Shutdown<'a> {
    fn new(signal: impl Future<Output = ()> + Send + 'a) -> Self {
        Shutdown {
            signal: Box::pin(signal),
            fired: false,
        }
    }

    fn fired(&mut self) -> bool {
        if !self.fired {
            let mut cx = Context::from_waker(Waker::noop());
            self.fired = self.signal.as_mut().poll(&mut cx).is_ready();
        }
        self.fired
    }

    async fn wait(&mut self) {
        if !self.fired {
            self.signal.as_mut().await;
            self.fired = true;
        }
    }
}

/// Ships `args.files` until `shutdown` resolves (or, with `--once`, until the lines
/// there are now are stored). A request in flight is finished first; the state is saved
/// on the way out. Errors only for what retrying cannot fix: a refused batch, an
/// unreadable file or state file, a bad URL or key.
pub async fn run(
    args: ShipArgs,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<ShipReport, ShipError> {
    let mut shutdown = Shutdown::new(shutdown);
    let sender = Sender::new(&args)?;
    let mut shipper = Shipper::start(&args, sender)?;
    let poll = Duration::from_millis(args.poll_ms.max(1));
    let outcome = shipper.follow(&mut shutdown, poll, args.once).await;
    let saved = shipper.save();
    let report = shipper.report();
    info!(
        lines = report.lines,
        batches = report.batches,
        files = report.files,
        retries = report.retries,
        interrupted = report.interrupted,
        ok = outcome.is_ok(),
        "ship finished"
    );
    outcome?;
    saved?;
    Ok(report)
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

struct Shipper {
    state_path: PathBuf,
    /// Saved entries for paths not watched in this run, kept as they are.
    others: BTreeMap<String, PathState>,
    last_saved: Option<StateFile>,
    /// Each watched path with its key in the state file.
    trackers: Vec<(String, Tracker)>,
    sender: Sender,
    limits: Limits,
    report: ShipReport,
    keys: BTreeSet<String>,
}

impl Shipper {
    fn start(args: &ShipArgs, sender: Sender) -> Result<Self, ShipError> {
        let mut state = state::load(&args.state)?;
        let mut trackers: Vec<(String, Tracker)> = Vec::new();
        for path in &args.files {
            let path = std::path::absolute(path).map_err(|source| ShipError::File {
                action: "resolve",
                path: path.clone(),
                source,
            })?;
            let key = path.to_string_lossy().into_owned();
            if trackers.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let saved = state.files.remove(&key).unwrap_or_default();
            trackers.push((key, Tracker::resume(path, saved)?));
        }
        Ok(Shipper {
            state_path: args.state.clone(),
            others: state.files,
            last_saved: None,
            trackers,
            sender,
            limits: Limits {
                bytes: args.batch_bytes,
                lines: args.batch_lines,
            },
            report: ShipReport::default(),
            keys: BTreeSet::new(),
        })
    }

    fn report(&self) -> ShipReport {
        ShipReport {
            files: self.keys.len(),
            ..self.report.clone()
        }
    }

    async fn follow(
        &mut self,
        shutdown: &mut Shutdown<'_>,
        poll: Duration,
        once: bool,
    ) -> Result<(), ShipError> {
        loop {
            for (_, tracker) in &mut self.trackers {
                tracker.refresh()?;
            }
            for index in 0..self.trackers.len() {
                if self.ship_path(index, shutdown).await? == Flow::Stop {
                    return Ok(());
                }
            }
            self.save()?;
            if once {
                return Ok(());
            }
            tokio::select! {
                () = shutdown.wait() => {
                    self.report.interrupted = true;
                    return Ok(());
                }
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Sends one path's batches until it has no complete line left.
    async fn ship_path(
        &mut self,
        index: usize,
        shutdown: &mut Shutdown<'_>,
    ) -> Result<Flow, ShipError> {
        loop {
            if shutdown.fired() {
                self.report.interrupted = true;
                return Ok(Flow::Stop);
            }
            let tracker = &mut self.trackers[index].1;
            let Some(batch) = tracker.next_batch(self.limits)? else {
                return Ok(Flow::Continue);
            };
            let retries = match self.sender.send(&batch, shutdown).await? {
                Delivery::Stored { retries } => retries,
                Delivery::Interrupted => {
                    self.report.interrupted = true;
                    return Ok(Flow::Stop);
                }
            };
            let tracker = &mut self.trackers[index].1;
            tracker.commit(&batch);
            info!(path = %tracker.path().display(), file = %batch.key, lines = batch.lines,
                offset = batch.offset, bytes = batch.body.len(), "batch stored");
            self.report.lines += batch.lines as u64;
            self.report.bytes += batch.body.len() as u64;
            self.report.batches += 1;
            self.report.retries += retries;
            self.keys.insert(batch.key);
            self.save()?;
        }
    }

    /// Writes the state if it changed since the last write.
    fn save(&mut self) -> Result<(), ShipError> {
        let snapshot = state::merge(
            &self.others,
            self.trackers.iter().map(|(k, t)| (k.clone(), t.snapshot())),
        );
        if self.last_saved.as_ref() != Some(&snapshot) {
            state::save(&self.state_path, &snapshot)?;
            self.last_saved = Some(snapshot);
        }
        Ok(())
    }
}
