//! `nexori new NAME --lang rust|python|ts`, tried as a new author would: create the project
//! outside the workspace, run the two commands its README gives, and see the scenario's
//! expectations pass. The builds are real (cargo for wasm32-wasip2, componentize-py,
//! componentize-js) with the pinned toolchains `cargo xtask build-mods` installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A new, empty directory outside the workspace (a Cargo project there must not find ours).
fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexori-new-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A persistent directory under target/ for build output and the compile cache, so that a
/// second test run does not redo minutes of work.
fn cache(name: &str) -> PathBuf {
    root().join("target").join("nexori-test-cache").join(name)
}

fn nexori(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(args)
        .current_dir(dir)
        .env("NEXORI_CACHE_DIR", cache("compiled"))
        .env_remove("NEXORI_SDK_DIR")
        .output()
        .expect("run nexori")
}

fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, PathBuf)]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `nexori new`, then the project's simulate command: every expectation holds.
fn create_build_simulate(
    language: &str,
    name: &str,
    build: impl FnOnce(&Path),
    mods: &str,
) -> String {
    let parent = fresh(language);
    let created = nexori(&parent, &["new", name, "--lang", language]);
    let stdout = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(
        created.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        stdout.starts_with(&format!("created ./{name} with ")),
        "{stdout}"
    );
    let project = parent.join(name);
    build(&project);
    let simulated = nexori(
        &project,
        &["simulate", "--mods", mods, "scenarios/first-blood.json"],
    );
    let out = String::from_utf8_lossy(&simulated.stdout).into_owned();
    assert_eq!(
        simulated.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&simulated.stderr)
    );
    assert!(out.ends_with("expectations: 6 passed, 0 failed\n"), "{out}");
    assert!(
        out.contains(&format!(
            "{name} → submitFinalMatchResult(m1) = ACCEPTED / QUEUED"
        )),
        "{out}"
    );
    std::fs::remove_dir_all(&parent).unwrap();
    stdout
}

#[test]
fn a_new_rust_mod_builds_outside_the_workspace_and_passes_its_scenario() {
    let target = cache("new-rust-target");
    let stdout = create_build_simulate(
        "rust",
        "first_blood_rs",
        |project| {
            run(
                project,
                "cargo",
                &["build", "--release", "--quiet"],
                &[("CARGO_TARGET_DIR", target.clone())],
            )
        },
        &target.join("wasm32-wasip2/release").display().to_string(),
    );
    assert!(
        stdout.ends_with(
            "build and simulate it:\n  cd ./first_blood_rs\n  cargo build --release\n  nexori simulate --mods target/wasm32-wasip2/release scenarios/first-blood.json\n"
        ),
        "{stdout}"
    );
}

#[test]
fn a_new_python_mod_builds_and_passes_its_scenario() {
    let componentize_py = root().join("target/toolchains/python/bin/componentize-py");
    assert!(
        componentize_py.is_file(),
        "{} is missing: `cargo xtask build-mods` installs it",
        componentize_py.display()
    );
    create_build_simulate(
        "python",
        "first_blood_py",
        |project| {
            run(
                project,
                "./build.sh",
                &[],
                &[("COMPONENTIZE_PY", componentize_py)],
            )
        },
        "mods",
    );
}

#[test]
fn a_new_typescript_mod_builds_and_passes_its_scenario() {
    assert!(
        root().join("guest-sdk-ts/node_modules").is_dir(),
        "guest-sdk-ts has no node_modules: `cargo xtask build-mods` runs npm ci there"
    );
    create_build_simulate(
        "ts",
        "first_blood_ts",
        |project| {
            // The SDK is linked (`file:`), so this installs nothing from the registry.
            run(
                project,
                "npm",
                &["install", "--no-audit", "--no-fund", "--offline"],
                &[],
            );
            run(project, "npm", &["run", "build"], &[]);
        },
        "mods",
    );
}

#[test]
fn names_that_are_not_rules_engine_ids_and_missing_sdks_are_refused() {
    let parent = fresh("refused");
    let out = nexori(&parent, &["new", "My-Mod", "--lang", "python"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "nexori new: \"My-Mod\" is not a mod name: use lowercase letters, digits and `_`, starting with a letter (at most 64); it is also the rules engine id and the .wasm name\n"
    );
    let out = nexori(
        &parent,
        &["new", "ok", "--lang", "ts", "--sdk-dir", "/nonexistent"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "nexori new: the Nexori SDKs are not in /nonexistent (no guest-sdk-ts/package.json); pass --sdk-dir (or set NEXORI_SDK_DIR) to a checkout of the Nexori repository\n"
    );
    assert!(!parent.join("ok").exists());
    std::fs::remove_dir_all(&parent).unwrap();
}
