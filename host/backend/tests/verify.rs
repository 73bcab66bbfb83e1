//! `POST /api/results/{resultId}/verify` over real HTTP on loopback: a match log built with
//! `nexori_recording::MemorySink` is checked against the result the backend stored.

use std::sync::Arc;
use std::time::Duration;

use nexori_backend::{self as backend, BackendConfig, BackendHandle, FaultPlan};
use nexori_recording::format::{self, INPUT_LOG_SHA256_KEY, MOD_SHA256_KEY};
use nexori_recording::{FORMAT, Header, LineKind, MemorySink, ModIdentity, RecordSink};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const TOKEN: &str = "test-token";
const SERVER: &str = "25bdb01c-97f2-42d4-998a-4ef7b04d71c3";
const RESULT_ID: &str = "5f0c6d1e-8a53-4c1e-9f6e-0d9a4b7c2e11";

/// The inputs of the test match, in order (the kinds are distinct, so one can be tampered with).
const INPUTS: [&str; 4] = [
    r#"{"at":1000,"in":{"type":"game.event","matchId":"m1","kind":"k"}}"#,
    r#"{"at":1200,"in":{"type":"game.event","matchId":"m1","kind":"capture"}}"#,
    r#"{"at":1500,"advance":true}"#,
    r#"{"at":1800,"in":{"type":"game.event","matchId":"m1","kind":"finish"}}"#,
];

async fn start() -> BackendHandle {
    backend::start(BackendConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: TOKEN.into(),
        database: ":memory:".into(),
        faults: FaultPlan::none(),
        connections: Default::default(),
    })
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A mod file: its bytes only matter through their SHA-256.
fn fake_mod(name: &str) -> Arc<[u8]> {
    Arc::from(format!("\0asm fake mod {name}").into_bytes())
}

fn header_line(module: &[u8]) -> Vec<u8> {
    Header {
        format: FORMAT.into(),
        match_id: "m1".into(),
        recorded_by: "serve".into(),
        nexori_version: "0.1.0".into(),
        started_at: 900,
        module: ModIdentity {
            name: "capture_the_zone".into(),
            sha256: sha256_hex(module),
            wit: "0.1.0".into(),
        },
        random_seed: "0123456789abcdef0123456789abcdef".into(),
        settings: json!({"maxPlayers": 8}),
    }
    .to_line()
}

/// A result body as the host reports it, stamped with the mod and input hashes.
fn result_body(mod_sha256: &str, input_log_sha256: Option<&str>) -> Value {
    let mut metadata = json!({ MOD_SHA256_KEY: mod_sha256 });
    if let Some(hash) = input_log_sha256 {
        metadata[INPUT_LOG_SHA256_KEY] = Value::from(hash);
    }
    json!({
        "schemaVersion": 1,
        "resultId": RESULT_ID,
        "sentAtEpochMs": 2_001,
        "serverId": SERVER,
        "localMatchId": "m1",
        "externalMatchId": "ext-m1",
        "assignmentId": "assign-001",
        "queueId": "queue-id",
        "arenaId": "arena-id",
        "rulesEngineId": "capture_the_zone",
        "players": [
            {"playerUuid": "0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2", "outcome": "WIN", "reason": "objective_completed"},
            {"playerUuid": "3bb28e1b-b83a-459a-ad13-1961acc7759b", "outcome": "LOSS", "reason": ""}
        ],
        "reason": "rules_mod_completed",
        "metadata": metadata,
        "customData": {"mode": "capture_the_zone", "score": 1.5},
        "endedAtEpochMs": 2_000
    })
}

