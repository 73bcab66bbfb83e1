//! `nexori`: the arena host's command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nexori::scenario::{self, RunOptions, Scenario};

/// `println!` for the command's output. A reader that went away (`nexori simulate --json | head`)
/// ends the program quietly with status 0, as ripgrep does, where `println!` would panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            stdout_failed(e);
        }
    }};
}

fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("nexori: cannot write to standard output: {e}");
    std::process::exit(2);
}

#[derive(Parser)]
#[command(
    name = "nexori",
    version,
    about = "Nexori arena runtime: a WebAssembly host for minigame rules mods"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The compile cache of `simulate` and `check`, so an unchanged mod is not compiled again on
/// every run.
#[derive(clap::Args)]
struct CacheArgs {
    /// The compile cache directory (created 0700; not used if group or others can write to it)
    /// [default: $XDG_CACHE_HOME/nexori/compiled, else ~/.cache/nexori/compiled]
    #[arg(long, value_name = "DIR", env = "NEXORI_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile the mods in memory, without the compile cache (wins over --cache-dir).
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    fn dir(self) -> Option<PathBuf> {
        nexori::check::cli_cache_dir(self.cache_dir, self.no_cache)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Play a scenario file against the mods in a directory, on a virtual clock.
    Simulate {
        /// Directory of `.wasm` mods (a mod's name is its file name without `.wasm`).
        #[arg(long)]
        mods: PathBuf,
        /// The scenario file.
        scenario: PathBuf,
        /// Print the trace and final match snapshots as one JSON object.
        #[arg(long)]
        json: bool,
        /// Also record every match into FILE (a match log, docs/replay.md), with the mods
        /// embedded: `nexori replay --log FILE` plays it again.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Re-run a recorded match from its log and compare: exit 0 when it plays out identically,
    /// 1 with the differences, 2 when the log or the mod cannot be used.
    Replay {
        /// The match to replay, from the recordings of the data directory (or the one in --log
        /// to pick when the file holds several).
        match_id: Option<String>,
        /// A match log file (`nexori match export`, `nexori simulate --record`).
        #[arg(long, value_name = "FILE")]
        log: Option<PathBuf>,
        /// Play it with this build of the mod instead of the recorded one.
        #[arg(long = "mod", value_name = "FILE")]
        module: Option<PathBuf>,
        #[command(flatten)]
        recordings: RecordingsArgs,
        /// Print the comparison and the replay's trace as one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Recorded matches.
    Match {
        #[command(subcommand)]
        action: MatchAction,
    },
    /// Check that a `.wasm` file is a loadable rules mod; print its registrations and imports.
    Check {
        /// The component to check.
        module: PathBuf,
        /// JSON configuration to pass to the mod's `init` (default `{}`).
        #[arg(long)]
        config: Option<String>,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Run the host as a sidecar: the WebSocket bridge, reporting, /healthz and /metrics.
    Serve {
        /// The configuration file (`nexori config example` prints one).
        #[arg(long, default_value = "nexori.toml")]
        config: PathBuf,
    },
    /// Run the host on real time, speaking the bridge protocol as JSON lines on stdin/stdout.
    Stdio {
        /// Configuration file, TOML or JSON (the keys of `nexori config example`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Directory of `.wasm` mods.
        #[arg(long)]
        mods: PathBuf,
        /// Where durable state lives (the result outbox).
        #[arg(long, default_value = "nexori-data")]
        data_dir: PathBuf,
        /// How long to keep delivering pending results after stdin closes.
        #[arg(long, default_value_t = 10)]
        drain_seconds: u64,
    },
    /// Run the reference backend: both Nexori endpoints, durable in SQLite, with fault injection
    /// and a read-only view of what it received (http://LISTEN/).
    Backend {
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// The bearer token hosts must send (the host's `serverToken`).
        #[arg(long, env = "NEXORI_BACKEND_TOKEN")]
        token: String,
        /// The SQLite database.
        #[arg(long, default_value = "nexori-backend.sqlite")]
        db: PathBuf,
        /// Connections served at once; at the cap new ones wait until one closes.
        #[arg(long, default_value_t = nexori_http_server::DEFAULT_MAX_CONNECTIONS,
              value_parser = clap::value_parser!(u32).range(1..))]
        max_connections: u32,
        /// A client that has not sent a request's head (or stays idle) this long is disconnected.
        #[arg(long, default_value_t = nexori_http_server::DEFAULT_HEADER_READ_TIMEOUT_MS,
              value_parser = clap::value_parser!(u64).range(1..))]
        header_read_timeout_ms: u64,
    },
    /// Validate a configuration file, or print a commented example.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Inspect or act on the durable result outbox.
    Outbox {
        /// The outbox database.
        #[arg(long, default_value = "nexori-data/outbox.sqlite")]
        db: PathBuf,
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Start a mod project: a buildable mod that registers its rules engine id, a scenario that
    /// checks it, and a README with the commands to build and simulate it.
    New {
        /// The mod's name: its directory, rules engine id and `.wasm` name (lowercase, `_`).
        name: String,
        /// The language of the mod.
        #[arg(long, value_enum)]
        lang: nexori::new_project::Language,
        /// The Nexori checkout with the SDKs and the WIT [default: the one this binary was built
        /// from].
        #[arg(long, value_name = "DIR", env = "NEXORI_SDK_DIR")]
        sdk_dir: Option<PathBuf>,
        /// Where to create the project directory.
        #[arg(long, value_name = "DIR", default_value = ".")]
        path: PathBuf,
    },
    /// Play the bundled demo matches through the example mods and show what happened.
    Demo {
        /// Directory of the example mods (built by `cargo xtask build-mods`).
        #[arg(long, default_value = "target/nexori-mods")]
        mods: PathBuf,
    },
}

/// Where `nexori serve` keeps its recordings.
#[derive(clap::Args)]
struct RecordingsArgs {
    /// The host's configuration file, for its `dataDir` and `[recording] dir`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The host's data directory (without --config).
    #[arg(long, value_name = "DIR", default_value = "nexori-data")]
    data_dir: PathBuf,
}

impl RecordingsArgs {
    fn store(&self) -> Result<nexori_recording::store::RecordingStore, String> {
        let dir = match &self.config {
            Some(path) => {
                let config = nexori::config::HostConfig::from_file(path)?;
                config.recording.dir_in(Path::new(&config.data_dir))
            }
            None => nexori::config::RecordingSettings::default().dir_in(&self.data_dir),
        };
        Ok(nexori_recording::store::RecordingStore::new(dir))
    }
}

#[derive(Subcommand)]
enum MatchAction {
    /// Write a recorded match's log, with its mod, to standard output: a file another machine
    /// can replay (`nexori replay --log FILE`).
    Export {
        /// The match.
        match_id: String,
        #[command(flatten)]
        recordings: RecordingsArgs,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Check a `nexori.toml` (or `.json`) as `nexori serve` would; errors name the key.
    Check { file: PathBuf },
    /// Print a commented example configuration with every key and its default.
    Example,
}

#[derive(Subcommand)]
enum OutboxAction {
    /// List results with their status, attempts and last error.
    List {
        /// Only this status: pending, acknowledged or failed.
        #[arg(long)]
        status: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put a result (or, with --failed, every permanently failed one) back in line to be sent.
    Retry {
        result_id: Option<String>,
        #[arg(long)]
        failed: bool,
    },
}

fn new_project(
    name: &str,
    language: nexori::new_project::Language,
    sdk_dir: Option<PathBuf>,
    parent: &Path,
) -> ExitCode {
    use nexori::new_project;
    let sdk_dir = sdk_dir.unwrap_or_else(new_project::default_sdk_dir);
    match new_project::create(parent, name, language, &sdk_dir) {
        Ok((dir, files)) => {
            out!("created {} with {} files:", dir.display(), files.len());
            for file in files {
                out!("  {file}");
            }
            let [build, simulate] = new_project::next_steps(language);
            out!("build and simulate it:");
            out!("  cd {}", dir.display());
            out!("  {build}");
            out!("  {simulate}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nexori new: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Serve { config } = &cli.command {
        return serve(config);
    }
    init_logging();
    match cli.command {
        Command::Serve { .. } => unreachable!("handled above"),
        Command::Simulate {
            mods,
            scenario,
            json,
            record,
            cache,
        } => simulate(&mods, &scenario, json, record.as_deref(), cache.dir()),
        Command::Replay {
            match_id,
            log,
            module,
            recordings,
            json,
            cache,
        } => replay(
            match_id.as_deref(),
            log.as_deref(),
            module.as_deref(),
            &recordings,
            json,
            cache.dir(),
        ),
        Command::Match {
            action:
                MatchAction::Export {
                    match_id,
                    recordings,
                },
        } => export(&match_id, &recordings),
        Command::Check {
            module,
            config,
            cache,
        } => check(&module, config.as_deref(), cache.dir().as_deref()),
        Command::Demo { mods } => demo(&mods),
        Command::New {
            name,
            lang,
            sdk_dir,
            path,
        } => new_project(&name, lang, sdk_dir, &path),
        Command::Stdio {
            config,
            mods,
            data_dir,
            drain_seconds,
        } => stdio(config.as_deref(), mods, data_dir, drain_seconds),
        Command::Outbox { db, action } => outbox(&db, action),
        Command::Config {
            action: ConfigAction::Example,
        } => {
            print!("{}", nexori::config::EXAMPLE);
            ExitCode::SUCCESS
        }
        Command::Config {
            action: ConfigAction::Check { file },
        } => {
            match nexori::config::HostConfig::from_file(&file)
                .and_then(|c| c.validate_for_serve().map(|()| c))
            {
                Ok(c) => {
                    out!(
                        "{}: ok (bridge on {}, mods from {}, data in {}, results {}, admission state {})",
                        file.display(),
                        c.bridge.listen,
                        c.mods_dir,
                        c.data_dir,
                        if c.result_reporting_enabled && c.backend_usable() {
                            "reported"
                        } else {
                            "not reported"
                        },
                        if c.admission_reporting_usable() {
                            "reported"
                        } else {
                            "not reported"
                        },
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("nexori config check: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Backend {
            listen,
            token,
            db,
            max_connections,
            header_read_timeout_ms,
        } => {
            let config = nexori_backend::BackendConfig {
                listen,
                token,
                database: db,
                faults: nexori_backend::FaultPlan::none(),
                connections: nexori_http_server::ConnectionLimits {
                    max_connections,
                    header_read_timeout: std::time::Duration::from_millis(header_read_timeout_ms),
                },
            };
            match nexori_backend::run_blocking(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("nexori backend: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn serve(path: &Path) -> ExitCode {
    let config = match nexori::config::HostConfig::from_file(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nexori serve: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEXORI_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(stderr_is_terminal())
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    match nexori::serve::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nexori serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEXORI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(stderr_is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// Colour codes only for a person at a terminal: a log file or the systemd journal would keep
/// them as `\x1b[2m` noise.
fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

fn simulate(
    mods: &Path,
    path: &Path,
    json: bool,
    record: Option<&Path>,
    compile_cache: Option<PathBuf>,
) -> ExitCode {
    let scenario = match Scenario::from_file(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nexori simulate: {e}");
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        compile_cache,
        record: record.map(|_| nexori_recording::MemorySink::new()),
        ..RunOptions::default()
    };
    let output = match scenario::run(&scenario, mods, &options) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nexori simulate: {e}");
            return ExitCode::from(2);
        }
    };
    if let (Some(path), Some(sink)) = (record, &options.record)
        && let Err(e) = std::fs::write(path, sink.to_file(true))
    {
        eprintln!(
            "nexori simulate: cannot write the record {}: {e}",
            path.display()
        );
        return ExitCode::from(2);
    }
    if json {
        match serde_json::to_string_pretty(&output) {
            Ok(text) => out!("{text}"),
            Err(e) => {
                eprintln!("nexori simulate: cannot write the trace: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        for line in scenario::timeline(&output, scenario.start_epoch_ms) {
            out!("{line}");
        }
    }
    // Status 1 when an `expect` step failed, each failure named on stderr.
    let failed: Vec<_> = output.failed_expectations().collect();
    if failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "nexori simulate: {} of {} expectations failed",
        failed.len(),
        output.expectations.len()
    );
    for e in failed {
        eprintln!(
            "  step {} at {}: {}\n    {}",
            e.step,
            scenario::relative_time(e.at, scenario.start_epoch_ms),
            e.label(),
            e.failure.as_deref().unwrap_or_default()
        );
    }
    ExitCode::FAILURE
}

fn replay(
    match_id: Option<&str>,
    log_file: Option<&Path>,
    module: Option<&Path>,
    recordings: &RecordingsArgs,
    json: bool,
    compile_cache: Option<PathBuf>,
) -> ExitCode {
    let bad = |message: String| {
        eprintln!("nexori replay: {message}");
        ExitCode::from(2)
    };
    let store = match recordings.store() {
        Ok(store) => store,
        Err(e) => return bad(e),
    };
    let path = match (log_file, match_id) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(id)) => match newest_recording(&store, id) {
            Ok(path) => path,
            Err(e) => return bad(e),
        },
        (None, None) => return bad("name a match, or a log with --log FILE".into()),
    };
    let logs = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| nexori_recording::read_logs(&bytes).map_err(|e| e.to_string()))
    {
        Ok(logs) => logs,
        Err(e) => return bad(format!("{}: {e}", path.display())),
    };
    let wanted = match_id.and_then(nexori_runtime::ids::normalize_match_id);
    let logs: Vec<_> = logs
        .into_iter()
        .filter(|log| {
            wanted.is_none()
                || nexori_runtime::ids::normalize_match_id(&log.header.match_id) == wanted
        })
        .collect();
    if logs.is_empty() {
        return bad(format!(
            "{} holds no log of match {:?}",
            path.display(),
            match_id.unwrap_or_default()
        ));
    }
    let replacement = match module.map(std::fs::read).transpose() {
        Ok(bytes) => bytes,
        Err(e) => return bad(format!("cannot read the mod: {e}")),
    };
    let options = nexori::replay::ReplayOptions {
        compile_cache,
        ..Default::default()
    };
    let mut results = Vec::new();
    for log in &logs {
        let sha = &log.header.module.sha256;
        let wasm = match (&replacement, &log.wasm) {
            (Some(bytes), _) => bytes.clone(),
            (None, Some(bytes)) => bytes.clone(),
            (None, None) => match store.mod_bytes(sha) {
                Ok(Some(bytes)) => bytes,
                Ok(None) | Err(_) => {
                    return bad(format!(
                        "the mod of match {} (SHA-256 {sha}) is neither in the log nor in {}/mods: pass it with --mod FILE",
                        log.header.match_id,
                        store.dir().display()
                    ));
                }
            },
        };
        match nexori::replay::replay(log, &wasm, &options) {
            Ok(replayed) => results.push((replayed, log.header.started_at)),
            Err(e) => return bad(format!("match {}: {e}", log.header.match_id)),
        }
    }
    let identical = results.iter().all(|(r, _)| r.identical());
    if json {
        let all: Vec<_> = results.iter().map(|(r, _)| r).collect();
        match serde_json::to_string_pretty(
            &serde_json::json!({"identical": identical, "matches": all}),
        ) {
            Ok(text) => out!("{text}"),
            Err(e) => return bad(format!("cannot write the report: {e}")),
        }
    } else {
        for (replayed, start) in &results {
            for line in scenario::timeline(&replayed.output, *start) {
                out!("{line}");
            }
            for line in nexori::replay::report(replayed, *start) {
                out!("{line}");
            }
        }
    }
    if identical {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The newest log of `match_id` in `store`, or why there is none.
fn newest_recording(
    store: &nexori_recording::store::RecordingStore,
    match_id: &str,
) -> Result<PathBuf, String> {
    match store.find(match_id) {
        Ok(found) => found.into_iter().next().ok_or_else(|| {
            format!(
                "no recording of match {match_id:?} in {}",
                store.dir().display()
            )
        }),
        Err(e) => Err(format!("cannot read {}: {e}", store.dir().display())),
    }
}

fn export(match_id: &str, recordings: &RecordingsArgs) -> ExitCode {
    let bad = |message: String| {
        eprintln!("nexori match export: {message}");
        ExitCode::from(2)
    };
    let store = match recordings.store() {
        Ok(store) => store,
        Err(e) => return bad(e),
    };
    let path = match newest_recording(&store, match_id) {
        Ok(path) => path,
        Err(e) => return bad(e),
    };
    match store.export(&path, true) {
        Ok(bytes) => {
            use std::io::Write as _;
            if let Err(e) = std::io::stdout().lock().write_all(&bytes) {
                stdout_failed(e);
            }
            ExitCode::SUCCESS
        }
        Err(e) => bad(e.to_string()),
    }
}

fn check(path: &Path, config: Option<&str>, cache: Option<&Path>) -> ExitCode {
    match nexori::check::check_file(path, config, cache) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nexori check: {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn demo(mods: &Path) -> ExitCode {
    match nexori::demo::run(mods, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nexori demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn stdio(config: Option<&Path>, mods: PathBuf, data_dir: PathBuf, drain_seconds: u64) -> ExitCode {
    let result = nexori::stdio::load_config(config).and_then(|config| {
        nexori::stdio::run(nexori::stdio::StdioOptions {
            config,
            mods,
            data_dir,
            drain: std::time::Duration::from_secs(drain_seconds),
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nexori stdio: {e}");
            ExitCode::from(2)
        }
    }
}

fn outbox(db: &Path, action: OutboxAction) -> ExitCode {
    use nexori_reporting::outbox::{Outbox, RecordStatus};
    if !db.is_file() {
        eprintln!("nexori outbox: no outbox at {} (use --db)", db.display());
        return ExitCode::from(2);
    }
    let outbox = match Outbox::open(db) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nexori outbox: {e}");
            return ExitCode::from(2);
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    match action {
        OutboxAction::List { status, json } => {
            let filter = match status.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => None,
                Some("pending") => Some(RecordStatus::Pending),
                Some("acknowledged") => Some(RecordStatus::Acknowledged),
                Some("failed") => Some(RecordStatus::FailedPermanent),
                Some(other) => {
                    eprintln!(
                        "nexori outbox: unknown status {other:?} (pending, acknowledged, failed)"
                    );
                    return ExitCode::from(2);
                }
            };
            let records = match outbox.list(filter) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("nexori outbox: {e}");
                    return ExitCode::from(2);
                }
            };
            if json {
                out!(
                    "{}",
                    serde_json::to_string_pretty(&records).unwrap_or_default()
                );
            } else {
                out!(
                    "{:<36}  {:<16}  {:>8}  {:<20}  {:<20}  LAST ERROR",
                    "RESULT ID",
                    "STATUS",
                    "ATTEMPTS",
                    "MATCH",
                    "EXTERNAL MATCH"
                );
                for r in &records {
                    let error = if r.last_error_class.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "{} (HTTP {}) {}",
                            r.last_error_class, r.last_status_code, r.last_error_message
                        )
                    };
                    out!(
                        "{:<36}  {:<16}  {:>8}  {:<20}  {:<20}  {}",
                        r.result_id,
                        r.status.as_str(),
                        r.attempt_count,
                        r.local_match_id,
                        r.external_match_id,
                        error.chars().take(120).collect::<String>()
                    );
                }
                let (pending, acknowledged, failed, oldest) =
                    outbox.depth().unwrap_or((0, 0, 0, None));
                out!(
                    "{pending} pending, {acknowledged} acknowledged, {failed} failed{}",
                    oldest
                        .map(|t| format!("; oldest pending is {} s old", (now - t) / 1000))
                        .unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        OutboxAction::Retry { result_id, failed } => {
            let outcome = match (result_id, failed) {
                (Some(id), false) => outbox.retry_now(&id, now).map(|changed| {
                    if changed {
                        format!("{id} will be sent again")
                    } else {
                        format!("{id}: no such pending or failed result")
                    }
                }),
                (None, true) => outbox
                    .retry_failed(now)
                    .map(|n| format!("{n} failed result(s) will be sent again")),
                _ => {
                    eprintln!("nexori outbox retry: give a RESULT_ID or --failed");
                    return ExitCode::from(2);
                }
            };
            match outcome {
                Ok(text) => {
                    out!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("nexori outbox: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
