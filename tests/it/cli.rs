//! The `reckon` binary's surface: `--help` on every subcommand, config errors that name
//! the key and exit non-zero, and `config defaults` printing a valid config file.

use std::process::{Command, Output};

fn reckon(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_reckon"));
    command
        .current_dir(dir.path())
        .args(args)
        .env("RUST_BACKTRACE", "0");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "add", "--help"],
        vec!["keys", "list", "--help"],
        vec!["keys", "revoke", "--help"],
        vec!["tokens", "--help"],
        vec!["tokens", "add", "--help"],
        vec!["tokens", "list", "--help"],
        vec!["tokens", "revoke", "--help"],
        vec!["config", "--help"],
        vec!["config", "check", "--help"],
        vec!["config", "defaults", "--help"],
        vec!["openapi", "--help"],
        vec!["reindex", "--help"],
        vec!["reconcile", "--help"],
        vec!["backfill", "--help"],
        vec!["worker", "--help"],
        vec!["queue", "--help"],
        vec!["queue", "list", "--help"],
        vec!["queue", "retry", "--help"],
        vec!["queue", "purge", "--help"],
    ] {
        let out = reckon(&args, &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}");
        assert!(text.contains("Usage: reckon"), "{args:?}: {text}");
    }
}

#[test]
fn config_errors_name_the_key_and_fail() {
    let out = reckon(&["config", "check"], &[("RECKON_LISTEN", "not-an-address")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`listen`"), "{err}");

    let out = reckon(
        &["config", "check"],
        &[("RECKON_SQLITE_SYNCHRONOUS", "sometimes")],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("sqlite.synchronous"), "{err}");

    let out = reckon(&["--config", "missing.toml", "config", "check"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn config_check_redacts_secrets() {
    let out = reckon(
        &["config", "check"],
        &[(
            "RECKON_GITHUB_WEBHOOK_SECRET",
            "very-secret-value,another-one",
        )],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 configured (redacted)"), "{text}");
    assert!(!text.contains("very-secret-value"));
}

#[test]
fn printed_defaults_are_a_valid_config_file() {
    let out = reckon(&["config", "defaults"], &[]);
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reckon.toml");
    std::fs::write(&file, &out.stdout).unwrap();
    let out = reckon(
        &["--config", file.to_str().unwrap(), "config", "check"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openapi_prints_the_document() {
    let out = reckon(&["openapi"], &[]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["paths"]["/api/v1/github/orgs/{org}/pulls/stats"].is_object());
}
