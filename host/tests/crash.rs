//! SIGKILL while results are in flight: the restarted host delivers every result exactly once.
//! The host runs as a real process (`nexori stdio`), the backend is the reference backend on
//! loopback, the outbox is the host's SQLite file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::{reference_backend, stdio_host};
use nexori_backend::{FaultKind, FaultPlan};
use nexori_reporting::outbox::{Outbox, RecordStatus};
use serde_json::{Value, json};

const TOKEN: &str = "crash-token";
const MATCHES: usize = 40;

fn mods_dir(work: &Path) -> PathBuf {
    let built =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods/scripted.wasm");
    assert!(
        built.is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    let dir = work.join("mods");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(built, dir.join("scripted.wasm")).unwrap();
    dir
}

fn player(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

/// The bridge lines of one complete match that submits a result.
fn match_lines(n: usize) -> Vec<Value> {
    let id = format!("m{n}");
    vec![
        json!({"type": "match.create", "matchId": id, "queueId": "q", "arenaId": "a", "rulesEngineId": "scripted",
               "externalMatchId": format!("ext-{n}"), "expectedPlayers": [{"uuid": player(n)}]}),
        json!({"type": "player.arrive", "matchId": id, "player": player(n)}),
        json!({"type": "player.placed", "matchId": id, "player": player(n)}),
        json!({"type": "game.event", "matchId": id, "kind": "script.calls", "data": [
            {"method": "setPlayerOutcome", "args": {"matchId": id, "playerUuid": player(n), "outcome": "WIN", "reason": "won"}},
            {"method": "submitFinalMatchResult", "args": {"matchId": id, "reason": "done"}}
        ]}),
    ]
}

fn counts(db: &Path) -> (usize, usize) {
    let outbox = Outbox::open(db).unwrap();
    let records = outbox.list(None).unwrap();
    let acked = records
        .iter()
        .filter(|r| r.status == RecordStatus::Acknowledged)
        .count();
    (records.len(), acked)
}

#[test]
fn sigkill_mid_delivery_loses_nothing_and_duplicates_nothing() {
    let work = std::env::temp_dir().join(format!("nexori-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let mods = mods_dir(&work);
    let data = work.join("data");
    let db = data.join("outbox.sqlite");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Every answer is slow (and some requests are processed but their answer lost), so the kill
    // lands with requests in flight.
    let backend = reference_backend(
        &rt,
        &work,
        TOKEN,
        FaultPlan::none()
            .with_seed(3)
            .with(FaultKind::Slow, 0.8)
            .with(FaultKind::DropAnswer, 0.2),
    );
    let mut plan = backend.faults();
    plan.slow_delay_ms = 250;
    backend.set_faults(plan).unwrap();

    let config = work.join("nexori.json");
    std::fs::write(
        &config,
        json!({
            "serverId": "c4a5b000-0000-4000-8000-000000000001",
            "baseUrl": backend.base_url(),
            "serverToken": TOKEN,
            "resultReportingEnabled": true,
            "resultRetryIntervalMs": 200,
            "requestTimeoutMs": 5000
        })
        .to_string(),
    )
    .unwrap();

    // First life: all matches finish, then the host is killed while delivering.
    let mut child = stdio_host(&config, &mods, &data, 60)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let stdin = child.stdin.as_mut().unwrap();
        for n in 0..MATCHES {
            for line in match_lines(n) {
                writeln!(stdin, "{line}").unwrap();
            }
        }
        stdin.flush().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if db.is_file() {
            let (stored, acked) = counts(&db);
            if stored == MATCHES && (3..MATCHES).contains(&acked) {
                break;
            }
            assert!(
                acked < MATCHES,
                "delivery finished before the kill; slow the backend down"
            );
        }
        assert!(
            Instant::now() < deadline,
            "the host never stored every result"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (stored, acked_before) = counts(&db);
    assert_eq!(stored, MATCHES, "every result was durable before the kill");
    assert!(acked_before < MATCHES);

    // Second life: no input, just the outbox. The backend is healthy again.
    backend.set_faults(FaultPlan::none()).unwrap();
    let status = stdio_host(&config, &mods, &data, 60)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let outbox = Outbox::open(&db).unwrap();
    let records = outbox.list(None).unwrap();
    assert_eq!(records.len(), MATCHES);
    assert!(
        records
            .iter()
            .all(|r| r.status == RecordStatus::Acknowledged),
        "{records:?}"
    );

    let stats: Value = rt
        .block_on(async {
            reqwest::get(format!("{}/api/stats", backend.base_url()))
                .await?
                .json()
                .await
        })
        .unwrap();
    assert_eq!(stats["results"]["first"], MATCHES as i64, "{stats}");
    assert_eq!(stats["results"]["repeats"], 0, "{stats}");
    assert_eq!(stats["results"]["conflicts"], 0, "{stats}");
    // Every stored resultId is the one the host generated before the kill.
    for r in &records {
        let stored: Value = rt
            .block_on(async {
                reqwest::get(format!(
                    "{}/api/results/{}",
                    backend.base_url(),
                    r.result_id
                ))
                .await?
                .json()
                .await
            })
            .unwrap();
        assert_eq!(
            stored["body"]["externalMatchId"],
            r.external_match_id.as_str()
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
