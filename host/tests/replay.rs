//! Deterministic replay, end to end with the `nexori` binary (docs/replay.md): recorded matches
//! play out again line for line; a match cut short by SIGKILL replays its recorded part; a
//! fault replays to the same fault; a result verifies against its exported log at the reference
//! backend and a tampered log does not; another build of the mod shows where it differs.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{built_mod, player, reference_backend, stdio_host};
use nexori_backend::FaultPlan;
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexori-replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(args)
        .env("NEXORI_LOG", "error,nexori::faults=off")
        .output()
        .unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(output), stderr(output)))
}

/// `nexori simulate --record` of `scenario` against the example mods: the trace it printed.
fn simulate_recorded(scenario: &Path, record: &Path) -> Value {
    let mods = built_mod("scripted").parent().unwrap().to_path_buf();
    let out = run(&[
        os("simulate"),
        os("--mods"),
        mods.as_os_str(),
        scenario.as_os_str(),
        os("--json"),
        os("--record"),
        record.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    json_of(&out)
}

fn replay_json(log: &Path) -> (Output, Value) {
    let out = run(&[os("replay"), os("--log"), log.as_os_str(), os("--json")]);
    let value = json_of(&out);
    (out, value)
}

/// The match an entry of the trace belongs to.
fn match_of(entry: &Value) -> Option<&str> {
    entry
        .get("matchId")
        .or_else(|| entry.pointer("/body/localMatchId"))
        .and_then(Value::as_str)
}

/// The entries a replay must reproduce for `match_id`: callbacks, commands, results and faults
/// (the replay host publishes no admission snapshots, and a refused scenario step never reached
/// the match).
fn of_match(trace: &Value, match_id: &str) -> Vec<Value> {
    trace
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            matches!(
                e["kind"].as_str(),
                Some("callback" | "command" | "result" | "fault")
            ) && match_of(e) == Some(match_id)
        })
        .cloned()
        .collect()
}

