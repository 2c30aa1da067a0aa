//! Access-log line formats as templates: literal text and fields in order. The named
//! formats (nginx and Apache `combined`, `common` and their vhost variants) and a custom
//! one, in nginx `log_format` syntax or with GoAccess's specifiers, compile to the same.

use std::fmt;

/// One field a line format can hold. Fields counting does not need are `Skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The client's address (`$remote_addr`, `%h`).
    Address,
    /// `[10/Oct/2000:13:55:36 -0700]`'s inside (`$time_local`, `%t` in Apache).
    TimeLocal,
    /// `2000-10-10T13:55:36-07:00` (`$time_iso8601`).
    TimeIso8601,
    /// Seconds since the epoch with milliseconds (`$msec`).
    EpochSeconds,
    /// GoAccess's `%d` (day, `10/Oct/2000`) and `%t` (time, `13:55:36`).
    Date,
    Time,
    /// The whole request line, `GET /a?b=1 HTTP/1.1` (`$request`, `%r`).
    Request,
    /// The request's parts, for formats that log them apart.
    Method,
    Target,
    Status,
    Referrer,
    UserAgent,
    /// The virtual host (`$host`, `$server_name`, `%v`).
    Host,
    /// Anything else: matched and thrown away.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Literal(String),
    Field(Field),
}

/// A compiled line format: its name (as `--format` takes it) and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFormat {
    pub name: String,
    pub tokens: Vec<Token>,
}

impl fmt::Display for LineFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The named formats, in the order `--format auto` prefers them when several fit.
pub const NAMED: &[(&str, &str)] = &[
    (
        "vhost_combined",
        r#"$host:$server_port $remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
    ),
    (
        "combined",
        r#"$remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
    ),
    (
        "vhost_common",
        r#"$host:$server_port $remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent"#,
    ),
    (
        "common",
        r#"$remote_addr $remote_ident $remote_user [$time_local] "$request" $status $body_bytes_sent"#,
    ),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("unknown log format `{0}`: use auto, combined, common, vhost_combined, vhost_common, json, nginx:'<log_format>' or goaccess:'<specifiers>'")]
    Unknown(String),
    #[error("the format has no field for {0}: counting needs the time, the request (or method and path) and the status")]
    Missing(&'static str),
    #[error("the format has two fields side by side with nothing between them at `{0}`")]
    Adjacent(String),
    #[error("GoAccess specifier `%{0}` is not supported")]
    Specifier(char),
}

/// A named format.
pub fn named(name: &str) -> Option<LineFormat> {
    NAMED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, spec)| compile_nginx(n, spec).expect("named formats compile"))
}

/// Compiles nginx `log_format` syntax: `$variable` or `${variable}` fields between
/// literal text.
pub fn nginx(spec: &str) -> Result<LineFormat, FormatError> {
    compile_nginx("nginx", spec)
}

fn compile_nginx(name: &str, spec: &str) -> Result<LineFormat, FormatError> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut rest = spec;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let (variable, after) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], &braced[end + 1..]),
                None => (braced, ""),
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if variable.is_empty() {
            literal.push('$');
        } else {
            push_field(&mut tokens, &mut literal, nginx_field(variable))?;
        }
        rest = after;
    }
    literal.push_str(rest);
    finish(name, tokens, literal)
}

fn nginx_field(variable: &str) -> Field {
    match variable {
        "remote_addr" | "http_x_forwarded_for" | "realip_remote_addr" => Field::Address,
        "time_local" => Field::TimeLocal,
        "time_iso8601" => Field::TimeIso8601,
        "msec" => Field::EpochSeconds,
        "request" => Field::Request,
        "request_method" => Field::Method,
        "request_uri" | "uri" => Field::Target,
        "status" => Field::Status,
        "http_referer" => Field::Referrer,
        "http_user_agent" => Field::UserAgent,
        "host" | "server_name" | "http_host" => Field::Host,
        _ => Field::Skip,
    }
}

