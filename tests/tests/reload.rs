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
    let shared = nexori_host::shared::lock(host.shared());
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
    let mut first = host();
    first.set_compile_cache(cache.path().to_path_buf());
    assert!(first.load_mods_dir(dir.path()).unwrap().is_empty());
    let bytes = std::fs::read(dir.path().join("scripted.wasm")).unwrap();
    let artifact = nexori_host::wasm::loader::cache_path(first.engine(), &bytes, cache.path());
    assert!(artifact.is_file(), "{}", artifact.display());
    let written = std::fs::metadata(&artifact).unwrap().modified().unwrap();

    // A second host reuses the artifact instead of compiling again, and it works.
    let mut second = host();
    second.set_compile_cache(cache.path().to_path_buf());
    assert!(second.load_mods_dir(dir.path()).unwrap().is_empty());
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
    let mut third = host();
    third.set_compile_cache(cache.path().to_path_buf());
    assert!(third.load_mods_dir(dir.path()).unwrap().is_empty());
    assert_ne!(std::fs::read(&artifact).unwrap(), b"garbage");
}
