//! `reckon logs import`: counts access-log lines into a site's page views, the same way
//! as beacons (path, referring host, salted daily visitor hash, bot filter), stored with
//! their origin `log`. Re-importing a file, or a tail that overlaps one, adds nothing.
//!
//! A line's journal id is `pl_` + its time + a hash of (site, the line with addresses
//! masked) + how many identical lines came before it in the same second: stable across
//! runs however a file is cut, so the journal's dedup drops what is already stored.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::check::{visitor_key, Summary};
use super::input::{Input, InputError};
use super::line::{LineReader, Record};
use super::mask::Mask;
use super::options::{CountOptions, OptionsError};
use super::progress::Progress;
use super::rules::{Rules, Skip};
use crate::model::{Envelope, WriteOutcome};
use crate::settings::Config;
use crate::sources::pageviews::hit::{self, Drop, Hit, Via};
use crate::sources::pageviews::referrer;
use crate::sources::pageviews::salt::{utc_day, DaySalts, Salt, Salts};
use crate::sources::pageviews::sites::Sites;
use crate::store::{Store, StoreError};

/// Envelopes per store batch.
const BATCH: usize = 2000;
/// How long identical lines are remembered to number them (out-of-order lines within
/// this window still get their own number).
const SAME_LINE_WINDOW_MS: i64 = 5 * 60_000;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The registered site (`reckon sites add`) the views are counted for.
    #[arg(long)]
    pub site: String,
    /// Access logs to import: plain text, gzip (by its magic bytes), or `-` for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub options: CountOptions,
    /// Pages to list, most viewed first.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(
        "the store failed; what was stored stays stored, and importing again adds only the rest"
    )]
    Store(#[from] StoreError),
    #[error("no site `{0}` is registered: add it with `reckon sites add {0}`")]
    UnknownSite(String),
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Follow(#[from] crate::sources::server_events::ship::ShipError),
    #[error(transparent)]
    State(#[from] crate::sources::server_events::ship::StateError),
}

/// What an import did.
#[derive(Debug, Serialize)]
pub struct ImportSummary {
    pub site: String,
    #[serde(flatten)]
    pub read: Summary,
    /// Views and dropped bot hits newly stored.
    pub stored: u64,
    /// Lines an earlier import already stored.
    pub duplicates: u64,
}

impl ImportSummary {
    pub fn render(&self) -> String {
        format!(
            "site: {}\n{}stored: {} new, {} already stored by an earlier import\n",
            self.site,
            self.read.render(),
            self.stored,
            self.duplicates
        )
    }
}

/// What one line becomes.
pub enum Outcome {
    Blank,
    Unreadable(super::line::Unparsed),
    /// Not a view; bots come with the drop to store.
    Skipped(Skip, Option<Envelope>),
    /// The view, its envelope, and its visitor by GoAccess's definition.
    View(Box<Hit>, Envelope, u64),
}

/// Turns lines of one site's log into journal envelopes.
pub struct Importer {
    site: String,
    reader: LineReader,
    agents: bool,
    rules: Rules,
    mask: Mask,
    salts: DaySalts,
    /// Salts for days whose shared salt is gone: this import's own, dropped with it.
    ephemeral: HashMap<NaiveDate, Salt>,
    same: HashMap<(i64, u64), u32>,
    newest_ms: i64,
}

impl Importer {
    pub fn new(site: &str, reader: LineReader, rules: Rules, mask: Mask, salts: DaySalts) -> Self {
        Importer {
            site: site.to_owned(),
            agents: reader.has_agents(),
            reader,
            rules,
            mask,
            salts,
            ephemeral: HashMap::new(),
            same: HashMap::new(),
            newest_ms: i64::MIN,
        }
    }

    pub fn format(&self) -> &str {
        self.reader.name()
    }

    /// The salts in force now: a follow runs across midnights.
    pub fn set_salts(&mut self, salts: DaySalts) {
        self.salts = salts;
    }

    pub fn line(&mut self, text: &str) -> Outcome {
        if text.trim().is_empty() {
            return Outcome::Blank;
        }
        let record = match self.reader.read(text) {
            Ok(record) => record,
            Err(reason) => return Outcome::Unreadable(reason),
        };
        if let Some(host) = &record.host {
            if !same_site(host, &self.site) {
                return Outcome::Skipped(Skip::OtherSite, None);
            }
        }
        let bot = match self.rules.judge(&record, self.agents) {
            Ok(()) => None,
            Err(Skip::Bot(reason)) => Some(reason),
            Err(skip) => return Outcome::Skipped(skip, None),
        };
        let Some(line) = self.mask.line(text, record.user_agent.as_deref()) else {
            return Outcome::Unreadable(super::line::Unparsed::Shape);
        };
        let id = self.id(record.ts_ms, &line);
        match bot {
            Some(reason) => {
                let drop = Drop {
                    site: self.site.clone(),
                    via: Via::Log,
                    ts_ms: record.ts_ms,
                    reason,
                };
                let envelope = drop.envelope_as(id, Some(&line));
                Outcome::Skipped(Skip::Bot(reason), Some(envelope))
            }
            None => {
                let hit = self.hit(&record);
                let envelope = hit.envelope_as(id, Some(&line));
                Outcome::View(Box::new(hit), envelope, visitor_key(&record))
            }
        }
    }

    fn hit(&mut self, record: &Record) -> Hit {
        let path = referrer::page_path(&record.target, &[]).unwrap_or_else(|| "/".into());
        let absolute = (!record.target.starts_with('/')).then_some(record.target.as_str());
        let origin = referrer::classify(absolute, record.referrer.as_deref(), &self.site);
        let internal = record
            .referrer
            .as_deref()
            .and_then(referrer::host_of)
            .is_some_and(|host| same_site(&host, &self.site));
        let visitor = self.visitor(record.ts_ms, record.address, record.user_agent.as_deref());
        Hit {
            site: self.site.clone(),
            via: Via::Log,
            ts_ms: record.ts_ms,
            name: "pageview".into(),
            article: path.clone(),
            path,
            title: None,
            referrer: origin.referrer,
            source: origin.source,
            entry: !internal,
            unique: false,
            visitor,
            props: None,
        }
    }

    /// The salted daily hash beacons use: the shared salt of the line's UTC day while it
    /// exists (today, and yesterday within a visit's length), else this import's own.
    fn visitor(&mut self, ts_ms: i64, address: Option<IpAddr>, agent: Option<&str>) -> String {
        let day = utc_day(ts_ms);
        let salt = if self.salts.today.day == day {
            &self.salts.today
        } else if let Some(previous) = self.salts.previous.as_ref().filter(|p| p.day == day) {
            previous
        } else {
            self.ephemeral
                .entry(day)
                .or_insert_with(|| Salt::ephemeral(day))
        };
        let ip = address.map(|a| a.to_string()).unwrap_or_default();
        salt.visitor(&self.site, &ip, agent.unwrap_or_default())
    }

    /// The line's journal id: its time, a hash of (site, masked line), and its number
    /// among identical lines of that time.
    fn id(&mut self, ts_ms: i64, line: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(self.site.as_bytes());
        hash.update([0]);
        hash.update(line.as_bytes());
        let digest = hash.finalize();
        let short = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        if ts_ms > self.newest_ms {
            self.newest_ms = ts_ms;
            if self.same.len() > 100_000 {
                let since = ts_ms - SAME_LINE_WINDOW_MS;
                self.same.retain(|(t, _), _| *t >= since);
            }
        }
        let seen = self.same.entry((ts_ms, short)).or_insert(0);
        let n = *seen;
        *seen += 1;
        format!("pl_{:013}{short:016x}{n:x}", ts_ms.max(0))
    }
}

/// A logged host names the site (any case, a port, `www.`).
fn same_site(host: &str, site: &str) -> bool {
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let host = host.to_ascii_lowercase();
    host.strip_prefix("www.").unwrap_or(&host) == site
}

/// One import: the site, how its lines are read and counted, and the salts in force.
pub struct Job {
    pub site: String,
    /// The format, or `None` to detect it from the first input's first lines.
    pub reader: Option<LineReader>,
    pub rules: Rules,
    pub mask: Mask,
    pub salts: DaySalts,
    /// Pages to list in the summary.
    pub top: usize,
}

/// Inputs opened one after the other, on the reading thread.
pub type Inputs = Box<dyn Iterator<Item = Result<Input, InputError>> + Send>;

impl Job {
    /// A job for `site` with the store's salts of today (and yesterday's in its grace).
    pub async fn new(
        store: &dyn Store,
        config: &Config,
        site: &str,
        reader: Option<LineReader>,
        rules: Rules,
        mask: Mask,
    ) -> Result<Job, ImportError> {
        let site = Sites::default()
            .get(store, site)
            .await?
            .ok_or_else(|| ImportError::UnknownSite(hit::clip(site, 253)))?;
        let salts = Salts::new(config.pageviews.session_minutes)
            .at(store, chrono::Utc::now().timestamp_millis())
            .await?;
        Ok(Job {
            site: site.domain,
            reader,
            rules,
            mask,
            salts,
            top: 10,
        })
    }

    /// Reads every input on the blocking pool and stores its views and bot drops in
    /// batches as they come: memory stays flat in the input's size.
    pub async fn run(
        self,
        store: &dyn Store,
        inputs: Inputs,
    ) -> Result<ImportSummary, ImportError> {
        let stored = Arc::new(AtomicU64::new(0));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Envelope>>(4);
        let site = self.site.clone();
        let reading = {
            let stored = stored.clone();
            tokio::task::spawn_blocking(move || self.read_all(inputs, &tx, &stored))
        };
        let (mut new, mut duplicates) = (0, 0);
        while let Some(batch) = rx.recv().await {
            for outcome in store.write_batch(batch).await? {
                match outcome {
                    WriteOutcome::Accepted => new += 1,
                    _ => duplicates += 1,
                }
            }
            stored.store(new, Ordering::Relaxed);
        }
        let read = reading
            .await
            .map_err(|e| StoreError::Corrupt(format!("the log reader stopped: {e}")))??;
        Ok(ImportSummary {
            site,
            read,
            stored: new,
            duplicates,
        })
    }

    fn read_all(
        mut self,
        inputs: Inputs,
        tx: &tokio::sync::mpsc::Sender<Vec<Envelope>>,
        stored: &AtomicU64,
    ) -> Result<Summary, ImportError> {
        let mut importer: Option<Importer> = None;
        let mut summary = Summary::default();
        let mut tally = super::check::Tally::default();
        let progress = Progress::new();
        let started = Instant::now();
        let mut batch = Vec::with_capacity(BATCH);
        for input in inputs {
            let mut input = input?;
            let importer = match &mut importer {
                Some(importer) => importer,
                None => {
                    let reader = match self.reader.take() {
                        Some(reader) => reader,
                        None => {
                            let found = input.detect()?;
                            summary.detected = Some((found.read, found.sampled));
                            found.reader
                        }
                    };
                    let rules = std::mem::replace(&mut self.rules, Rules::new(false, false));
                    let salts = self.salts.clone();
                    importer.insert(Importer::new(&self.site, reader, rules, self.mask, salts))
                }
            };
            while let Some(line) = input.next_line()? {
                summary.lines += 1;
                match importer.line(&line.text) {
                    Outcome::Blank => summary.blank += 1,
                    Outcome::Unreadable(reason) => {
                        summary.unreadable(line.file, line.number, reason)
                    }
                    Outcome::Skipped(skip, drop) => {
                        summary.read += 1;
                        *summary.skipped.entry(skip.as_str()).or_default() += 1;
                        batch.extend(drop);
                    }
                    Outcome::View(hit, envelope, visitor) => {
                        summary.read += 1;
                        summary.views += 1;
                        tally.page(&hit.path);
                        tally.visitor(visitor);
                        batch.push(envelope);
                    }
                }
                if batch.len() >= BATCH && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                    // The writer stopped on a store error, which it reports.
                    return Ok(summary);
                }
                progress.tick(summary.lines, stored.load(Ordering::Relaxed), &summary);
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        progress.finish();
        summary.format = importer.map(|i| i.format().to_owned()).unwrap_or_default();
        summary.visitors_ip_date_agent = tally.visitors();
        summary.pages = tally.top(self.top);
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }
}

/// `reckon logs import`: every file into the site's views.
pub async fn run(config: &Config, args: ImportArgs) -> Result<ImportSummary, ImportError> {
    let (reader, rules, mask) = args.options.build(&config.pageviews.logs)?;
    let store = crate::open_store(config).await?;
    let mut job = Job::new(store.as_ref(), config, &args.site, reader, rules, mask).await?;
    job.top = args.top;
    let inputs: Inputs = Box::new(args.files.into_iter().map(|path| Input::open(&path)));
    job.run(store.as_ref(), inputs).await
}
