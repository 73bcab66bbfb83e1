//! Load generator for measuring `nexori serve` end to end, the lighter twin of the Java arena bot
//! (`clients/java/bot`): the same Capture The Zone play over the same bridge, on one thread, so
//! that on a small machine the generator takes as little CPU from serve as it can.
//!
//! Each game server is one WebSocket connection (`?server=load-N`) running `--matches` matches
//! of `--players` players. Every server tick (`--hz`) each player still in a match sends a
//! `player.tick` `{worldName, x, y, z, alive, killerPlayerUuid?}`, all of a server's ticks written
//! together. Players walk towards a new destination every 2–6 s, half of them inside the zone;
//! they die (`--deaths-per-minute`, a `--kill-share` of them killed by another player), stay dead
//! until the mod's `player.forceRespawn` puts them back at their `player.setRespawnPoint`, and
//! leave on `player.return`; a match whose players have all left is replaced. Random choices come
//! from `--seed`, per match.
//!
//! Measured over the window after `--warm-up`: the ticks sent; serve's CPU time (user + system,
//! `/proc/PID/stat`, so the generator's own CPU does not count) and RSS; what serve says it handled
//! (`/metrics`); and the latency from a player's first dead tick to its `player.setDeathScreen`,
//! the one command that answers exactly one event. `host/benches/serve-load.sh` runs it against a
//! real serve and backend; BENCHMARKS.md has the figures.
//!
//! ```sh
//! cargo build --release -p nexori --example serve_load
//! target/release/examples/serve_load --uri ws://127.0.0.1:7420/bridge --token T --serve-pid PID
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ZONE_X: f64 = 62.0;
const ZONE_Z: f64 = -6.0;
const ZONE_RADIUS: f64 = 8.0;
const GROUND_Y: f64 = 85.0;
/// Walking speed, blocks per second.
const SPEED: f64 = 5.0;

struct Options {
    uri: String,
    token: String,
    servers: usize,
    matches: usize,
    players: usize,
    hz: u32,
    seed: u64,
    deaths_per_minute: f64,
    kill_share: f64,
    duration: Duration,
    warm_up: Duration,
    serve_pid: u32,
    metrics: Option<String>,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let mut o = Options {
            uri: "ws://127.0.0.1:7420/bridge".into(),
            token: std::env::var("NEXORI_BRIDGE_TOKEN").unwrap_or_default(),
            servers: 50,
            matches: 4,
            players: 16,
            hz: 20,
            seed: 1,
            deaths_per_minute: 2.0,
            kill_share: 0.5,
            duration: Duration::from_secs(75),
            warm_up: Duration::from_secs(15),
            serve_pid: 0,
            metrics: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            let number = |what: &str| -> Result<f64, String> {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or(format!("{what} must be a number >= 0, got {value}"))
            };
            match flag.as_str() {
                "--uri" => o.uri = value.clone(),
                "--token" => o.token = value.clone(),
                "--servers" => o.servers = number("--servers")? as usize,
                "--matches-per-server" => o.matches = number("--matches-per-server")? as usize,
                "--players" => o.players = number("--players")? as usize,
                "--hz" => o.hz = number("--hz")? as u32,
                "--seed" => o.seed = number("--seed")? as u64,
                "--deaths-per-minute" => o.deaths_per_minute = number("--deaths-per-minute")?,
                "--kill-share" => o.kill_share = number("--kill-share")?.min(1.0),
                "--duration" => o.duration = Duration::from_secs_f64(number("--duration")?),
                "--warm-up" => o.warm_up = Duration::from_secs_f64(number("--warm-up")?),
                "--serve-pid" => o.serve_pid = number("--serve-pid")? as u32,
                "--metrics" => o.metrics = Some(value.clone()),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if o.servers == 0 || o.matches == 0 || !(1..=16).contains(&o.players) || o.hz == 0 {
            return Err(
                "--servers, --matches-per-server and --hz must be at least 1, --players 1..16"
                    .into(),
            );
        }
        if o.warm_up >= o.duration {
            return Err("--warm-up must be shorter than --duration".into());
        }
        if o.metrics.is_none() && o.serve_pid > 0 {
            let authority = o
                .uri
                .trim_start_matches("ws://")
                .split('/')
                .next()
                .unwrap_or("");
            o.metrics = Some(format!("http://{authority}/metrics"));
        }
        Ok(o)
    }
}

/// SplitMix64: small, seedable, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Player {
    uuid: String,
    x: f64,
    z: f64,
    target: (f64, f64),
    retarget_at: u64,
    alive: bool,
    alive_ticks: u32,
    killer: Option<usize>,
    death_unreported: bool,
    death_sent: Option<Instant>,
    home: Option<(f64, f64)>,
    returned: bool,
}

