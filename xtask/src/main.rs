//! Project tasks: `cargo xtask <task>`.
//!
//! - `build-mods`: builds the example mods for `wasm32-wasip2` into `target/mods/`.
//! - `demo`: builds the mods and runs `nexori demo`.
//! - `test`: builds the mods and runs every test of the workspace.
//!
//! Each task installs the wasm target itself, so a fresh machine needs nothing but rustup.

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
            eprintln!("usage: cargo xtask <build-mods | demo | test [cargo test args]>");
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
    Ok(out)
}
