//! The hostile-mod suite: a purpose-built misbehaving mod (`tests/hostile-mod`) attacks the host
//! in one match while a second match of the same mod plays normally. Every case asserts what
//! happened to the attacking match and that the healthy one completed.

use nexori_tests::*;
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;

fn hostile_dir(extra: &[&str]) -> tempdir::Dir {
    let built = root().join("target/nexori-test-mods/hostile.wasm");
    assert!(
        built.is_file(),
        "build the mods first with `cargo xtask build-mods`"
    );
    let dir = mods_subset(extra);
    std::fs::copy(&built, dir.path().join("hostile.wasm")).unwrap();
    dir
}

/// Plays `bad` (which receives `kind`) beside `good` (which finishes normally at 2 s).
fn attack(
    kind: &str,
    data: Value,
    extra_mods: &[&str],
    extra_steps: Vec<Value>,
) -> (Vec<Value>, Value) {
    attack_with(json!({}), kind, data, extra_mods, extra_steps)
}

/// A flood of a million API calls, with a callback deadline no build can run out of: what is
/// tested is the per-call limit, so the run must not depend on how fast the host is built.
fn flood(kind: &str) -> (Vec<Value>, Value) {
    let config = json!({"limits": {"callbackDeadlineMs": 120_000}});
    attack_with(config, kind, Value::Null, &[], vec![])
}

/// [`attack`] with host configuration for the run.
fn attack_with(
    config: Value,
    kind: &str,
    data: Value,
    extra_mods: &[&str],
    extra_steps: Vec<Value>,
) -> (Vec<Value>, Value) {
    let dir = hostile_dir(extra_mods);
    let mut steps = vec![
        create(0, "bad", "hostile", &[1]),
        create(0, "good", "hostile", &[2]),
    ];
    steps.extend(join_all(100, "bad", &[1]));
    steps.extend(join_all(100, "good", &[2]));
    steps.extend(extra_steps);
    steps.push(json!({"at": 1_000, "type": "game.event", "matchId": "bad", "kind": kind, "player": player(1), "data": data}));
    steps.push(json!({"at": 2_000, "type": "game.event", "matchId": "good", "kind": "finish", "player": player(2)}));
    steps.push(json!({"at": 10_000, "type": "wait"}));
    let out = simulate_in(
        dir.path(),
        json!({"startEpochMs": T0, "config": config, "steps": steps}),
    );
    let matches = serde_json::to_value(&out.matches).unwrap();
    (trace_json(&out), matches)
}

fn assert_good_completed(trace: &[Value], matches: &Value) {
    let good: Vec<&Value> = trace
        .iter()
        .filter(|e| e["kind"] == "result" && e["body"]["localMatchId"] == "good")
        .collect();
    assert_eq!(good.len(), 1, "the healthy match reported once");
    assert_eq!(good[0]["body"]["players"][0]["outcome"], "WIN");
    assert_eq!(matches["good"]["resultSubmittedAtEpochMs"], T0 + 2_000);
    assert!(
        !trace
            .iter()
            .any(|e| e["kind"] == "fault" && e["matchId"] == "good")
    );
}

/// The attacking match faulted with `kind` and was finished by the fault policy.
fn assert_faulted(trace: &[Value], matches: &Value, expected: &str) {
    let faults: Vec<&Value> = trace.iter().filter(|e| e["kind"] == "fault").collect();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["matchId"], "bad");
    assert_eq!(faults[0]["mod"], "hostile");
    let error = faults[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with(expected),
        "fault was {error:?}, expected {expected:?}"
    );
    let bad: Vec<&Value> = trace
        .iter()
        .filter(|e| e["kind"] == "result" && e["body"]["localMatchId"] == "bad")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0]["body"]["reason"], "RULES_MOD_FAULT");
    assert_eq!(bad[0]["body"]["players"][0]["outcome"], "NO_CONTEST");
    assert_eq!(
        bad[0]["body"]["players"][0]["reason"],
        format!("RULES_MOD_FAULT: {error}")
            .chars()
            .take(256)
            .collect::<String>()
    );
    assert_eq!(bad[0]["body"]["customData"]["faultedBy"], "nexori");
    assert!(
        trace
            .iter()
            .any(|e| e["type"] == "player.message" && e["matchId"] == "bad")
    );
    assert!(
        trace
            .iter()
            .any(|e| e["type"] == "player.return" && e["matchId"] == "bad")
    );
    assert!(matches["bad"]["completedAtEpochMs"].as_i64().unwrap() > 0);
    assert_good_completed(trace, matches);
}

