//! Access-log import benchmark, on the real `reckon` binary (release) and a real SQLite
//! file in a fresh data dir: a generated nginx `combined` log of `--lines` lines (default
//! 1,000,000: page views from 2,000 addresses, IPv4 and IPv6, with assets, bots, 404s,
//! redirects, other methods and a few unreadable lines, over the last hours), plain and
//! gzip.
//!
//! - the floor: `cat FILE | wc -l` and `zcat FILE.gz | wc -l`, the same bytes read and
//!   split into lines and nothing else;
//! - `reckon logs check` (read, parse, count, store nothing) and `reckon logs import`
//!   (everything, into the store) on each, timed end to end with the process start;
//! - peak RSS of each, and of an import of a quarter of the file, to show memory flat in
//!   the file's size.
//!
//! Prints lines/s and the ratio to the floor in the same run; asserts no timing, only
//! that every import stored what its summary says.
//!
//!     cargo bench --bench logs                          # 1,000,000 lines
//!     cargo bench --bench logs -- --lines 100000        (smoke)

#[path = "common/args.rs"]
mod args;
#[path = "common/status.rs"]
mod status;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const SITE: &str = "bench.test";
/// The issue's line: lines/s of an import, plain, on this 2-core machine.
const TARGET_LINES_PER_SECOND: f64 = 200_000.0;

fn main() {
    let lines = args::number("--lines", 1_000_000);
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("access.log");
    let quarter = work.path().join("quarter.log");
    generate(&plain, lines);
    generate(&quarter, lines / 4);
    let gz = work.path().join("access.log.gz");
    gzip(&plain, &gz);
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / 1048576.0;
    println!(
        "== access-log import: {lines} lines, {:.0} MiB plain, {:.0} MiB gzip",
        size(&plain),
        size(&gz)
    );
    println!(
        "{:<50} {:>8} {:>10} {:>9} {:>10} {:>10}",
        "run", "seconds", "lines/s", "vs floor", "heap MiB", "RSS MiB"
    );
    let floor_plain = shell(&format!("cat {} | wc -l", plain.display()), lines);
    row(
        "floor: cat | wc -l",
        floor_plain,
        lines,
        floor_plain,
        (0.0, 0.0),
    );
    let floor_gz = shell(&format!("zcat {} | wc -l", gz.display()), lines);
    row("floor: zcat | wc -l", floor_gz, lines, floor_gz, (0.0, 0.0));

    for (name, file, floor) in [("plain", &plain, floor_plain), ("gzip", &gz, floor_gz)] {
        let (seconds, rss, out) = run_measured(&mut reckon(work.path(), "check", file));
        let summary: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(summary["lines"].as_u64(), Some(lines as u64));
        row(
            &format!("reckon logs check ({name})"),
            seconds,
            lines,
            floor,
            rss,
        );
    }
    let mut imports = Vec::new();
    for (name, file, floor, count) in [
        ("plain", &plain, floor_plain, lines),
        ("gzip, again: all duplicates", &gz, floor_gz, lines),
        (
            "plain, a quarter, new data dir",
            &quarter,
            floor_plain,
            lines / 4,
        ),
    ] {
        // The second import goes into the first one's data dir; the quarter into its own.
        let data = work.path().join(format!("data-{}", imports.len() / 2));
        if !data.exists() {
            add_site(&data);
        }
        let (seconds, rss, out) = run_measured(&mut reckon(&data, "import", file));
        let summary: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(summary["lines"].as_u64(), Some(count as u64));
        row(
            &format!("reckon logs import ({name})"),
            seconds,
            count,
            floor,
            rss,
        );
        imports.push((count as f64 / seconds, rss, summary));
    }
    let (first, again) = (&imports[0].2, &imports[1].2);
    assert_eq!(again["stored"], 0, "a second import stores nothing");
    assert_eq!(again["duplicates"], first["stored"]);
    println!(
        "\nstored {} views and bot drops of {} lines; the second import found all {} stored",
        first["stored"], lines, again["duplicates"]
    );
    println!(
        "import heap: {:.1} MiB for {lines} lines, {:.1} MiB for {} (flat in the file's size when about equal);\n\
         RSS adds the SQLite file's mapped pages (up to the writer's 1 GiB map), which grow with the store",
        imports[0].1 .0,
        imports[2].1 .0,
        lines / 4
    );
    println!(
        "target: import at least {TARGET_LINES_PER_SECOND:.0} lines/s (plain): {} ({:.0})",
        if imports[0].0 >= TARGET_LINES_PER_SECOND {
            "PASS"
        } else {
            "FAIL"
        },
        imports[0].0
    );
    println!("\nreproduce: cargo bench --bench logs -- --lines {lines}");
}

