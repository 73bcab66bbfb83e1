//! Result delivery and admission publishing against the reference backend over real HTTP on
//! loopback, on a virtual clock so back-off intervals are exact.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nexori::config::HostConfig;
use nexori_backend::{self as backend, BackendConfig, BackendHandle, FaultKind, FaultPlan};
use nexori_reporting::outbox::{Outbox, OutboxRecord, RecordStatus};
use nexori_reporting::sender::{DurableReporter, ResultSender, SenderSettings};
use nexori_reporting::{BackendReportStatus, EnqueueOutcome, IdGenerator, ResultReporter};
use nexori_runtime::clock::{Clock, VirtualClock};
use nexori_runtime::custom_data;
use nexori_runtime::results::{AcceptedResult, ResultPlayer, payload_hash};
use serde_json::{Value, json};
use uuid::Uuid;

const T0: i64 = 1_760_000_000_000;
const TOKEN: &str = "test-token";
const SERVER_ID: &str = "5a1e0000-0000-4000-8000-000000000001";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn start_backend(rt: &tokio::runtime::Runtime, listen: &str) -> BackendHandle {
    rt.block_on(backend::start(BackendConfig {
        listen: listen.parse().unwrap(),
        token: TOKEN.into(),
        database: ":memory:".into(),
        faults: FaultPlan::none(),
        connections: Default::default(),
    }))
    .unwrap()
}

