//! The command-line options `reckon logs check`, `import` and `follow` share: the line
//! format and what counts (each also settable in `[pageviews.logs]`), and for the two
//! that store, how addresses are masked.

use super::input::chosen;
use super::line::LineReader;
use super::mask::{Mask, FINEST_V4, FINEST_V6};
use super::rules::Rules;
use crate::sources::pageviews::config::LogsConfig;

/// How lines are read and which count.
#[derive(Debug, clap::Args)]
pub struct ReadOptions {
    /// The line format: `auto` (detected from the first lines), `combined`, `common`,
    /// `vhost_combined`, `vhost_common`, `json`, `nginx:'<log_format>'` or
    /// `goaccess:'<specifiers>'`.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Count static assets (css, js, images, fonts, ... by extension) as views too
    /// (also `pageviews.logs.count_assets`).
    #[arg(long)]
    pub count_assets: bool,
    /// Count redirects (3xx other than 304) as views too (also
    /// `pageviews.logs.count_redirects`).
    #[arg(long)]
    pub count_redirects: bool,
}

/// What the storing commands add: the masks of journaled lines.
#[derive(Debug, clap::Args)]
pub struct CountOptions {
    #[command(flatten)]
    pub read: ReadOptions,
    /// Prefix IPv4 addresses are cut to in the journaled line, at most 24 (default:
    /// `pageviews.logs.mask_ipv4`).
    #[arg(long)]
    pub mask_ipv4: Option<u8>,
    /// Prefix IPv6 addresses are cut to in the journaled line, at most 48 (default:
    /// `pageviews.logs.mask_ipv6`).
    #[arg(long)]
    pub mask_ipv6: Option<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    #[error(transparent)]
    Format(#[from] super::format::FormatError),
    #[error("--mask-ipv4 may be at most {FINEST_V4} and --mask-ipv6 at most {FINEST_V6}: finer would keep a person's address")]
    Mask,
}

impl ReadOptions {
    /// The format's reader (`None`: detect it) and the counting rules.
    pub fn build(&self, logs: &LogsConfig) -> Result<(Option<LineReader>, Rules), OptionsError> {
        let rules = Rules::new(
            self.count_assets || logs.count_assets,
            self.count_redirects || logs.count_redirects,
        );
        Ok((chosen(&self.format)?, rules))
    }
}

impl CountOptions {
    /// The reader, the rules and the mask.
    pub fn build(
        &self,
        logs: &LogsConfig,
    ) -> Result<(Option<LineReader>, Rules, Mask), OptionsError> {
        let (reader, rules) = self.read.build(logs)?;
        let mask = Mask::new(
            self.mask_ipv4.unwrap_or(logs.mask_ipv4),
            self.mask_ipv6.unwrap_or(logs.mask_ipv6),
        )
        .ok_or(OptionsError::Mask)?;
        Ok((reader, rules, mask))
    }
}
