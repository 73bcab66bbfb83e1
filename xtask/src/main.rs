//! Project tasks: `cargo xtask <task>`.
//!
//! - `build-mods`: builds the Rust example mods for `wasm32-wasip2` into `target/nexori-mods/`,
//!   and the Python and TypeScript ports of `last_standing` into `target/nexori-lang-mods/` (the
//!   test mods in those languages into `target/nexori-test-lang-mods/`).
//! - `demo`: builds the mods and runs `nexori demo`.
//! - `test`: builds the mods and runs every test of the workspace.
//!
//! Each task installs what it needs itself, so a fresh machine needs rustup, Python 3 and Node.js
//! 20: the wasm target, and the pinned componentize-py (in a venv, `target/toolchains/python`)
//! and npm packages (`guest-sdk-ts/package-lock.json`). `NEXORI_SKIP_LANG_MODS=1` builds the Rust
//! mods only (the cross-language tests then fail, naming the variable).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Crates built as mods, with the `.wasm` name cargo gives them.
const MODS: &[&str] = &["capture_the_zone", "last_standing", "scripted"];
/// Mods that exist only for the tests (misbehaving on purpose); kept out of the example mods
/// directory so `nexori demo` never loads them.
const TEST_MODS: &[&str] = &["hostile"];
const TARGET: &str = "wasm32-wasip2";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    match task {
        "build-mods" => build_mods().map(|_| ()),
        "build-lang-mods" => build_lang_mods(),
        "demo" => {
            let mods = build_mods()?;
            run(cargo()
                .args([
                    "run", "--quiet", "-p", "nexori", "--bin", "nexori", "--", "demo", "--mods",
                ])
                .arg(&mods)
                .args(rest))
        }
        "test" => {
            build_mods()?;
            run(cargo().args(["test", "--workspace"]).args(rest))?;
            // A one-batch smoke run of every benchmark (no figures asserted): they keep working.
            if rest.is_empty() {
                run(cargo().args(["test", "-p", "nexori", "--bench", "host"]))?;
            }
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <build-mods | build-lang-mods | demo | test [cargo test args]>"
            );
            if task == "help" {
                Ok(())
            } else {
                bail!("unknown task {task:?}")
            }
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Makes sure the wasm target is installed (rust-toolchain.toml asks rustup for it too; this
/// covers toolchains set up some other way).
fn ensure_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == TARGET) =>
        {
            Ok(())
        }
        Ok(_) => run(Command::new("rustup")
            .args(["target", "add", TARGET])
            .current_dir(root())),
        // Without rustup the toolchain must already have the target; cargo will say if not.
        Err(_) => Ok(()),
    }
}

/// Builds every mod and copies the components into `target/mods/`.
fn build_mods() -> Result<PathBuf> {
    ensure_target()?;
    let mut cmd = cargo();
    cmd.args(["build", "--target", TARGET, "--profile", "mods"]);
    for m in MODS.iter().chain(TEST_MODS) {
        cmd.args(["-p", m]);
    }
    run(&mut cmd)?;
    let built = root().join("target").join(TARGET).join("mods");
    let copy = |mods: &[&str], dir: &str| -> Result<PathBuf> {
        let out = root().join("target").join(dir);
        std::fs::create_dir_all(&out)?;
        for m in mods {
            let from = built.join(format!("{m}.wasm"));
            std::fs::copy(&from, out.join(format!("{m}.wasm")))
                .with_context(|| format!("copy {}", from.display()))?;
        }
        Ok(out)
    };
    copy(TEST_MODS, "nexori-test-mods")?;
    let out = copy(MODS, "nexori-mods")?;
    eprintln!("mods built into {}", out.display());
    if std::env::var_os("NEXORI_SKIP_LANG_MODS").is_some() {
        eprintln!("NEXORI_SKIP_LANG_MODS is set: not building the Python and TypeScript mods");
    } else {
        build_lang_mods()?;
    }
    Ok(out)
}

/// The mods written in other languages: `(mod directory, component under target/)`. The ports of
/// `last_standing` build to `target/nexori-lang-mods/<language>/last_standing.wasm`, the name of
/// the Rust mod, so that the same scenarios (and their `config.mods.last_standing`) run against
/// all three; the test mods (misbehaving on purpose) to `target/nexori-test-lang-mods/`.
const PYTHON_MODS: &[(&str, &str)] = &[
    (
        "example-mods/last-standing-py",
        "nexori-lang-mods/python/last_standing.wasm",
    ),
    (
        "tests/fixtures/raising-py",
        "nexori-test-lang-mods/python/raising.wasm",
    ),
];
const TS_MODS: &[(&str, &str)] = &[
    (
        "example-mods/last-standing-ts",
        "nexori-lang-mods/ts/last_standing.wasm",
    ),
    (
        "tests/fixtures/raising-ts",
        "nexori-test-lang-mods/ts/raising.wasm",
    ),
];

