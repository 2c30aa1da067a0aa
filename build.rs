//! Builds the dashboard in `frontend/` with npm and Vite into `$OUT_DIR/dashboard`, which
//! `src/http/dashboard.rs` embeds, so `cargo run -- serve` serves it with no extra step.
//! Without npm the binary is built without the dashboard and says so when it starts.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("dashboard");
    let frontend =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("frontend");
    for input in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed=frontend/{input}");
    }
    println!("cargo:rerun-if-env-changed=RECKON_SKIP_DASHBOARD");
    println!("cargo:rerun-if-env-changed=VITE_RECKON_API_BASE");

    // rust-embed needs the folder to exist even when it stays empty.
    std::fs::create_dir_all(&out).expect("create the dashboard output folder");
    if env::var_os("RECKON_SKIP_DASHBOARD").is_some() {
        println!("cargo:warning=RECKON_SKIP_DASHBOARD is set: building without the dashboard");
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    if Command::new(npm).arg("--version").output().is_err() {
        println!(
            "cargo:warning=npm not found: building without the dashboard (install Node.js 20+ and rebuild to serve it at /)"
        );
        return;
    }
    if is_stale(
        &frontend.join("node_modules/.package-lock.json"),
        &frontend.join("package-lock.json"),
    ) {
        run(npm, &["ci", "--no-audit", "--no-fund"], &frontend);
    }
    let out_dir = out.to_str().expect("OUT_DIR is UTF-8");
    run(
        npm,
        &[
            "exec",
            "--",
            "vite",
            "build",
            "--logLevel",
            "warn",
            "--emptyOutDir",
            "--outDir",
            out_dir,
        ],
        &frontend,
    );
}

/// Whether `installed` is missing or older than `lock` (npm ci has not run since).
fn is_stale(installed: &Path, lock: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(installed), modified(lock)) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

/// Runs an npm command and fails the build, with its output, if it fails.
fn run(program: &str, args: &[&str], dir: &Path) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program} {}`: {e}", args.join(" ")));
    if !output.status.success() {
        panic!(
            "`{program} {}` in {} failed ({}):\n{}\n{}\nSet RECKON_SKIP_DASHBOARD=1 to build without the dashboard.",
            args.join(" "),
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}
