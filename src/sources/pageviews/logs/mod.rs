//! Server access logs as a way in for page views: line formats, format detection, the
//! counting rules and address masking; `reckon logs check` (reads and reports),
//! `import` (counts into the store) and `follow` (a live log), and the upload endpoint.

pub mod check;
pub mod detect;
pub mod follow;
pub mod format;
pub mod import;
pub mod input;
pub mod line;
pub mod mask;
pub mod options;
mod progress;
pub mod rules;
pub mod upload;

/// `reckon logs`.
#[derive(Debug, clap::Subcommand)]
pub enum LogsCommand {
    /// Read access logs the way an import would and report what would be counted:
    /// the detected format, unreadable lines by number, views, what was skipped and
    /// why, unique visitors and the top pages. Stores nothing.
    Check(check::CheckArgs),
    /// Import access logs into a registered site's page views: plain, gzip or `-` for
    /// stdin. Bots are dropped (and counted) as for beacons; addresses are masked before
    /// anything is stored. Importing a file again, or an overlapping part, adds nothing.
    Import(import::ImportArgs),
    /// Follow live access logs into a registered site's page views: new lines as they
    /// are written, across rotation and truncation, remembering the position across
    /// restarts. Stops on Ctrl-C (or, with `--once`, when it has caught up).
    Follow(follow::FollowArgs),
}