fn result(n: u32, winner: bool) -> AcceptedResult {
    let uuid = Uuid::parse_str(&format!("{n:08x}-0000-4000-8000-000000000000")).unwrap();
    let mut r = AcceptedResult {
        local_match_id: format!("m{n}"),
        external_match_id: format!("ext-{n}"),
        assignment_id: String::new(),
        assignment_ids_by_player_uuid: Default::default(),
        queue_id: "q".into(),
        arena_id: "a".into(),
        rules_engine_id: "scripted".into(),
        players: vec![ResultPlayer {
            player_uuid: uuid,
            outcome: if winner { "WIN" } else { "LOSS" }.into(),
            reason: String::new(),
        }],
        reason: "done".into(),
        metadata: vec![],
        custom_data: custom_data::parse(Some(r#"{"n": 1}"#)).unwrap(),
        payload_hash: String::new(),
        ended_at_epoch_ms: T0,
    };
    r.payload_hash = payload_hash(&r);
    r
}

/// The result payload hash (docs/arena-behaviour.md#payload-hash), a known answer derived by hand
/// from the documented text (one line per field, players sorted by UUID, metadata by key,
/// customData in its canonical form, which D8 writes without HTML escaping):
///
/// ```text
/// printf 'matchId=m-kat\nqueueId=q\narenaId=a\nexternalMatchId=ext-kat\nrulesEngineId=scripted\nreason=done\nplayer=11111111-0000-4000-8000-000000000000|WIN|\nplayer=22222222-0000-4000-8000-000000000000|LOSS|left early\nmetadata=k1|v1\nmetadata=k2|v=2\ncustomData={"a":"<b>","z":1}\n' | sha256sum
/// ```
#[test]
fn the_result_payload_hash_is_the_documented_one() {
    let player = |n: u32, outcome: &str, reason: &str| ResultPlayer {
        player_uuid: Uuid::parse_str(&format!("{n:08}-0000-4000-8000-000000000000")).unwrap(),
        outcome: outcome.into(),
        reason: reason.into(),
    };
    let r = AcceptedResult {
        local_match_id: "m-kat".into(),
        external_match_id: "ext-kat".into(),
        assignment_id: String::new(),
        assignment_ids_by_player_uuid: Default::default(),
        queue_id: "q".into(),
        arena_id: "a".into(),
        rules_engine_id: "scripted".into(),
        players: vec![
            player(22222222, "LOSS", "left early"),
            player(11111111, "WIN", ""),
        ],
        reason: "done".into(),
        metadata: vec![("k1".into(), "v1".into()), ("k2".into(), "v=2".into())],
        custom_data: custom_data::parse(Some(r#"{"z": 1, "a": "<b>"}"#)).unwrap(),
        payload_hash: String::new(),
        ended_at_epoch_ms: T0,
    };
    assert_eq!(
        payload_hash(&r),
        "897a6e0a830c5e168f20d179188fc04d0d57d922be9ae500dfd47fbc8790e551"
    );
}

struct Rig {
    clock: VirtualClock,
    outbox: Arc<Outbox>,
    sender: Arc<ResultSender>,
    reporter: DurableReporter,
    /// Results queued only to watch the sender take a round (see `assert_not_sent_again_by`).
    probes: u32,
}

fn rig(base_url: &str) -> Rig {
    let config = HostConfig {
        base_url: base_url.into(),
        server_token: TOKEN.into(),
        server_id: SERVER_ID.into(),
        result_reporting_enabled: true,
        request_timeout_ms: 500,
        result_retry_interval_ms: 7_000,
        ..HostConfig::default()
    }
    .normalized();
    let clock = VirtualClock::new(T0);
    let outbox = Arc::new(Outbox::in_memory().unwrap());
    let sender = Arc::new(
        ResultSender::start(
            outbox.clone(),
            Arc::new(clock.clone()),
            SenderSettings::from_settings(&config.reporting()),
        )
        .unwrap(),
    );
    let reporter = DurableReporter::new(
        config.reporting(),
        IdGenerator::Random,
        outbox.clone(),
        Some(sender.clone()),
    );
    Rig {
        clock,
        outbox,
        sender,
        reporter,
        probes: 0,
    }
}

impl Rig {
    /// What the host does with an accepted result in one turn: enqueue, then the end-of-turn
    /// commit.
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome {
        let outcome = self.reporter.enqueue(result, now);
        self.reporter.commit().expect("the outbox commits");
        outcome
    }

    fn record(&self, id: &str) -> OutboxRecord {
        self.outbox.get(id).unwrap().unwrap()
    }

    /// Waits (real time) until `check` holds for the record.
    fn wait_for(&self, id: &str, check: impl Fn(&OutboxRecord) -> bool) -> OutboxRecord {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.record(id);
            if check(&r) {
                return r;
            }
            assert!(Instant::now() < deadline, "timed out; record is {r:?}");
            self.sender.wake();
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Moves virtual time and lets the sender look.
    fn advance_to(&self, at: i64) {
        self.clock.set(at);
        self.sender.wake();
    }

    /// Moves virtual time to `at` and proves that the sender, looking at `at`, did not send `id`
    /// again. A sleep cannot show that (it passes whenever the sender has not looked yet), so this
    /// waits for a positive signal: two probe results, each due at once, queued one after the
    /// other, and the second queued only once the first was attempted. Each round of the sender
    /// reads the clock, then takes everything due at that time in one query (ordered by due time,
    /// up to 32 records); the round that took the first probe may have read the clock just before
    /// it moved, but the round that took the second started after that one, so it read `at` and
    /// would have taken `id` with it had `id` been due.
    fn assert_not_sent_again_by(&mut self, id: &str, at: i64) {
        let attempts = self.record(id).attempt_count;
        self.advance_to(at);
        for _ in 0..2 {
            self.probes += 1;
            let n = 1_000 + self.probes;
            let probe = self.enqueue(&result(n, true), at);
            assert_eq!(probe.status, BackendReportStatus::Queued);
            self.wait_for(&probe.result_id, |r| r.attempt_count >= 1);
        }
        assert_eq!(
            self.record(id).attempt_count,
            attempts,
            "{id} was sent again by {at}"
        );
    }
}

#[test]
fn a_result_is_delivered_once_the_backend_comes_up() {
    let rt = runtime();
    // Find a free port, then leave it closed.
    let probe = start_backend(&rt, "127.0.0.1:0");
    let addr = probe.addr();
    rt.block_on(probe.shutdown());
    let mut rig = rig(&format!("http://{addr}"));
    let queued = rig.enqueue(&result(1, true), T0);
    assert_eq!(queued.status, BackendReportStatus::Queued);
    assert_eq!(queued.message, "Result queued.");
    // Stored before enqueue returned.
    assert_eq!(rig.record(&queued.result_id).status, RecordStatus::Pending);
    let r = rig.wait_for(&queued.result_id, |r| {
        r.attempt_count == 1 && r.last_error_class == "TRANSPORT"
    });
    assert_eq!(
        r.next_attempt_at_epoch_ms,
        T0 + 7_000,
        "no answer: resultRetryIntervalMs"
    );
    assert_eq!(r.status, RecordStatus::Pending);

    let backend = start_backend(&rt, &addr.to_string());
    // Not before the back-off.
    rig.assert_not_sent_again_by(&queued.result_id, T0 + 6_999);
    rig.advance_to(T0 + 7_000);
    let r = rig.wait_for(&queued.result_id, |r| {
        r.status == RecordStatus::Acknowledged
    });
    assert_eq!(
        (
            r.attempt_count,
            r.last_status_code,
            r.last_backend_status.as_str()
        ),
        (2, 200, "ACCEPTED")
    );
    let stored: Value = rt
        .block_on(async {
            reqwest::get(format!(
                "{}/api/results/{}",
                backend.base_url(),
                queued.result_id
            ))
            .await?
            .json()
            .await
        })
        .unwrap();
    assert_eq!(stored["body"]["resultId"], queued.result_id.as_str());
    assert_eq!(
        stored["body"]["sentAtEpochMs"],
        T0 + 7_000,
        "sentAt is the attempt's time"
    );
    assert_eq!(stored["body"]["endedAtEpochMs"], T0);
}

#[test]
fn auth_failures_back_off_thirty_seconds_and_permanent_failures_never_retry() {
    let rt = runtime();
    let backend = start_backend(&rt, "127.0.0.1:0");
    let mut rig = rig(&backend.base_url());
    backend
        .set_faults(
            FaultPlan::none()
                .with_seed(1)
                .with(FaultKind::Unauthorized, 1.0),
        )
        .unwrap();
    let auth = rig.enqueue(&result(1, true), T0);
    let r = rig.wait_for(&auth.result_id, |r| {
        r.attempt_count == 1 && r.last_status_code == 401
    });
    assert_eq!(r.next_attempt_at_epoch_ms, T0 + 30_000);
    backend.set_faults(FaultPlan::none()).unwrap();
    rig.assert_not_sent_again_by(&auth.result_id, T0 + 29_999);
    rig.advance_to(T0 + 30_000);
    rig.wait_for(&auth.result_id, |r| r.status == RecordStatus::Acknowledged);

    // The backend's schema check refuses a result without a WIN: 422, never retried.
    let bad = rig.enqueue(&result(2, false), T0 + 30_000);
    let r = rig.wait_for(&bad.result_id, |r| {
        r.status == RecordStatus::FailedPermanent
    });
    assert_eq!((r.last_status_code, r.attempt_count), (422, 1));
    // Never retried.
    rig.assert_not_sent_again_by(&bad.result_id, T0 + 1_000_000);
    // An operator can put it back in line.
    assert!(
        rig.outbox
            .retry_now(&bad.result_id, T0 + 1_000_000)
            .unwrap()
    );
    rig.wait_for(&bad.result_id, |r| {
        r.attempt_count == 2 && r.status == RecordStatus::FailedPermanent
    });
}

#[test]
fn rate_limits_server_errors_and_timeouts_are_retried() {
    let rt = runtime();
    let backend = start_backend(&rt, "127.0.0.1:0");
    let mut rig = rig(&backend.base_url());
    for (n, kind, expected_status) in [
        (1, FaultKind::RateLimited, 429),
        (2, FaultKind::ServerError, 500),
        (3, FaultKind::Timeout, 0),
    ] {
        let mut plan = FaultPlan::none().with_seed(n as u64).with(kind, 1.0);
        plan.timeout_hold_ms = Some(2_000);
        backend.set_faults(plan).unwrap();
        let start = rig.clock.now_epoch_ms();
        let queued = rig.enqueue(&result(n, true), start);
        let r = rig.wait_for(&queued.result_id, |r| {
            r.attempt_count == 1 && r.updated_at_epoch_ms > 0 && r.next_attempt_at_epoch_ms > 0
        });
        assert_eq!(r.last_status_code, expected_status, "{kind:?}");
        assert_eq!(r.next_attempt_at_epoch_ms, start + 7_000, "{kind:?}");
        backend.set_faults(FaultPlan::none()).unwrap();
        rig.advance_to(start + 7_000);
        let r = rig.wait_for(&queued.result_id, |r| {
            r.status == RecordStatus::Acknowledged
        });
        // A timed-out request may still have been processed: the retry is then a DUPLICATE.
        assert!(
            ["ACCEPTED", "DUPLICATE"].contains(&r.last_backend_status.as_str()),
            "{kind:?}: {r:?}"
        );
    }
    let stats: Value = rt
        .block_on(async {
            reqwest::get(format!("{}/api/stats", backend.base_url()))
                .await?
                .json()
                .await
        })
        .unwrap();
    assert_eq!(stats["results"]["first"], 3);
    assert_eq!(stats["results"]["conflicts"], 0);
}

#[test]
fn the_same_match_is_not_queued_twice() {
    let rt = runtime();
    let backend = start_backend(&rt, "127.0.0.1:0");
    let mut rig = rig(&backend.base_url());
    let first = rig.enqueue(&result(1, true), T0);
    let again = rig.enqueue(&result(1, true), T0);
    assert_eq!(
        (again.status, again.message.as_str()),
        (
            BackendReportStatus::AlreadySubmitted,
            "Result already exists."
        )
    );
    assert_eq!(again.result_id, first.result_id);
    let mut different = result(1, true);
    different.reason = "other".into();
    different.payload_hash = payload_hash(&different);
    let conflict = rig.enqueue(&different, T0);
    assert_eq!(conflict.status, BackendReportStatus::DuplicateConflict);
    assert_eq!(
        conflict.message,
        "Result conflicts with an existing local or external match result."
    );
    assert_eq!(rig.outbox.list(None).unwrap().len(), 1);
}

/// Group commit: results accepted in one turn reach the store together at the turn's commit, and
/// the duplicate check already sees the uncommitted ones.
#[test]
fn a_turn_commits_its_results_together() {
    let rt = runtime();
    let backend = start_backend(&rt, "127.0.0.1:0");
    let mut rig = rig(&backend.base_url());
    let first = rig.reporter.enqueue(&result(1, true), T0);
    let second = rig.reporter.enqueue(&result(2, true), T0);
    assert_eq!(
        (first.status, second.status),
        (BackendReportStatus::Queued, BackendReportStatus::Queued)
    );
    let again = rig.reporter.enqueue(&result(1, true), T0);
    assert_eq!(
        (again.status, again.result_id.as_str()),
        (
            BackendReportStatus::AlreadySubmitted,
            first.result_id.as_str()
        )
    );
    assert_eq!(
        rig.outbox.list(None).unwrap().len(),
        0,
        "nothing before the commit"
    );
    assert_eq!(rig.outbox.enqueued_total().unwrap(), 0);
    rig.reporter.commit().expect("the outbox commits");
    let stored: Vec<String> = rig
        .outbox
        .list(None)
        .unwrap()
        .into_iter()
        .map(|r| r.result_id)
        .collect();
    assert_eq!(stored, [first.result_id, second.result_id]);
    assert_eq!(rig.outbox.enqueued_total().unwrap(), 2);
    rig.reporter.commit().expect("the outbox commits");
    assert_eq!(
        rig.outbox.list(None).unwrap().len(),
        2,
        "a commit writes once"
    );
}

/// A backfill arrival's reservation reaches the backend in an accepted snapshot, exactly once,
/// through the scripted mod and the real host: the snapshots after the one that carried it (a
/// later backfill arrival makes one) do not carry it again. Checked on both sides: the bodies the
/// host sent (its trace) and the bodies the backend received.
#[test]
fn admission_snapshots_carry_a_consumed_reservation_once() {
    let mods = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods");
    assert!(
        mods.join("scripted.wasm").is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    let dir = std::env::temp_dir().join(format!("nexori-adm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(mods.join("scripted.wasm"), dir.join("scripted.wasm")).unwrap();
    let rt = runtime();
    let backend = start_backend(&rt, "127.0.0.1:0");
    let p1 = "11111111-0000-4000-8000-000000000000";
    let p2 = "22222222-0000-4000-8000-000000000000";
    let p3 = "33333333-0000-4000-8000-000000000000";
    let scenario = json!({
        "startEpochMs": T0,
        "config": {"baseUrl": backend.base_url(), "serverToken": TOKEN, "serverId": SERVER_ID},
        "steps": [
            {"at": 0, "type": "match.create", "matchId": "bf", "queueId": "q", "arenaId": "a", "rulesEngineId": "scripted",
             "externalMatchId": "ext-bf", "matchSource": "BACKEND_DRIVEN",
             "admission": {"capacity": 4, "backfillEnabled": true, "backfillMode": "ACTIVE_WINDOW", "backfillWindowSeconds": 60},
             "expectedPlayers": [{"uuid": p1}]},
            {"at": 100, "type": "player.arrive", "matchId": "bf", "player": p1},
            {"at": 200, "type": "player.placed", "matchId": "bf", "player": p1},
            {"at": 5000, "type": "player.arrive", "matchId": "bf", "player": p2,
             "admissionReservationId": "res-42", "admissionExpiresAtEpochMs": T0 + 60_000},
            {"at": 10000, "type": "player.arrive", "matchId": "bf", "player": p3,
             "admissionReservationId": "res-43", "admissionExpiresAtEpochMs": T0 + 60_000},
            {"at": 20000, "type": "wait"}
        ]
    });
    let scenario = nexori::scenario::Scenario::from_value(scenario).unwrap();
    // A simulation's admission transport waits for each answer before virtual time moves on, so
    // when the run returns the backend has answered every snapshot in the trace.
    let out = nexori::scenario::run(&scenario, &dir, &Default::default()).unwrap();
    let sent: Vec<&Value> = out
        .trace
        .iter()
        .filter_map(|e| match e {
            nexori_protocol::trace::TraceEntry::Admission { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    let carries = |body: &Value, id: &str| {
        body["consumedAdmissionReservationIds"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|r| r == id)
    };
    let position = |id: &str| -> usize {
        let carrying: Vec<usize> = (0..sent.len()).filter(|&i| carries(sent[i], id)).collect();
        assert_eq!(carrying.len(), 1, "{id} in exactly one snapshot: {sent:#?}");
        carrying[0]
    };
    let (first, second) = (position("res-42"), position("res-43"));
    assert!(first < second, "{sent:#?}");
    assert_eq!(
        sent[first]["consumedAdmissionReservationIds"],
        json!(["res-42"])
    );
    assert_eq!(
        sent[second]["consumedAdmissionReservationIds"],
        json!(["res-43"]),
        "an accepted snapshot's reservation does not ride again"
    );

    // What the backend received: the same snapshots, res-42 in exactly one body.
    let received: Value = rt
        .block_on(async {
            reqwest::get(format!(
                "{}/api/snapshots?matchId=ext-bf",
                backend.base_url()
            ))
            .await?
            .json()
            .await
        })
        .unwrap();
    let received = received["snapshots"].as_array().unwrap();
    let ids = |snapshots: &mut dyn Iterator<Item = &Value>| -> Vec<String> {
        let mut ids: Vec<String> = snapshots
            .map(|s| s["stateUpdateId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&mut received.iter().map(|s| &s["body"])),
        ids(&mut sent.iter().copied()),
        "{received:#?}"
    );
    let with_42: Vec<&Value> = received
        .iter()
        .filter(|s| carries(&s["body"], "res-42"))
        .collect();
    assert_eq!(with_42.len(), 1, "{received:#?}");
    assert_eq!(with_42[0]["stateUpdateId"], sent[first]["stateUpdateId"]);
    assert_eq!(with_42[0]["consumedReservationIds"], json!(["res-42"]));
    for snapshot in received {
        assert_eq!(snapshot["status"], "ACCEPTED", "{snapshot}");
        assert_eq!(
            snapshot["alreadyConsumedReservationIds"],
            json!([]),
            "{snapshot}"
        );
        // The publisher's payloadHash is the one the backend computes
        // (docs/arena-behaviour.md#the-snapshot).
        assert_eq!(snapshot["payloadHashCheck"], "MATCHES", "{snapshot}");
    }

    let ledger: Value = rt
        .block_on(async {
            reqwest::get(format!("{}/api/reservations", backend.base_url()))
                .await?
                .json()
                .await
        })
        .unwrap();
    assert_eq!(
        ledger.to_string().matches("\"res-42\"").count(),
        1,
        "{ledger}"
    );
    let stats: Value = rt
        .block_on(async {
            reqwest::get(format!("{}/api/stats", backend.base_url()))
                .await?
                .json()
                .await
        })
        .unwrap();
    assert_eq!(stats["snapshots"]["stale"], 0);
    assert_eq!(
        stats["snapshots"]["accepted"].as_u64(),
        Some(sent.len() as u64),
        "{stats}"
    );
}