struct Match {
    id: String,
    world: String,
    players: Vec<Player>,
    rng: Rng,
    tick: u64,
    returned: usize,
}

#[derive(Default)]
struct Stats {
    ticks_in_window: u64,
    deaths: u64,
    forced_respawns: u64,
    respawns_at_home: u64,
    death_screens: u64,
    commands: u64,
    returns: u64,
    matches_started: u64,
    errors: u64,
    ticks_after_close: u64,
    unexpected: u64,
    examples: Vec<String>,
    /// First dead tick → `player.setDeathScreen`, in ns, inside the window.
    latencies: Vec<u64>,
}

impl Stats {
    fn note(&mut self, what: String) {
        if self.examples.len() < 10 {
            self.examples.push(what);
        }
    }
}

/// A deterministic UUID for player `i` of `match_id`.
fn player_uuid(seed: u64, match_id: &str, i: usize) -> String {
    let mut rng = Rng(seed
        ^ match_id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        ^ (i as u64) << 32);
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

impl Match {
    fn new(o: &Options, id: String) -> Match {
        let players = (0..o.players)
            .map(|i| {
                let angle = 2.0 * std::f64::consts::PI * i as f64 / o.players as f64;
                let (x, z) = (ZONE_X + 14.0 * angle.cos(), ZONE_Z + 14.0 * angle.sin());
                Player {
                    uuid: player_uuid(o.seed, &id, i),
                    x,
                    z,
                    target: (x, z),
                    retarget_at: 0,
                    alive: true,
                    alive_ticks: 0,
                    killer: None,
                    death_unreported: false,
                    death_sent: None,
                    home: None,
                    returned: false,
                }
            })
            .collect();
        let seed = o.seed
            ^ id.bytes()
                .fold(0, |h: u64, b| h.rotate_left(5) ^ u64::from(b));
        Match {
            world: format!("nexori-match-{id}"),
            id,
            players,
            rng: Rng(seed),
            tick: 0,
            returned: 0,
        }
    }

    /// `match.create`, then every player's `player.arrive` and `player.placed`.
    fn launch(&self) -> Vec<String> {
        let expected: Vec<String> = (self.players.iter().enumerate())
            .map(|(i, p)| format!(r#"{{"uuid":"{}","name":"Bot{}"}}"#, p.uuid, i + 1))
            .collect();
        let mut out = vec![format!(
            r#"{{"type":"match.create","matchId":"{id}","queueId":"load-queue","arenaId":"load-arena","rulesEngineId":"capture_the_zone","externalMatchId":"ext-{id}","expectedPlayers":[{}]}}"#,
            expected.join(","),
            id = self.id
        )];
        for (i, p) in self.players.iter().enumerate() {
            out.push(format!(
                r#"{{"type":"player.arrive","matchId":"{}","player":"{}","name":"Bot{}"}}"#,
                self.id,
                p.uuid,
                i + 1
            ));
        }
        for p in &self.players {
            out.push(format!(
                r#"{{"type":"player.placed","matchId":"{}","player":"{}","worldName":"{}"}}"#,
                self.id, p.uuid, self.world
            ));
        }
        out
    }

    /// One server tick: every player still here moves or dies and writes its `player.tick`.
    fn tick(&mut self, o: &Options, now: Instant, out: &mut Vec<String>, stats: &mut Stats) {
        self.tick += 1;
        let death_chance = o.deaths_per_minute / 60.0 / f64::from(o.hz);
        let step = SPEED / f64::from(o.hz);
        let alive: Vec<usize> = (0..self.players.len())
            .filter(|&i| self.players[i].alive && !self.players[i].returned)
            .collect();
        for i in 0..self.players.len() {
            let rng = &mut self.rng;
            let p = &mut self.players[i];
            if p.returned {
                continue;
            }
            if p.alive {
                if self.tick >= p.retarget_at {
                    let inside = rng.unit() < 0.5;
                    let angle = rng.unit() * 2.0 * std::f64::consts::PI;
                    let radius = if inside {
                        rng.unit() * (ZONE_RADIUS - 2.0)
                    } else {
                        ZONE_RADIUS + 3.0 + rng.unit() * (20.0 - ZONE_RADIUS - 3.0)
                    };
                    p.target = (ZONE_X + radius * angle.cos(), ZONE_Z + radius * angle.sin());
                    p.retarget_at = self.tick + ((2.0 + rng.unit() * 4.0) * f64::from(o.hz)) as u64;
                }
                let (dx, dz) = (p.target.0 - p.x, p.target.1 - p.z);
                let distance = dx.hypot(dz);
                if distance <= step {
                    (p.x, p.z) = p.target;
                } else {
                    p.x += dx / distance * step;
                    p.z += dz / distance * step;
                }
                // Seen alive at least once since the last spawn, as the Java bot does.
                if p.alive_ticks > 0 && rng.unit() < death_chance {
                    p.alive = false;
                    p.alive_ticks = 0;
                    p.death_unreported = true;
                    stats.deaths += 1;
                    p.killer = None;
                    if rng.unit() < o.kill_share {
                        let others: Vec<usize> =
                            alive.iter().copied().filter(|&j| j != i).collect();
                        if !others.is_empty() {
                            let k = others[(rng.next() % others.len() as u64) as usize];
                            p.killer = Some(k);
                        }
                    }
                }
            }
            let p = &self.players[i];
            let mut text = String::with_capacity(256);
            let _ = write!(
                text,
                r#"{{"type":"game.event","matchId":"{}","kind":"player.tick","player":"{}","data":{{"worldName":"{}","x":{},"y":{},"z":{},"alive":{}"#,
                self.id, p.uuid, self.world, p.x, GROUND_Y, p.z, p.alive
            );
            if p.death_unreported
                && let Some(k) = p.killer
            {
                let _ = write!(text, r#","killerPlayerUuid":"{}""#, self.players[k].uuid);
            }
            text.push_str("}}");
            out.push(text);
            let p = &mut self.players[i];
            if p.death_unreported {
                p.death_unreported = false;
                p.death_sent = Some(now);
            }
            if p.alive {
                p.alive_ticks += 1;
            }
        }
    }
}

/// One game server: its connection, its matches, what it saw.
async fn game_server(
    o: Arc<Options>,
    index: usize,
    in_window: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    connected: Arc<AtomicU64>,
) -> anyhow::Result<Stats> {
    let name = format!("load-{index}");
    let mut request = format!("{}?server={name}", o.uri).into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {}", o.token).parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    connected.fetch_add(1, Ordering::SeqCst);
    let (mut tx, mut rx) = socket.split();
    let mut stats = Stats::default();
    let mut generations = vec![0u64; o.matches];
    let mut slots: Vec<Option<Match>> = (0..o.matches).map(|_| None).collect();
    // Player uuid → (slot, index), for the commands.
    let mut players: HashMap<String, (usize, usize)> = HashMap::new();
    let period = Duration::from_secs_f64(1.0 / f64::from(o.hz));
    // Servers do not tick in step: spread their first ticks over one period.
    let phase = period.mul_f64(index as f64 / o.servers as f64);
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut out = Vec::with_capacity(o.matches * o.players);
    while !stop.load(Ordering::Relaxed) {
        tokio::select! {
            _ = interval.tick() => {
                let now = Instant::now();
                for slot in 0..o.matches {
                    if slots[slot].as_ref().is_some_and(|m| m.returned == m.players.len()) {
                        // Its players leave the lookup with it: a long run stays flat.
                        if let Some(m) = slots[slot].take() {
                            for p in &m.players {
                                players.remove(&p.uuid);
                            }
                        }
                    }
                    match &mut slots[slot] {
                        Some(m) => {
                            let before = out.len();
                            m.tick(&o, now, &mut out, &mut stats);
                            if in_window.load(Ordering::Relaxed) {
                                stats.ticks_in_window += (out.len() - before) as u64;
                            }
                        }
                        None => {
                            let id = format!("{name}-m{slot}-{}", generations[slot]);
                            generations[slot] += 1;
                            let m = Match::new(&o, id);
                            for (i, p) in m.players.iter().enumerate() {
                                players.insert(p.uuid.clone(), (slot, i));
                            }
                            out.extend(m.launch());
                            stats.matches_started += 1;
                            slots[slot] = Some(m);
                        }
                    }
                }
                for text in out.drain(..) {
                    tx.feed(Message::Text(text.into())).await?;
                }
                tx.flush().await?;
            }
            incoming = rx.next() => {
                let Some(message) = incoming else { anyhow::bail!("{name}: serve closed the connection") };
                let Message::Text(text) = message? else { continue };
                let received = Instant::now();
                command(&text, received, &mut slots, &players, &in_window, &mut stats);
            }
        }
    }
    let _ = tx.close().await;
    Ok(stats)
}

/// Obeys one host command, as a game server would.
fn command(
    text: &str,
    received: Instant,
    slots: &mut [Option<Match>],
    players: &HashMap<String, (usize, usize)>,
    in_window: &AtomicBool,
    stats: &mut Stats,
) {
    stats.commands += 1;
    // Most commands are HUD updates, which need nothing: parse only the ones acted on.
    let acted = [
        "player.setDeathScreen",
        "player.forceRespawn",
        "player.setRespawnPoint",
        "player.return",
        "\"error\"",
    ];
    if !acted.iter().any(|a| text.contains(a)) {
        return;
    }
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        stats.unexpected += 1;
        stats.note(format!("unreadable command: {text}"));
        return;
    };
    if v["type"] == "error" {
        let error = v["error"].as_str().unwrap_or("");
        let closed = error.starts_with("unknown match") && v["message"]["type"] == "game.event"
            || v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(r#"{"type":"game.event""#));
        if closed {
            stats.ticks_after_close += 1;
        } else {
            stats.errors += 1;
            stats.note(format!("error: {text}"));
        }
        return;
    }
    let Some(&(slot, i)) = v["player"].as_str().and_then(|u| players.get(u)) else {
        return;
    };
    let Some(m) = slots[slot].as_mut() else {
        return;
    };
    if v["matchId"].as_str() != Some(m.id.as_str()) {
        return; // a command for an earlier match in this slot
    }
    let p = &mut m.players[i];
    let name = if v["type"] == "game.command" {
        v["name"].as_str().unwrap_or("")
    } else {
        v["type"].as_str().unwrap_or("")
    };
    match name {
        "player.setRespawnPoint" => {
            p.home = Some((
                v["data"]["x"].as_f64().unwrap_or(p.x),
                v["data"]["z"].as_f64().unwrap_or(p.z),
            ));
        }
        "player.setDeathScreen" => {
            stats.death_screens += 1;
            if let Some(sent) = p.death_sent.take()
                && in_window.load(Ordering::Relaxed)
            {
                stats
                    .latencies
                    .push(received.duration_since(sent).as_nanos() as u64);
            }
        }
        "player.forceRespawn" => {
            stats.forced_respawns += 1;
            if p.alive {
                stats.unexpected += 1;
                stats.note(format!("forceRespawn for a living player: {text}"));
            } else if let Some((x, z)) = p.home {
                (p.alive, p.x, p.z, p.target) = (true, x, z, (x, z));
                stats.respawns_at_home += 1;
            } else {
                stats.unexpected += 1;
                stats.note(format!("forceRespawn before any respawn point: {text}"));
            }
        }
        "player.return" if !p.returned => {
            p.returned = true;
            m.returned += 1;
            stats.returns += 1;
        }
        _ => {}
    }
}

/// (CPU clock ticks, RSS KiB) of `pid`.
fn process(pid: u32) -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap_or(0) + 2..]
        .split(' ')
        .collect();
    let cpu = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))?
        .parse()?;
    Ok((cpu, rss))
}

