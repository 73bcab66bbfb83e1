//! Soak run: many matches of every kind through a real `nexori serve`, watching that the
//! sidecar's resources stay flat.
//!
//! Game servers connect over the WebSocket bridge and play, in rotation, six kinds of match
//! with the `scripted` mod: normal, no-show (nobody arrives; Nexori cancels it), faulting (the
//! mod traps), disconnecting (a player leaves mid-match), backfilled (a backend-driven match a
//! player joins with a reservation) and admission-reporting (backend-driven, its admission
//! closed by the mod). Results and admission snapshots go to the reference backend. Every few
//! seconds the run samples serve's RSS and open file descriptors (from `/proc`), the instance
//! slots and matches in use (from `/metrics`) and the outbox's SQLite files, and prints them.
//! At the end it waits for every result to be delivered and checks that nothing was lost, that
//! no match or instance is left, and that RSS and the outbox stayed flat after warm-up.
//!
//! ```sh
//! cargo xtask build-mods && cargo build --release -p nexori-host
//! cargo run --release -p nexori-host --example soak -- [MATCHES] [SERVERS] [MATCHES_PER_SECOND]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use nexori_backend::{self as backend, BackendConfig, FaultPlan};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BRIDGE_TOKEN: &str = "soak-bridge";
const BACKEND_TOKEN: &str = "soak-backend";
/// How the run's match kinds rotate; each match gives exactly one result.
const KINDS: [&str; 6] = [
    "normal",
    "no-show",
    "faulting",
    "disconnecting",
    "backfilled",
    "admission",
];
/// The match id of the message each game server ends with, to learn that the host has handled
/// everything before it.
const SYNC_MATCH: &str = "soak-sync";
/// A sample every this often.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The share of the run treated as warm-up before flatness is judged.
const WARM_UP: f64 = 0.2;
/// RSS may grow this much after warm-up before the run calls it a leak (allocator noise and
/// the match load's own ups and downs stay well below).
const RSS_GROWTH_ALLOWED: f64 = 0.25;

/// Kills serve when the run ends, whatever happens.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default)]
struct Counters {
    started: AtomicU64,
    commands: AtomicU64,
    returns: AtomicU64,
    errors: AtomicU64,
}