#[test]
fn a_panic_ends_only_its_match() {
    let (trace, matches) = attack("hostile.panic", Value::Null, &[], vec![]);
    assert_faulted(&trace, &matches, "trap: unreachable");
    // The fault carries the panic message the mod wrote to stderr, on one line, located where
    // the hostile mod's source has it.
    let source = std::fs::read_to_string(root().join("tests/hostile-mod/src/lib.rs")).unwrap();
    let call = r#"panic!("hostile mod panics on purpose")"#;
    let (line, text) = source
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(call))
        .unwrap();
    let location = format!(
        "tests/hostile-mod/src/lib.rs:{}:{}",
        line + 1,
        text.find(call).unwrap() + 1
    );
    let fault = trace.iter().find(|e| e["kind"] == "fault").unwrap();
    assert_eq!(
        fault["error"],
        format!(
            "trap: unreachable (the mod panicked or aborted): panicked at {location}: hostile mod \
             panics on purpose"
        )
    );
}

#[test]
fn a_stack_overflow_ends_only_its_match() {
    let (trace, matches) = attack("hostile.stack_overflow", Value::Null, &[], vec![]);
    assert_faulted(&trace, &matches, "stack overflow");
}

#[test]
fn running_rusts_shadow_stack_off_memory_ends_only_its_match() {
    let (trace, matches) = attack("hostile.shadow_stack_overflow", Value::Null, &[], vec![]);
    assert_faulted(&trace, &matches, "trap: out of bounds memory access");
}

#[test]
fn an_endless_loop_in_a_callback_hits_the_deadline() {
    let (trace, matches) = attack("hostile.spin", Value::Null, &[], vec![]);
    assert_faulted(
        &trace,
        &matches,
        "deadline exceeded (250 ms, limits.callbackDeadlineMs)",
    );
}

#[test]
fn an_endless_loop_in_a_timer_hits_the_deadline() {
    let (trace, matches) = attack("hostile.timer_spin", Value::Null, &[], vec![]);
    assert_faulted(
        &trace,
        &matches,
        "deadline exceeded (250 ms, limits.callbackDeadlineMs)",
    );
    let fault = trace.iter().find(|e| e["kind"] == "fault").unwrap();
    assert_eq!(
        fault["at"],
        T0 + 1_010,
        "the timer fired 10 ms after it was set"
    );
}

#[test]
fn unbounded_memory_hits_the_limit() {
    let (trace, matches) = attack("hostile.grow", Value::Null, &[], vec![]);
    assert_faulted(
        &trace,
        &matches,
        "memory limit reached (limits.memoryBytes)",
    );
}

#[test]
fn a_huge_string_argument_traps_the_mod() {
    let (trace, matches) = attack("hostile.huge_string", Value::Null, &[], vec![]);
    assert_faulted(
        &trace,
        &matches,
        "error: the mod passed a 2097152-byte `reason`; the limit is 65536 bytes",
    );
}

#[test]
fn a_million_timers_are_refused_past_the_limit() {
    let (trace, matches) = flood("hostile.timers");
    assert_no_fault(&trace);
    // 1 024 timers are accepted, the other 998 976 refused.
    assert_eq!(bad_logs(&trace), ["timers refused: 998976"]);
    assert_good_completed(&trace, &matches);
}

#[test]
fn a_command_flood_is_cut_at_the_per_callback_limit() {
    let (trace, matches) = flood("hostile.commands");
    assert_no_fault(&trace);
    let sent = trace
        .iter()
        .filter(|e| e["type"] == "game.command" && e["matchId"] == "bad")
        .count();
    assert_eq!(sent, 1000);
    assert_eq!(bad_logs(&trace), ["commands refused: 99000"]);
    assert_good_completed(&trace, &matches);
}

