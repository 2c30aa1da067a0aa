//! Following one watched path: which file lineage it holds, how far the server has
//! acknowledged it, and the next batch of complete lines. Rotation and truncation are
//! detected here; a rotated file stays open until its remaining lines are shipped.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tracing::{debug, info, warn};

use super::state::{Entry, FileIdentity, PathState};
use super::ShipError;

/// A line longer than this is an error rather than a reason to buffer without end.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Room for `@` and the hash within the server's 200-character file names.
const MAX_BASENAME_CHARS: usize = 160;
const READ_CHUNK: usize = 64 << 10;

/// The most one request may carry; a single longer line still goes, alone.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub bytes: usize,
    pub lines: usize,
}

/// Complete lines read from one file lineage, starting at `offset`.
#[derive(Debug, Clone)]
pub struct Batch {
    pub key: String,
    pub offset: u64,
    pub body: Bytes,
    pub lines: usize,
    slot: Slot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// The oldest rotated file.
    Draining,
    Current,
}

struct OpenFile {
    file: File,
    identity: Option<FileIdentity>,
    key: String,
    offset: u64,
}

impl OpenFile {
    fn entry(&self) -> Entry {
        Entry {
            key: self.key.clone(),
            identity: self.identity,
            offset: self.offset,
        }
    }
}

pub struct Tracker {
    path: PathBuf,
    basename: String,
    current: Option<OpenFile>,
    /// Rotated files still open, oldest first; shipped before `current`.
    draining: Vec<OpenFile>,
    missing_noted: bool,
}

/// `<basename>@<first 12 hex digits of SHA-256 of the first line, with its \n>`: names
/// a file's content lineage, so offsets stay meaningful across rotation and restarts.
/// The basename keeps `[A-Za-z0-9._-]` and turns other characters into `_`.
pub fn file_key(basename: &str, first_line: &[u8]) -> String {
    let hash = hex::encode(Sha256::digest(first_line));
    format!("{basename}@{}", &hash[..12])
}

fn sanitize_basename(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = name
        .chars()
        .take(MAX_BASENAME_CHARS)
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    if clean.is_empty() {
        "file".to_owned()
    } else {
        clean
    }
}

#[cfg(unix)]
fn identity(meta: &Metadata) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    Some(FileIdentity {
        dev: meta.dev(),
        ino: meta.ino(),
    })
}

#[cfg(not(unix))]
fn identity(_meta: &Metadata) -> Option<FileIdentity> {
    None
}

/// Without identities (not Unix) files cannot be told apart; the key check catches a
/// replaced file instead.
fn same_file(a: Option<FileIdentity>, b: Option<FileIdentity>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

fn file_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> ShipError + 'a {
    move |source| ShipError::File {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Opens `path` and reads its metadata from the handle; `None` if it does not exist.
fn open(path: &Path) -> Result<Option<(File, Metadata)>, ShipError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error("open", path)(e)),
    };
    let meta = file.metadata().map_err(file_error("inspect", path))?;
    Ok(Some((file, meta)))
}

/// Up to `max` bytes of `file` from `offset` (fewer at the end of the file).
fn read_chunk(mut file: &File, offset: u64, max: usize) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(max.min(READ_CHUNK * 4));
    file.take(max as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Completes the line that starts at `offset`, of which `buf` holds the first bytes
/// (with no `\n` among them): the line with its `\n`, or `None` if the file ends first.
fn read_line(
    file: &File,
    offset: u64,
    mut buf: Vec<u8>,
    path: &Path,
) -> Result<Option<Vec<u8>>, ShipError> {
    loop {
        let at = offset + buf.len() as u64;
        let chunk = read_chunk(file, at, READ_CHUNK).map_err(file_error("read", path))?;
        if chunk.is_empty() {
            return Ok(None);
        }
        if let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(&chunk[..=end]);
            return Ok(Some(buf));
        }
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_LINE_BYTES {
            return Err(ShipError::LineTooLong {
                path: path.to_owned(),
                offset,
                limit: MAX_LINE_BYTES,
            });
        }
    }
}