#[derive(Debug, Clone)]
struct Sample {
    at: f64,
    started: u64,
    rss_kib: u64,
    fds: u64,
    instances: u64,
    matches: u64,
    outbox_bytes: u64,
    pending: u64,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: u64| -> anyhow::Result<u64> {
        Ok(args
            .get(i)
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let total = arg(0, 100_000)?;
    let servers = arg(1, 4)?.max(1);
    let rate = arg(2, 600)?.max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let nexori = ["release", "debug"]
        .iter()
        .map(|p| root.join("target").join(p).join("nexori"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!("build the host first: cargo build --release -p nexori-host")
        })?;
    let scripted = root.join("target/nexori-mods/scripted.wasm");
    anyhow::ensure!(
        scripted.is_file(),
        "build the mods first: cargo xtask build-mods"
    );

    let work = std::env::temp_dir().join(format!("nexori-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("mods"))?;
    std::fs::copy(&scripted, work.join("mods/scripted.wasm"))?;
    let data = work.join("data");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let backend = rt.block_on(backend::start(BackendConfig {
        listen: "127.0.0.1:0".parse()?,
        token: BACKEND_TOKEN.into(),
        database: work.join("backend.sqlite"),
        faults: FaultPlan::none(),
        connections: Default::default(),
    }))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = work.join("nexori.json");
    std::fs::write(
        &config,
        json!({
            "serverId": "50a50000-0000-4000-8000-000000000001",
            "serverConnectionAddress": "soak.example:1",
            "baseUrl": backend.base_url(),
            "serverToken": BACKEND_TOKEN,
            "resultReportingEnabled": true,
            "matchStateReportingEnabled": true,
            "matchStateDebounceMs": 200,
            "resultRetryIntervalMs": 200,
            "modsDir": work.join("mods"),
            "dataDir": data,
            "bridge": {"listen": format!("127.0.0.1:{port}"), "token": BRIDGE_TOKEN},
            "log": {"level": "error"}
        })
        .to_string(),
    )?;
    // The faulting matches log an error each: keep serve's log out of the table.
    let log = work.join("serve.log");
    let serve = Reaper(
        Command::new(&nexori)
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?,
    );
    let pid = serve.0.id();
    let base = format!("http://127.0.0.1:{port}");
    rt.block_on(wait_healthy(&format!("{base}/healthz")))?;
    println!(
        "soak: {total} matches over {servers} game servers at {rate}/s; serve pid {pid} ({})",
        nexori.display()
    );

    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let per_server = total.div_ceil(servers);
    let mut tasks = Vec::new();
    for s in 0..servers {
        let first = s * per_server;
        let count = per_server.min(total.saturating_sub(first));
        tasks.push(rt.spawn(play(
            port,
            s,
            first,
            count,
            rate.div_ceil(servers),
            counters.clone(),
        )));
    }

    let mut samples: Vec<Sample> = Vec::new();
    let mut next_sample = Instant::now();
    println!(
        "{:>7} {:>8} {:>9} {:>5} {:>9} {:>7} {:>11} {:>7}",
        "t (s)", "matches", "RSS KiB", "fds", "instances", "live", "outbox B", "pending"
    );
    loop {
        let done = tasks.iter().all(|t| t.is_finished());
        if Instant::now() >= next_sample || done {
            next_sample += SAMPLE_EVERY;
            let sample = rt.block_on(sample(&base, pid, &data, started, &counters))?;
            print_sample(&sample);
            samples.push(sample);
        }
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for task in tasks {
        rt.block_on(task)??;
    }
    let played = started.elapsed();

    // Let the last placement windows, returns and deliveries run out.
    let deadline = Instant::now() + Duration::from_secs(120);
    let last = loop {
        std::thread::sleep(Duration::from_secs(1));
        let s = rt.block_on(sample(&base, pid, &data, started, &counters))?;
        if (s.pending == 0 && s.matches == 0 && s.instances == 0) || Instant::now() > deadline {
            break s;
        }
    };
    print_sample(&last);
    samples.push(last.clone());

    let stats: Value = rt.block_on(async {
        reqwest::get(format!("{}/api/stats", backend.base_url()))
            .await?
            .json()
            .await
    })?;
    let delivered = stats["results"]["first"].as_u64().unwrap_or(0);
    let duplicates = stats["results"]["repeats"].as_u64().unwrap_or(0)
        + stats["results"]["conflicts"].as_u64().unwrap_or(0);
    let warm = samples
        .iter()
        .find(|s| s.started as f64 >= total as f64 * WARM_UP)
        .cloned()
        .unwrap_or_else(|| samples[0].clone());
    let after: Vec<&Sample> = samples.iter().filter(|s| s.at >= warm.at).collect();
    let range = |f: fn(&Sample) -> u64| {
        let values = after.iter().map(|s| f(s));
        (values.clone().min().unwrap_or(0), values.max().unwrap_or(0))
    };
    let (rss_min, rss_max) = range(|s| s.rss_kib);
    let (fd_min, fd_max) = range(|s| s.fds);
    let (inst_min, inst_max) = range(|s| s.instances);
    let (db_min, db_max) = range(|s| s.outbox_bytes);
    let rss_growth = rss_max as f64 / warm.rss_kib.max(1) as f64 - 1.0;
    println!();
    println!(
        "matches played:        {total} in {:.1} s ({:.0}/s), kinds: {}",
        played.as_secs_f64(),
        total as f64 / played.as_secs_f64(),
        KINDS.join(", ")
    );
    println!(
        "commands received:     {} ({} player.return), bridge errors: {}",
        counters.commands.load(Ordering::Relaxed),
        counters.returns.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed)
    );
    println!("results delivered:     {delivered} (duplicates accepted: {duplicates})");
    println!(
        "after warm-up ({:.0} s on): RSS {rss_min}..{rss_max} KiB ({:+.1} % over warm-up), fds {fd_min}..{fd_max}, \
         instances {inst_min}..{inst_max}, outbox {db_min}..{db_max} bytes",
        warm.at,
        rss_growth * 100.0
    );
    println!(
        "at the end:            {} live matches, {} instances, {} results pending",
        last.matches, last.instances, last.pending
    );
    drop(serve);
    rt.block_on(backend.shutdown());
    let log_lines = std::fs::read_to_string(&log).unwrap_or_default();
    let faults = log_lines.matches("rules mod fault").count();
    println!("serve's log:           {faults} fault lines (one per faulting match)");
    let _ = std::fs::remove_dir_all(&work);
    anyhow::ensure!(
        delivered == total && duplicates == 0,
        "results lost or duplicated"
    );
    anyhow::ensure!(
        counters.errors.load(Ordering::Relaxed) == 0,
        "the bridge refused messages"
    );
    anyhow::ensure!(
        last.matches == 0 && last.instances == 0,
        "matches or instances left behind"
    );
    anyhow::ensure!(
        rss_growth <= RSS_GROWTH_ALLOWED,
        "RSS grew {:.1} % after warm-up",
        rss_growth * 100.0
    );
    Ok(())
}

async fn wait_healthy(url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(url).await.map_or(true, |r| r.status() != 200) {
        anyhow::ensure!(Instant::now() < deadline, "{url} never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn player(n: u64, slot: u64) -> String {
    format!("{:08x}-{:04x}-4000-8000-{:012x}", n >> 16, n & 0xffff, slot)
}

/// The messages of match `n`: what to send at its start, and what to send `after` later.
fn script(n: u64) -> (Vec<Value>, Duration, Vec<Value>) {
    let id = format!("soak-{n}");
    let (p1, p2) = (player(n, 1), player(n, 2));
    let create = |extra: Value| {
        let mut m = json!({"type": "match.create", "matchId": id, "queueId": "soak", "arenaId": "a",
                           "rulesEngineId": "scripted", "externalMatchId": format!("ext-{n}"),
                           "expectedPlayers": [{"uuid": p1, "name": "One"}]});
        if let (Some(m), Value::Object(extra)) = (m.as_object_mut(), extra) {
            m.extend(extra);
        }
        m
    };
    let arrive = |p: &str| json!({"type": "player.arrive", "matchId": id, "player": p});
    let placed = |p: &str| json!({"type": "player.placed", "matchId": id, "player": p});
    let leave = |p: &str| json!({"type": "player.disconnect", "player": p, "reason": "QUIT"});
    let outcome = |p: &str, o: &str| json!({"method": "setPlayerOutcome", "args": {"matchId": id, "playerUuid": p, "outcome": o, "reason": "soak"}});
    let submit = json!({"method": "submitFinalMatchResult", "args": {"matchId": id, "reason": "done", "customDataJson": "{\"soak\":true}"}});
    let calls = |calls: Vec<Value>| json!({"type": "game.event", "matchId": id, "kind": "script.calls", "data": calls});
    let backend_driven = |backfill: bool| {
        json!({"matchSource": "BACKEND_DRIVEN", "expectedPlayerCount": 1,
               "admission": {"capacity": 4, "backfillEnabled": backfill, "backfillMode": "ACTIVE_WINDOW", "backfillWindowSeconds": 60}})
    };
    let quick = Duration::from_millis(300);
    match KINDS[(n % KINDS.len() as u64) as usize] {
        "normal" => (
            vec![
                create(Value::Null),
                arrive(&p1),
                placed(&p1),
                calls(vec![outcome(&p1, "WIN"), submit]),
            ],
            quick,
            vec![leave(&p1)],
        ),
        // Nobody comes: the placement window (1 s) runs out and Nexori cancels the match.
        "no-show" => (
            vec![create(json!({"initialPlacementWindowSeconds": 1}))],
            Duration::ZERO,
            vec![],
        ),
        // The mod traps: the fault policy reports NO_CONTEST and returns the player to the
        // lobby after 5 s, which ends the match; the player stays on the server.
        "faulting" => (
            vec![
                create(Value::Null),
                arrive(&p1),
                placed(&p1),
                json!({"type": "game.event", "matchId": id, "kind": "script.trap"}),
            ],
            Duration::ZERO,
            vec![],
        ),
        "disconnecting" => {
            let mut c = create(Value::Null);
            c["expectedPlayers"] = json!([{"uuid": p1}, {"uuid": p2}]);
            (
                vec![
                    c,
                    arrive(&p1),
                    arrive(&p2),
                    placed(&p1),
                    placed(&p2),
                    leave(&p2),
                    calls(vec![outcome(&p1, "WIN"), outcome(&p2, "LOSS"), submit]),
                ],
                quick,
                vec![leave(&p1)],
            )
        }
        "backfilled" => (
            vec![
                create(backend_driven(true)),
                arrive(&p1),
                placed(&p1),
                json!({"type": "player.arrive", "matchId": id, "player": p2,
                       "admissionReservationId": format!("res-{n}"), "admissionExpiresAtEpochMs": now_ms() + 60_000}),
                placed(&p2),
                calls(vec![outcome(&p1, "WIN"), outcome(&p2, "LOSS"), submit]),
            ],
            quick,
            vec![leave(&p1), leave(&p2)],
        ),
        _ => (
            vec![
                create(backend_driven(false)),
                arrive(&p1),
                placed(&p1),
                calls(vec![
                    json!({"method": "closeMatchAdmission", "args": {"matchId": id, "reason": "ROSTER_LOCKED", "message": "soak"}}),
                    outcome(&p1, "WIN"),
                    submit,
                ]),
            ],
            quick,
            vec![leave(&p1)],
        ),
    }
}

/// One game server: starts `count` matches from `first` at `rate` per second, sends each
/// match's closing messages when due, and reads every command the host sends it.
async fn play(
    port: u16,
    server: u64,
    first: u64,
    count: u64,
    rate: u64,
    counters: Arc<Counters>,
) -> anyhow::Result<()> {
    let mut request =
        format!("ws://127.0.0.1:{port}/bridge?server=soak-{server}").into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {BRIDGE_TOKEN}").parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    let (mut tx, mut rx) = socket.split();
    let reader_counters = counters.clone();
    let (synced_tx, synced) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        let mut errors_shown = 0;
        let mut synced_tx = Some(synced_tx);
        while let Some(Ok(message)) = rx.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            match value["type"].as_str() {
                Some("error") if value["message"]["matchId"] == SYNC_MATCH => {
                    if let Some(tx) = synced_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Some("error") => {
                    reader_counters.errors.fetch_add(1, Ordering::Relaxed);
                    if errors_shown < 5 {
                        errors_shown += 1;
                        eprintln!("soak-{server}: bridge error: {text}");
                    }
                }
                Some("player.return") => {
                    reader_counters.returns.fetch_add(1, Ordering::Relaxed);
                    reader_counters.commands.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    reader_counters.commands.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    let tick = Duration::from_millis(50);
    let per_tick = (rate as f64 * tick.as_secs_f64()).ceil().max(1.0) as u64;
    let mut later: BTreeMap<Instant, Vec<Value>> = BTreeMap::new();
    let mut next = first;
    let end = first + count;
    let mut interval = tokio::time::interval(tick);
    while next < end || !later.is_empty() {
        interval.tick().await;
        let now = Instant::now();
        for n in next..(next + per_tick).min(end) {
            let (opening, after, closing) = script(n);
            for message in opening {
                tx.feed(Message::Text(message.to_string().into())).await?;
            }
            if !closing.is_empty() {
                later.entry(now + after).or_default().extend(closing);
            }
            counters.started.fetch_add(1, Ordering::Relaxed);
        }
        next = (next + per_tick).min(end);
        let due: Vec<Instant> = later.range(..=now).map(|(at, _)| *at).collect();
        for at in due {
            for message in later.remove(&at).unwrap_or_default() {
                tx.feed(Message::Text(message.to_string().into())).await?;
            }
        }
        tx.flush().await?;
    }
    // Close only once the host has handled everything sent: closing a socket with unread data
    // resets the connection, and a reset throws away what the host had not read yet. A message
    // the host refuses comes back after all that was sent before it.
    tx.send(Message::Text(
        json!({"type": "player.arrive", "matchId": SYNC_MATCH, "player": "sync"})
            .to_string()
            .into(),
    ))
    .await?;
    tokio::time::timeout(Duration::from_secs(300), synced)
        .await
        .map_err(|_| anyhow::anyhow!("soak-{server}: the host did not catch up within 300 s"))??;
    // The returns of the last faulting matches come 5 s after the host handled them.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let _ = tx.close().await;
    reader.abort();
    Ok(())
}

async fn sample(
    base: &str,
    pid: u32,
    data: &Path,
    started: Instant,
    counters: &Counters,
) -> anyhow::Result<Sample> {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    let gauges: HashMap<&str, u64> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(k, v)| v.parse::<f64>().ok().map(|v| (k, v as u64)))
        .collect();
    let matches = ["placement", "active", "completed"]
        .iter()
        .map(|s| {
            gauges
                .get(format!("nexori_matches{{state=\"{s}\"}}").as_str())
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as u64;
    let outbox_bytes = ["outbox.sqlite", "outbox.sqlite-wal", "outbox.sqlite-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(data.join(f)).ok())
        .map(|m| m.len())
        .sum();
    Ok(Sample {
        at: started.elapsed().as_secs_f64(),
        started: counters.started.load(Ordering::Relaxed),
        rss_kib,
        fds,
        instances: gauges.get("nexori_instances_live").copied().unwrap_or(0),
        matches,
        outbox_bytes,
        pending: gauges
            .get("nexori_outbox_results{status=\"pending\"}")
            .copied()
            .unwrap_or(0),
    })
}

fn print_sample(s: &Sample) {
    println!(
        "{:>7.1} {:>8} {:>9} {:>5} {:>9} {:>7} {:>11} {:>7}",
        s.at, s.started, s.rss_kib, s.fds, s.instances, s.matches, s.outbox_bytes, s.pending
    );
}
