//! `reckon logs follow`: imports a live access log as it grows, across rotation (the
//! rest of the old file first) and truncation, remembering how far it got in a state
//! file so a restart goes on where it stopped. A crash re-reads at most one batch, and
//! the journal's dedup drops what was already stored.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::detect::detect;
use super::import::{ImportError, Importer, Outcome};
use super::line::LineReader;
use super::mask::Mask;
use super::options::CountOptions;
use super::rules::Rules;
use crate::model::WriteOutcome;
use crate::settings::Config;
use crate::sources::pageviews::salt::Salts;
use crate::sources::pageviews::sites::Sites;
use crate::sources::server_events::ship::state::{self, StateFile};
use crate::sources::server_events::ship::tail::{Limits, Tracker};
use crate::store::Store;

/// Lines per store batch.
const BATCH: Limits = Limits {
    bytes: 4 << 20,
    lines: 2000,
};

#[derive(Debug, clap::Args)]
pub struct FollowArgs {
    /// The registered site (`reckon sites add`) the views are counted for.
    #[arg(long)]
    pub site: String,
    /// The logs to follow; each may be rotated (renamed, then a new file) or truncated.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub options: CountOptions,
    /// Where the position in each file is remembered (default:
    /// `<data_dir>/logs-follow/<site>.json`).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// How often to look for new lines, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub poll_ms: u64,
    /// Import the complete lines there are now, then exit (e.g. from cron).
    #[arg(long)]
    pub once: bool,
}

/// What a follow did, printed when it stops.
#[derive(Debug, Default, Serialize)]
pub struct FollowReport {
    pub lines: u64,
    pub views: u64,
    pub unreadable: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub interrupted: bool,
}

/// Follows `args.files` until `shutdown` (or, with `--once`, until the lines there are
/// now are stored); the state is saved after every stored batch.
pub async fn run(
    config: &Config,
    args: FollowArgs,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<FollowReport, ImportError> {
    let (reader, rules, mask) = args.options.build(&config.pageviews.logs)?;
    let store = crate::open_store(config).await?;
    let site = Sites::default()
        .get(store.as_ref(), &args.site)
        .await?
        .ok_or_else(|| ImportError::UnknownSite(args.site.clone()))?;
    let state_path = args.state.clone().unwrap_or_else(|| {
        config
            .data_dir
            .join("logs-follow")
            .join(format!("{}.json", site.domain))
    });
    if let Some(dir) = state_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| state::StateError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    let mut follower = Follower {
        site: site.domain,
        pending: Some((reader, rules, mask)),
        importer: None,
        salts: Salts::new(config.pageviews.session_minutes),
        state: state::load(&state_path)?,
        state_path,
        trackers: Vec::new(),
        report: FollowReport::default(),
    };
    for path in &args.files {
        let path = std::path::absolute(path).map_err(|source| {
            crate::sources::server_events::ship::ShipError::File {
                action: "resolve",
                path: path.clone(),
                source,
            }
        })?;
        let key = path.to_string_lossy().into_owned();
        let saved = follower.state.files.remove(&key).unwrap_or_default();
        follower.trackers.push((key, Tracker::resume(path, saved)?));
    }
    let mut shutdown = std::pin::pin!(shutdown);
    let poll = Duration::from_millis(args.poll_ms.max(10));
    loop {
        follower.pass(store.as_ref()).await?;
        if args.once {
            break;
        }
        tokio::select! {
            () = &mut shutdown => {
                follower.report.interrupted = true;
                break;
            }
            () = tokio::time::sleep(poll) => {}
        }
    }
    Ok(follower.report)
}

struct Follower {
    site: String,
    /// How to read, until the first lines arrive (and detect the format if asked).
    pending: Option<(Option<LineReader>, Rules, Mask)>,
    importer: Option<Importer>,
    salts: Salts,
    /// The saved state of every path, those followed now taken out.
    state: StateFile,
    state_path: PathBuf,
    trackers: Vec<(String, Tracker)>,
    report: FollowReport,
}

impl Follower {
    /// Imports every complete line the files hold now.
    async fn pass(&mut self, store: &dyn Store) -> Result<(), ImportError> {
        let now = chrono::Utc::now().timestamp_millis();
        let salts = self.salts.at(store, now).await?;
        if let Some(importer) = &mut self.importer {
            importer.set_salts(salts.clone());
        }
        for index in 0..self.trackers.len() {
            self.trackers[index].1.refresh()?;
            while let Some(batch) = self.trackers[index].1.next_batch(BATCH)? {
                let text = String::from_utf8_lossy(&batch.body).into_owned();
                let importer = match &mut self.importer {
                    Some(importer) => importer,
                    None => {
                        let Some(importer) = self.start(&text, salts.clone()) else {
                            return Ok(());
                        };
                        self.importer.insert(importer)
                    }
                };
                let mut envelopes = Vec::new();
                for line in text.lines() {
                    self.report.lines += 1;
                    match importer.line(line) {
                        Outcome::Blank => {}
                        Outcome::Unreadable(reason) => {
                            self.report.unreadable += 1;
                            tracing::warn!(file = %batch.key, batch_offset = batch.offset,
                                reason = reason.as_str(), "unreadable log line");
                        }
                        Outcome::Skipped(_, drop) => envelopes.extend(drop),
                        Outcome::View(_, envelope, _) => {
                            self.report.views += 1;
                            envelopes.push(envelope);
                        }
                    }
                }
                for outcome in store.write_batch(envelopes).await? {
                    match outcome {
                        WriteOutcome::Accepted => self.report.stored += 1,
                        _ => self.report.duplicates += 1,
                    }
                }
                self.trackers[index].1.commit(&batch);
                tracing::info!(file = %batch.key, lines = batch.lines, offset = batch.offset,
                    "log lines imported");
                self.save()?;
            }
        }
        self.save()
    }

    /// The importer, once lines arrive: with the given format, or the one that reads
    /// these first lines. `None` (and a warning) while no format reads them.
    fn start(
        &mut self,
        text: &str,
        salts: crate::sources::pageviews::salt::DaySalts,
    ) -> Option<Importer> {
        let (reader, rules, mask) = self.pending.take()?;
        let reader = match reader {
            Some(reader) => reader,
            None => match detect(text.lines()) {
                Some(found) => {
                    tracing::info!(
                        format = found.reader.name(),
                        read = found.read,
                        sampled = found.sampled,
                        "detected the log format"
                    );
                    found.reader
                }
                None => {
                    tracing::warn!(
                        "no known log format reads the first lines: give one with --format"
                    );
                    self.pending = Some((None, rules, mask));
                    return None;
                }
            },
        };
        Some(Importer::new(&self.site, reader, rules, mask, salts))
    }

    /// Writes the state file: every followed path's position, and the others' as loaded.
    fn save(&self) -> Result<(), ImportError> {
        let snapshot = state::merge(
            &self.state.files,
            self.trackers.iter().map(|(k, t)| (k.clone(), t.snapshot())),
        );
        state::save(&self.state_path, &snapshot)?;
        Ok(())
    }
}