/// Compiles GoAccess's `--log-format` specifiers (`%h %^[%d:%t %^] "%r" %s %b "%R" "%u"`),
/// with its default date (`%d/%b/%Y`) and time (`%H:%M:%S`) formats.
pub fn goaccess(spec: &str) -> Result<LineFormat, FormatError> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let field = match chars.next() {
            Some('%') => {
                literal.push('%');
                continue;
            }
            Some('h') => Field::Address,
            Some('d') => Field::Date,
            Some('t') => Field::Time,
            Some('x') => Field::TimeIso8601,
            Some('r') => Field::Request,
            Some('m') => Field::Method,
            Some('U') => Field::Target,
            Some('s') => Field::Status,
            Some('R') => Field::Referrer,
            Some('u') => Field::UserAgent,
            Some('v') => Field::Host,
            Some('^' | 'e' | 'b' | 'H' | 'T' | 'D' | 'L' | 'q' | 'K' | 'k' | 'M' | 'C') => {
                Field::Skip
            }
            Some(other) => return Err(FormatError::Specifier(other)),
            None => return Err(FormatError::Specifier('%')),
        };
        push_field(&mut tokens, &mut literal, field)?;
    }
    finish("goaccess", tokens, literal)
}

fn push_field(
    tokens: &mut Vec<Token>,
    literal: &mut String,
    field: Field,
) -> Result<(), FormatError> {
    if literal.is_empty() && matches!(tokens.last(), Some(Token::Field(_))) {
        return Err(FormatError::Adjacent(format!("{field:?}")));
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(std::mem::take(literal)));
    }
    tokens.push(Token::Field(field));
    Ok(())
}

fn finish(name: &str, mut tokens: Vec<Token>, literal: String) -> Result<LineFormat, FormatError> {
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal));
    }
    let has = |f: Field| tokens.contains(&Token::Field(f));
    let timed = has(Field::TimeLocal)
        || has(Field::TimeIso8601)
        || has(Field::EpochSeconds)
        || (has(Field::Date) && has(Field::Time));
    if !timed {
        return Err(FormatError::Missing("the time"));
    }
    let requested = has(Field::Request) || (has(Field::Method) && has(Field::Target));
    if !requested {
        return Err(FormatError::Missing("the request"));
    }
    if !has(Field::Status) {
        return Err(FormatError::Missing("the status"));
    }
    Ok(LineFormat {
        name: name.to_owned(),
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_format_compiles_with_what_counting_needs() {
        for (name, _) in NAMED {
            let format = named(name).unwrap();
            assert!(
                format.tokens.contains(&Token::Field(Field::Request)),
                "{name}"
            );
        }
        assert!(named("nope").is_none());
    }

    #[test]
    fn nginx_syntax_takes_braces_and_bare_dollars() {
        let f = nginx(r#"${remote_addr}x [$time_local] "$request" $status $ cost"#).unwrap();
        assert_eq!(f.tokens[0], Token::Field(Field::Address));
        assert_eq!(f.tokens[1], Token::Literal("x [".into()));
        assert_eq!(f.tokens.last(), Some(&Token::Literal(" $ cost".into())));
    }

    #[test]
    fn formats_without_time_request_or_status_are_refused() {
        assert_eq!(
            nginx("$remote_addr $status").unwrap_err(),
            FormatError::Missing("the time")
        );
        assert_eq!(
            nginx("[$time_local] $status").unwrap_err(),
            FormatError::Missing("the request")
        );
        assert_eq!(
            nginx(r#"[$time_local] "$request""#).unwrap_err(),
            FormatError::Missing("the status")
        );
        assert!(matches!(
            nginx("$time_local$request $status"),
            Err(FormatError::Adjacent(_))
        ));
    }

    #[test]
    fn goaccess_combined_compiles() {
        let f = goaccess(r#"%h %^[%d:%t %^] "%r" %s %b "%R" "%u""#).unwrap();
        assert_eq!(
            f.tokens[..4],
            [
                Token::Field(Field::Address),
                Token::Literal(" ".into()),
                Token::Field(Field::Skip),
                Token::Literal("[".into()),
            ]
        );
        assert_eq!(
            goaccess("%h %Z %d %t %r %s"),
            Err(FormatError::Specifier('Z'))
        );
    }
}