/// Every scenario file of the repository (the demos and the cross-language ones) replays from
/// its recording to the same log, twice over to the same trace, and that trace is the one the
/// simulation printed.
#[test]
fn scenario_files_replay_to_the_trace_they_played() {
    let work = work_dir("scenarios");
    let mut files: Vec<PathBuf> = ["host/demo", "tests/scenarios/last-standing"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root().join(dir)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    let mut matches = 0;
    for (i, scenario) in files.iter().enumerate() {
        let record = work.join(format!("{i}.nxlog"));
        let played = simulate_recorded(scenario, &record);
        let (first, replayed) = replay_json(&record);
        assert!(
            first.status.success(),
            "{}: {}",
            scenario.display(),
            stdout(&first)
        );
        assert_eq!(replayed["identical"], true, "{}", scenario.display());
        let (_, again) = replay_json(&record);
        assert_eq!(
            replayed,
            again,
            "{}: two replays of one recording differ",
            scenario.display()
        );
        for m in replayed["matches"].as_array().unwrap() {
            let id = m["matchId"].as_str().unwrap();
            let live = of_match(&played["trace"], id);
            assert!(!live.is_empty(), "{}: {id}", scenario.display());
            assert_eq!(
                of_match(&m["output"]["trace"], id),
                live,
                "{}: match {id} replays to another trace",
                scenario.display()
            );
            matches += 1;
        }
    }
    assert!(matches >= 8, "{matches} matches replayed");
}

fn scripted_create(match_id: &str, players: &[u8]) -> Value {
    let expected: Vec<Value> = players
        .iter()
        .map(|n| json!({"uuid": player(*n)}))
        .collect();
    json!({"type": "match.create", "matchId": match_id, "queueId": "q", "arenaId": "a",
           "rulesEngineId": "scripted", "externalMatchId": format!("ext-{match_id}"),
           "expectedPlayers": expected})
}

fn joined(match_id: &str, n: u8) -> [Value; 2] {
    [
        json!({"type": "player.arrive", "matchId": match_id, "player": player(n)}),
        json!({"type": "player.placed", "matchId": match_id, "player": player(n)}),
    ]
}

/// A mod that traps replays to the same fault, with the same reason.
#[test]
fn a_fault_replays_to_the_same_fault() {
    let work = work_dir("fault");
    let at = |at: i64, mut step: Value| {
        step["at"] = json!(at);
        step
    };
    let mut steps = vec![at(0, scripted_create("m1", &[1]))];
    for (i, line) in joined("m1", 1).into_iter().enumerate() {
        steps.push(at(100 + i as i64, line));
    }
    steps.push(
        json!({"at": 1_000, "type": "game.event", "matchId": "m1", "kind": "script.trap",
        "player": player(1)}),
    );
    steps.push(json!({"at": 30_000, "type": "wait"}));
    let scenario = work.join("fault.json");
    std::fs::write(
        &scenario,
        json!({"startEpochMs": 1_760_000_000_000i64, "steps": steps}).to_string(),
    )
    .unwrap();
    let record = work.join("fault.nxlog");
    let played = simulate_recorded(&scenario, &record);
    let (out, replayed) = replay_json(&record);
    assert!(out.status.success(), "{}", stdout(&out));
    let faults = |trace: &Value| -> Vec<Value> {
        trace
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "fault")
            .map(|e| json!([e["at"], e["error"]]))
            .collect()
    };
    let live = faults(&played["trace"]);
    assert_eq!(live.len(), 1, "{played}");
    assert!(
        live[0][1]
            .as_str()
            .unwrap()
            .contains("scripted: trap requested by a script.trap game event"),
        "{live:?}"
    );
    assert_eq!(faults(&replayed["matches"][0]["output"]["trace"]), live);
    let logs = nexori_recording::read_logs(&std::fs::read(&record).unwrap()).unwrap();
    let recorded_fault: Vec<_> = logs[0]
        .records
        .iter()
        .filter_map(|r| match &r.kind {
            nexori_recording::RecordKind::Fault(error) => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recorded_fault.len(), 1);
    assert_eq!(json!(recorded_fault[0]), live[0][1]);
}

fn scripted_mods(work: &Path) -> PathBuf {
    let dir = work.join("mods");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(built_mod("scripted"), dir.join("scripted.wasm")).unwrap();
    dir
}

fn active_logs(data: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(data.join("recordings/active"))
        .map(|dir| dir.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// A host killed with SIGKILL in the middle of a match leaves the part it recorded, which
/// replays as it played; the next start archives it, and the export is self-contained.
#[test]
fn sigkill_mid_match_then_replay_of_the_recorded_part() {
    let work = work_dir("sigkill");
    let mods = scripted_mods(&work);
    let data = work.join("data");
    let config = work.join("nexori.json");
    std::fs::write(&config, json!({}).to_string()).unwrap();
    let mut child = stdio_host(&config, &mods, &data, 0)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let stdin = child.stdin.as_mut().unwrap();
        let mut lines = vec![scripted_create("m1", &[1, 2])];
        lines.extend(joined("m1", 1));
        lines.extend(joined("m1", 2));
        for n in 0..20 {
            lines.push(json!({"type": "game.event", "matchId": "m1", "kind": "script.calls",
                "player": player(1 + n % 2), "data": [
                    {"method": "sendGameCommand", "args": {"matchId": "m1", "name": format!("marker-{n}")}},
                    {"method": "setTimer", "args": {"delayMs": 60_000}}
                ]}));
        }
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
        stdin.flush().unwrap();
    }
    // The match runs on (its timers are a minute away) until the last event is on disk.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let written = active_logs(&data)
            .iter()
            .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("marker-19")));
        if written {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the log never had the last event"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let replayed = run(&[os("replay"), os("m1"), os("--data-dir"), data.as_os_str()]);
    let text = stdout(&replayed);
    assert!(replayed.status.success(), "{text}{}", stderr(&replayed));
    assert!(
        text.contains(
            "(the recording stops before the match closed: the recorded part is compared)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "identical: the replay took the recorded inputs and did what the recording did"
        ),
        "{text}"
    );
    assert!(text.contains("name\":\"marker-19\""), "{text}");

    // The next start archives what the killed host left.
    let status = stdio_host(&config, &mods, &data, 0)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(active_logs(&data).is_empty(), "{:?}", active_logs(&data));
    let exported = run(&[
        os("match"),
        os("export"),
        os("M1"),
        os("--data-dir"),
        data.as_os_str(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let logs = nexori_recording::read_logs(&exported.stdout).unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0].wasm.as_deref(),
        Some(&std::fs::read(built_mod("scripted")).unwrap()[..]),
        "the export carries the mod"
    );
    assert!(!logs[0].is_complete());
    // Elsewhere: the exported file alone replays.
    let file = work.join("m1.nxlog");
    std::fs::write(&file, &exported.stdout).unwrap();
    let alone = run(&[os("replay"), os("--log"), file.as_os_str()]);
    assert!(alone.status.success(), "{}", stdout(&alone));
}

/// A result reported through a real host carries its mod and input hashes; the reference
/// backend verifies the exported log against it, and refuses the log with one input changed.
#[test]
fn a_result_verifies_against_its_exported_log_and_a_tampered_log_does_not() {
    let work = work_dir("verify");
    let mods = scripted_mods(&work);
    let data = work.join("data");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let backend = reference_backend(&rt, &work, "verify-token", FaultPlan::none());
    let config = work.join("nexori.json");
    std::fs::write(
        &config,
        json!({
            "serverId": "c4a5b000-0000-4000-8000-000000000002",
            "baseUrl": backend.base_url(),
            "serverToken": "verify-token",
            "resultReportingEnabled": true,
            "resultRetryIntervalMs": 200
        })
        .to_string(),
    )
    .unwrap();
    let mut child = stdio_host(&config, &mods, &data, 20)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let stdin = child.stdin.as_mut().unwrap();
        let mut lines = vec![scripted_create("m1", &[1])];
        lines.extend(joined("m1", 1));
        lines.push(json!({"type": "game.event", "matchId": "m1", "kind": "script.calls", "data": [
            {"method": "setPlayerOutcome", "args": {"matchId": "m1", "playerUuid": player(1), "outcome": "WIN", "reason": "won"}},
            {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "done"}}
        ]}));
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());

    let get = |path: String| -> Value {
        rt.block_on(async { reqwest::get(path).await?.json().await })
            .unwrap()
    };
    let results = get(format!("{}/api/results", backend.base_url()));
    let result_id = results["results"]
        .as_array()
        .and_then(|r| r.first())
        .and_then(|r| r["resultId"].as_str())
        .unwrap_or_else(|| panic!("no result at the backend: {results}"))
        .to_string();
    let stored = get(format!("{}/api/results/{result_id}", backend.base_url()));
    let metadata = stored
        .pointer("/body/metadata")
        .or_else(|| stored.get("metadata"))
        .unwrap_or_else(|| panic!("{stored}"));
    assert_eq!(
        metadata["modSha256"],
        nexori_recording::format::sha256_hex(&std::fs::read(built_mod("scripted")).unwrap())
    );

    let exported = run(&[
        os("match"),
        os("export"),
        os("m1"),
        os("--data-dir"),
        data.as_os_str(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let verify = |log: Vec<u8>| -> (u16, Value) {
        rt.block_on(async {
            let response = reqwest::Client::new()
                .post(format!(
                    "{}/api/results/{result_id}/verify",
                    backend.base_url()
                ))
                .body(log)
                .send()
                .await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.json().await?))
        })
        .unwrap()
    };
    let (status, answer) = verify(exported.stdout.clone());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], true);
    assert_eq!(answer["matchId"], "m1");
    assert_eq!(answer["inputLogSha256"], metadata["inputLogSha256"]);

    // One input changed: the player was placed in another world.
    let text = String::from_utf8(
        nexori_recording::format::decompress(&exported.stdout)
            .unwrap()
            .into_owned(),
    )
    .unwrap();
    let tampered = text.replacen("\"worldName\":\"\"", "\"worldName\":\"elsewhere\"", 1);
    assert_ne!(tampered, text);
    let (status, answer) = verify(nexori_recording::format::compress(tampered.as_bytes()));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["verified"], false);
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.starts_with("the log's inputs hash to ")
            && error.ends_with(&format!(
                "; the result says {}: an input was changed, added or removed",
                metadata["inputLogSha256"].as_str().unwrap()
            )),
        "{error}"
    );
}