#[test]
fn a_log_flood_is_cut_at_the_per_callback_limit() {
    let (trace, matches) = flood("hostile.logs");
    assert_no_fault(&trace);
    let logs: Vec<&Value> = trace
        .iter()
        .filter(|e| e["kind"] == "log" && e["matchId"] == "bad")
        .collect();
    assert_eq!(logs.len(), 1001);
    assert_eq!(
        logs[1000]["message"],
        "log line limit reached: at most 1000 per callback; the rest is dropped"
    );
    assert_eq!(logs[1000]["level"], "warn");
    assert_good_completed(&trace, &matches);
}

fn assert_no_fault(trace: &[Value]) {
    let faults: Vec<&Value> = trace.iter().filter(|e| e["kind"] == "fault").collect();
    assert!(faults.is_empty(), "{faults:?}");
}

/// The log lines of the attacking match.
fn bad_logs(trace: &[Value]) -> Vec<&str> {
    trace
        .iter()
        .filter(|e| e["kind"] == "log" && e["matchId"] == "bad")
        .filter_map(|e| e["message"].as_str())
        .collect()
}

#[test]
fn printing_is_harmless() {
    let (trace, matches) = attack("hostile.print", Value::Null, &[], vec![]);
    assert_no_fault(&trace);
    assert_good_completed(&trace, &matches);
}