/// Where the last of at most `max_lines` complete lines in `buf` ends, and how many
/// there are; `None` if `buf` holds no complete line.
fn complete_lines(buf: &[u8], max_lines: usize) -> Option<(usize, usize)> {
    let ends = buf
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .take(max_lines);
    let (end, lines) = ends.fold((0, 0), |(_, n), (i, _)| (i + 1, n + 1));
    (lines > 0).then_some((end, lines))
}

/// The complete lines from `offset`, within `limits`: `(bytes, line count)`.
fn read_batch(
    file: &File,
    offset: u64,
    limits: Limits,
    path: &Path,
) -> Result<Option<(Vec<u8>, usize)>, ShipError> {
    let mut buf = read_chunk(file, offset, limits.bytes).map_err(file_error("read", path))?;
    if let Some((end, lines)) = complete_lines(&buf, limits.lines) {
        buf.truncate(end);
        return Ok(Some((buf, lines)));
    }
    if buf.len() < limits.bytes {
        // The file ends inside this line: wait for the rest.
        return Ok(None);
    }
    Ok(read_line(file, offset, buf, path)?.map(|line| (line, 1)))
}

impl Tracker {
    pub fn new(path: PathBuf) -> Self {
        Tracker {
            basename: sanitize_basename(&path),
            path,
            current: None,
            draining: Vec::new(),
            missing_noted: false,
        }
    }