fn row(name: &str, seconds: f64, lines: usize, floor: f64, (heap, rss): (f64, f64)) {
    let mib = |v: f64| {
        if v > 0.0 {
            format!("{v:.1}")
        } else {
            "-".into()
        }
    };
    println!(
        "{name:<50} {seconds:>8.2} {:>10.0} {:>8.1}x {:>10} {:>10}",
        lines as f64 / seconds,
        seconds / floor,
        mib(heap),
        mib(rss)
    );
}

/// Seconds `script` takes under `sh -c`; its output must be `lines`.
fn shell(script: &str, lines: usize) -> f64 {
    let started = std::time::Instant::now();
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let counted: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(counted, lines, "{script}");
    seconds
}

fn reckon(data: &Path, command: &str, file: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reckon"));
    c.arg("--data-dir")
        .arg(data)
        .args(["logs", command, "--json"]);
    if command == "import" {
        c.args(["--site", SITE]);
    }
    c.arg(file).env("RECKON_LOG_LEVEL", "warn");
    c
}

fn add_site(data: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .arg("--data-dir")
        .arg(data)
        .args(["sites", "add", SITE])
        .env("RECKON_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn gzip(from: &Path, to: &Path) {
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::default(),
    );
    std::io::copy(&mut std::fs::File::open(from).unwrap(), &mut gz).unwrap();
    gz.finish().unwrap();
}

/// A deterministic mixed log ending now, ten lines per second.
fn generate(path: &Path, lines: usize) {
    const AGENTS: [&str; 6] = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.5.0",
    ];
    const REFERRERS: [&str; 4] = [
        "-",
        "https://www.google.com/",
        "https://news.ycombinator.com/item?id=42",
        "https://bench.test/posts/1",
    ];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let end = chrono::Utc::now().timestamp();
    let start = end - (lines as i64) / 10;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..lines {
        let r = next();
        let time = chrono::DateTime::from_timestamp(start + i as i64 / 10, 0).unwrap();
        let who = r % 2000;
        let address = if who % 5 == 0 {
            format!("2001:db8:{:x}::{:x}", who % 97, who)
        } else {
            format!("198.{}.{}.{}", 18 + who % 2, (who / 7) % 256, who % 251 + 1)
        };
        let kind = (r >> 16) % 100;
        let (method, path, status) = match kind {
            0..=59 => (
                "GET",
                format!("/posts/{}", (r >> 24) % 300),
                if kind < 55 { 200 } else { 304 },
            ),
            60..=74 => ("GET", format!("/static/app.{}.css", (r >> 24) % 3), 200),
            75..=79 => ("GET", format!("/missing/{}", (r >> 24) % 50), 404),
            80..=84 => ("GET", "/old".to_owned(), 301),
            85..=89 => ("POST", "/comments".to_owned(), 201),
            _ => (
                "GET",
                format!("/posts/{}?utm_source=feed", (r >> 24) % 300),
                200,
            ),
        };
        let agent = AGENTS[((r >> 40) % if (r >> 56) % 5 == 0 { 6 } else { 4 }) as usize];
        let referrer = REFERRERS[((r >> 48) % 4) as usize];
        if i % 100_000 == 99_999 {
            writeln!(out, "\\x16\\x03\\x01 not a request").unwrap();
            continue;
        }
        writeln!(
            out,
            r#"{address} - - [{}] "{method} {path} HTTP/1.1" {status} {} "{referrer}" "{agent}""#,
            time.format("%d/%b/%Y:%H:%M:%S +0000"),
            (r >> 8) % 20_000
        )
        .unwrap();
    }
    out.flush().unwrap();
}

/// Runs `command` to its end, polling its memory every 10 ms: the seconds it took, its
/// peak anonymous memory (`RssAnon`: its own heap and stacks, not the SQLite file it
/// maps) and peak RSS (`VmHWM`, the mapped file's pages included) in MiB, and its stdout.
pub fn run_measured(command: &mut std::process::Command) -> (f64, (f64, f64), Vec<u8>) {
    let started = std::time::Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the command starts");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut out);
        out
    });
    let (mut anon_kb, mut peak_kb) = (0u64, 0u64);
    loop {
        anon_kb = anon_kb.max(status::status_kb(pid, "RssAnon").unwrap_or(0));
        peak_kb = peak_kb.max(status::status_kb(pid, "VmHWM").unwrap_or(0));
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let seconds = started.elapsed().as_secs_f64();
    let status = child.wait().expect("waits");
    assert!(status.success(), "{command:?} failed: {status}");
    let mib = |kb: u64| kb as f64 / 1024.0;
    (
        seconds,
        (mib(anon_kb), mib(peak_kb)),
        reader.join().expect("reads"),
    )
}
