//! Where log lines come from: files (plain, or gzip by its magic bytes) and stdin, read
//! line by line as bytes, so invalid UTF-8 and binary junk are lines like any other;
//! and which format reads them, given or detected from the first lines.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::detect::{detect, Detected, SAMPLE_LINES};
use super::format::{goaccess, named, nginx, FormatError};
use super::line::LineReader;

/// Read buffer size: large enough that reading is never the slow part.
const BUFFER: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no known log format reads any of the first {SAMPLE_LINES} lines of {path}: give one with --format")]
    Undetected { path: String },
}

/// One line of a log.
pub struct Line<'a> {
    pub file: &'a str,
    /// From 1.
    pub number: u64,
    pub text: std::borrow::Cow<'a, str>,
}

/// A readable log: a name for messages and its lines.
pub struct Input {
    pub name: String,
    reader: BufReader<Box<dyn Read + Send>>,
    buffer: Vec<u8>,
    /// The number of the last line read, from 1.
    pub number: u64,
}

impl Input {
    /// A file, or stdin for `-`.
    pub fn open(path: &Path) -> Result<Input, InputError> {
        let name = path.display().to_string();
        let raw: Box<dyn Read + Send> = if path == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path).map_err(|source| InputError::Io {
                path: name.clone(),
                source,
            })?)
        };
        Input::from_reader(name, raw)
    }

    /// Any byte stream, gzip or plain.
    pub fn from_reader(name: String, raw: Box<dyn Read + Send>) -> Result<Input, InputError> {
        let mut buffered = BufReader::with_capacity(BUFFER, raw);
        let gzip = buffered
            .fill_buf()
            .map_err(|source| InputError::Io {
                path: name.clone(),
                source,
            })?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        Ok(Input {
            name,
            reader: BufReader::with_capacity(BUFFER, reader),
            buffer: Vec::with_capacity(1024),
            number: 0,
        })
    }

    /// The next line (without its end), lossily as text; `None` at the end.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, InputError> {
        self.buffer.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|source| InputError::Io {
                path: self.name.clone(),
                source,
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        while matches!(self.buffer.last(), Some(b'\n' | b'\r')) {
            self.buffer.pop();
        }
        Ok(Some(Line {
            file: &self.name,
            number: self.number,
            text: String::from_utf8_lossy(&self.buffer),
        }))
    }

    /// Detects the format from the first lines, which are read again afterwards.
    pub fn detect(&mut self) -> Result<Detected, InputError> {
        let io = |source| InputError::Io {
            path: self.name.clone(),
            source,
        };
        let mut peeked = Vec::new();
        while peeked.iter().filter(|b| **b == b'\n').count() < SAMPLE_LINES * 2 {
            let mut chunk = vec![0; 64 * 1024];
            let n = self.reader.read(&mut chunk).map_err(io)?;
            if n == 0 {
                break;
            }
            peeked.extend_from_slice(&chunk[..n]);
        }
        let found = detect(String::from_utf8_lossy(&peeked).lines()).ok_or_else(|| {
            InputError::Undetected {
                path: self.name.clone(),
            }
        })?;
        let rest = std::mem::replace(&mut self.reader, BufReader::new(Box::new(std::io::empty())));
        self.reader =
            BufReader::with_capacity(BUFFER, Box::new(std::io::Cursor::new(peeked).chain(rest)));
        Ok(found)
    }
}

/// The reader `--format` names, or `None` for `auto`.
pub fn chosen(format: &str) -> Result<Option<LineReader>, FormatError> {
    Ok(Some(match format {
        "auto" => return Ok(None),
        "json" => LineReader::json(),
        _ => {
            if let Some(spec) = format.strip_prefix("nginx:") {
                LineReader::template(nginx(spec)?)
            } else if let Some(spec) = format.strip_prefix("goaccess:") {
                LineReader::template(goaccess(spec)?)
            } else {
                LineReader::template(
                    named(format).ok_or_else(|| FormatError::Unknown(format.to_owned()))?,
                )
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_plain_read_the_same_lines_and_detection_rereads_its_sample() {
        let text: &[u8] = b"192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"UA\"\r\n\xff junk\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        for bytes in [text.to_vec(), gz] {
            let mut input =
                Input::from_reader("t".into(), Box::new(std::io::Cursor::new(bytes))).unwrap();
            assert_eq!(input.detect().unwrap().reader.name(), "combined");
            assert!(input.next_line().unwrap().unwrap().text.ends_with("\"UA\""));
            assert_eq!(input.next_line().unwrap().unwrap().text, "\u{fffd} junk");
            assert_eq!(input.number, 2);
            assert!(input.next_line().unwrap().is_none());
        }
    }
}