#[test]
fn forged_and_foreign_match_ids_look_missing() {
    let other = vec![
        create(0, "other", "scripted", &[3]),
        json!({"at": 100, "type": "player.arrive", "matchId": "other", "player": player(3)}),
    ];
    let (trace, matches) = attack(
        "hostile.forged",
        json!(["other", "made-up", "", "OTHER "]),
        &["scripted"],
        other,
    );
    let calls: Vec<&Value> = trace
        .iter()
        .filter(|e| e["kind"] == "api" && e["mod"] == "hostile" && e["matchId"] != "good")
        .collect();
    let outcomes: Vec<(&str, &str)> = calls
        .iter()
        .filter(|e| e["method"] == "setPlayerOutcome")
        .map(|e| {
            (
                e["status"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("MATCH_MISSING", "Match is not active."),
            ("MATCH_MISSING", "Match is not active."),
            ("MATCH_MISSING", "Match id cannot be blank."),
            ("MATCH_MISSING", "Match is not active."),
        ]
    );
    let answers = |method: &str, field: &str| -> Vec<Value> {
        calls
            .iter()
            .filter(|e| e["method"] == method)
            .map(|e| e[field].clone())
            .collect()
    };
    assert_eq!(
        answers("submitFinalMatchResult", "status"),
        vec![json!("MATCH_MISSING"); 4]
    );
    assert_eq!(
        answers("returnPlayerToLobby", "status"),
        vec![json!("MATCH_MISSING"); 4]
    );
    assert_eq!(
        answers("findActiveMatchInfo", "result"),
        vec![Value::Null; 4]
    );
    assert_eq!(matches["other"]["playerOutcomes"], json!({}));
    assert_no_fault(&trace);
    assert_good_completed(&trace, &matches);
}

#[test]
fn custom_data_bombs_are_rejected_with_exact_messages() {
    let (trace, _) = attack("hostile.deep_json", Value::Null, &[], vec![]);
    let submit = trace
        .iter()
        .find(|e| e["method"] == "submitFinalMatchResult" && e["matchId"] == "bad")
        .unwrap();
    assert_eq!(
        (submit["status"].as_str(), submit["message"].as_str()),
        (
            Some("INVALID_RESULT"),
            Some("customData exceeds max depth 8.")
        )
    );
    let (trace, matches) = attack("hostile.bad_escape", Value::Null, &[], vec![]);
    let submit = trace
        .iter()
        .find(|e| e["method"] == "submitFinalMatchResult" && e["matchId"] == "bad")
        .unwrap();
    assert_eq!(submit["status"], "INVALID_RESULT");
    assert!(
        submit["message"]
            .as_str()
            .unwrap()
            .starts_with("customData is not valid JSON"),
        "{submit}"
    );
    assert_good_completed(&trace, &matches);
}

/// How long a WASI wait may hold the host before the test calls it stuck (the mods wait an hour
/// or forever).
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// [`attack`] on a thread of its own: a host that stays blocked in the mod fails the test at
/// [`STUCK_AFTER`] instead of hanging it.
fn attack_bounded(kind: &str) -> (Vec<Value>, Value) {
    let (done, result) = std::sync::mpsc::channel();
    let attack_kind = kind.to_string();
    std::thread::spawn(move || {
        let _ = done.send(attack(&attack_kind, Value::Null, &[], vec![]));
    });
    result.recv_timeout(STUCK_AFTER).unwrap_or_else(|_| {
        panic!(
            "the host was still blocked in the mod's `{kind}` wait after {} s",
            STUCK_AFTER.as_secs()
        )
    })
}

/// The fault every refused WASI wait gets, word for word.
const WAIT_REFUSED: &str = "error: the mod tried to block in a WASI wait (wasi:io/poll); rules mods must not sleep or wait, use set_timer";

fn assert_wait_refused(kind: &str) {
    let (trace, matches) = attack_bounded(kind);
    assert_faulted(&trace, &matches, WAIT_REFUSED);
    let bad = trace
        .iter()
        .find(|e| e["kind"] == "result" && e["body"]["localMatchId"] == "bad")
        .unwrap();
    assert_eq!(
        bad["body"]["players"][0]["reason"],
        format!("RULES_MOD_FAULT: {WAIT_REFUSED}")
    );
    let fault = trace.iter().find(|e| e["kind"] == "fault").unwrap();
    assert_eq!(fault["error"], WAIT_REFUSED);
    assert_eq!(
        fault["at"],
        T0 + 1_000,
        "refused at once, not at a deadline"
    );
}

#[test]
fn a_thread_sleep_is_refused_at_once() {
    assert_wait_refused("hostile.sleep");
}

#[test]
fn polling_a_deadline_at_the_end_of_time_is_refused_at_once() {
    assert_wait_refused("hostile.poll_forever");
}

#[test]
fn blocking_on_a_pollable_is_refused_at_once() {
    assert_wait_refused("hostile.block");
}

#[test]
fn a_zero_length_sleep_still_works() {
    let (trace, matches) = attack_bounded("hostile.nap");
    assert_no_fault(&trace);
    let bad = trace
        .iter()
        .find(|e| e["kind"] == "result" && e["body"]["localMatchId"] == "bad")
        .unwrap();
    assert_eq!(bad["body"]["players"][0]["outcome"], "WIN");
    assert_eq!(bad["body"]["players"][0]["reason"], "napped");
    assert_good_completed(&trace, &matches);
}

#[test]
fn listener_registrations_stop_at_the_per_instance_limit() {
    let (trace, matches) = attack("hostile.listeners", json!(1000), &[], vec![]);
    assert_no_fault(&trace);
    // `init` registered one; 63 more fit under the default limit of 64.
    let log = trace
        .iter()
        .find(|e| e["kind"] == "log" && e["matchId"] == "bad")
        .unwrap();
    assert_eq!(
        log["message"],
        "listeners refused: 937; first refusal: listener registration limit reached: an instance may register at most 64 listeners (limits.maxListenerRegistrations)"
    );
    assert_good_completed(&trace, &matches);
}

#[test]
fn a_mod_registering_a_million_ids_at_load_is_rejected() {
    let dir = hostile_dir(&[]);
    let mut config = nexori::config::HostConfig::default();
    config
        .mods
        .insert("hostile".into(), json!({"registerAtLoad": 1_000_000}));
    let mut host = virtual_host_with(config, T0, 1, false);
    let failures = host.load_mods_dir(dir.path()).unwrap();
    let errors: Vec<String> = failures.iter().map(|(_, e)| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "the mod failed at start-up: listener registration limit reached: an instance may register at most 64 listeners (limits.maxListenerRegistrations)"
        ]
    );
    assert_eq!(host.mods().count(), 0);
}
