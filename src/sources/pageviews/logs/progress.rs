//! The progress line of a long read: lines, lines/s, views and skipped so far, on
//! stderr while it is a terminal (indicatif draws nothing otherwise).

use std::cell::Cell;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::check::Summary;

/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    drawn: Cell<Instant>,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let now = Instant::now();
        Progress {
            bar,
            started: now,
            drawn: Cell::new(now),
        }
    }

    /// Redraws at most every [`PROGRESS_EVERY`]; cheap to call per line.
    /// `stored`: views stored so far (an import) or counted (a check).
    pub fn tick(&self, lines: u64, stored: u64, summary: &Summary) {
        if lines % 4096 != 0 || self.drawn.get().elapsed() < PROGRESS_EVERY {
            return;
        }
        self.drawn.set(Instant::now());
        let per_second = lines as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "{lines} lines ({per_second:.0}/s), {stored} views, {} not views, {} unreadable",
            summary.skipped.values().sum::<u64>(),
            summary.unparsed.values().sum::<u64>(),
        ));
        self.bar.tick();
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
