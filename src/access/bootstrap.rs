//! The first start stays easy without leaving reads open: on a loopback address Reckon
//! issues an admin token, keeps it in the data dir (owner-only) and prints it; anywhere
//! else it refuses to start until some token exists.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::token::{self, Tokens};
use super::Scope;
use crate::settings::Config;
use crate::store::{Coordination, StoreError};

pub const FILE_NAME: &str = "admin-token";

/// Where the way in came from; `serve` tells the user accordingly.
pub enum AdminToken {
    /// `access.admin_tokens`, this many.
    Config { count: usize },
    /// The token an earlier first start issued, still live.
    File { path: PathBuf, token: SecretString },
    /// Issued just now.
    Generated { path: PathBuf, token: SecretString },
    /// Tokens were issued with `reckon tokens add`.
    Issued,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(
        "no read token exists and `listen = {listen}` is not a loopback address, so the API would be closed to everyone: \
         create one first with `reckon tokens add --name admin --scope admin --scope 'github:*' --scope 'source:*'`, \
         or set access.admin_tokens (RECKON_ACCESS_ADMIN_TOKENS)"
    )]
    NoToken { listen: String },
    #[error("cannot read or issue read tokens")]
    Store(#[from] StoreError),
    #[error("cannot {action} the admin token file {path}")]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Makes sure someone can read, issuing the first admin token on a loopback address.
pub async fn ensure(
    config: &Config,
    store: &dyn Coordination,
) -> Result<AdminToken, BootstrapError> {
    if !config.access.admin_tokens.is_empty() {
        return Ok(AdminToken::Config {
            count: config.access.admin_tokens.len(),
        });
    }
    let tokens = Tokens::new(store);
    let path = config.data_dir.join(FILE_NAME);
    if let Some(text) = read(&path)? {
        if tokens.authenticate(text.trim()).await.is_ok() {
            let token = SecretString::from(text.trim().to_owned());
            return Ok(AdminToken::File { path, token });
        }
    }
    if tokens.any_live().await? {
        return Ok(AdminToken::Issued);
    }
    let loopback = config.listen_addr().is_ok_and(|a| a.ip().is_loopback());
    if !loopback {
        return Err(BootstrapError::NoToken {
            listen: config.listen.clone(),
        });
    }
    let new = token::generate("admin (first start)", Scope::everything(), None);
    tokens.create(&new.record).await?;
    write(&path, &new.token)?;
    Ok(AdminToken::Generated {
        path,
        token: SecretString::from(new.token),
    })
}

fn read(path: &Path) -> Result<Option<String>, BootstrapError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(BootstrapError::File {
            action: "read",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes the token owner-only (0600), replacing a stale one.
fn write(path: &Path, token: &str) -> Result<(), BootstrapError> {
    let error = |action, source| BootstrapError::File {
        action,
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| error("create the folder of", e))?;
    }
    // A stale file may have wider permissions: start from a new one.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error("replace", e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| error("create", e))?;
    file.write_all(token.as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all())
        .map_err(|e| error("write", e))
}

impl AdminToken {
    /// What `reckon serve` prints after `admin token:`.
    pub fn describe(&self) -> String {
        match self {
            AdminToken::Config { count } => {
                format!("{count} from configuration (access.admin_tokens)")
            }
            AdminToken::File { path, token } => {
                format!("{}\n                      (kept in {})", token.expose_secret(), path.display())
            }
            AdminToken::Generated { path, token } => format!(
                "{}\n                      (issued now and kept in {}; paste it into the dashboard)",
                token.expose_secret(),
                path.display()
            ),
            AdminToken::Issued => "issued with `reckon tokens add` (see `reckon tokens list`)".into(),
        }
    }
}
