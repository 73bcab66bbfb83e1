//! Mods reload without a restart, and compiled components are cached on disk.

use nexori_host::arena_host::ArenaHost;
use nexori_host::bridge;
use nexori_tests::*;
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;

fn host() -> ArenaHost {
    virtual_host(T0, 1, true)
}

fn apply(host: &mut ArenaHost, message: Value) {
    host.apply(bridge::parse(&message).unwrap()).unwrap();
}

fn callbacks_for(host: &ArenaHost, match_id: &str) -> Vec<(String, String)> {
    let shared = nexori_host::host_state::lock(host.shared());
    shared
        .trace
        .entries()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e["kind"] == "callback" && e["matchId"] == match_id)
        .map(|e| {
            (
                e["mod"].as_str().unwrap().to_string(),
                e["callback"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_new_version_serves_new_matches_and_running_ones_finish_on_the_old() {
    let dir = mods_subset(&["scripted"]);
    let mut host = host();
    assert!(host.load_mods_dir(dir.path()).unwrap().is_empty());
    apply(&mut host, create(0, "old", "scripted", &[1]));

    // A broken new version is rejected; the loaded one keeps serving new matches.
    std::fs::write(dir.path().join("scripted.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    let failures = host.load_mods_dir(dir.path()).unwrap();
    assert_eq!(failures.len(), 1);
    assert!(
        host.load_mods_dir(dir.path()).unwrap().is_empty(),
        "the same broken bytes are not retried"
    );
    apply(&mut host, create(0, "during", "scripted", &[2]));
    assert_eq!(
        callbacks_for(&host, "during"),
        [("scripted".to_string(), "onMatchCreated".to_string())]
    );

    // A real new version (here: other code under the same mod name, registering `hostile`).
    std::fs::copy(
        root().join("target/nexori-test-mods/hostile.wasm"),
        dir.path().join("scripted.wasm"),
    )
    .unwrap();
    assert!(host.load_mods_dir(dir.path()).unwrap().is_empty());
    apply(&mut host, create(0, "new", "hostile", &[3]));
    assert_eq!(
        callbacks_for(&host, "new"),
        [("scripted".to_string(), "onMatchCreated".to_string())]
    );
    // The running match still reaches its old instance, whose code registered `scripted`.
    apply(
        &mut host,
        json!({"type": "player.arrive", "matchId": "old", "player": player(1)}),
    );
    assert_eq!(callbacks_for(&host, "old").len(), 2);
    // The old id is no longer routed for new matches.
    apply(&mut host, create(0, "orphan", "scripted", &[4]));
    assert!(callbacks_for(&host, "orphan").is_empty());

    // A removed file unloads the mod for new matches.
    std::fs::remove_file(dir.path().join("scripted.wasm")).unwrap();
    host.load_mods_dir(dir.path()).unwrap();
    assert_eq!(host.mods().count(), 0);
}

#[test]
fn compiled_components_are_cached_on_disk() {
    let dir = mods_subset(&["scripted"]);
    let cache = tempdir::Dir::new();
    let compiled = nexori_host::wasm::loader::compilations_on_this_thread;
    let before = compiled();
    let mut first = host();
    first.set_compile_cache(cache.path().to_path_buf());
    assert!(first.load_mods_dir(dir.path()).unwrap().is_empty());
    assert_eq!(compiled() - before, 1, "the first load compiles");
    let bytes = std::fs::read(dir.path().join("scripted.wasm")).unwrap();
    let artifact = nexori_host::wasm::loader::cache_path(first.engine(), &bytes, cache.path());
    assert!(artifact.is_file(), "{}", artifact.display());
    let written = std::fs::metadata(&artifact).unwrap().modified().unwrap();

    // A second host reuses the artifact instead of compiling again, and it works.
    let before = compiled();
    let mut second = host();
    second.set_compile_cache(cache.path().to_path_buf());
    assert!(second.load_mods_dir(dir.path()).unwrap().is_empty());
    assert_eq!(
        compiled() - before,
        0,
        "the cached artifact was compiled again"
    );
    assert_eq!(
        std::fs::metadata(&artifact).unwrap().modified().unwrap(),
        written
    );
    apply(&mut second, create(0, "m", "scripted", &[1]));
    assert_eq!(
        callbacks_for(&second, "m"),
        [("scripted".to_string(), "onMatchCreated".to_string())]
    );

    // A corrupt artifact is ignored and replaced.
    drop(second);
    std::fs::write(&artifact, b"garbage").unwrap();
    let before = compiled();
    let mut third = host();
    third.set_compile_cache(cache.path().to_path_buf());
    assert!(third.load_mods_dir(dir.path()).unwrap().is_empty());
    assert_eq!(
        compiled() - before,
        1,
        "a corrupt artifact is compiled again"
    );
    assert_ne!(std::fs::read(&artifact).unwrap(), b"garbage");
}

#[test]
fn a_mod_file_over_max_mod_file_bytes_is_refused_unread() {
    let dir = mods_subset(&["scripted"]);
    let file = dir.path().join("scripted.wasm");
    let size = std::fs::metadata(&file).unwrap().len();
    let config = nexori::config::HostConfig::from_json(json!({"maxModFileBytes": 1000})).unwrap();
    let mut host = virtual_host_with(config, T0, 1, true);
    let failures = host.load_mods_dir(dir.path()).unwrap();
    let errors: Vec<(String, String)> = failures
        .iter()
        .map(|(file, e)| (file.clone(), e.to_string()))
        .collect();
    assert_eq!(
        errors,
        [(
            file.display().to_string(),
            format!(
                "{} is {size} bytes, more than the 1000 bytes a mod file may have (maxModFileBytes); it was not read",
                file.display()
            )
        )]
    );
    assert_eq!(host.mods().count(), 0);
    assert!(
        host.load_mods_dir(dir.path()).unwrap().is_empty(),
        "the same file is not reported again"
    );
}

/// The rules engine ids of the mods a host serves.
fn registered(host: &ArenaHost) -> Vec<String> {
    host.mods()
        .flat_map(|m| m.info.scope.iter().cloned())
        .collect()
}

#[test]
fn the_compile_cache_is_private_and_nothing_others_can_write_is_loaded() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    let chmod = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let dir = mods_subset(&["scripted"]);
    let bytes = std::fs::read(dir.path().join("scripted.wasm")).unwrap();
    let data = tempdir::Dir::new();
    let cache = data.path().join("compiled");
    let mut first = host();
    first.set_compile_cache(cache.clone());
    assert!(first.load_mods_dir(dir.path()).unwrap().is_empty());
    let artifact = nexori_host::wasm::loader::cache_path(first.engine(), &bytes, &cache);
    assert_eq!(mode(&cache), 0o700, "the cache directory is created 0700");
    assert_eq!(mode(&artifact), 0o600, "artifacts are written 0600");

    // A planted artifact: the hostile mod's compiled code under the scripted mod's name. Loaded,
    // it would register `hostile`. In a private directory and file the host trusts it (this is
    // what the cache is for).
    let other = mods_subset(&[]);
    std::fs::copy(
        root().join("target/nexori-test-mods/hostile.wasm"),
        other.path().join("hostile.wasm"),
    )
    .unwrap();
    let other_cache = tempdir::Dir::new();
    let mut compiler = host();
    compiler.set_compile_cache(other_cache.path().to_path_buf());
    assert!(compiler.load_mods_dir(other.path()).unwrap().is_empty());
    let hostile_bytes = std::fs::read(other.path().join("hostile.wasm")).unwrap();
    let planted = std::fs::read(nexori_host::wasm::loader::cache_path(
        compiler.engine(),
        &hostile_bytes,
        other_cache.path(),
    ))
    .unwrap();
    let plant = |mode: u32| {
        std::fs::write(&artifact, &planted).unwrap();
        chmod(&artifact, mode);
    };
    let load = || {
        let mut host = host();
        host.set_compile_cache(cache.clone());
        assert!(host.load_mods_dir(dir.path()).unwrap().is_empty());
        registered(&host)
    };
    plant(0o600);
    assert_eq!(load(), ["hostile"], "the control: a trusted cache is used");

    // An artifact group or others can write to is not loaded: the mod is compiled again and a
    // fresh private artifact replaces it.
    plant(0o666);
    assert_eq!(load(), ["scripted"]);
    assert_eq!(mode(&artifact), 0o600);
    assert_ne!(std::fs::read(&artifact).unwrap(), planted);

    // A cache directory group or others can write to is not used at all: nothing is read from
    // it or written to it, and the mod still loads (compiled in memory).
    plant(0o600);
    chmod(&cache, 0o770);
    assert_eq!(load(), ["scripted"]);
    assert_eq!(std::fs::read(&artifact).unwrap(), planted, "left alone");
    assert_eq!(
        mode(&cache),
        0o770,
        "the operator's directory is not changed"
    );
    std::fs::remove_file(&artifact).unwrap();
    assert_eq!(load(), ["scripted"]);
    assert!(!artifact.exists(), "nothing written to an untrusted cache");
}

/// Calls `take_mod_updates` until `done` says so (failures collected), for at most 60 s.
fn take_updates_until(
    host: &mut ArenaHost,
    done: impl Fn(&ArenaHost) -> bool,
) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut failures = Vec::new();
    while !done(host) {
        assert!(
            std::time::Instant::now() < deadline,
            "the watch did not deliver within 60 s"
        );
        failures.extend(
            host.take_mod_updates()
                .into_iter()
                .map(|(file, e)| (file, e.to_string())),
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    failures
}

#[test]
fn a_watched_directory_loads_rejects_and_unloads_from_a_worker() {
    let dir = mods_subset(&["scripted"]);
    let mut host = host();
    assert!(host.load_mods_dir(dir.path()).unwrap().is_empty());
    host.watch_mods_dir(dir.path(), std::time::Duration::from_millis(20))
        .unwrap();

    // Files appear whole (a scan may come at any time).
    let put = |name: &str, bytes: &[u8]| {
        let staged = dir.path().join(format!("{name}.part"));
        std::fs::write(&staged, bytes).unwrap();
        std::fs::rename(&staged, dir.path().join(name)).unwrap();
    };

    // A new mod: compiled on the watch's thread, probed here.
    put(
        "hostile.wasm",
        &std::fs::read(root().join("target/nexori-test-mods/hostile.wasm")).unwrap(),
    );
    let failures = take_updates_until(&mut host, |h| h.mods().count() == 2);
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(registered(&host), ["hostile", "scripted"]);

    // A removed mod is unloaded, and a broken file reported once, however many scans see it.
    let broken = dir.path().join("broken.wasm");
    put("broken.wasm", b"not wasm");
    std::fs::remove_file(dir.path().join("hostile.wasm")).unwrap();
    let mut failures = take_updates_until(&mut host, |h| h.mods().count() == 1);
    let scans = std::time::Instant::now() + std::time::Duration::from_millis(300);
    failures.extend(take_updates_until(&mut host, |_| {
        std::time::Instant::now() > scans
    }));
    assert_eq!(
        failures,
        [(
            broken.display().to_string(),
            "not a WebAssembly file (no `\\0asm` header)".to_string()
        )]
    );
    assert_eq!(registered(&host), ["scripted"]);
}
