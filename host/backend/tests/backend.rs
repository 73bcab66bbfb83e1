//! The reference backend over real HTTP on loopback: `backend::start` on port 0 with a temporary
//! SQLite file, driven with reqwest.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nexori_backend::{
    self as backend, BackendConfig, BackendHandle, FaultKind, FaultPlan, FaultScope,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "test-token";
const SERVER: &str = "25bdb01c-97f2-42d4-998a-4ef7b04d71c3";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "nexori-backend-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("backend.sqlite")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(database: PathBuf, faults: FaultPlan) -> BackendConfig {
    BackendConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: TOKEN.into(),
        database,
        faults,
        connections: Default::default(),
    }
}

struct Fixture {
    backend: BackendHandle,
    client: reqwest::Client,
    _dir: Option<TempDir>,
}

async fn fixture() -> Fixture {
    fixture_with(FaultPlan::none()).await
}

async fn fixture_with(faults: FaultPlan) -> Fixture {
    let dir = TempDir::new();
    let backend = backend::start(config(dir.db(), faults)).await.unwrap();
    Fixture {
        backend,
        client: client(),
        _dir: Some(dir),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn result_body(result_id: &str, external: &str) -> Value {
    json!({
        "schemaVersion": 1,
        "resultId": result_id,
        "sentAtEpochMs": 1_760_000_000_000i64,
        "serverId": SERVER,
        "localMatchId": format!("local-{external}"),
        "externalMatchId": external,
        "assignmentId": "assign-001",
        "assignmentIdsByPlayerUuid": {},
        "queueId": "queue-id",
        "arenaId": "arena-id",
        "rulesEngineId": "capture_the_zone",
        "players": [
            {"playerUuid": "0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2", "outcome": "WIN", "reason": "objective_completed"},
            {"playerUuid": "3bb28e1b-b83a-459a-ad13-1961acc7759b", "outcome": "LOSS", "reason": ""}
        ],
        "reason": "rules_mod_completed",
        "metadata": {},
        "customData": {"mode": "capture_the_zone"},
        "endedAtEpochMs": 1_760_000_000_000i64
    })
}

fn snapshot_body(update_id: &str, external: &str, sequence: i64) -> Value {
    let now = now_ms();
    json!({
        "schemaVersion": 1,
        "stateUpdateId": update_id,
        "admissionStateSequence": sequence,
        "payloadHash": "",
        "sentAtEpochMs": now,
        "stateExpiresAtEpochMs": now + 60_000,
        "reportingServerId": SERVER,
        "reportingServerConnectionAddress": "arena.example.com:21918",
        "matchId": format!("match-{external}"),
        "externalMatchId": external,
        "queueId": "capture_zone_queue",
        "arenaId": "capture_zone_arena",
        "backfillEnabled": true,
        "backfillMode": "ACTIVE_WINDOW",
        "backfillWindowSeconds": 60,
        "matchLifecycleStatus": "ACTIVE",
        "admissionOpen": true,
        "admissionOpenUntilEpochMs": now + 60_000,
        "admissionCapacity": 8,
        "admittedSlotCount": 5,
        "availableAdmissionSlots": 3,
        "initialRosterSize": 5,
        "arrivedInitialPlayerCount": 5,
        "unfilledInitialRosterCount": 0,
        "consumedAdmissionReservationIds": [],
        "admissionReportingClosed": false,
        "admissionReportingCloseReason": "",
        "primaryChangeReason": "PLAYER_ARRIVED",
        "coalescedChangeReasons": ["PLAYER_ARRIVED"]
    })
}

/// Status, parsed JSON (or the raw text as a JSON string) and the fault header.
struct Answer {
    status: StatusCode,
    body: Value,
    fault: Option<String>,
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.unwrap();
    let status = res.status();
    let fault = res
        .headers()
        .get(backend::FAULT_HEADER)
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        body,
        fault,
    }
}

fn result_request(f: &Fixture, body: &Value) -> reqwest::RequestBuilder {
    result_request_as(f, body, TOKEN)
}

fn result_request_as(f: &Fixture, body: &Value, token: &str) -> reqwest::RequestBuilder {
    f.client
        .post(format!("{}/nexori/results", f.backend.base_url()))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .header(
            "X-Nexori-Server-Id",
            body["serverId"].as_str().unwrap_or(""),
        )
        .header(
            "X-Nexori-Result-Id",
            body["resultId"].as_str().unwrap_or(""),
        )
        .header(
            "X-Nexori-Sent-At-Epoch-Ms",
            body["sentAtEpochMs"].to_string(),
        )
        .body(body.to_string())
}

async fn post_result(f: &Fixture, body: &Value) -> Answer {
    send(result_request(f, body)).await
}

fn state_request(f: &Fixture, body: &Value) -> reqwest::RequestBuilder {
    state_request_as(f, body, TOKEN)
}

fn state_request_as(f: &Fixture, body: &Value, token: &str) -> reqwest::RequestBuilder {
    f.client
        .post(format!("{}/nexori/matches/state", f.backend.base_url()))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .header(
            "X-Nexori-Server-Id",
            body["reportingServerId"].as_str().unwrap_or(""),
        )
        .header(
            "X-Nexori-State-Update-Id",
            body["stateUpdateId"].as_str().unwrap_or(""),
        )
        .header(
            "X-Nexori-Sequence",
            body["admissionStateSequence"].to_string(),
        )
        .header(
            "X-Nexori-Sent-At-Epoch-Ms",
            body["sentAtEpochMs"].to_string(),
        )
        .body(body.to_string())
}

async fn post_state(f: &Fixture, body: &Value) -> Answer {
    send(state_request(f, body)).await
}

async fn get_json(f: &Fixture, path: &str) -> Value {
    let res = f
        .client
        .get(format!("{}{path}", f.backend.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.unwrap()
}

async fn admin(f: &Fixture, path: &str, body: Value) -> Answer {
    send(
        f.client
            .post(format!("{}{path}", f.backend.base_url()))
            .bearer_auth(TOKEN)
            .json(&body),
    )
    .await
}

// ------------------------------------------------------------------------- results

#[tokio::test]
async fn results_auth_missing_is_401_and_wrong_is_403() {
    let f = fixture().await;
    let body = result_body("r-auth", "ext-auth");

    let missing = send(
        f.client
            .post(format!("{}/nexori/results", f.backend.base_url()))
            .header("Content-Type", "application/json")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(
        missing.body["error"]
            .as_str()
            .unwrap()
            .contains("missing bearer token")
    );

    let wrong = send(result_request_as(&f, &body, "not-the-token")).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.body["error"], "invalid bearer token");

    let state = send(state_request_as(
        &f,
        &snapshot_body("s-auth", "ext-auth", 1),
        "nope",
    ))
    .await;
    assert_eq!(state.status, StatusCode::FORBIDDEN);

    // Nothing was stored by the rejected requests.
    assert_eq!(
        get_json(&f, "/api/results").await["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(post_result(&f, &body).await.status, StatusCode::OK);
    f.backend.shutdown().await;
}

#[tokio::test]
async fn results_header_mismatch_is_400_naming_the_header() {
    let f = fixture().await;
    let body = result_body("r-hdr", "ext-hdr");

    let mismatched = |name: &'static str, value: &'static str| {
        let mut req = f
            .client
            .post(format!("{}/nexori/results", f.backend.base_url()))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        for (h, v) in [
            ("X-Nexori-Server-Id", SERVER.to_owned()),
            ("X-Nexori-Result-Id", "r-hdr".to_owned()),
            ("X-Nexori-Sent-At-Epoch-Ms", "1760000000000".to_owned()),
        ] {
            req = req.header(h, if h == name { value.to_owned() } else { v });
        }
        req
    };
    for (name, value) in [
        ("X-Nexori-Result-Id", "another-result"),
        ("X-Nexori-Server-Id", "another-server"),
        ("X-Nexori-Sent-At-Epoch-Ms", "1760000000001"),
    ] {
        let answer = send(mismatched(name, value)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(answer.body["header"], name);
        assert!(
            answer.body["error"].as_str().unwrap().contains(name),
            "{}",
            answer.body
        );
    }

    let missing = send(
        f.client
            .post(format!("{}/nexori/results", f.backend.base_url()))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/json")
            .header("X-Nexori-Server-Id", SERVER)
            .header("X-Nexori-Sent-At-Epoch-Ms", "1760000000000")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["header"], "X-Nexori-Result-Id");

    let not_json = send(result_request(&f, &body).body("{not json")).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(
        not_json.body["error"]
            .as_str()
            .unwrap()
            .starts_with("body is not valid JSON")
    );

    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(stats["results"]["accepted"], 0);
    assert_eq!(stats["answers"]["results"]["400"], 5);
    f.backend.shutdown().await;
}

#[tokio::test]
async fn results_schema_errors_are_422_naming_the_field() {
    let f = fixture().await;
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("schemaVersion", Box::new(|b| b["schemaVersion"] = json!(2))),
        (
            "players[1].outcome",
            Box::new(|b| b["players"][1]["outcome"] = json!("DRAW")),
        ),
        (
            "players[0].playerUuid",
            Box::new(|b| b["players"][0]["playerUuid"] = json!("")),
        ),
        ("customData", Box::new(|b| b["customData"] = json!("text"))),
        (
            "endedAtEpochMs",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("endedAtEpochMs");
            }),
        ),
        ("players", Box::new(|b| b["players"] = json!([]))),
        (
            "players",
            Box::new(|b| b["players"][0]["outcome"] = json!("LOSS")),
        ),
        ("metadata.k", Box::new(|b| b["metadata"] = json!({"k": 1}))),
        (
            "externalMatchId",
            Box::new(|b| b["externalMatchId"] = json!("  ")),
        ),
    ];
    for (field, mutate) in cases {
        let mut body = result_body("r-schema", "ext-schema");
        mutate(&mut body);
        let answer = post_result(&f, &body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            answer.body
        );
        assert_eq!(answer.body["field"], field, "{}", answer.body);
        assert!(answer.body["error"].as_str().unwrap().contains(field));
    }
    // All NO_CONTEST without a WIN is valid (a cancellation or a fault-policy result).
    let mut body = result_body("r-nc", "ext-nc");
    body["players"][0]["outcome"] = json!("NO_CONTEST");
    body["players"][1]["outcome"] = json!("NO_CONTEST");
    assert_eq!(post_result(&f, &body).await.body["status"], "ACCEPTED");
    f.backend.shutdown().await;
}

#[tokio::test]
async fn results_accepted_then_duplicate_for_the_same_result_id() {
    let f = fixture().await;
    let body = result_body("5d0c7bde-5f00-4c57-9a57-0c2bb8d1d001", "backend-match-1");
    let first = post_result(&f, &body).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.body,
        json!({"schemaVersion": 1, "receivedResultId": "5d0c7bde-5f00-4c57-9a57-0c2bb8d1d001", "status": "ACCEPTED"})
    );
    // A retry: same resultId, a new sentAtEpochMs.
    let mut retry = body.clone();
    retry["sentAtEpochMs"] = json!(1_760_000_005_000i64);
    let second = post_result(&f, &retry).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["status"], "DUPLICATE");
    assert_eq!(
        second.body["receivedResultId"],
        "5d0c7bde-5f00-4c57-9a57-0c2bb8d1d001"
    );

    let stored = get_json(&f, "/api/results/5d0c7bde-5f00-4c57-9a57-0c2bb8d1d001").await;
    assert_eq!(stored["duplicateCount"], 1);
    assert_eq!(stored["duplicateMismatchCount"], 0);
    assert_eq!(stored["matchRole"], "FIRST");
    assert_eq!(stored["body"], body, "the first body is kept");

    let missing = f
        .client
        .get(format!("{}/api/results/nope", f.backend.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"],
        "no result nope"
    );

    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(stats["results"]["accepted"], 1);
    assert_eq!(stats["results"]["duplicates"], 1);
    f.backend.shutdown().await;
}

#[tokio::test]
async fn results_conflict_for_the_same_external_match_is_accepted_and_recorded() {
    let f = fixture().await;
    assert_eq!(
        post_result(&f, &result_body("r-1", "m-1")).await.body["status"],
        "ACCEPTED"
    );
    // Same content, new resultId: a repeat.
    let mut repeat = result_body("r-2", "m-1");
    repeat["endedAtEpochMs"] = json!(1_760_000_009_999i64);
    assert_eq!(post_result(&f, &repeat).await.body["status"], "ACCEPTED");
    // Different outcomes: a conflict, still accepted.
    let mut conflict = result_body("r-3", "m-1");
    conflict["players"][0]["outcome"] = json!("LOSS");
    conflict["players"][1]["outcome"] = json!("WIN");
    assert_eq!(post_result(&f, &conflict).await.body["status"], "ACCEPTED");

    let r2 = get_json(&f, "/api/results/r-2").await;
    assert_eq!(
        (r2["matchRole"].clone(), r2["relatedResultId"].clone()),
        (json!("REPEAT"), json!("r-1"))
    );
    let r3 = get_json(&f, "/api/results/r-3").await;
    assert_eq!(
        (r3["matchRole"].clone(), r3["relatedResultId"].clone()),
        (json!("CONFLICT"), json!("r-1"))
    );
    let list = get_json(&f, "/api/results?externalMatchId=m-1").await;
    let ids: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resultId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r-3", "r-2", "r-1"]);
    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(stats["results"]["conflicts"], 1);
    assert_eq!(stats["results"]["repeats"], 1);
    f.backend.shutdown().await;
}

// ------------------------------------------------------------------------- admission state

#[tokio::test]
async fn state_checks_headers_and_schema() {
    let f = fixture().await;
    let body = snapshot_body("s-h", "ext-h", 3);
    let unauth = send(
        f.client
            .post(format!("{}/nexori/matches/state", f.backend.base_url()))
            .header("Content-Type", "application/json")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);

    for (name, value) in [
        ("X-Nexori-Sequence", "4"),
        ("X-Nexori-State-Update-Id", "s-other"),
        ("X-Nexori-Server-Id", "other-server"),
        ("X-Nexori-Sent-At-Epoch-Ms", "12"),
    ] {
        let mut req = f
            .client
            .post(format!("{}/nexori/matches/state", f.backend.base_url()))
            .bearer_auth(TOKEN)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        for (h, v) in [
            ("X-Nexori-Server-Id", SERVER.to_owned()),
            ("X-Nexori-State-Update-Id", "s-h".to_owned()),
            ("X-Nexori-Sequence", "3".to_owned()),
            (
                "X-Nexori-Sent-At-Epoch-Ms",
                body["sentAtEpochMs"].to_string(),
            ),
        ] {
            req = req.header(h, if h == name { value.to_owned() } else { v });
        }
        let answer = send(req).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(answer.body["header"], name);
    }

    let mut bad = body.clone();
    bad["backfillMode"] = json!("SOMETIMES");
    let answer = post_state(&f, &bad).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["field"], "backfillMode");
    let mut bad = body.clone();
    bad["consumedAdmissionReservationIds"] = json!(["ok", 5]);
    assert_eq!(
        post_state(&f, &bad).await.body["field"],
        "consumedAdmissionReservationIds[1]"
    );
    let mut bad = body.clone();
    bad["matchId"] = json!("");
    assert_eq!(post_state(&f, &bad).await.body["field"], "matchId");

    let answer = send(
        f.client
            .post(format!("{}/nexori/matches/state", f.backend.base_url()))
            .bearer_auth(TOKEN)
            .header("Content-Type", "text/plain")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        get_json(&f, "/api/snapshots").await["snapshots"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    f.backend.shutdown().await;
}

#[tokio::test]
async fn state_update_id_is_idempotent_without_replaying_side_effects() {
    let f = fixture().await;
    let mut body = snapshot_body(
        "0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2",
        "backend-match-001",
        17,
    );
    body["consumedAdmissionReservationIds"] = json!(["reservation-a6d8a0a4"]);
    let first = post_state(&f, &body).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.body,
        json!({
            "schemaVersion": 1,
            "receivedStateUpdateId": "0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2",
            "receivedAdmissionStateSequence": 17,
            "status": "ACCEPTED"
        })
    );
    let again = post_state(&f, &body).await;
    assert_eq!(again.body["status"], "DUPLICATE");
    assert_eq!(again.body["receivedAdmissionStateSequence"], 17);

    let snapshots = get_json(&f, "/api/snapshots?matchId=backend-match-001").await;
    let list = snapshots["snapshots"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["repeatCount"], 1);
    assert_eq!(
        list[0]["consumedReservationIds"],
        json!(["reservation-a6d8a0a4"])
    );
    let reservations = get_json(&f, "/api/reservations").await;
    assert_eq!(reservations["consumed"].as_array().unwrap().len(), 1);
    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(stats["snapshots"]["accepted"], 1);
    assert_eq!(stats["snapshots"]["duplicate"], 1);
    assert_eq!(stats["reservations"]["consumed"], 1);
    f.backend.shutdown().await;
}

#[tokio::test]
async fn older_or_equal_sequence_is_stale() {
    let f = fixture().await;
    assert_eq!(
        post_state(&f, &snapshot_body("s-5", "m-stale", 5))
            .await
            .body["status"],
        "ACCEPTED"
    );
    let mut older = snapshot_body("s-4", "m-stale", 4);
    older["consumedAdmissionReservationIds"] = json!(["res-late"]);
    older["availableAdmissionSlots"] = json!(1);
    let stale = post_state(&f, &older).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body["status"], "STALE");
    assert_eq!(stale.body["receivedStateUpdateId"], "s-4");
    assert_eq!(stale.body["receivedAdmissionStateSequence"], 4);
    // A retry of the stale snapshot stays STALE (never DUPLICATE: that would ack its reservations).
    assert_eq!(post_state(&f, &older).await.body["status"], "STALE");
    // Same sequence, different stateUpdateId: not newer, STALE.
    assert_eq!(
        post_state(&f, &snapshot_body("s-5b", "m-stale", 5))
            .await
            .body["status"],
        "STALE"
    );
    // The registry still holds sequence 5 with 3 available slots; nothing was consumed.
    let m = &get_json(&f, "/api/matches").await["matches"][0];
    assert_eq!(m["lastSequence"], 5);
    assert_eq!(m["availableAdmissionSlots"], 3);
    assert_eq!(
        get_json(&f, "/api/reservations").await["consumed"],
        json!([])
    );
    // Newer is accepted; sequences are per match identity.
    assert_eq!(
        post_state(&f, &snapshot_body("s-6", "m-stale", 6))
            .await
            .body["status"],
        "ACCEPTED"
    );
    assert_eq!(
        post_state(&f, &snapshot_body("other-1", "m-other", 1))
            .await
            .body["status"],
        "ACCEPTED"
    );
    // Fallback identity (blank externalMatchId): reportingServerId + matchId.
    let mut local = snapshot_body("l-2", "", 2);
    local["matchId"] = json!("Local-Match");
    assert_eq!(post_state(&f, &local).await.body["status"], "ACCEPTED");
    let mut local_old = snapshot_body("l-1", "", 1);
    local_old["matchId"] = json!("local-match");
    assert_eq!(post_state(&f, &local_old).await.body["status"], "STALE");

    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(stats["snapshots"]["stale"], 4);
    assert_eq!(stats["snapshots"]["accepted"], 4);
    f.backend.shutdown().await;
}

#[tokio::test]
async fn reservations_are_consumed_once_and_only_from_accepted_snapshots() {
    let f = fixture().await;
    for id in ["res-a", "res-b", "res-c"] {
        let created = admin(
            &f,
            "/admin/reservations",
            json!({"reservationId": id, "externalMatchId": "m-res"}),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["status"], "ACTIVE");
    }
    let dup = admin(
        &f,
        "/admin/reservations",
        json!({"reservationId": "res-a", "externalMatchId": "m-res"}),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    assert_eq!(
        post_state(&f, &snapshot_body("s-10", "m-res", 10))
            .await
            .body["status"],
        "ACCEPTED"
    );
    // A stale snapshot naming res-a consumes nothing.
    let mut stale = snapshot_body("s-9", "m-res", 9);
    stale["consumedAdmissionReservationIds"] = json!(["res-a"]);
    assert_eq!(post_state(&f, &stale).await.body["status"], "STALE");
    let reservations = get_json(&f, "/api/reservations").await;
    assert_eq!(reservations["consumed"], json!([]));
    let issued = reservations["issued"].as_array().unwrap();
    assert_eq!(issued.len(), 3, "{issued:?}");
    assert!(issued.iter().all(|r| r["status"] == "ACTIVE"));

    // An accepted snapshot consumes res-a and res-b (ids are trimmed, blanks ignored).
    let mut accepted = snapshot_body("s-11", "m-res", 11);
    accepted["consumedAdmissionReservationIds"] = json!([" res-a ", "res-b", ""]);
    assert_eq!(post_state(&f, &accepted).await.body["status"], "ACCEPTED");
    // A later snapshot listing res-b again, plus res-c: res-b is not consumed twice.
    let mut later = snapshot_body("s-12", "m-res", 12);
    later["consumedAdmissionReservationIds"] = json!(["res-b", "res-c"]);
    assert_eq!(post_state(&f, &later).await.body["status"], "ACCEPTED");

    let snaps = get_json(&f, "/api/snapshots?matchId=m-res").await;
    let by_id = |id: &str| {
        snaps["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stateUpdateId"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_id("s-11")["consumedReservationIds"],
        json!(["res-a", "res-b"])
    );
    assert_eq!(by_id("s-12")["consumedReservationIds"], json!(["res-c"]));
    assert_eq!(
        by_id("s-12")["alreadyConsumedReservationIds"],
        json!(["res-b"])
    );
    assert_eq!(by_id("s-9")["consumedReservationIds"], json!([]));

    let reservations = get_json(&f, "/api/reservations").await;
    let consumed: Vec<(String, String)> = reservations["consumed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["reservationId"].as_str().unwrap().to_owned(),
                c["stateUpdateId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(consumed.len(), 3);
    assert!(consumed.contains(&("res-a".into(), "s-11".into())));
    assert!(consumed.contains(&("res-b".into(), "s-11".into())));
    assert!(consumed.contains(&("res-c".into(), "s-12".into())));
    let issued = reservations["issued"].as_array().unwrap();
    assert_eq!(issued.len(), 3, "{issued:?}");
    assert!(issued.iter().all(|r| r["status"] == "CONSUMED"));

    // An id the backend never issued is still recorded once, with a warning.
    let mut foreign = snapshot_body("s-13", "m-res", 13);
    foreign["consumedAdmissionReservationIds"] = json!(["res-foreign"]);
    assert_eq!(post_state(&f, &foreign).await.body["status"], "ACCEPTED");
    let s13 = &get_json(&f, "/api/snapshots?matchId=m-res&limit=1").await["snapshots"][0];
    assert_eq!(s13["consumedReservationIds"], json!(["res-foreign"]));
    assert!(
        s13["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("not issued"))
    );

    // Releasing: only ACTIVE reservations.
    let released = admin(&f, "/admin/reservations/res-a/release", json!({})).await;
    assert_eq!(released.status, StatusCode::CONFLICT);
    let unknown = admin(&f, "/admin/reservations/nope/release", json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    f.backend.shutdown().await;
}

#[tokio::test]
async fn registry_tracks_eligibility_and_effective_available_slots() {
    let f = fixture().await;
    // Open match with 3 available slots, 2 active reservations → effective 1.
    assert_eq!(
        post_state(&f, &snapshot_body("a-1", "m-open", 1))
            .await
            .body["status"],
        "ACCEPTED"
    );
    for id in ["r1", "r2"] {
        let created = admin(
            &f,
            "/admin/reservations",
            json!({"reservationId": id, "externalMatchId": "m-open"}),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    // An expired reservation does not count.
    let expiring = admin(
        &f,
        "/admin/reservations",
        json!({"reservationId": "r-exp", "externalMatchId": "m-open", "ttlMs": 1}),
    )
    .await;
    assert_eq!(expiring.status, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(20)).await;

    let open = get_json(&f, "/api/matches/open").await;
    let list = open["matches"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["matchKey"], "ext:m-open");
    assert_eq!(list[0]["availableAdmissionSlots"], 3);
    assert_eq!(list[0]["activeReservationCount"], 2);
    assert_eq!(list[0]["effectiveAvailableSlots"], 1);
    assert_eq!(
        list[0]["reportingServerConnectionAddress"],
        "arena.example.com:21918"
    );

    // A third reservation fills the slots: no longer eligible.
    admin(
        &f,
        "/admin/reservations",
        json!({"reservationId": "r3", "externalMatchId": "m-open"}),
    )
    .await;
    assert_eq!(
        get_json(&f, "/api/matches/open").await["matches"],
        json!([])
    );
    let all = get_json(&f, "/api/matches").await;
    assert_eq!(all["matches"][0]["effectiveAvailableSlots"], 0);
    assert_eq!(
        all["matches"][0]["ineligibleReasons"],
        json!(["RESERVATIONS_FILL_AVAILABLE_SLOTS"])
    );
    // Releasing one brings it back.
    assert_eq!(
        admin(&f, "/admin/reservations/r3/release", json!({}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get_json(&f, "/api/matches/open").await["matches"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Consuming r1 through an accepted snapshot (which reports the slot as taken) keeps effective 1.
    let mut arrival = snapshot_body("a-2", "m-open", 2);
    arrival["admittedSlotCount"] = json!(6);
    arrival["availableAdmissionSlots"] = json!(2);
    arrival["consumedAdmissionReservationIds"] = json!(["r1"]);
    assert_eq!(post_state(&f, &arrival).await.body["status"], "ACCEPTED");
    let m = &get_json(&f, "/api/matches/open").await["matches"][0];
    assert_eq!(
        (
            m["availableAdmissionSlots"].clone(),
            m["activeReservationCount"].clone()
        ),
        (json!(2), json!(1))
    );
    assert_eq!(m["effectiveAvailableSlots"], 1);

    // Queue filter.
    assert_eq!(
        get_json(&f, "/api/matches/open?queueId=capture_zone_queue").await["matches"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get_json(&f, "/api/matches/open?queueId=other_queue").await["matches"],
        json!([])
    );

    // An expired snapshot is not eligible.
    let mut expired = snapshot_body("x-1", "m-expired", 1);
    expired["sentAtEpochMs"] = json!(now_ms() - 120_000);
    expired["stateExpiresAtEpochMs"] = json!(now_ms() - 60_000);
    assert_eq!(post_state(&f, &expired).await.body["status"], "ACCEPTED");
    // No slots / not open.
    let mut full = snapshot_body("full-1", "m-full", 1);
    full["admittedSlotCount"] = json!(8);
    full["availableAdmissionSlots"] = json!(0);
    full["admissionOpen"] = json!(false);
    assert_eq!(post_state(&f, &full).await.body["status"], "ACCEPTED");
    // Closed: final, even if a later snapshot says open again.
    let mut closed = snapshot_body("c-1", "m-closed", 1);
    closed["admissionOpen"] = json!(false);
    closed["availableAdmissionSlots"] = json!(0);
    closed["admissionReportingClosed"] = json!(true);
    closed["admissionReportingCloseReason"] = json!("BACKFILL_WINDOW_EXPIRED");
    closed["primaryChangeReason"] = json!("ADMISSION_WINDOW_EXPIRED");
    assert_eq!(post_state(&f, &closed).await.body["status"], "ACCEPTED");
    assert_eq!(
        post_state(&f, &snapshot_body("c-2", "m-closed", 2))
            .await
            .body["status"],
        "ACCEPTED"
    );

    let open: Vec<String> = get_json(&f, "/api/matches/open").await["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["matchKey"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(open, ["ext:m-open"]);
    let all = get_json(&f, "/api/matches").await;
    let reasons = |key: &str| {
        all["matches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["matchKey"] == key)
            .unwrap()["ineligibleReasons"]
            .clone()
    };
    assert_eq!(reasons("ext:m-expired"), json!(["SNAPSHOT_EXPIRED"]));
    assert_eq!(
        reasons("ext:m-full"),
        json!(["ADMISSION_NOT_OPEN", "NO_AVAILABLE_SLOTS"])
    );
    assert_eq!(
        reasons("ext:m-closed"),
        json!(["ADMISSION_REPORTING_CLOSED"])
    );
    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(
        stats["matches"],
        json!({"known": 4, "closed": 1, "eligible": 1})
    );
    f.backend.shutdown().await;
}

/// `snapshot_body` at a fixed time, so its snapshot hash is a known answer.
fn fixed_snapshot_body(update_id: &str, sequence: i64) -> Value {
    let mut body = snapshot_body(update_id, "m-hash", sequence);
    body["sentAtEpochMs"] = json!(1_760_000_000_000_i64);
    body["stateExpiresAtEpochMs"] = json!(1_760_000_060_000_i64);
    body["admissionOpenUntilEpochMs"] = json!(1_760_000_060_000_i64);
    body["primaryChangeReason"] = json!("PLAYER_ARRIVED<&>");
    body
}

/// The hashes are written out, derived by hand from the canonical text
/// (docs/arena-behaviour.md#the-snapshot) of `fixed_snapshot_body` (HTML-safe for `h-1`, plain for
/// `h-3`):
///
/// ```text
/// printf '%s' '{"schemaVersion":1,"stateUpdateId":"h-1","admissionStateSequence":1,"sentAtEpochMs":1760000000000,"stateExpiresAtEpochMs":1760000060000,"reportingServerId":"25bdb01c-97f2-42d4-998a-4ef7b04d71c3","matchId":"match-m-hash","externalMatchId":"m-hash","queueId":"capture_zone_queue","arenaId":"capture_zone_arena","backfillEnabled":true,"backfillMode":"ACTIVE_WINDOW","backfillWindowSeconds":60,"matchLifecycleStatus":"ACTIVE","admissionOpen":true,"admissionOpenUntilEpochMs":1760000060000,"admissionCapacity":8,"admittedSlotCount":5,"availableAdmissionSlots":3,"initialRosterSize":5,"arrivedInitialPlayerCount":5,"unfilledInitialRosterCount":0,"consumedAdmissionReservationIds":[],"admissionReportingClosed":false,"admissionReportingCloseReason":"","primaryChangeReason":"PLAYER_ARRIVED\u003c\u0026\u003e","coalescedChangeReasons":["PLAYER_ARRIVED"]}' | sha256sum
/// printf '%s' '{"schemaVersion":1,"stateUpdateId":"h-3","admissionStateSequence":3,"sentAtEpochMs":1760000000000,"stateExpiresAtEpochMs":1760000060000,"reportingServerId":"25bdb01c-97f2-42d4-998a-4ef7b04d71c3","matchId":"match-m-hash","externalMatchId":"m-hash","queueId":"capture_zone_queue","arenaId":"capture_zone_arena","backfillEnabled":true,"backfillMode":"ACTIVE_WINDOW","backfillWindowSeconds":60,"matchLifecycleStatus":"ACTIVE","admissionOpen":true,"admissionOpenUntilEpochMs":1760000060000,"admissionCapacity":8,"admittedSlotCount":5,"availableAdmissionSlots":3,"initialRosterSize":5,"arrivedInitialPlayerCount":5,"unfilledInitialRosterCount":0,"consumedAdmissionReservationIds":[],"admissionReportingClosed":false,"admissionReportingCloseReason":"","primaryChangeReason":"PLAYER_ARRIVED<&>","coalescedChangeReasons":["PLAYER_ARRIVED"]}' | sha256sum
/// ```
#[tokio::test]
async fn payload_hash_is_checked_but_never_rejects() {
    let f = fixture().await;
    let mut body = fixed_snapshot_body("h-1", 1);
    body["payloadHash"] = json!("a7c36dbc37f9ad928fa46b948bd25da01546c5cd43952e7f9720f3f6c3892653");
    // The host's publisher computes it with the same function the backend checks with.
    assert_eq!(
        backend::admission_payload_hash(body.as_object().unwrap()),
        body["payloadHash"]
    );
    assert_eq!(post_state(&f, &body).await.body["status"], "ACCEPTED");
    let mut wrong = fixed_snapshot_body("h-2", 2);
    wrong["payloadHash"] = json!("00");
    assert_eq!(post_state(&f, &wrong).await.body["status"], "ACCEPTED");
    let mut plain = fixed_snapshot_body("h-3", 3);
    plain["payloadHash"] =
        json!("f2bca67a1aabefccc29b28ca9046d5a0eb55a758c198d2ce773dc01ba05996fe");
    assert_eq!(post_state(&f, &plain).await.body["status"], "ACCEPTED");
    let snaps = get_json(&f, "/api/snapshots?matchId=m-hash").await;
    let checks: Vec<(&str, &str)> = snaps["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stateUpdateId"].as_str().unwrap(),
                s["payloadHashCheck"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            ("h-3", "MATCHES_WITHOUT_HTML_ESCAPING"),
            ("h-2", "MISMATCH"),
            ("h-1", "MATCHES")
        ]
    );
    f.backend.shutdown().await;
}

// ------------------------------------------------------------------------- durability

#[tokio::test]
async fn restart_with_the_same_database_keeps_duplicates_and_state() {
    let dir = TempDir::new();
    let first = backend::start(config(dir.db(), FaultPlan::none()))
        .await
        .unwrap();
    let f = Fixture {
        backend: first,
        client: client(),
        _dir: None,
    };
    let result = result_body("r-durable", "m-durable");
    assert_eq!(post_result(&f, &result).await.body["status"], "ACCEPTED");
    let mut snap = snapshot_body("s-durable-7", "m-durable", 7);
    snap["consumedAdmissionReservationIds"] = json!(["res-durable"]);
    assert_eq!(post_state(&f, &snap).await.body["status"], "ACCEPTED");
    f.backend.shutdown().await;

    let second = backend::start(config(dir.db(), FaultPlan::none()))
        .await
        .unwrap();
    let g = Fixture {
        backend: second,
        client: client(),
        _dir: None,
    };
    assert_eq!(post_result(&g, &result).await.body["status"], "DUPLICATE");
    assert_eq!(post_state(&g, &snap).await.body["status"], "DUPLICATE");
    assert_eq!(
        post_state(&g, &snapshot_body("s-durable-6", "m-durable", 6))
            .await
            .body["status"],
        "STALE"
    );
    let mut later = snapshot_body("s-durable-8", "m-durable", 8);
    later["consumedAdmissionReservationIds"] = json!(["res-durable"]);
    assert_eq!(post_state(&g, &later).await.body["status"], "ACCEPTED");
    let s8 = &get_json(&g, "/api/snapshots?matchId=m-durable&limit=1").await["snapshots"][0];
    assert_eq!(s8["alreadyConsumedReservationIds"], json!(["res-durable"]));
    let m = &get_json(&g, "/api/matches/open").await["matches"][0];
    assert_eq!(m["lastSequence"], 8);
    assert_eq!(
        get_json(&g, "/api/results/r-durable").await["duplicateCount"],
        1
    );
    g.backend.shutdown().await;
    assert!(dir.db().exists());
}

// ------------------------------------------------------------------------- faults

async fn status_sequence(
    plan: FaultPlan,
    n: usize,
) -> (Vec<(u16, Option<String>)>, backend::FaultCounts) {
    let f = fixture_with(plan).await;
    let mut out = Vec::new();
    for i in 0..n {
        let a = post_result(&f, &result_body(&format!("r-{i}"), &format!("m-{i}"))).await;
        out.push((a.status.as_u16(), a.fault));
    }
    let counts = f.backend.fault_counts();
    let stats = get_json(&f, "/api/stats").await;
    assert_eq!(stats["faults"], serde_json::to_value(&counts).unwrap());
    f.backend.shutdown().await;
    (out, counts)
}

#[tokio::test]
async fn fault_injection_is_deterministic_per_seed_and_counted() {
    let plan = FaultPlan::none()
        .with_seed(2024)
        .with(FaultKind::ServerError, 0.2)
        .with(FaultKind::RateLimited, 0.2)
        .with(FaultKind::Unauthorized, 0.1)
        .with(FaultKind::Malformed, 0.1)
        .with(FaultKind::DropAnswer, 0.1);
    let (a, counts_a) = status_sequence(plan.clone(), 40).await;
    let (b, counts_b) = status_sequence(plan.clone(), 40).await;
    assert_eq!(a, b, "same seed, same faults");
    assert_eq!(counts_a, counts_b);
    let (c, _) = status_sequence(plan.with_seed(7), 40).await;
    assert_ne!(a, c, "another seed, other faults");

    let expected = |kind: Option<&str>| match kind {
        None => 200,
        Some("serverError") => 500,
        Some("rateLimited") => 429,
        Some("unauthorized") => 401,
        Some("malformed") => 200,
        Some("dropAnswer") => 503,
        Some(other) => panic!("unexpected fault {other}"),
    };
    for (status, fault) in &a {
        assert_eq!(*status, expected(fault.as_deref()), "{fault:?}");
    }
    let injected = a.iter().filter(|(_, f)| f.is_some()).count() as u64;
    assert_eq!(counts_a.total, injected);
    assert!(injected > 10 && injected < 40, "{injected} of 40");
    assert_eq!(
        counts_a.server_error,
        a.iter()
            .filter(|(_, f)| f.as_deref() == Some("serverError"))
            .count() as u64
    );
}

#[tokio::test]
async fn each_fault_kind_produces_its_configured_answer() {
    let f = fixture().await;
    let one = |kind| FaultPlan::none().with(kind, 1.0);

    let mut plan = one(FaultKind::ServerError);
    plan.server_error_status = 502;
    f.backend.set_faults(plan).unwrap();
    let a = post_result(&f, &result_body("f-1", "fm-1")).await;
    assert_eq!(
        (a.status, a.fault.as_deref()),
        (StatusCode::BAD_GATEWAY, Some("serverError"))
    );

    f.backend.set_faults(one(FaultKind::RateLimited)).unwrap();
    let res = result_request(&f, &result_body("f-1", "fm-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");

    f.backend.set_faults(one(FaultKind::Unauthorized)).unwrap();
    assert_eq!(
        post_result(&f, &result_body("f-1", "fm-1")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // None of the above processed the request.
    assert_eq!(get_json(&f, "/api/results").await["results"], json!([]));

    // Malformed: processed, 200 with a body that is not JSON.
    f.backend.set_faults(one(FaultKind::Malformed)).unwrap();
    let a = post_result(&f, &result_body("f-1", "fm-1")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.is_string(), "not JSON: {}", a.body);
    assert_eq!(a.fault.as_deref(), Some("malformed"));

    // Drop answer: processed, 503; the retry is a DUPLICATE.
    f.backend.set_faults(one(FaultKind::DropAnswer)).unwrap();
    let a = post_result(&f, &result_body("f-2", "fm-2")).await;
    assert_eq!(
        (a.status, a.fault.as_deref()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("dropAnswer"))
    );
    let a = post_state(&f, &snapshot_body("fs-1", "fm-2", 1)).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    f.backend.set_faults(FaultPlan::none()).unwrap();
    assert_eq!(
        post_result(&f, &result_body("f-1", "fm-1")).await.body["status"],
        "DUPLICATE"
    );
    assert_eq!(
        post_result(&f, &result_body("f-2", "fm-2")).await.body["status"],
        "DUPLICATE"
    );
    assert_eq!(
        post_state(&f, &snapshot_body("fs-1", "fm-2", 1)).await.body["status"],
        "DUPLICATE"
    );

    // Slow: answered normally after the delay.
    let mut slow = one(FaultKind::Slow);
    slow.slow_delay_ms = 300;
    f.backend.set_faults(slow).unwrap();
    let started = std::time::Instant::now();
    let a = post_result(&f, &result_body("f-3", "fm-3")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        (a.status, a.body["status"].as_str(), a.fault.as_deref()),
        (StatusCode::OK, Some("ACCEPTED"), Some("slow"))
    );

    // Timeout with a hold: the client gives up first; the backend still processes afterwards.
    let mut hold = one(FaultKind::Timeout);
    hold.timeout_hold_ms = Some(600);
    f.backend.set_faults(hold).unwrap();
    let err = result_request(&f, &result_body("f-4", "fm-4"))
        .timeout(Duration::from_millis(150))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // The backend still processes the abandoned request once the hold is over.
    let mut stored = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let res = f
            .client
            .get(format!("{}/api/results/f-4", f.backend.base_url()))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            stored = true;
            break;
        }
    }
    assert!(
        stored,
        "the held request was processed after the client gave up"
    );
    let patient = post_result(&f, &result_body("f-5", "fm-5")).await;
    assert_eq!(
        (patient.status, patient.fault.as_deref()),
        (StatusCode::OK, Some("timeout"))
    );

    // Timeout that never answers.
    f.backend.set_faults(one(FaultKind::Timeout)).unwrap();
    let err = post_state_with_timeout(&f, &snapshot_body("fs-2", "fm-6", 1), 300).await;
    assert!(err.is_timeout(), "{err}");

    // Scope: a state-only plan leaves results alone.
    f.backend
        .set_faults(one(FaultKind::RateLimited).with_scope(FaultScope::State))
        .unwrap();
    assert_eq!(
        post_result(&f, &result_body("f-6", "fm-7")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post_state(&f, &snapshot_body("fs-3", "fm-7", 1))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );

    let counts = f.backend.fault_counts();
    assert_eq!(counts.server_error, 1);
    assert_eq!(counts.rate_limited, 2);
    assert_eq!(counts.unauthorized, 1);
    assert_eq!(counts.malformed, 1);
    assert_eq!(counts.drop_answer, 2);
    assert_eq!(counts.slow, 1);
    assert_eq!(counts.timeout, 3);
    assert_eq!(counts.total, 11);
    // Shutdown releases the request that is never answered.
    tokio::time::timeout(Duration::from_secs(10), f.backend.shutdown())
        .await
        .expect("shutdown does not hang");
}

async fn post_state_with_timeout(f: &Fixture, body: &Value, ms: u64) -> reqwest::Error {
    state_request(f, body)
        .timeout(Duration::from_millis(ms))
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn admin_faults_endpoint_needs_the_token_and_a_valid_plan() {
    let f = fixture().await;
    let url = format!("{}/admin/faults", f.backend.base_url());
    let plan = json!({"seed": 9, "rateLimited": 1.0, "scope": "RESULTS"});
    assert_eq!(
        send(f.client.post(&url).json(&plan)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(f.client.post(&url).bearer_auth("x").json(&plan))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = admin(&f, "/admin/faults", json!({"slow": 2.0})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"].as_str().unwrap().contains("slow"));
    let unknown = admin(&f, "/admin/faults", json!({"explode": 1.0})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let set = admin(&f, "/admin/faults", plan).await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(set.body["faults"]["rateLimited"], 1.0);
    assert_eq!(f.backend.faults().rate_limited, 1.0);
    assert_eq!(f.backend.faults().scope, FaultScope::Results);
    assert_eq!(
        post_result(&f, &result_body("a-1", "am-1")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let faults = get_json(&f, "/api/faults").await;
    assert_eq!(faults["counts"]["rateLimited"], 1);
    assert_eq!(faults["plan"]["seed"], 9);
    // Admin and read endpoints are never faulted.
    assert_eq!(
        admin(&f, "/admin/faults", json!({})).await.status,
        StatusCode::OK
    );
    assert!(
        f.backend
            .set_faults(FaultPlan::none().with(FaultKind::Slow, -0.1))
            .is_err()
    );
    f.backend.shutdown().await;
}

// ------------------------------------------------------------------------- HTML

#[tokio::test]
async fn html_page_renders_and_escapes() {
    let f = fixture().await;
    let mut body = result_body("r-<html>", "m-<script>alert(1)</script>");
    body["reason"] = json!("\"quoted\" & <b>bold</b>");
    assert_eq!(post_result(&f, &body).await.body["status"], "ACCEPTED");
    let mut snap = snapshot_body("s-html", "m-<i>x</i>", 1);
    snap["consumedAdmissionReservationIds"] = json!(["<img src=x onerror=alert(1)>"]);
    assert_eq!(post_state(&f, &snap).await.body["status"], "ACCEPTED");

    let res = f
        .client
        .get(format!("{}/", f.backend.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("<a href=\"/\">Refresh</a>"));
    assert!(page.contains("m-&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"));
    assert!(page.contains("ext:m-&lt;i&gt;x&lt;/i&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.contains("<script"));
    assert!(!page.contains("<b>bold"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<i>x"));
    assert!(page.contains("r-&lt;html&gt;"));

    let unknown = f
        .client
        .get(format!("{}/nope", f.backend.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "no route for GET /nope"
    );
    f.backend.shutdown().await;
}

// ------------------------------------------------------------------------- CLI entry

/// `run_blocking` serves until SIGTERM and then returns `Ok`.
#[cfg(unix)]
#[test]
fn run_blocking_serves_until_sigterm() {
    // Install a SIGTERM listener first so the signal can never take the default action (ending the
    // whole test binary) before `run_blocking` has registered its own.
    let guard_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = guard_rt.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap()
    });

    let dir = TempDir::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config(dir.db(), FaultPlan::none());
    cfg.listen = format!("127.0.0.1:{port}").parse().unwrap();
    let server = std::thread::spawn(move || backend::run_blocking(cfg));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = client();
        let url = format!("http://127.0.0.1:{port}/healthz");
        let mut up = false;
        for _ in 0..100 {
            if let Ok(res) = client.get(&url).send().await {
                assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "run_blocking did not start serving");
        // The server registers its SIGTERM listener right after binding; give it a moment.
        tokio::time::sleep(Duration::from_millis(200)).await;
    });
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "run_blocking did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.join().unwrap().unwrap();
}
