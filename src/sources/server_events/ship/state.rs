//! What `reckon ship` (and `reckon logs follow`) remembers between runs: per watched path, the file lineage it is
//! shipping and the offset the server has acknowledged. It is rewritten atomically after
//! every acknowledged batch, so a crash re-sends at most one batch (the server dedupes).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The state file format this build reads and writes.
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateFile {
    pub version: u32,
    /// Keyed by the watched path, made absolute.
    #[serde(default)]
    pub files: BTreeMap<String, PathState>,
}

impl Default for StateFile {
    fn default() -> Self {
        StateFile {
            version: STATE_VERSION,
            files: BTreeMap::new(),
        }
    }
}

/// One watched path: the file it holds now, and rotated files still being shipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Entry>,
    /// Oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draining: Vec<Entry>,
}

/// A file lineage: its key, the file's identity on disk, and the acknowledged offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    /// Device and inode (Unix); `None` where the platform has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<FileIdentity>,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the state file {path} is not valid (move it away to read every file from the start)")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the state file {path} has version {version}; this reckon reads version {STATE_VERSION}"
    )]
    Version { path: PathBuf, version: u32 },
    #[error("cannot write the state file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The state to save: the paths saved before but not followed now, as they were, and
/// each followed path's snapshot (an empty one left out).
pub fn merge(
    others: &BTreeMap<String, PathState>,
    followed: impl IntoIterator<Item = (String, PathState)>,
) -> StateFile {
    let mut files = others.clone();
    for (key, snapshot) in followed {
        if snapshot != PathState::default() {
            files.insert(key, snapshot);
        }
    }
    StateFile {
        version: STATE_VERSION,
        files,
    }
}

/// Reads the state; a missing file is an empty state.
pub fn load(path: &Path) -> Result<StateFile, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StateFile::default()),
        Err(source) => {
            let path = path.to_owned();
            return Err(StateError::Read { path, source });
        }
    };
    let state: StateFile = serde_json::from_slice(&bytes).map_err(|source| StateError::Parse {
        path: path.to_owned(),
        source,
    })?;
    if state.version != STATE_VERSION {
        let version = state.version;
        return Err(StateError::Version {
            path: path.to_owned(),
            version,
        });
    }
    Ok(state)
}

/// Replaces the state file atomically: a temporary file in the same folder, fsynced,
/// renamed over it, then the folder fsynced so the rename itself survives a crash.
pub fn save(path: &Path, state: &StateFile) -> Result<(), StateError> {
    let error = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut json = serde_json::to_vec_pretty(state).map_err(|e| error(e.into()))?;
    json.push(b'\n');
    let name = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    let temp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let written = write_synced(&temp, &json).and_then(|()| std::fs::rename(&temp, path));
    if let Err(source) = written {
        // Best effort: the temporary file is garbage either way.
        let _ = std::fs::remove_file(&temp);
        return Err(error(source));
    }
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(error)?;
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StateFile {
        let mut state = StateFile::default();
        state.files.insert(
            "/srv/crawl/logfile".into(),
            PathState {
                current: Some(Entry {
                    key: "logfile@0123456789ab".into(),
                    identity: Some(FileIdentity { dev: 2049, ino: 77 }),
                    offset: 1234,
                }),
                draining: vec![Entry {
                    key: "logfile@ba9876543210".into(),
                    identity: None,
                    offset: 99,
                }],
            },
        );
        state
    }

    #[test]
    fn missing_file_is_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let state = load(&dir.path().join("none.json")).unwrap();
        assert_eq!(state, StateFile::default());
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        save(&path, &StateFile::default()).unwrap();
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
    }

    #[test]
    fn corrupt_or_newer_state_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(load(&path), Err(StateError::Parse { .. })));
        std::fs::write(&path, r#"{"version": 2, "files": {}}"#).unwrap();
        assert!(matches!(
            load(&path),
            Err(StateError::Version { version: 2, .. })
        ));
    }
}