/// Builds the Python and TypeScript mods with their pinned toolchains, skipping a mod whose
/// sources (its own, its SDK's and the WIT) are older than its component.
fn build_lang_mods() -> Result<()> {
    let root = root();
    let wit = root.join("wit");

    // Python: componentize-py from PyPI, pinned in guest-sdk-python/requirements-build.txt.
    let sdk = root.join("guest-sdk-python");
    let venv = root.join("target").join("toolchains").join("python");
    let componentize_py = venv.join("bin").join("componentize-py");
    let requirements = sdk.join("requirements-build.txt");
    let stamp = venv.join("requirements-build.txt");
    if std::fs::read(&stamp).ok() != Some(std::fs::read(&requirements)?) {
        eprintln!("installing componentize-py into {}", venv.display());
        run(Command::new(python3()?)
            .arg("-m")
            .arg("venv")
            .arg("--clear")
            .arg(&venv))?;
        run(Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements))?;
        std::fs::copy(&requirements, &stamp)?;
    }
    for (dir, out) in PYTHON_MODS {
        let (dir, out) = (root.join(dir), root.join("target").join(out));
        if is_fresh(&out, &[&dir, &sdk.join("nexori"), &wit])? {
            continue;
        }
        std::fs::create_dir_all(out.parent().expect("has a parent"))?;
        run(Command::new(&componentize_py)
            .arg("-d")
            .arg(&wit)
            .args(["-w", "rules-mod-base", "componentize", "-p"])
            .arg(&sdk)
            .arg("-p")
            .arg(&dir)
            .arg("app")
            .arg("-o")
            .arg(&out)
            // Python would write __pycache__ into the sources.
            .env("PYTHONDONTWRITEBYTECODE", "1"))?;
    }

    // TypeScript: jco, componentize-js, rolldown and tsc from npm, pinned in
    // guest-sdk-ts/package-lock.json; each mod links the SDK (`file:`), as its lock file says.
    let sdk = root.join("guest-sdk-ts");
    npm_ci(&sdk)?;
    for (dir, out) in TS_MODS {
        let (dir, out) = (root.join(dir), root.join("target").join(out));
        npm_ci(&dir)?;
        if is_fresh(
            &out,
            &[&dir.join("src"), &sdk.join("src"), &sdk.join("bin"), &wit],
        )? {
            continue;
        }
        run(Command::new("node")
            .arg(sdk.join("bin").join("nexori-mod-build.mjs"))
            .arg("src/mod.ts")
            .arg("-o")
            .arg(&out)
            .current_dir(&dir))?;
    }
    eprintln!(
        "Python and TypeScript mods built into {} (and their test mods into {})",
        root.join("target").join("nexori-lang-mods").display(),
        root.join("target").join("nexori-test-lang-mods").display()
    );
    Ok(())
}

/// `python3`, or a message saying what the build needs.
fn python3() -> Result<&'static str> {
    match Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => Ok("python3"),
        _ => bail!(
            "building the Python mods needs Python 3.11+ (`python3`); install it, or set \
             NEXORI_SKIP_LANG_MODS=1 to build the Rust mods only"
        ),
    }
}

/// `npm ci` in `dir` unless its `node_modules` is newer than its lock file.
fn npm_ci(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    if is_fresh(&installed, &[&lock])? {
        return Ok(());
    }
    let npm = Command::new("npm").arg("--version").output();
    if !npm.is_ok_and(|out| out.status.success()) {
        bail!(
            "building the TypeScript mods needs Node.js 20+ and npm; install them, or set \
             NEXORI_SKIP_LANG_MODS=1 to build the Rust mods only"
        );
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir))
}

/// `true` when `output` exists and is newer than every file under `inputs`.
fn is_fresh(output: &Path, inputs: &[&Path]) -> Result<bool> {
    let Ok(built) = std::fs::metadata(output).and_then(|m| m.modified()) else {
        return Ok(false);
    };
    for input in inputs {
        if newest(input).with_context(|| format!("read {}", input.display()))? > built {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The latest modification time of `path` and, for a directory, of everything under it (apart
/// from installed packages and build output, which are not sources).
fn newest(path: &Path) -> std::io::Result<std::time::SystemTime> {
    let meta = std::fs::metadata(path)?;
    let mut latest = meta.modified()?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if matches!(
                entry.file_name().to_str(),
                Some("node_modules" | "__pycache__" | ".nexori-build")
            ) {
                continue;
            }
            latest = latest.max(newest(&entry.path())?);
        }
    }
    Ok(latest)
}
