//! `reckon logs check`: reads access logs the way an import will (format detection,
//! the counting rules, the bot filter) and reports what it would count, storing nothing.
//! An owner sees the chosen format, every unreadable line by number, and the numbers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::input::{Input, InputError};
use super::line::{Record, Unparsed};
use super::options::{OptionsError, ReadOptions};
use super::progress::Progress;
use crate::settings::Config;
use crate::sources::pageviews::referrer;

/// Unreadable lines listed by number in a summary; the rest are only counted.
const LISTED_UNPARSED: usize = 20;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Access logs to read: plain text, gzip (by its magic bytes), or `-` for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadOptions,
    /// Count what the bot filter drops as views too, e.g. to compare with GoAccess run
    /// without `--ignore-crawlers`.
    #[arg(long)]
    pub count_bots: bool,
    /// Pages to list, most viewed first.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Input(#[from] InputError),
}

/// What a check found, over every file.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// The format lines were read with.
    pub format: String,
    /// With `--format auto`: how many of the sampled lines the chosen format read.
    pub detected: Option<(usize, usize)>,
    pub lines: u64,
    pub blank: u64,
    pub read: u64,
    pub views: u64,
    /// Unreadable lines by reason.
    pub unparsed: BTreeMap<&'static str, u64>,
    /// The first unreadable lines: file, line number (from 1), reason.
    pub unparsed_lines: Vec<(String, u64, &'static str)>,
    /// Read lines that are not views, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Distinct (address, logged date, User-Agent) among views: GoAccess's definition.
    pub visitors_ip_date_agent: u64,
    /// The most viewed pages (paths without query strings).
    pub pages: Vec<(String, u64)>,
    pub seconds: f64,
}

impl Summary {
    /// Counts an unreadable line, listing the first ones by number.
    pub fn unreadable(&mut self, file: &str, number: u64, reason: Unparsed) {
        *self.unparsed.entry(reason.as_str()).or_default() += 1;
        if self.unparsed_lines.len() < LISTED_UNPARSED {
            self.unparsed_lines
                .push((file.to_owned(), number, reason.as_str()));
        }
    }
}

/// Reads every file and sums up what an import would count.
pub fn run(config: &Config, args: &CheckArgs) -> Result<Summary, CheckError> {
    let (mut reader, mut rules) = args.read.build(&config.pageviews.logs)?;
    rules.count_bots = args.count_bots;
    let mut summary = Summary::default();
    let mut tally = Tally::default();
    let progress = Progress::new();
    let started = Instant::now();
    for path in &args.files {
        let mut input = Input::open(path)?;
        if reader.is_none() {
            let found = input.detect()?;
            summary.detected = Some((found.read, found.sampled));
            reader = Some(found.reader);
        }
        let reader = reader.as_mut().expect("a reader was chosen or detected");
        let agents = reader.has_agents();
        while let Some(line) = input.next_line()? {
            summary.lines += 1;
            match reader.read(&line.text) {
                _ if line.text.trim().is_empty() => summary.blank += 1,
                Err(reason) => summary.unreadable(line.file, line.number, reason),
                Ok(record) => {
                    summary.read += 1;
                    match rules.judge(&record, agents) {
                        Err(skip) => *summary.skipped.entry(skip.as_str()).or_default() += 1,
                        Ok(()) => {
                            summary.views += 1;
                            tally.view(&record);
                        }
                    }
                }
            }
            progress.tick(summary.lines, summary.views, &summary);
        }
    }
    progress.finish();
    summary.format = reader.map(|r| r.name().to_owned()).unwrap_or_default();
    summary.visitors_ip_date_agent = tally.visitors();
    summary.pages = tally.top(args.top);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// A view's visitor by GoAccess's definition: (address, logged date, User-Agent),
/// hashed in memory only.
pub fn visitor_key(record: &Record) -> u64 {
    let local_day = (record.ts_ms.div_euclid(1000) + i64::from(record.offset_s)).div_euclid(86_400);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (record.address, local_day, record.user_agent.as_deref()).hash(&mut hasher);
    hasher.finish()
}

/// Pages and GoAccess-definition visitors among the views. Memory grows with distinct
/// pages and visitors, not with lines.
#[derive(Default)]
pub(super) struct Tally {
    pages: HashMap<String, u64>,
    visitors: HashSet<u64>,
}

impl Tally {
    fn view(&mut self, record: &Record) {
        let path = referrer::page_path(&record.target, &[]).unwrap_or_else(|| "/".into());
        self.page(&path);
        self.visitor(visitor_key(record));
    }

    pub(super) fn page(&mut self, path: &str) {
        match self.pages.get_mut(path) {
            Some(n) => *n += 1,
            None => {
                self.pages.insert(path.to_owned(), 1);
            }
        }
    }

    pub(super) fn visitor(&mut self, key: u64) {
        self.visitors.insert(key);
    }

    pub(super) fn visitors(&self) -> u64 {
        self.visitors.len() as u64
    }

    pub(super) fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut pages: Vec<(String, u64)> =
            self.pages.iter().map(|(p, c)| (p.clone(), *c)).collect();
        pages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        pages.truncate(n);
        pages
    }
}

impl Summary {
    /// The summary as an owner reads it.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let per_second = self.lines as f64 / self.seconds.max(1e-9);
        let _ = match self.detected {
            Some((read, sampled)) => writeln!(
                out,
                "format: {} (detected: it reads {read} of the first {sampled} lines)",
                self.format
            ),
            None => writeln!(out, "format: {}", self.format),
        };
        let _ = writeln!(
            out,
            "lines: {} in {:.1} s ({per_second:.0} lines/s): {} read, {} blank, {} unreadable",
            self.lines,
            self.seconds,
            self.read,
            self.blank,
            self.unparsed.values().sum::<u64>()
        );
        for (file, number, reason) in &self.unparsed_lines {
            let _ = writeln!(out, "  unreadable: {file}:{number} ({reason})");
        }
        let _ = writeln!(out, "views: {}", self.views);
        let skipped: Vec<String> = self
            .skipped
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "not views: {}",
            if skipped.is_empty() {
                "none".into()
            } else {
                skipped.join(", ")
            }
        );
        let _ = writeln!(
            out,
            "unique visitors (same address, logged date and User-Agent, as GoAccess counts): {}",
            self.visitors_ip_date_agent
        );
        for (page, views) in &self.pages {
            let _ = writeln!(out, "  {views:>10}  {page}");
        }
        out
    }
}
