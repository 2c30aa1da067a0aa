//! The GitHub webhook secret for zero-config starts: taken from config when set,
//! otherwise read from the data dir, or generated there (owner-only) on first start.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::Config;

pub const FILE_NAME: &str = "github-webhook-secret";

/// Where the active secrets came from; `serve` tells the user accordingly.
pub enum SecretOrigin {
    /// `github.webhook_secret` / `RECKON_GITHUB_WEBHOOK_SECRET`, with this many secrets.
    Config { count: usize },
    /// Read from a file that an earlier start generated.
    File { path: PathBuf },
    /// Generated just now; the only time the secret is shown.
    Generated { path: PathBuf, secret: SecretString },
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {action} the webhook secret file {path}")]
pub struct SecretFileError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

pub fn resolve(config: &Config) -> Result<(Vec<SecretString>, SecretOrigin), SecretFileError> {
    if !config.github.webhook_secret.is_empty() {
        let secrets: Vec<SecretString> = config.github.webhook_secret.iter().cloned().collect();
        let count = secrets.len();
        return Ok((secrets, SecretOrigin::Config { count }));
    }
    let path = config.data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            let secret = SecretString::from(text.trim().to_owned());
            Ok((vec![secret], SecretOrigin::File { path }))
        }
        Ok(_) => generate(&path, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(&path, false),
        Err(source) => Err(SecretFileError {
            action: "read",
            path,
            source,
        }),
    }
}

fn generate(
    path: &Path,
    overwrite: bool,
) -> Result<(Vec<SecretString>, SecretOrigin), SecretFileError> {
    let error = |action, source| SecretFileError {
        action,
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| error("create the folder of", e))?;
    }
    let secret = Alphanumeric.sample_string(&mut rand::rng(), 40);
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| error("create", e))?;
    file.write_all(secret.as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all())
        .map_err(|e| error("write", e))?;
    let secret = SecretString::from(secret);
    Ok((
        vec![secret.clone()],
        SecretOrigin::Generated {
            path: path.to_owned(),
            secret,
        },
    ))
}

impl SecretOrigin {
    /// What `reckon serve` prints after `secret:`.
    pub fn describe(&self) -> String {
        match self {
            SecretOrigin::Config { count: 1 } => "from configuration (github.webhook_secret)".to_owned(),
            SecretOrigin::Config { count } => {
                format!("{count} active, from configuration (github.webhook_secret)")
            }
            SecretOrigin::File { path } => {
                format!("stored in {} (show it with `cat`)", path.display())
            }
            SecretOrigin::Generated { path, secret } => format!(
                "{}\n                      (generated now and kept in {}; paste it into GitHub's \"Secret\" field)",
                secret.expose_secret(),
                path.display()
            ),
        }
    }
}
