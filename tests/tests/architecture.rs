//! The crates are the architecture (README "What is here"): each layer's dependencies, as Cargo
//! resolves them, stay inside what its crate doc allows. Read from `cargo metadata`, so a new
//! dependency pulled in transitively fails here as well as a direct one.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The platform this runs on, as rustc names it: the dependency graph is this platform's (other
/// platforms' crates, e.g. Windows-only ones, are never downloaded here).
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

/// Crate name → every package it depends on, transitively (normal dependencies only: what ships).
fn closures() -> &'static HashMap<String, BTreeSet<String>> {
    static CLOSURES: OnceLock<HashMap<String, BTreeSet<String>>> = OnceLock::new();
    CLOSURES.get_or_init(resolve)
}

fn resolve() -> HashMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(host_triple())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut direct: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve nodes") {
        let deps = node["deps"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .expect("dep_kinds")
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        direct.insert(node["id"].as_str().unwrap(), deps);
    }
    let mut closures = HashMap::new();
    for (id, name) in &names {
        if !name.starts_with("nexori") {
            continue;
        }
        let mut seen = BTreeSet::new();
        let mut stack = vec![*id];
        while let Some(next) = stack.pop() {
            for dep in direct.get(next).into_iter().flatten() {
                if seen.insert(names[dep].to_string()) {
                    stack.push(dep);
                }
            }
        }
        closures.insert(name.to_string(), seen);
    }
    closures
}

fn assert_free_of(closures: &HashMap<String, BTreeSet<String>>, krate: &str, forbidden: &[&str]) {
    let deps = &closures[krate];
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(found.is_empty(), "{krate} depends on {found:?}");
}

fn nexori_deps(closures: &HashMap<String, BTreeSet<String>>, krate: &str) -> Vec<String> {
    closures[krate]
        .iter()
        .filter(|d| d.starts_with("nexori"))
        .cloned()
        .collect()
}

const IO: &[&str] = &[
    "wasmtime",
    "wasmtime-wasi",
    "tokio",
    "reqwest",
    "hyper",
    "axum",
    "rusqlite",
    "toml",
    "clap",
];

#[test]
fn each_layer_depends_only_on_the_layers_below_it() {
    let closures = closures();
    assert_eq!(
        nexori_deps(closures, "nexori-protocol"),
        Vec::<String>::new()
    );
    assert_eq!(
        nexori_deps(closures, "nexori-vocabulary"),
        Vec::<String>::new()
    );
    assert_eq!(
        nexori_deps(closures, "nexori-http-server"),
        Vec::<String>::new()
    );
    assert_eq!(
        nexori_deps(closures, "nexori-backend"),
        ["nexori-http-server", "nexori-protocol", "nexori-recording"]
    );
    // Match logs are read by the host and the backend alike: the format depends on no layer.
    assert_eq!(
        nexori_deps(closures, "nexori-recording"),
        Vec::<String>::new()
    );
    assert_eq!(
        nexori_deps(closures, "nexori-reporting"),
        ["nexori-protocol", "nexori-runtime", "nexori-vocabulary"]
    );
    assert_eq!(
        nexori_deps(closures, "nexori-host"),
        [
            "nexori-protocol",
            "nexori-recording",
            "nexori-reporting",
            "nexori-runtime",
            "nexori-vocabulary"
        ]
    );
}

#[test]
fn the_runtime_and_the_wire_formats_do_no_io() {
    let closures = closures();
    assert_free_of(closures, "nexori-runtime", IO);
    assert_free_of(closures, "nexori-protocol", IO);
    assert_free_of(closures, "nexori-vocabulary", IO);
    // The recording crate writes files with std and a worker thread, nothing more.
    assert_free_of(closures, "nexori-recording", IO);
}

#[test]
fn only_the_component_host_runs_wasm_and_only_the_cli_reads_the_config_file() {
    let closures = closures();
    for krate in ["nexori-reporting", "nexori-backend", "nexori-http-server"] {
        assert_free_of(closures, krate, &["wasmtime", "wasmtime-wasi"]);
    }
    for krate in ["nexori-host", "nexori-reporting", "nexori-backend"] {
        assert_free_of(closures, krate, &["toml", "clap"]);
    }
    // The host reports through nexori-reporting (SQLite, an HTTP client) but serves nothing.
    assert_free_of(closures, "nexori-host", &["axum"]);
}