    /// Picks up where a saved state left off. A saved file that the path no longer
    /// holds (rotated while we were stopped) is looked for next to the path by its
    /// device and inode, and shipped to its end first.
    pub fn resume(path: PathBuf, saved: PathState) -> Result<Self, ShipError> {
        let mut tracker = Tracker::new(path);
        for entry in &saved.draining {
            tracker.recover_rotated(entry)?;
        }
        if let Some(entry) = saved.current {
            match open(&tracker.path)? {
                Some((file, meta)) if same_file(entry.identity, identity(&meta)) => {
                    tracker.current = Some(OpenFile {
                        file,
                        identity: identity(&meta),
                        key: entry.key,
                        offset: entry.offset,
                    });
                }
                _ => tracker.recover_rotated(&entry)?,
            }
        }
        Ok(tracker)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What to save: the file at the path and the rotated files still draining.
    pub fn snapshot(&self) -> PathState {
        PathState {
            current: self.current.as_ref().map(OpenFile::entry),
            draining: self.draining.iter().map(OpenFile::entry).collect(),
        }
    }

    fn recover_rotated(&mut self, entry: &Entry) -> Result<(), ShipError> {
        let found = match entry.identity {
            Some(id) => self.find_by_identity(id)?,
            None => None,
        };
        if let Some((file, meta, moved_to)) = found {
            if meta.len() >= entry.offset && self.key_of(&file)?.as_deref() == Some(&entry.key) {
                info!(path = %self.path.display(), moved_to = %moved_to.display(), file = %entry.key,
                    offset = entry.offset, "shipping the rest of a file rotated while stopped");
                self.draining.push(OpenFile {
                    file,
                    identity: entry.identity,
                    key: entry.key.clone(),
                    offset: entry.offset,
                });
                return Ok(());
            }
        }
        warn!(path = %self.path.display(), file = %entry.key, offset = entry.offset,
            "a file rotated while stopped is gone; lines it got after the saved offset are not shipped");
        Ok(())
    }

    /// A regular file next to the watched path with this device and inode.
    fn find_by_identity(
        &self,
        id: FileIdentity,
    ) -> Result<Option<(File, Metadata, PathBuf)>, ShipError> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(file_error("list", dir)(e)),
        };
        for entry in entries {
            let candidate = entry.map_err(file_error("list", dir))?.path();
            // Files can vanish while we look; those are not the one.
            let Ok(meta) = std::fs::metadata(&candidate) else {
                continue;
            };
            if !meta.is_file() || identity(&meta) != Some(id) {
                continue;
            }
            if let Some((file, meta)) = open(&candidate)? {
                if identity(&meta) == Some(id) {
                    return Ok(Some((file, meta, candidate)));
                }
            }
        }
        Ok(None)
    }

    fn key_of(&self, file: &File) -> Result<Option<String>, ShipError> {
        let first = read_line(file, 0, Vec::new(), &self.path)?;
        Ok(first.map(|line| file_key(&self.basename, &line)))
    }

    /// Looks at the path: notices a new file there (rotation), a truncated or
    /// rewritten file, or a file appearing.
    pub fn refresh(&mut self) -> Result<(), ShipError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !self.missing_noted {
                    info!(path = %self.path.display(), "the file does not exist; waiting for it");
                    self.missing_noted = true;
                }
                return Ok(());
            }
            Err(e) => return Err(file_error("inspect", &self.path)(e)),
        };
        self.missing_noted = false;
        let now = identity(&meta);
        if let Some(old) = self.current.take_if(|c| !same_file(c.identity, now)) {
            info!(path = %self.path.display(), file = %old.key, offset = old.offset,
                "the file was rotated; shipping the rest of the old one first");
            self.draining.push(old);
        }
        if let Some(current) = &self.current {
            if !self.still_valid(current)? {
                self.current = None;
            }
        }
        if self.current.is_none() {
            self.current = self.open_new()?;
        }
        Ok(())
    }

    /// False when the file shrank below the acknowledged offset or its first line
    /// changed: the content is not the lineage the offset counts in.
    fn still_valid(&self, current: &OpenFile) -> Result<bool, ShipError> {
        let size = current
            .file
            .metadata()
            .map_err(file_error("inspect", &self.path))?
            .len();
        if size < current.offset {
            warn!(path = %self.path.display(), file = %current.key, offset = current.offset, size,
                "the file was truncated; shipping it again from the start");
            return Ok(false);
        }
        if size > current.offset && self.key_of(&current.file)?.as_deref() != Some(&current.key) {
            warn!(path = %self.path.display(), file = %current.key, offset = current.offset,
                "the file's first line changed; shipping it again from the start");
            return Ok(false);
        }
        Ok(true)
    }

    fn open_new(&self) -> Result<Option<OpenFile>, ShipError> {
        let Some((file, meta)) = open(&self.path)? else {
            return Ok(None);
        };
        let Some(key) = self.key_of(&file)? else {
            debug!(path = %self.path.display(), "the first line is not complete yet; waiting");
            return Ok(None);
        };
        info!(path = %self.path.display(), file = %key, "shipping the file from the start");
        Ok(Some(OpenFile {
            file,
            identity: identity(&meta),
            key,
            offset: 0,
        }))
    }

    /// The next batch to send: rotated files first, oldest first; a rotated file is
    /// let go once it has no complete line left.
    pub fn next_batch(&mut self, limits: Limits) -> Result<Option<Batch>, ShipError> {
        while let Some(old) = self.draining.first() {
            if let Some(batch) = self.read(old, limits, Slot::Draining)? {
                return Ok(Some(batch));
            }
            let old = self.draining.remove(0);
            match old.file.metadata().map(|m| m.len()) {
                Ok(size) if size > old.offset => {
                    warn!(path = %self.path.display(), file = %old.key, offset = old.offset,
                        bytes = size - old.offset,
                        "the rotated file ends with an incomplete line, which is not shipped");
                }
                _ => info!(path = %self.path.display(), file = %old.key, offset = old.offset,
                    "finished the rotated file"),
            }
        }
        match &self.current {
            Some(current) => self.read(current, limits, Slot::Current),
            None => Ok(None),
        }
    }

    fn read(
        &self,
        from: &OpenFile,
        limits: Limits,
        slot: Slot,
    ) -> Result<Option<Batch>, ShipError> {
        let batch = read_batch(&from.file, from.offset, limits, &self.path)?;
        Ok(batch.map(|(body, lines)| Batch {
            key: from.key.clone(),
            offset: from.offset,
            body: Bytes::from(body),
            lines,
            slot,
        }))
    }

    /// Moves past a batch the server has stored.
    pub fn commit(&mut self, batch: &Batch) {
        let file = match batch.slot {
            Slot::Draining => self.draining.first_mut(),
            Slot::Current => self.current.as_mut(),
        };
        if let Some(file) = file.filter(|f| f.key == batch.key && f.offset == batch.offset) {
            file.offset += batch.body.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_key_is_basename_and_first_line_hash() {
        let line = b"v=0.25-a0:name=Blork:ktyp=mon\n";
        let hash = hex::encode(Sha256::digest(line));
        assert_eq!(
            file_key("logfile", line),
            format!("logfile@{}", &hash[..12])
        );
        assert_eq!(
            file_key("x", b"a\n"),
            "x@87428fc52280",
            "SHA-256 of \"a\\n\" starts 87428fc52280"
        );
        assert_eq!(
            sanitize_basename(Path::new("/srv/crawl/saves/logfile-0.25")),
            "logfile-0.25"
        );
        assert_eq!(
            sanitize_basename(Path::new("/tmp/milé stones")),
            "mil__stones"
        );
        assert_eq!(sanitize_basename(Path::new("/")), "file");
        let long = "x".repeat(400);
        assert_eq!(
            sanitize_basename(Path::new(&long)).len(),
            MAX_BASENAME_CHARS
        );
    }

    #[test]
    fn complete_lines_stop_at_the_line_limit() {
        assert_eq!(complete_lines(b"", 5), None);
        assert_eq!(complete_lines(b"abc", 5), None);
        assert_eq!(complete_lines(b"a\nbb\ncc", 5), Some((5, 2)));
        assert_eq!(complete_lines(b"a\nbb\nc\n", 2), Some((5, 2)));
        assert_eq!(complete_lines(b"\n\n", 5), Some((2, 2)));
    }

    fn file_with(content: &[u8]) -> (tempfile::TempDir, PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logfile");
        std::fs::write(&path, content).unwrap();
        let file = File::open(&path).unwrap();
        (dir, path, file)
    }

    #[test]
    fn read_batch_takes_whole_lines_within_limits() {
        let (_dir, path, file) = file_with(b"a=1\nb=22\nc=333\nd=4");
        let limits = |bytes, lines| Limits { bytes, lines };
        let read = |offset, l| read_batch(&file, offset, l, &path).unwrap();
        assert_eq!(
            read(0, limits(1000, 1000)),
            Some((b"a=1\nb=22\nc=333\n".to_vec(), 3))
        );
        assert_eq!(read(0, limits(1000, 2)), Some((b"a=1\nb=22\n".to_vec(), 2)));
        assert_eq!(
            read(0, limits(10, 1000)),
            Some((b"a=1\nb=22\n".to_vec(), 2))
        );
        assert_eq!(read(4, limits(2, 1000)), Some((b"b=22\n".to_vec(), 1)));
        assert_eq!(read(15, limits(1000, 1000)), None);
        assert_eq!(read(15, limits(1, 1000)), None);
        assert_eq!(read(19, limits(1000, 1000)), None);
    }

    #[test]
    fn a_line_longer_than_a_batch_is_read_whole() {
        let long = format!("{}\nnext\n", "x".repeat(200_000));
        let (_dir, path, file) = file_with(long.as_bytes());
        let limits = Limits {
            bytes: 1000,
            lines: 10,
        };
        let (body, lines) = read_batch(&file, 0, limits, &path).unwrap().unwrap();
        assert_eq!((body.len(), lines), (200_001, 1));
    }
}
