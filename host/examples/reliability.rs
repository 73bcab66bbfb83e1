//! Reliability run: a few thousand results through a flapping backend, with the host killed
//! (SIGKILL) and restarted several times. Prints submitted, delivered, lost and duplicates;
//! exits non-zero if anything was lost or accepted twice.
//!
//! ```sh
//! cargo xtask build-mods
//! cargo run --release -p nexori-host --example reliability -- [MATCHES] [LIVES]
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nexori_backend::{self as backend, BackendConfig, FaultKind, FaultPlan};
use nexori_reporting::outbox::{Outbox, RecordStatus};
use serde_json::{Value, json};

const TOKEN: &str = "reliability-token";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let matches: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(3000);
    let lives: usize = args
        .get(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5)
        .max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let nexori = root.join("target/release/nexori");
    let nexori = if nexori.is_file() {
        nexori
    } else {
        root.join("target/debug/nexori")
    };
    anyhow::ensure!(
        nexori.is_file(),
        "build the host first: cargo build --release -p nexori-host"
    );
    let scripted = root.join("target/nexori-mods/scripted.wasm");
    anyhow::ensure!(
        scripted.is_file(),
        "build the mods first: cargo xtask build-mods"
    );

    let work = std::env::temp_dir().join(format!("nexori-reliability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("mods"))?;
    std::fs::copy(&scripted, work.join("mods/scripted.wasm"))?;
    let data = work.join("data");
    let db = data.join("outbox.sqlite");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let flapping = || {
        let mut plan = FaultPlan::none()
            .with_seed(42)
            .with(FaultKind::ServerError, 0.15)
            .with(FaultKind::RateLimited, 0.05)
            .with(FaultKind::Timeout, 0.03)
            .with(FaultKind::DropAnswer, 0.10)
            .with(FaultKind::Malformed, 0.05)
            .with(FaultKind::Slow, 0.10);
        plan.timeout_hold_ms = Some(1_500);
        plan.slow_delay_ms = 100;
        plan
    };
    let backend = rt.block_on(backend::start(BackendConfig {
        listen: "127.0.0.1:0".parse()?,
        token: TOKEN.into(),
        database: work.join("backend.sqlite"),
        faults: flapping(),
        connections: Default::default(),
    }))?;
    let config = work.join("nexori.json");
    std::fs::write(
        &config,
        json!({
            "serverId": "4e11ab1e-0000-4000-8000-000000000001",
            "baseUrl": backend.base_url(),
            "serverToken": TOKEN,
            "resultReportingEnabled": true,
            "resultRetryIntervalMs": 100,
            "requestTimeoutMs": 1000
        })
        .to_string(),
    )?;
    let host = |drain: u64| {
        let mut cmd = Command::new(&nexori);
        cmd.args(["stdio", "--config"])
            .arg(&config)
            .arg("--mods")
            .arg(work.join("mods"))
            .arg("--data-dir")
            .arg(&data)
            .args(["--drain-seconds", &drain.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };

    let started = Instant::now();
    let per_life = matches.div_ceil(lives);
    let mut next = 0usize;
    for life in 0..lives {
        let mut child = host(600).stdin(Stdio::piped()).spawn()?;
        let stdin = child.stdin.as_mut().expect("piped");
        let end = (next + per_life).min(matches);
        for n in next..end {
            let id = format!("m{n}");
            let player = format!("{n:08x}-0000-4000-8000-000000000000");
            for line in [
                json!({"type": "match.create", "matchId": id, "queueId": "q", "arenaId": "a", "rulesEngineId": "scripted",
                       "externalMatchId": format!("ext-{n}"), "expectedPlayers": [{"uuid": player}]}),
                json!({"type": "player.arrive", "matchId": id, "player": player}),
                json!({"type": "player.placed", "matchId": id, "player": player}),
                json!({"type": "game.event", "matchId": id, "kind": "script.calls", "data": [
                    {"method": "setPlayerOutcome", "args": {"matchId": id, "playerUuid": player, "outcome": "WIN", "reason": "won"}},
                    {"method": "submitFinalMatchResult", "args": {"matchId": id, "reason": "done"}}
                ]}),
            ] {
                writeln!(stdin, "{line}")?;
            }
        }
        stdin.flush()?;
        next = end;
        // Kill once this life's results are stored and delivery is under way.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let stored = Outbox::open(&db)
                .ok()
                .and_then(|o| o.enqueued_total().ok())
                .unwrap_or(0);
            if stored as usize >= end || Instant::now() > deadline {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        child.kill()?;
        child.wait()?;
        let (pending, acked, failed, _) = Outbox::open(&db)?.depth()?;
        println!(
            "life {life}: killed with {pending} pending, {acked} acknowledged, {failed} failed"
        );
    }
    // Last life: the backend calms down, the host drains the outbox.
    backend.set_faults(FaultPlan::none())?;
    let status = host(300).stdin(Stdio::null()).status()?;
    anyhow::ensure!(status.success(), "the last host life failed");

    let outbox = Outbox::open(&db)?;
    let submitted = outbox.enqueued_total()? as usize;
    let records = outbox.list(None)?;
    let unacknowledged = records
        .iter()
        .filter(|r| r.status != RecordStatus::Acknowledged)
        .count();
    let stats: Value = rt.block_on(async {
        reqwest::get(format!("{}/api/stats", backend.base_url()))
            .await?
            .json()
            .await
    })?;
    let delivered = stats["results"]["first"].as_u64().unwrap_or(0) as usize;
    let duplicates = stats["results"]["repeats"].as_u64().unwrap_or(0)
        + stats["results"]["conflicts"].as_u64().unwrap_or(0);
    let lost = submitted.saturating_sub(delivered);
    println!();
    println!(
        "matches played:                 {matches} over {lives} host lives (each ended by SIGKILL)"
    );
    println!("results submitted (durable):    {submitted}");
    println!("results delivered:              {delivered}");
    println!("results lost:                   {lost}");
    println!("duplicates accepted by backend: {duplicates}");
    println!("outbox records not acknowledged: {unacknowledged}");
    println!("faults injected:                {}", stats["faults"]);
    println!("backend answers:                {}", stats["answers"]);
    println!(
        "elapsed:                        {:.1} s",
        started.elapsed().as_secs_f64()
    );
    rt.block_on(backend.shutdown());
    let _ = std::fs::remove_dir_all(&work);
    anyhow::ensure!(
        lost == 0 && duplicates == 0 && submitted == matches && unacknowledged == 0,
        "reliability run failed"
    );
    Ok(())
}