/// Counters of serve's `/metrics`, summed over their labels.
async fn counters(url: &str) -> anyhow::Result<HashMap<String, f64>> {
    let text = reqwest::get(url).await?.error_for_status()?.text().await?;
    let mut sums = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (Some(name), Some(value)) = (line.split(['{', ' ']).next(), line.rsplit(' ').next())
        else {
            continue;
        };
        if let Ok(v) = value.parse::<f64>() {
            *sums.entry(name.to_string()).or_insert(0.0) += v;
        }
    }
    Ok(sums)
}

/// Serve's (CPU, RSS) and the generator's own, and serve's counters, as far as the options say.
type Reading = (Option<(u64, u64)>, (u64, u64), Option<HashMap<String, f64>>);

async fn reading(o: &Options, me: u32) -> anyhow::Result<Reading> {
    let serve = if o.serve_pid > 0 {
        Some(process(o.serve_pid)?)
    } else {
        None
    };
    let metrics = match &o.metrics {
        Some(m) => Some(counters(m).await?),
        None => None,
    };
    Ok((serve, process(me)?, metrics))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e6
}

fn main() -> anyhow::Result<()> {
    let o = Arc::new(Options::parse().map_err(|e| anyhow::anyhow!("serve_load: {e}"))?);
    // One thread: the generator's CPU is what the measured serve does not get.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(o))
}

