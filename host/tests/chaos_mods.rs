//! Mods that are costly to load must not stall `nexori serve`: a running match keeps being
//! served, turn after turn, while a big mod dropped into the mods directory is read and compiled.
//! `nexori serve` runs as a real process; a WebSocket game server plays a match of the scripted
//! mod and times each round trip (a game event whose handler sends a game command back).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{BRIDGE_TOKEN, Reaper, connect, free_port, player, text};
use futures_util::{SinkExt, StreamExt};
use nexori_host::wasm::engine::{EngineSettings, build_engine};
use nexori_host::wasm::loader;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn mods_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods");
    assert!(
        dir.join("scripted.wasm").is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    dir
}

fn leb128(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn section(id: u8, contents: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb128(contents.len() as u64, out);
    out.extend_from_slice(contents);
}

/// A core module of `functions` functions of arithmetic on their argument, `ops` steps each:
/// code Cranelift has to compile, in bulk.
fn bulky_core_module(functions: u32, ops: u32) -> Vec<u8> {
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    // One type: (func (param i32) (result i32)).
    section(1, &[1, 0x60, 1, 0x7f, 1, 0x7f], &mut module);
    let mut funcs = Vec::new();
    leb128(u64::from(functions), &mut funcs);
    funcs.extend(std::iter::repeat_n(0, functions as usize));
    section(3, &funcs, &mut module);
    let mut code = Vec::new();
    leb128(u64::from(functions), &mut code);
    for f in 0..functions {
        let mut body = vec![0, 0x20, 0]; // no locals; local.get 0
        for op in 0..ops {
            // i32.const k (small positive, one LEB byte) then add / mul / xor / rotl in turn.
            body.extend([0x41, ((f + op) % 60 + 1) as u8]);
            body.push([0x6a, 0x6c, 0x73, 0x77][(op % 4) as usize]);
        }
        body.push(0x0b);
        leb128(body.len() as u64, &mut code);
        code.extend(body);
    }
    section(10, &code, &mut module);
    module
}

/// `base` (a rules-mod component) with a bulky core module appended: still a valid component
/// that loads and behaves as `base`, but wasmtime compiles every core module it holds.
fn bulky_component(base: &[u8]) -> Vec<u8> {
    let mut component = base.to_vec();
    section(1, &bulky_core_module(6_000, 120), &mut component);
    component
}

/// How long compiling `bytes` takes on this machine, with the host's own engine set-up.
fn compile_time(bytes: &[u8]) -> Duration {
    let engine = build_engine(&EngineSettings {
        max_instances: 4,
        ..EngineSettings::default()
    })
    .unwrap();
    let linker = loader::linker(&engine).unwrap();
    let started = Instant::now();
    loader::prepare(&engine, &linker, bytes, None).expect("the bulky component is valid");
    started.elapsed()
}

/// Waits for a stderr line of `nexori serve` containing `needle`.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, within: Duration) -> Instant {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Instant::now(),
            Ok(_) => {}
            Err(_) => panic!("no log line with {needle:?} within {within:?}"),
        }
    }
}

#[test]
fn matches_keep_their_turns_while_a_big_mod_compiles() {
    let scripted = std::fs::read(mods_dir().join("scripted.wasm")).unwrap();
    let hostile =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-test-mods/hostile.wasm");
    let big = bulky_component(&std::fs::read(&hostile).expect("cargo xtask build-mods"));
    let compile = compile_time(&big);
    assert!(
        compile >= Duration::from_millis(800),
        "the bulky mod compiles in {compile:?}: too fast to show anything; make it bigger"
    );

    let work = std::env::temp_dir().join(format!("nexori-chaos-mods-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("mods")).unwrap();
    std::fs::write(work.join("mods/scripted.wasm"), &scripted).unwrap();
    let port = free_port();
    let config = work.join("nexori.toml");
    std::fs::write(
        &config,
        format!(
            "modsDir = \"{}\"\ndataDir = \"{}\"\n[bridge]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{BRIDGE_TOKEN}\"\n[log]\nlevel = \"warn,nexori::mods=info,nexori::serve=info\"\n",
            work.join("mods").display(),
            work.join("data").display(),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("NEXORI_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _serve = Reaper(child);
    let (line_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("serve: {line}");
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    wait_for_line(&lines, "bridge on ws://", Duration::from_secs(60));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut ws = connect(port, "arena-1").await;
        let p = player(1);
        for message in [
            json!({"type": "match.create", "matchId": "live", "queueId": "q", "arenaId": "a",
                   "rulesEngineId": "scripted", "externalMatchId": "ext-live",
                   "expectedPlayers": [{"uuid": p, "name": "P1"}]}),
            json!({"type": "player.arrive", "matchId": "live", "player": p}),
            json!({"type": "player.placed", "matchId": "live", "player": p}),
        ] {
            ws.send(text(message)).await.unwrap();
        }

        // One round trip: a game event whose handler sends game command `n` back.
        let mut round_trip = async |n: u64| {
            let started = Instant::now();
            ws.send(text(
                json!({"type": "game.event", "matchId": "live", "kind": "script.call",
                "data": {"method": "sendGameCommand",
                         "args": {"matchId": "live", "name": "pong", "data": {"n": n}}}}),
            ))
            .await
            .unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                match tokio::time::timeout_at(deadline, ws.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        if v["type"] == "game.command" && v["data"]["n"] == n {
                            return started.elapsed();
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    other => panic!("no answer to game event {n}: {other:?}"),
                }
            }
        };
        round_trip(0).await;

        // Drop the big mod in (whole, by rename) and keep playing until it is loaded.
        let staged = work.join("big.wasm.part");
        std::fs::write(&staged, &big).unwrap();
        std::fs::rename(&staged, work.join("mods/big.wasm")).unwrap();
        let dropped = Instant::now();
        let mut slowest = Duration::ZERO;
        let mut n = 0;
        let loaded = loop {
            n += 1;
            let took = round_trip(n).await;
            if took > Duration::from_millis(100) {
                eprintln!(
                    "round trip {n} took {took:?}, ended {:?} after the drop",
                    dropped.elapsed()
                );
            }
            slowest = slowest.max(took);
            if let Some(line) = lines.try_iter().find(|l| l.contains("big")) {
                assert!(line.contains("mod loaded"), "{line}");
                break Instant::now();
            }
            assert!(
                dropped.elapsed() < Duration::from_secs(120),
                "the big mod was not loaded within 120 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        eprintln!(
            "compile {compile:?}, dropped to loaded {:?}, {n} round trips, slowest {slowest:?}",
            loaded - dropped
        );
        assert!(
            slowest < compile / 4,
            "a round trip took {slowest:?} while the mod compiled (compile alone takes {compile:?})"
        );
    });
    let _ = std::fs::remove_dir_all(&work);
}