/// Records the test match served by `module` into a sink: the inputs, then the result (built by
/// `body` from the sealed input hash), then what follows a result (an enqueued answer, which is an
/// input after the result and so not in its hash, and the close). Returns the sink and the body.
fn record(module: &Arc<[u8]>, body: impl FnOnce(&str) -> Value) -> (MemorySink, Value) {
    let mut sink = MemorySink::new();
    let log = sink.open(&header_line(module), &sha256_hex(module), module);
    for line in INPUTS {
        sink.append(log, LineKind::Input, line.as_bytes());
    }
    let hash = sink.seal(log).unwrap();
    let body = body(&hash);
    sink.append(
        log,
        LineKind::Output,
        format!(r#"{{"at":2000,"result":{body}}}"#).as_bytes(),
    );
    sink.append(
        log,
        LineKind::Input,
        format!(r#"{{"at":2001,"enqueued":{{"status":"QUEUED","resultId":"{RESULT_ID}"}}}}"#)
            .as_bytes(),
    );
    sink.append(log, LineKind::Output, br#"{"at":2002,"closed":true}"#);
    sink.close(log);
    (sink, body)
}

/// Reports `body` as the host does (`raw` is the exact text sent).
async fn report(backend: &BackendHandle, client: &reqwest::Client, body: &Value, raw: String) {
    let res = client
        .post(format!("{}/nexori/results", backend.base_url()))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .header("X-Nexori-Server-Id", SERVER)
        .header("X-Nexori-Result-Id", body["resultId"].as_str().unwrap())
        .header(
            "X-Nexori-Sent-At-Epoch-Ms",
            body["sentAtEpochMs"].to_string(),
        )
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "ACCEPTED", "{answer}");
}

/// Uploads `file` to the verify route of `result_id` (no token: like `GET /api/results/{id}`).
async fn verify(
    backend: &BackendHandle,
    client: &reqwest::Client,
    result_id: &str,
    file: Vec<u8>,
) -> (StatusCode, Value) {
    let res = client
        .post(format!(
            "{}/api/results/{result_id}/verify",
            backend.base_url()
        ))
        .header("Content-Type", "application/octet-stream")
        .body(file)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// The input hash computed here, independently of the recording crate: SHA-256 over the header
/// line and every input, advance and enqueued line before the result record, each with `\n`.
fn input_hash_of(text: &str) -> String {
    let mut hashed = String::new();
    for line in text.lines() {
        if line.contains(r#""result":"#) {
            break;
        }
        if line.contains(r#""format":"#)
            || line.contains(r#""in":"#)
            || line.contains(r#""advance":"#)
            || line.contains(r#""enqueued":"#)
        {
            hashed.push_str(line);
            hashed.push('\n');
        }
    }
    sha256_hex(hashed.as_bytes())
}

#[tokio::test]
async fn a_log_is_verified_against_the_stored_result_and_a_tampered_one_is_not() {
    let backend = start().await;
    let client = client();
    let module = fake_mod("capture_the_zone");
    let mod_sha = sha256_hex(&module);
    let (sink, body) = record(&module, |hash| result_body(&mod_sha, Some(hash)));
    let input_hash = body["metadata"][INPUT_LOG_SHA256_KEY]
        .as_str()
        .unwrap()
        .to_string();
    let file = sink.to_file(true);
    let text = String::from_utf8(format::decompress(&file).unwrap().into_owned()).unwrap();
    assert_eq!(input_hash, input_hash_of(&text));

    // Reported pretty-printed: the backend keeps the body as it was sent.
    report(
        &backend,
        &client,
        &body,
        serde_json::to_string_pretty(&body).unwrap(),
    )
    .await;

    // The header is line 1, the embedded mod line 2, the four inputs lines 3 to 6.
    let verified = json!({
        "verified": true,
        "resultId": RESULT_ID,
        "matchId": "m1",
        "inputLogSha256": input_hash,
        "modSha256": mod_sha,
        "line": 7,
    });
    let (status, answer) = verify(&backend, &client, RESULT_ID, file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, verified);

    // The same log uncompressed.
    let (status, answer) = verify(&backend, &client, RESULT_ID, text.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, verified);

    // One input changed: its kind.
    assert_eq!(text.matches(r#""kind":"capture""#).count(), 1);
    let tampered = text.replace(r#""kind":"capture""#, r#""kind":"defend""#);
    let tampered_hash = input_hash_of(&tampered);
    assert_ne!(tampered_hash, input_hash);
    let (status, answer) = verify(
        &backend,
        &client,
        RESULT_ID,
        format::compress(tampered.as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer,
        json!({
            "verified": false,
            "resultId": RESULT_ID,
            "error": format!(
                "the log's inputs hash to {tampered_hash}; the result says {input_hash}: \
                 an input was changed, added or removed"
            ),
        })
    );

    // The result's own fields changed in the log: the inputs still match, the body does not.
    let forged = text.replace(r#""outcome":"LOSS""#, r#""outcome":"WIN""#);
    let (status, answer) = verify(&backend, &client, RESULT_ID, forged.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer["error"],
        "the log records a different result body at line 7: field \"players\" differs"
    );

    // Not a log at all.
    let (status, answer) = verify(&backend, &client, RESULT_ID, b"hello\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["verified"], false);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("the log cannot be read: line 1: not JSON"),
        "{answer}"
    );

    backend.shutdown().await;
}

#[tokio::test]
async fn an_unknown_result_is_404() {
    let backend = start().await;
    let client = client();
    let module = fake_mod("capture_the_zone");
    let (sink, _) = record(&module, |hash| {
        result_body(&sha256_hex(&module), Some(hash))
    });
    let (status, answer) = verify(&backend, &client, "nope", sink.to_file(false)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer, json!({"error": "unknown result nope"}));
    backend.shutdown().await;
}

#[tokio::test]
async fn a_log_of_another_mod_is_refused() {
    let backend = start().await;
    let client = client();
    let module = fake_mod("capture_the_zone");
    let mod_sha = sha256_hex(&module);
    let (_, body) = record(&module, |hash| result_body(&mod_sha, Some(hash)));
    report(&backend, &client, &body, body.to_string()).await;

    // The same match, the same inputs and result, served by another build of the mod.
    let other = fake_mod("capture_the_zone, rebuilt");
    let other_sha = sha256_hex(&other);
    let (sink, _) = record(&other, |_| body.clone());
    let (status, answer) = verify(&backend, &client, RESULT_ID, sink.to_file(true)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer,
        json!({
            "verified": false,
            "resultId": RESULT_ID,
            "error": format!("the log's mod has SHA-256 {other_sha}; the result says {mod_sha}"),
        })
    );
    backend.shutdown().await;
}

#[tokio::test]
async fn a_result_without_an_input_hash_cannot_be_verified() {
    let backend = start().await;
    let client = client();
    let module = fake_mod("capture_the_zone");
    let (sink, body) = record(&module, |_| result_body(&sha256_hex(&module), None));
    report(&backend, &client, &body, body.to_string()).await;
    let (status, answer) = verify(&backend, &client, RESULT_ID, sink.to_file(false)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer["error"],
        "the result carries no inputLogSha256 to check the log against"
    );
    backend.shutdown().await;
}

/// Logs larger than axum's default 2 MiB body limit are taken (here 4 MiB of plain text: a 3 MiB
/// mod embedded as base64).
#[tokio::test]
async fn a_log_larger_than_the_default_body_limit_is_taken() {
    let backend = start().await;
    let client = client();
    let mut bytes = b"\0asm".to_vec();
    bytes.extend((0..3u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let module: Arc<[u8]> = Arc::from(bytes);
    let mod_sha = sha256_hex(&module);
    let (sink, body) = record(&module, |hash| result_body(&mod_sha, Some(hash)));
    report(&backend, &client, &body, body.to_string()).await;
    let text = format::decompress(&sink.to_file(true))
        .unwrap()
        .into_owned();
    assert!(text.len() > 4 << 20);
    let (status, answer) = verify(&backend, &client, RESULT_ID, text).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["verified"], true);
    backend.shutdown().await;
}