async fn run(o: Arc<Options>) -> anyhow::Result<()> {
    let in_window = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (1..=o.servers)
        .map(|i| {
            tokio::spawn(game_server(
                o.clone(),
                i,
                in_window.clone(),
                stop.clone(),
                connected.clone(),
            ))
        })
        .collect();
    let ticks_per_second = 100.0; // USER_HZ
    tokio::time::sleep(o.warm_up).await;
    let me = std::process::id();
    anyhow::ensure!(
        connected.load(Ordering::SeqCst) == o.servers as u64,
        "only {} of {} game servers connected to {}",
        connected.load(Ordering::SeqCst),
        o.servers,
        o.uri
    );
    let start = Instant::now();
    let (serve_before, me_before, metrics_before) = reading(&o, me).await?;
    in_window.store(true, Ordering::Relaxed);
    tokio::time::sleep(o.duration - o.warm_up).await;
    in_window.store(false, Ordering::Relaxed);
    let seconds = start.elapsed().as_secs_f64();
    let (serve_after, me_after, metrics_after) = reading(&o, me).await?;
    stop.store(true, Ordering::Relaxed);

    let mut total = Stats::default();
    for task in tasks {
        let s = tokio::time::timeout(Duration::from_secs(10), task).await???;
        total.ticks_in_window += s.ticks_in_window;
        total.deaths += s.deaths;
        total.forced_respawns += s.forced_respawns;
        total.respawns_at_home += s.respawns_at_home;
        total.death_screens += s.death_screens;
        total.commands += s.commands;
        total.returns += s.returns;
        total.matches_started += s.matches_started;
        total.errors += s.errors;
        total.ticks_after_close += s.ticks_after_close;
        total.unexpected += s.unexpected;
        total.examples.extend(s.examples);
        total.latencies.extend(s.latencies);
    }
    total.latencies.sort_unstable();
    let l = &total.latencies;
    println!(
        "serve_load: {} servers x {} matches x {} players at {} Hz = {} player.tick/s offered, seed {}",
        o.servers,
        o.matches,
        o.players,
        o.hz,
        o.servers * o.matches * o.players * o.hz as usize,
        o.seed
    );
    println!(
        "window: {seconds:.1} s after {:.1} s of warm-up",
        o.warm_up.as_secs_f64()
    );
    println!(
        "sent: {:.0} player.tick/s; generator CPU {:.3} s per s",
        total.ticks_in_window as f64 / seconds,
        (me_after.0 - me_before.0) as f64 / ticks_per_second / seconds
    );
    println!(
        "matches started {}, players returned {}; deaths {}, death screens {}, forced respawns {} ({} at the respawn point); commands {}",
        total.matches_started,
        total.returns,
        total.deaths,
        total.death_screens,
        total.forced_respawns,
        total.respawns_at_home,
        total.commands
    );
    println!(
        "latency, first dead tick -> player.setDeathScreen: n={} p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        l.len(),
        percentile(l, 50.0),
        percentile(l, 99.0),
        percentile(l, 100.0)
    );
    let delta = |name: &str| match (&metrics_before, &metrics_after) {
        (Some(a), Some(b)) => {
            b.get(name).copied().unwrap_or(0.0) - a.get(name).copied().unwrap_or(0.0)
        }
        _ => f64::NAN,
    };
    let events = delta("nexori_game_events_total");
    if let (Some(before), Some(after)) = (serve_before, serve_after) {
        let cpu = (after.0 - before.0) as f64 / ticks_per_second;
        println!(
            "serve CPU: {:.3} s per s (user+sys, /proc/{}/stat), {:.2} us per game event handled; RSS {} KiB",
            cpu / seconds,
            o.serve_pid,
            cpu / events * 1e6,
            after.1
        );
    }
    println!(
        "serve handled: {:.0} game events/s in {:.0} guest calls/s, {:.0} game commands/s; bridge errors {}, faults {}, commands dropped {}",
        events / seconds,
        delta("nexori_game_event_calls_total") / seconds,
        delta("nexori_game_commands_total") / seconds,
        delta("nexori_bridge_errors_total"),
        delta("nexori_faults_total"),
        delta("nexori_bridge_commands_dropped_total")
    );
    println!(
        "host errors {}, unexpected commands {}, ticks that crossed their match's close {} {:?}",
        total.errors, total.unexpected, total.ticks_after_close, total.examples
    );
    let clean = total.errors == 0
        && total.unexpected == 0
        && delta("nexori_faults_total") == 0.0
        && delta("nexori_bridge_commands_dropped_total") == 0.0;
    println!("{}", if clean { "clean run" } else { "NOT CLEAN" });
    if !clean {
        std::process::exit(1);
    }
    Ok(())
}
