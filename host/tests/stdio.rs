//! `nexori stdio` as a game server sees it: a child process that takes bridge messages as JSON
//! lines and answers with commands and `{"type":"error","error":...,"line":N}`. The input is
//! written in one go, so the host reads it in turns of several lines (game events batched to
//! the mod); every line must still get its own answer, numbered as it was sent.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

const PLAYER: &str = "11111111-1111-4111-8111-111111111111";
const STRANGER: &str = "22222222-2222-4222-8222-222222222222";

fn send_game_command(name: &str) -> String {
    json!({"type": "game.event", "matchId": "m1", "kind": "script.call",
           "data": {"method": "sendGameCommand", "args": {"matchId": "m1", "name": name}}})
    .to_string()
}

/// Runs `nexori stdio` with the scripted mod on `input` until it exits; its output lines.
fn run_stdio(input: &[u8]) -> Vec<Value> {
    let built =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods/scripted.wasm");
    assert!(
        built.is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let work = std::env::temp_dir().join(format!("nexori-stdio-{}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mods = work.join("mods");
    std::fs::create_dir_all(&mods).unwrap();
    std::fs::copy(built, mods.join("scripted.wasm")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(["stdio", "--drain-seconds", "1", "--mods"])
        .arg(&mods)
        .arg("--data-dir")
        .arg(work.join("data"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("nexori stdio starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&work);

    out.lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

#[test]
fn every_line_is_answered_in_order_with_its_line_number() {
    let lines = [
        "{not json".to_string(),
        String::new(),
        json!({"type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a",
               "rulesEngineId": "scripted", "externalMatchId": "ext-1",
               "expectedPlayers": [{"uuid": PLAYER, "name": "Alice"}]})
        .to_string(),
        json!({"type": "game.event", "matchId": "nope", "kind": "x"}).to_string(),
        json!({"type": "player.arrive", "matchId": "m1", "player": PLAYER, "name": "Alice"})
            .to_string(),
        send_game_command("first"),
        send_game_command("second"),
        json!({"type": "game.event", "matchId": "m1", "player": STRANGER, "kind": "x"}).to_string(),
        send_game_command("third"),
        json!({"type": "player.teleport", "matchId": "m1"}).to_string(),
    ];

    let answers = run_stdio((lines.join("\n") + "\n").as_bytes());
    let out = serde_json::to_string(&answers).unwrap();
    let errors: Vec<(u64, &str)> = answers
        .iter()
        .filter(|a| a["type"] == "error")
        .map(|a| (a["line"].as_u64().unwrap(), a["error"].as_str().unwrap()))
        .collect();
    assert_eq!(errors.len(), 4, "{out}");
    assert_eq!(errors[0].0, 1);
    assert!(
        errors[0].1.starts_with("not valid JSON: "),
        "{}",
        errors[0].1
    );
    assert_eq!(errors[1], (4, "unknown match \"nope\""));
    assert_eq!(
        errors[2],
        (
            8,
            "player 22222222-2222-4222-8222-222222222222 is not part of match \"m1\""
        )
    );
    assert_eq!(errors[3].0, 10);
    assert!(errors[3].1.contains("player.teleport"), "{}", errors[3].1);

    // The refused event between them does not stop the events around it from reaching the mod.
    let commands: Vec<&Value> = answers.iter().filter(|a| a["type"] != "error").collect();
    assert_eq!(
        commands,
        [
            &json!({"type": "game.command", "matchId": "m1", "name": "first"}),
            &json!({"type": "game.command", "matchId": "m1", "name": "second"}),
            &json!({"type": "game.command", "matchId": "m1", "name": "third"}),
        ]
    );
}

#[test]
fn a_line_that_is_not_utf8_is_answered_and_input_goes_on() {
    let create = json!({"type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a",
                        "rulesEngineId": "scripted", "expectedPlayers": [{"uuid": PLAYER, "name": "Alice"}]});
    let arrive =
        json!({"type": "player.arrive", "matchId": "m1", "player": PLAYER, "name": "Alice"});
    let mut input = Vec::new();
    for line in [create.to_string(), arrive.to_string()] {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"{\"type\": \"game.event\", \"kind\": \"caf\xe9\"}\n");
    input.extend_from_slice(send_game_command("after").as_bytes());
    input.push(b'\n');

    let answers = run_stdio(&input);
    assert_eq!(
        answers,
        [
            json!({"type": "error", "error": "the line is not valid UTF-8 (invalid byte at offset 35)", "line": 3}),
            json!({"type": "game.command", "matchId": "m1", "name": "after"}),
        ]
    );
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let built =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods/scripted.wasm");
    let work = std::env::temp_dir().join(format!("nexori-stdio-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("mods")).unwrap();
    std::fs::copy(built, work.join("mods/scripted.wasm")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(["stdio", "--drain-seconds", "0", "--mods"])
        .arg(work.join("mods"))
        .arg("--data-dir")
        .arg(work.join("data"))
        .env("NEXORI_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("nexori stdio runs");
    let _ = std::fs::remove_dir_all(&work);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("mod loaded"), "{log}");
    assert!(!log.contains('\x1b'), "ANSI escape in a piped log: {log:?}");
}

/// Lines a child process writes, read on a thread so a test can wait with a deadline.
fn lines_of(stream: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The next line that satisfies `wanted`, or a panic naming `what` at the deadline.
fn wait_for_line(
    rx: &std::sync::mpsc::Receiver<String>,
    deadline: std::time::Instant,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if wanted(&line) => return line,
            Ok(_) => {}
            Err(_) => panic!("no {what} before the deadline"),
        }
    }
}

/// A real fault in the outbox: another connection holds SQLite's write lock on
/// `outbox.sqlite`, so the host's commit of a turn's result fails with "database is locked".
/// That turn's commands (and every later one) must not reach the game server until the result
/// is durable; then they go out in their original order, and the result is in the outbox.
#[test]
fn a_failing_outbox_commit_holds_the_commands_back_until_the_result_is_durable() {
    use nexori_reporting::outbox::{Outbox, RecordStatus};
    use std::time::{Duration, Instant};

    let built =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods/scripted.wasm");
    assert!(
        built.is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    let work = std::env::temp_dir().join(format!("nexori-stdio-commit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mods = work.join("mods");
    std::fs::create_dir_all(&mods).unwrap();
    std::fs::copy(built, mods.join("scripted.wasm")).unwrap();
    let data = work.join("data");
    let db = data.join("outbox.sqlite");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let backend = rt
        .block_on(nexori_backend::start(nexori_backend::BackendConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: "commit-token".into(),
            database: work.join("backend.sqlite"),
            faults: nexori_backend::FaultPlan::none(),
            connections: Default::default(),
        }))
        .unwrap();
    let config = work.join("nexori.json");
    std::fs::write(
        &config,
        json!({
            "serverId": "c4a5b000-0000-4000-8000-000000000002",
            "baseUrl": backend.base_url(),
            "serverToken": "commit-token",
            "resultReportingEnabled": true,
            "resultRetryIntervalMs": 200,
            // Each failing attempt holds the host for this long at most; short keeps it lively.
            "outboxBusyTimeoutMs": 50,
            // The second held command pauses the host.
            "outboxMaxHeldCommands": 2
        })
        .to_string(),
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(["stdio", "--drain-seconds", "10", "--config"])
        .arg(&config)
        .arg("--mods")
        .arg(&mods)
        .arg("--data-dir")
        .arg(&data)
        .env("NEXORI_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nexori stdio starts");
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let mut send = |line: Value| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    };
    let deadline = Instant::now() + Duration::from_secs(60);

    // The match is running and the host is answering.
    send(
        json!({"type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a",
                "rulesEngineId": "scripted", "externalMatchId": "ext-1",
                "expectedPlayers": [{"uuid": PLAYER, "name": "Alice"}]}),
    );
    send(json!({"type": "player.arrive", "matchId": "m1", "player": PLAYER, "name": "Alice"}));
    send(json!({"type": "player.placed", "matchId": "m1", "player": PLAYER}));
    send(serde_json::from_str(&send_game_command("ready")).unwrap());
    let ready = wait_for_line(&out, deadline, "answer from the host", |_| true);
    assert_eq!(
        serde_json::from_str::<Value>(&ready).unwrap(),
        json!({"type": "game.command", "matchId": "m1", "name": "ready"})
    );

    // Another process takes the database's write lock (WAL: readers still read).
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();

    // One turn accepts the result and issues a command; a later turn issues another.
    send(
        json!({"type": "game.event", "matchId": "m1", "kind": "script.calls", "data": [
            {"method": "sendGameCommand", "args": {"matchId": "m1", "name": "with-result"}},
            {"method": "setPlayerOutcome", "args": {"matchId": "m1", "playerUuid": PLAYER, "outcome": "WIN", "reason": "won"}},
            {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "done"}}
        ]}),
    );
    let failing = |line: &str| line.contains("database is locked");
    let first = wait_for_line(&err, deadline, "log line for the failing commit", failing);
    send(serde_json::from_str(&send_game_command("after")).unwrap());
    // The commit is retried and keeps failing; by the second failure any command that was
    // going to slip out has.
    wait_for_line(&err, deadline, "second failing commit", failing);
    let leaked: Vec<String> = out.try_iter().collect();
    assert!(
        leaked.is_empty(),
        "commands went out while the result was not durable: {leaked:?}"
    );
    assert!(
        first.contains("ERROR") && first.contains("outbox commit failing"),
        "{first}"
    );
    let stored: i64 = locker
        .query_row("SELECT COUNT(*) FROM results", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 0);

    // Two commands are held: the host pauses and reads no more input, so a bad line gets no
    // answer until the commit succeeds (it would otherwise be answered at once).
    wait_for_line(&err, deadline, "the pause", |line| {
        failing(line) && line.contains("the host is paused (outboxMaxHeldCommands reached)")
    });
    writeln!(stdin, "{{not json").unwrap();
    stdin.flush().unwrap();
    wait_for_line(
        &err,
        deadline,
        "a failing commit after the bad line",
        failing,
    );
    wait_for_line(&err, deadline, "another failing commit", failing);
    let answered: Vec<String> = out.try_iter().collect();
    assert!(answered.is_empty(), "a paused host answered: {answered:?}");

    // The lock goes: the next attempt commits, and the held commands follow in order.
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    let mut commands = Vec::new();
    while commands.len() < 3 {
        let line = wait_for_line(&out, deadline, "held commands after the commit", |_| true);
        commands.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    assert_eq!(
        commands[..2],
        [
            json!({"type": "game.command", "matchId": "m1", "name": "with-result"}),
            json!({"type": "game.command", "matchId": "m1", "name": "after"}),
        ]
    );
    // Then the host reads on, and the bad line is answered in its place.
    assert_eq!(commands[2]["type"], "error", "{:?}", commands[2]);
    assert_eq!(commands[2]["line"], 7, "{:?}", commands[2]);
    let records = Outbox::open(&db).unwrap().list(None).unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].external_match_id, "ext-1");
    assert!(matches!(
        records[0].status,
        RecordStatus::Pending | RecordStatus::Acknowledged
    ));

    // End of input: the host delivers the result and exits.
    drop(stdin);
    let exit_deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > exit_deadline {
            let _ = child.kill();
            panic!("nexori stdio did not exit after its input closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let records = Outbox::open(&db).unwrap().list(None).unwrap();
    assert_eq!(records[0].status, RecordStatus::Acknowledged, "{records:?}");
    let _ = std::fs::remove_dir_all(&work);
}
