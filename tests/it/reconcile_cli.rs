//! The reconcile side through the real binaries: `reckon reconcile`, `reckon queue` and
//! `reckon-job` against the GitHub stand-in, checking output and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::github_standin::{GithubStandin, World};

fn run(bin: &PathBuf, args: &[&str], envs: &[(&str, &str)], dir: &std::path::Path) -> Output {
    let mut command = Command::new(bin);
    command
        .current_dir(dir)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env("RECKON_LOG_LEVEL", "warn");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn reckon() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reckon"))
}

/// `reckon-job` is the jobs crate's binary, built beside `reckon` by
/// `cargo build --workspace` (scripts/test.sh does that first).
fn reckon_job() -> PathBuf {
    let path = reckon().with_file_name("reckon-job");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    path
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reckon_reconcile_repairs_and_exits_zero_and_the_queue_shows_the_task() {
    let standin = GithubStandin::start(World::seed("acme", 3, 2, 4, 2, 12)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let envs = [
        ("RECKON_GITHUB_API_URL", standin.url.as_str()),
        ("RECKON_GITHUB_TOKEN", "ghp_one,ghp_two"),
        ("RECKON_DATA_DIR", data.to_str().unwrap()),
    ];
    let out = run(
        &reckon(),
        &["reconcile", "--org", "acme"],
        &envs,
        dir.path(),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("acme: reconciled"), "{t}");
    assert!(t.contains("found") && t.contains("no drift"), "{t}");
    assert!(t.contains("\"task\":\"backfill\""), "{t}");

    let out = run(&reckon(), &["queue", "list"], &envs, dir.path());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("0 ready, 0 leased, 1 done, 0 dead"), "{t}");
    assert!(t.contains("backfill"), "{t}");

    // A dry run reports without queueing or saving anything; JSON on request.
    let out = run(
        &reckon(),
        &["reconcile", "--org", "acme", "--dry-run", "--json"],
        &envs,
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["dry_run"], true);
    assert_eq!(reports[0]["tasks"], serde_json::json!([]));

    let out = run(
        &reckon(),
        &["queue", "purge", "--state", "done"],
        &envs,
        dir.path(),
    );
    assert!(text(&out).contains("purged 1 done tasks"), "{}", text(&out));
    let out = run(
        &reckon(),
        &["queue", "purge", "--state", "ready"],
        &envs,
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("only done and dead tasks can be purged"));
}

#[test]
fn reckon_reconcile_without_an_org_or_credentials_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &reckon(),
        &["reconcile"],
        &[("RECKON_GITHUB_TOKEN", "x")],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("RECKON_GITHUB_ORGS"), "{}", text(&out));
    let out = run(&reckon(), &["reconcile", "--org", "acme"], &[], dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("RECKON_GITHUB_TOKEN"), "{}", text(&out));
    let out = run(
        &reckon(),
        &["reconcile"],
        &[("RECKON_GITHUB_ORGS", "not/an-org")],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("github.orgs[0]"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reckon_job_exit_codes_say_done_retryable_or_permanent() {
    let standin = GithubStandin::start(World::seed("acme", 2, 1, 2, 1, 4)).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let envs = [
        ("RECKON_GITHUB_API_URL", standin.url.as_str()),
        ("RECKON_GITHUB_TOKEN", "ghp_job"),
        ("RECKON_DATA_DIR", data.to_str().unwrap()),
    ];
    let job = reckon_job();

    let out = run(
        &job,
        &["--spec", r#"{"task":"teams","org":"acme"}"#],
        &envs,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["status"].clone(), last["report"]["fetched"].clone()),
        ("done".into(), 1.into())
    );

    let out = run(&job, &["--spec", r#"{"task":"teams"}"#], &envs, dir.path());
    assert_eq!(
        out.status.code(),
        Some(65),
        "a bad spec is permanent: {}",
        text(&out)
    );
    let out = run(
        &job,
        &[
            "--kind",
            "no-such-kind",
            "--spec",
            r#"{"task":"teams","org":"acme"}"#,
        ],
        &envs,
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(65),
        "an unknown kind is permanent: {}",
        text(&out)
    );
    assert!(text(&out).contains("no-such-kind"), "{}", text(&out));
    let out = run(
        &job,
        &[
            "--spec",
            r#"{"task":"pull_requests","org":"acme","repo":"a/b"}"#,
        ],
        &envs,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));

    standin.world().fail_paths.push("/teams".into());
    let out = run(
        &job,
        &["--spec", r#"{"task":"teams","org":"acme"}"#],
        &envs,
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(75),
        "a 5xx is retryable: {}",
        text(&out)
    );
    assert!(text(&out).contains("500"), "{}", text(&out));
}