/// Another build of the mod shows where it would have played differently (exit 1); a log that
/// is not one, or a match that was never recorded, is bad input (exit 2).
#[test]
fn replay_shows_differences_with_exit_1_and_refuses_bad_input_with_exit_2() {
    let work = work_dir("differences");
    let record = work.join("ctz.nxlog");
    simulate_recorded(&root().join("host/demo/capture-the-zone.json"), &record);
    let other = built_mod("last_standing");
    let out = run(&[
        os("replay"),
        os("--log"),
        record.as_os_str(),
        os("--mod"),
        other.as_os_str(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let recorded_sha = nexori_recording::format::sha256_hex(
        &std::fs::read(built_mod("capture_the_zone")).unwrap(),
    );
    assert!(
        text.contains(&format!("(recorded with {})", &recorded_sha[..12])),
        "{text}"
    );
    assert!(text.contains("DIFFERENT: "), "{text}");
    assert!(text.contains("    recorded: {\"at\":"), "{text}");
    assert!(text.contains("    replayed: (nothing)"), "{text}");

    let garbage = work.join("garbage.nxlog");
    std::fs::write(&garbage, "{\"at\": 1}\n").unwrap();
    let out = run(&[os("replay"), os("--log"), garbage.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "nexori replay: {}: line 1: a record before any header",
            garbage.display()
        )
    );

    let empty = work.join("data");
    let out = run(&[
        os("replay"),
        os("nope"),
        os("--data-dir"),
        empty.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end(),
        format!(
            "nexori replay: no recording of match \"nope\" in {}",
            empty.join("recordings").display()
        )
    );
}

/// `nexori serve` records a match, archives its log once the match closes, and `nexori replay`
/// finds it through the configuration file; the log backs the result it recorded.
#[test]
fn serve_records_and_archives_a_match_that_replays_from_its_configuration() {
    use futures_util::SinkExt;
    let serve = common::Serve::start("replay-serve", "");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        serve.ready().await;
        let mut ws = common::connect(serve.port, "arena-1").await;
        let mut lines = vec![scripted_create("m1", &[1])];
        lines.extend(joined("m1", 1));
        lines.push(json!({"type": "game.event", "matchId": "m1", "kind": "script.calls", "data": [
            {"method": "setPlayerOutcome", "args": {"matchId": "m1", "playerUuid": player(1), "outcome": "WIN", "reason": "won"}},
            {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "done"}}
        ]}));
        lines.push(json!({"type": "match.end", "matchId": "m1", "reason": "over"}));
        for line in lines {
            ws.send(common::text(line)).await.unwrap();
        }
        // Keep the connection until the log is archived.
        let logs = serve.work.join("data/recordings/logs");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_dir(&logs).map_or(true, |d| d.count() == 0) {
            assert!(Instant::now() < deadline, "the match's log was never archived");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let config = serve.work.join("nexori.toml");
    let out = run(&[os("replay"), os("m1"), os("--config"), config.as_os_str()]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(!text.contains("stops before"), "{text}");
    assert!(
        text.contains(
            "identical: the replay took the recorded inputs and did what the recording did"
        ),
        "{text}"
    );
    let archived = std::fs::read_dir(serve.work.join("data/recordings/logs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(archived.extension().and_then(|e| e.to_str()), Some("nxlog"));
    let file = std::fs::read(&archived).unwrap();
    let logs = nexori_recording::read_logs(&file).unwrap();
    assert!(logs[0].is_complete());
    let (_, body) = logs[0]
        .results()
        .next()
        .expect("the log recorded the result");
    let verified = nexori_recording::verify(&file, body).unwrap();
    assert_eq!(verified.match_id, "m1");
    assert_eq!(
        body["metadata"]["inputLogSha256"].as_str(),
        Some(verified.input_log_sha256.as_str())
    );
}
