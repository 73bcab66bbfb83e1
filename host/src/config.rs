//! Host configuration. Reporting keys keep Nexori's own names (those of its
//! `backend-matchmaking.json`) so an operator can carry values over; their normalisation
//! (docs/arena-behaviour.md#defaults) is applied by [`HostConfig::normalized`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

pub use nexori_host::settings::ModLimits;

/// The game-server bridge of `nexori serve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BridgeSettings {
    /// Where the WebSocket bridge and `/healthz`, `/metrics` listen. Loopback by default: the
    /// game server runs beside the host.
    pub listen: String,
    /// The bearer token game servers must present (`Authorization: Bearer <token>`; the scheme in
    /// any case). Required; surrounding whitespace is trimmed. `?token=` in the URL still works
    /// but is discouraged (it ends up in proxy logs) and logs a warning once per connection name.
    pub token: String,
    /// The bearer token `GET /metrics` requires. Default empty: `/metrics` is open (fine on
    /// loopback); when set, a request without `Authorization: Bearer <metricsToken>` gets 401.
    /// Trimmed like `token`.
    pub metrics_token: String,
    /// Connections served at once (WebSockets included), at least 1. Default 256. At the cap no
    /// further connection is accepted until one closes: new clients wait in the listen backlog.
    pub max_connections: u32,
    /// How long a client may take to send a request's head (request line and headers), or stay
    /// idle between two requests, before its connection is closed, in ms (at least 1). Default
    /// 10 000. Bounds how long a half-sent request holds a connection slot.
    pub header_read_timeout_ms: u64,
    /// Largest WebSocket message (and frame) a game server may send, in bytes; default 256 KiB.
    /// A bigger one is not read: the connection is closed with code 1009 ("message too big").
    pub max_message_bytes: usize,
    /// Bytes of received messages waiting for the host thread, all connections together; default
    /// 16 MiB, at least `maxMessageBytes`. When it is full, connections stop reading their
    /// sockets until the host has caught up (backpressure on the game server).
    pub inbound_queue_bytes: usize,
    /// Commands and error replies waiting for one game server; default 10 000. A connected
    /// server that lets this many pile up is disconnected as too slow a reader; while it is
    /// disconnected the oldest are dropped (logged, counted in `/metrics`).
    pub max_queued_commands: usize,
    /// Bytes of commands and error replies waiting for one game server; default 16 MiB, at
    /// least 1 MiB. Reaching it does what reaching `maxQueuedCommands` does.
    pub max_queued_bytes: usize,
    /// How long commands wait for a game server that disconnected; default 600 000 (10 min).
    /// After that its queue is dropped (logged, counted) and so is whatever comes for it, and
    /// the server is forgotten once it owns no match.
    pub absent_server_expiry_ms: u64,
}

impl Default for BridgeSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:7420".into(),
            token: String::new(),
            metrics_token: String::new(),
            max_connections: nexori_http_server::DEFAULT_MAX_CONNECTIONS,
            header_read_timeout_ms: nexori_http_server::DEFAULT_HEADER_READ_TIMEOUT_MS,
            max_message_bytes: 256 << 10,
            inbound_queue_bytes: 16 << 20,
            max_queued_commands: 10_000,
            max_queued_bytes: 16 << 20,
            absent_server_expiry_ms: 600_000,
        }
    }
}

impl BridgeSettings {
    /// The limits of the HTTP server behind the bridge.
    pub fn connection_limits(&self) -> nexori_http_server::ConnectionLimits {
        nexori_http_server::ConnectionLimits {
            max_connections: self.max_connections,
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms),
        }
    }

    /// The largest `maxMessageBytes`: tungstenite's own default ceiling.
    pub const MAX_MESSAGE_BYTES_CEILING: usize = 64 << 20;

    fn validate_queues(&self) -> Result<(), String> {
        if !(1024..=Self::MAX_MESSAGE_BYTES_CEILING).contains(&self.max_message_bytes) {
            return Err(format!(
                "bridge.maxMessageBytes {} must be between 1024 and {}",
                self.max_message_bytes,
                Self::MAX_MESSAGE_BYTES_CEILING
            ));
        }
        // The inbound queue is counted in semaphore permits, which are taken 32 bits at a time.
        if self.inbound_queue_bytes < self.max_message_bytes
            || self.inbound_queue_bytes > u32::MAX as usize
        {
            return Err(format!(
                "bridge.inboundQueueBytes {} must be at least bridge.maxMessageBytes ({}) and at most {}",
                self.inbound_queue_bytes,
                self.max_message_bytes,
                u32::MAX
            ));
        }
        if self.max_queued_commands == 0 {
            return Err("bridge.maxQueuedCommands must be at least 1".into());
        }
        if self.max_queued_bytes < 1 << 20 {
            return Err(format!(
                "bridge.maxQueuedBytes {} must be at least 1048576",
                self.max_queued_bytes
            ));
        }
        Ok(())
    }
}

/// Logging of `nexori serve` (`NEXORI_LOG` overrides the level).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LogSettings {
    /// A `tracing` filter: `info`, `warn,nexori=debug`, ...
    pub level: String,
    /// `human` or `json`.
    pub format: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "human".into(),
        }
    }
}

/// Recording each match for replay (docs/replay.md): `nexori serve` and `nexori stdio` keep a
/// compressed log of every match a mod serves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RecordingSettings {
    /// Whether matches are recorded. Default true. Off, results carry no `inputLogSha256`.
    pub enabled: bool,
    /// Where the logs go; empty (the default) means `<dataDir>/recordings`.
    pub dir: String,
    /// Logs older than this many days are deleted. Default 14, at least 1.
    pub max_age_days: u64,
    /// The oldest logs are deleted while all of them take more than this. Default 2 GiB, at
    /// least 1 MiB.
    pub max_total_bytes: u64,
    /// A live match's log stops at this many bytes of JSON lines (a `gap` record; its result
    /// then carries no input hash). Default 1 GiB, at least 1 MiB.
    pub max_log_bytes: u64,
}

impl Default for RecordingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: String::new(),
            max_age_days: 14,
            max_total_bytes: nexori_recording::store::DEFAULT_MAX_TOTAL_BYTES,
            max_log_bytes: nexori_recording::store::DEFAULT_MAX_LOG_BYTES,
        }
    }
}

impl RecordingSettings {
    /// The directory of the logs, for a host whose data directory is `data_dir`.
    pub fn dir_in(&self, data_dir: &std::path::Path) -> std::path::PathBuf {
        if self.dir.is_empty() {
            data_dir.join("recordings")
        } else {
            std::path::PathBuf::from(&self.dir)
        }
    }

    /// How long and how much is kept.
    pub fn retention(&self) -> nexori_recording::Retention {
        nexori_recording::Retention {
            max_age_ms: self.max_age_days.saturating_mul(86_400_000),
            max_total_bytes: self.max_total_bytes,
            max_log_bytes: self.max_log_bytes,
        }
    }

    /// Checks the values: errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_age_days == 0 {
            return Err("recording.maxAgeDays must be at least 1".into());
        }
        for (key, value) in [
            ("maxTotalBytes", self.max_total_bytes),
            ("maxLogBytes", self.max_log_bytes),
        ] {
            if value < 1 << 20 {
                return Err(format!("recording.{key} {value} must be at least 1048576"));
            }
        }
        Ok(())
    }
}

pub use nexori_host::settings::{DEFAULT_MAX_HELD_COMMANDS, DEFAULT_MAX_MOD_FILE_BYTES};

/// Whether this build reaches `https://` backends (the `tls` feature, rustls).
pub const TLS_SUPPORTED: bool = cfg!(feature = "tls");

pub use nexori_reporting::{DEFAULT_RESULTS_IN_FLIGHT, MAX_RESULTS_IN_FLIGHT};

/// The whole host configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HostConfig {
    pub schema_version: i64,
    /// This arena server's id (a UUID), sent as `serverId` / `X-Nexori-Server-Id`.
    pub server_id: String,
    /// Where players reach this server; sent in admission snapshots.
    pub server_connection_address: String,
    pub sync_enabled: bool,
    pub base_url: String,
    pub server_token: String,
    pub region: String,
    pub sync_interval_ms: i64,
    pub request_timeout_ms: i64,
    pub result_reporting_enabled: bool,
    pub result_retry_interval_ms: i64,
    /// Ours: result requests in flight at once (1 to [`MAX_RESULTS_IN_FLIGHT`]). More lets the
    /// backend share its fsyncs among them; fewer spares a backend that is slow to recover.
    pub result_max_in_flight: i64,
    pub match_state_reporting_enabled: bool,
    pub match_state_debounce_ms: i64,
    pub match_state_max_coalesce_window_ms: i64,
    pub match_state_retry_interval_ms: i64,
    pub match_state_stale_after_ms: i64,
    /// Per-mod configuration, keyed by mod name, handed to the mod's `init` as JSON text.
    pub mods: BTreeMap<String, Value>,
    /// Limits for every mod (per-mod overrides in `modLimits`).
    pub limits: ModLimits,
    pub mod_limits: BTreeMap<String, ModLimits>,
    /// Where `.wasm` mods are loaded from (`nexori serve`).
    pub mods_dir: String,
    /// Durable state: the result outbox and the compiled-module cache.
    pub data_dir: String,
    /// The largest mod file the host reads; a bigger `.wasm` is rejected before it is read.
    /// Default 64 MiB.
    pub max_mod_file_bytes: u64,
    /// Whether a finished match's instance slot keeps the pages it dirtied resident for the next
    /// match (where the kernel supports it and no swap is configured; see
    /// `wasm::engine::warm_slots`). Turn it off when a mod handles data one match must never see
    /// from another. Default true.
    pub warm_instance_slots: bool,
    pub bridge: BridgeSettings,
    pub log: LogSettings,
    /// Match recording for replay.
    pub recording: RecordingSettings,
    /// How long a graceful shutdown may take to deliver what is pending.
    pub shutdown_timeout_ms: i64,
    /// How long a write to the outbox waits for another process's lock on `outbox.sqlite`
    /// before it fails (default 1000). The thread that runs the matches waits this long at
    /// most per attempt; a commit that fails holds the turn's commands back and is retried.
    pub outbox_busy_timeout_ms: i64,
    /// Commands held behind a failing outbox commit at which the host pauses (default 65 536):
    /// it takes no bridge messages and runs no timers until a commit succeeds, so a long outage
    /// costs bounded memory and the game server sees backpressure rather than a silent host.
    pub outbox_max_held_commands: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            schema_version: 1,
            server_id: String::new(),
            server_connection_address: String::new(),
            sync_enabled: false,
            base_url: String::new(),
            server_token: String::new(),
            region: String::new(),
            sync_interval_ms: 1000,
            request_timeout_ms: 3000,
            result_reporting_enabled: false,
            result_retry_interval_ms: 5000,
            result_max_in_flight: DEFAULT_RESULTS_IN_FLIGHT,
            match_state_reporting_enabled: false,
            match_state_debounce_ms: 1000,
            match_state_max_coalesce_window_ms: 5000,
            match_state_retry_interval_ms: 3000,
            match_state_stale_after_ms: 30000,
            mods: BTreeMap::new(),
            limits: ModLimits::default(),
            mod_limits: BTreeMap::new(),
            mods_dir: "mods".into(),
            data_dir: "nexori-data".into(),
            max_mod_file_bytes: DEFAULT_MAX_MOD_FILE_BYTES,
            warm_instance_slots: true,
            bridge: BridgeSettings::default(),
            log: LogSettings::default(),
            recording: RecordingSettings::default(),
            shutdown_timeout_ms: 10_000,
            outbox_busy_timeout_ms: 1000,
            outbox_max_held_commands: DEFAULT_MAX_HELD_COMMANDS,
        }
    }
}

impl HostConfig {
    /// Parses JSON configuration; unknown keys are errors that name the key.
    pub fn from_json(value: Value) -> Result<Self, String> {
        serde_path_to_error::deserialize::<_, Self>(value)
            .map(Self::normalized)
            .map_err(|e| match e.path().to_string().as_str() {
                "." => format!("invalid config: {}", e.inner()),
                path => format!("invalid config: {path}: {}", e.inner()),
            })
    }

    /// Parses a TOML configuration file's text (same keys as the JSON form).
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let value: toml::Value = toml::from_str(text).map_err(|e| format!("invalid TOML: {e}"))?;
        let json = serde_json::to_value(value).map_err(|e| format!("invalid config: {e}"))?;
        Self::from_json(json)
    }

    /// Reads a configuration file: TOML, or JSON when the name ends in `.json`.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)
                .map_err(|e| format!("invalid JSON: {e}"))
                .and_then(Self::from_json)
        } else {
            Self::from_toml(&text)
        };
        parsed.map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks what types alone cannot, for `nexori serve` (`bridge.token` required, addresses and
    /// ids well-formed); the error names the key.
    pub fn validate_for_serve(&self) -> Result<(), String> {
        if self.bridge.token.trim().is_empty() {
            return Err("bridge.token is required: game servers authenticate with it".into());
        }
        if self.bridge.max_connections == 0 {
            return Err("bridge.maxConnections must be at least 1".into());
        }
        if self.bridge.header_read_timeout_ms == 0 {
            return Err("bridge.headerReadTimeoutMs must be at least 1".into());
        }
        self.bridge
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| {
                format!(
                    "bridge.listen {:?} is not an address (host:port): {e}",
                    self.bridge.listen
                )
            })?;
        self.bridge.validate_queues()?;
        self.recording.validate()?;
        if !self.server_id.is_empty() && nexori_runtime::ids::parse_uuid(&self.server_id).is_none()
        {
            return Err(format!("serverId {:?} is not a UUID", self.server_id));
        }
        self.check_base_url()?;
        if !matches!(self.log.format.as_str(), "human" | "json") {
            return Err(format!(
                "log.format {:?} must be \"human\" or \"json\"",
                self.log.format
            ));
        }
        if self.shutdown_timeout_ms < 0 {
            return Err("shutdownTimeoutMs cannot be negative".into());
        }
        if self.outbox_busy_timeout_ms < 0 {
            return Err("outboxBusyTimeoutMs cannot be negative".into());
        }
        if self.outbox_max_held_commands == 0 {
            return Err("outboxMaxHeldCommands must be at least 1".into());
        }
        Ok(())
    }

    /// Checks that `baseUrl` is empty or a URL this build can reach: `http://`, or `https://`
    /// when built with the `tls` feature. A build without TLS refuses `https://` up front rather
    /// than fail every report later.
    pub fn check_base_url(&self) -> Result<(), String> {
        if self.base_url.is_empty() {
            return Ok(());
        }
        if !nexori_reporting::is_http_backend(&self.base_url) {
            return Err(format!(
                "baseUrl {:?} must start with http:// or https://",
                self.base_url
            ));
        }
        if self.base_url.starts_with("https://") && !TLS_SUPPORTED {
            return Err(format!(
                "baseUrl {:?} is https://, but this nexori was built without TLS: build it with \
                 `cargo build --release -p nexori --features tls`, or reach the backend \
                 through a TLS-terminating proxy on loopback with an http:// baseUrl",
                self.base_url
            ));
        }
        Ok(())
    }

    /// The normalisation of docs/arena-behaviour.md#defaults.
    pub fn normalized(mut self) -> Self {
        let trim = |s: &mut String| *s = nexori_runtime::ids::java_trim(s).to_string();
        self.schema_version = 1;
        trim(&mut self.base_url);
        if self.base_url.ends_with('/') {
            self.base_url.pop();
        }
        trim(&mut self.server_token);
        trim(&mut self.region);
        trim(&mut self.server_id);
        // Ours: a token pasted with a trailing newline or space still matches what clients send.
        trim(&mut self.bridge.token);
        trim(&mut self.bridge.metrics_token);
        let positive = |v: i64, default: i64| if v <= 0 { default } else { v };
        self.sync_interval_ms = positive(self.sync_interval_ms, 1000);
        self.request_timeout_ms = positive(self.request_timeout_ms, 3000);
        self.result_retry_interval_ms = positive(self.result_retry_interval_ms, 5000);
        self.result_max_in_flight = positive(self.result_max_in_flight, DEFAULT_RESULTS_IN_FLIGHT)
            .min(MAX_RESULTS_IN_FLIGHT);
        self.match_state_debounce_ms = self.match_state_debounce_ms.max(0);
        let debounce = self.match_state_debounce_ms;
        let mut window = self.match_state_max_coalesce_window_ms;
        if window < debounce {
            window = 5000;
        }
        if window < debounce {
            window = debounce;
        }
        if window <= 0 {
            window = 5000;
        }
        self.match_state_max_coalesce_window_ms = window;
        self.match_state_retry_interval_ms = positive(self.match_state_retry_interval_ms, 3000);
        let mut stale = if self.match_state_stale_after_ms > window {
            self.match_state_stale_after_ms
        } else {
            30000
        };
        if stale <= window {
            stale = window + 30000;
        }
        self.match_state_stale_after_ms = stale;
        self
    }

    /// What reporting needs of this configuration.
    pub fn reporting(&self) -> nexori_reporting::ReportingSettings {
        nexori_reporting::ReportingSettings {
            server_id: self.server_id.clone(),
            server_connection_address: self.server_connection_address.clone(),
            base_url: self.base_url.clone(),
            server_token: self.server_token.clone(),
            request_timeout_ms: self.request_timeout_ms,
            result_reporting_enabled: self.result_reporting_enabled,
            result_retry_interval_ms: self.result_retry_interval_ms,
            result_max_in_flight: self.result_max_in_flight,
            match_state_reporting_enabled: self.match_state_reporting_enabled,
            match_state_debounce_ms: self.match_state_debounce_ms,
            match_state_max_coalesce_window_ms: self.match_state_max_coalesce_window_ms,
            match_state_retry_interval_ms: self.match_state_retry_interval_ms,
            match_state_stale_after_ms: self.match_state_stale_after_ms,
            outbox_busy_timeout_ms: self.outbox_busy_timeout_ms,
        }
    }

    /// Whether the backend connection settings are present.
    pub fn backend_usable(&self) -> bool {
        self.reporting().backend_usable()
    }

    /// Whether admission snapshots can be published.
    pub fn admission_reporting_usable(&self) -> bool {
        self.reporting().admission_reporting_usable()
    }

    /// What a match's log header keeps of this configuration beyond the mod's own settings:
    /// what the result body and the runtime see (never a token).
    pub fn recorded_settings(&self) -> Value {
        serde_json::json!({
            "serverId": self.server_id,
            "serverConnectionAddress": self.server_connection_address,
            "admissionReportingUsable": self.admission_reporting_usable(),
        })
    }

    /// What the component host needs of this configuration.
    pub fn host_settings(&self) -> nexori_host::settings::HostSettings {
        nexori_host::settings::HostSettings {
            mods: self.mods.clone(),
            limits: self.limits.clone(),
            mod_limits: self.mod_limits.clone(),
            max_mod_file_bytes: self.max_mod_file_bytes,
            warm_instance_slots: self.warm_instance_slots,
            outbox_max_held_commands: self.outbox_max_held_commands,
            admission_reporting_usable: self.admission_reporting_usable(),
        }
    }
}

/// A commented example configuration (`nexori config example`).
pub const EXAMPLE: &str = include_str!("../nexori.example.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_in_flight_default_to_32_and_stay_between_1_and_256() {
        let in_flight = |v: Value| HostConfig::from_json(v).unwrap().result_max_in_flight;
        assert_eq!(in_flight(json!({})), 32);
        assert_eq!(in_flight(json!({"resultMaxInFlight": 4})), 4);
        assert_eq!(in_flight(json!({"resultMaxInFlight": 0})), 32);
        assert_eq!(in_flight(json!({"resultMaxInFlight": -3})), 32);
        assert_eq!(in_flight(json!({"resultMaxInFlight": 10_000})), 256);
    }

    #[test]
    fn section_6_normalisation() {
        let c = HostConfig::from_json(json!({
            "baseUrl": " http://x/ ", "syncIntervalMs": 0, "matchStateDebounceMs": -5,
            "matchStateMaxCoalesceWindowMs": 0, "matchStateStaleAfterMs": 100
        }))
        .unwrap();
        assert_eq!(c.base_url, "http://x");
        assert_eq!(c.sync_interval_ms, 1000);
        assert_eq!(c.match_state_debounce_ms, 0);
        assert_eq!(c.match_state_max_coalesce_window_ms, 5000);
        assert_eq!(c.match_state_stale_after_ms, 30000);
        let c = HostConfig::from_json(
            json!({"matchStateDebounceMs": 8000, "matchStateMaxCoalesceWindowMs": 7000}),
        )
        .unwrap();
        assert_eq!(c.match_state_max_coalesce_window_ms, 8000);
        assert_eq!(c.match_state_stale_after_ms, 30000);
    }

    #[test]
    fn toml_files_use_the_same_keys_and_are_validated() {
        let c = HostConfig::from_toml(EXAMPLE).unwrap();
        assert_eq!(c.bridge.listen, "127.0.0.1:7420");
        assert_eq!(c.limits.callback_deadline_ms, 250);
        assert!(
            c.validate_for_serve().is_err(),
            "the example leaves the token to the operator"
        );
        let err = HostConfig::from_toml("[bridge]\nlisten = 5").unwrap_err();
        assert_eq!(
            err,
            "invalid config: bridge.listen: invalid type: integer `5`, expected a string"
        );
        let err = HostConfig::from_toml("[limits]\nmemoryByte = 5").unwrap_err();
        assert!(
            err.starts_with("invalid config: limits.memoryByte: unknown field `memoryByte`"),
            "{err}"
        );
        let mut c = HostConfig::from_toml("[bridge]\ntoken = \"t\"\nlisten = \"nowhere\"").unwrap();
        assert!(
            c.validate_for_serve()
                .unwrap_err()
                .starts_with("bridge.listen")
        );
        c.bridge.listen = "127.0.0.1:1".into();
        c.server_id = "x".into();
        assert_eq!(
            c.validate_for_serve().unwrap_err(),
            "serverId \"x\" is not a UUID"
        );
    }

    #[test]
    fn an_https_backend_needs_a_build_with_tls() {
        let c = HostConfig::from_json(json!({"baseUrl": "https://backend.example.com"})).unwrap();
        let checked = c.check_base_url();
        if TLS_SUPPORTED {
            assert_eq!(checked, Ok(()));
        } else {
            assert_eq!(
                checked.unwrap_err(),
                "baseUrl \"https://backend.example.com\" is https://, but this nexori was built \
                 without TLS: build it with `cargo build --release -p nexori --features tls`, \
                 or reach the backend through a TLS-terminating proxy on loopback with an http:// \
                 baseUrl"
            );
        }
        let c = HostConfig::from_json(json!({"baseUrl": "ftp://x"})).unwrap();
        assert_eq!(
            c.check_base_url().unwrap_err(),
            "baseUrl \"ftp://x\" must start with http:// or https://"
        );
        let c = HostConfig::from_json(json!({"baseUrl": "http://127.0.0.1:8787/"})).unwrap();
        assert_eq!(c.check_base_url(), Ok(()));
    }

    #[test]
    fn the_outbox_busy_timeout_defaults_to_a_second_and_cannot_be_negative() {
        let c = HostConfig::from_toml(EXAMPLE).unwrap();
        assert_eq!(c.outbox_busy_timeout_ms, 1000);
        let c = HostConfig::from_toml("outboxBusyTimeoutMs = -1\n[bridge]\ntoken = \"t\"").unwrap();
        assert_eq!(
            c.validate_for_serve().unwrap_err(),
            "outboxBusyTimeoutMs cannot be negative"
        );
    }

    #[test]
    fn recording_keys_their_defaults_and_their_errors() {
        let c = HostConfig::from_toml(EXAMPLE).unwrap();
        assert_eq!(c.recording, RecordingSettings::default());
        assert_eq!(
            c.recording.retention(),
            nexori_recording::Retention {
                max_age_ms: 14 * 86_400_000,
                max_total_bytes: 2 << 30,
                max_log_bytes: 1 << 30,
            }
        );
        let recording = |v: Value| {
            HostConfig::from_json(json!({"recording": v}))
                .unwrap()
                .recording
                .validate()
        };
        assert_eq!(recording(json!({"maxLogBytes": 1 << 20})), Ok(()));
        assert_eq!(
            recording(json!({"maxAgeDays": 0})),
            Err("recording.maxAgeDays must be at least 1".into())
        );
        assert_eq!(
            recording(json!({"maxTotalBytes": 1000})),
            Err("recording.maxTotalBytes 1000 must be at least 1048576".into())
        );
        assert_eq!(
            recording(json!({"maxLogBytes": 1048575})),
            Err("recording.maxLogBytes 1048575 must be at least 1048576".into())
        );
    }

    #[test]
    fn mod_loading_keys_and_their_defaults() {
        let c = HostConfig::default();
        assert_eq!(c.max_mod_file_bytes, 64 << 20);
        assert!(c.warm_instance_slots);
        assert_eq!(c.limits.max_listener_registrations, 64);
        let c = HostConfig::from_toml(
            "maxModFileBytes = 1000\nwarmInstanceSlots = false\n[limits]\nmaxListenerRegistrations = 3",
        )
        .unwrap();
        assert_eq!(c.max_mod_file_bytes, 1000);
        assert!(!c.warm_instance_slots);
        assert_eq!(c.limits.max_listener_registrations, 3);
        assert_eq!(
            HostConfig::from_toml(EXAMPLE).unwrap().max_mod_file_bytes,
            64 << 20
        );
    }

    #[test]
    fn every_key_reaches_the_settings_of_its_layer() {
        let c = HostConfig::from_toml(
            r#"
            serverId = "8d7c3a4e-0000-4000-8000-000000000001"
            serverConnectionAddress = "play.example:5520"
            baseUrl = "http://backend.example/"
            serverToken = "t"
            requestTimeoutMs = 1234
            resultReportingEnabled = true
            resultRetryIntervalMs = 2345
            resultMaxInFlight = 7
            matchStateReportingEnabled = true
            matchStateDebounceMs = 100
            matchStateMaxCoalesceWindowMs = 900
            matchStateRetryIntervalMs = 3456
            matchStateStaleAfterMs = 45000
            outboxBusyTimeoutMs = 77
            maxModFileBytes = 1000
            warmInstanceSlots = false
            outboxMaxHeldCommands = 9
            [mods.ctz]
            captureSecondsToWin = 5
            [limits]
            callbackDeadlineMs = 99
            [modLimits.ls]
            memoryBytes = 1048576
            "#,
        )
        .unwrap();
        assert_eq!(
            c.reporting(),
            nexori_reporting::ReportingSettings {
                server_id: "8d7c3a4e-0000-4000-8000-000000000001".into(),
                server_connection_address: "play.example:5520".into(),
                base_url: "http://backend.example".into(),
                server_token: "t".into(),
                request_timeout_ms: 1234,
                result_reporting_enabled: true,
                result_retry_interval_ms: 2345,
                result_max_in_flight: 7,
                match_state_reporting_enabled: true,
                match_state_debounce_ms: 100,
                match_state_max_coalesce_window_ms: 900,
                match_state_retry_interval_ms: 3456,
                match_state_stale_after_ms: 45000,
                outbox_busy_timeout_ms: 77,
            }
        );
        let host = c.host_settings();
        assert_eq!(host.max_mod_file_bytes, 1000);
        assert!(!host.warm_instance_slots);
        assert_eq!(host.outbox_max_held_commands, 9);
        assert!(host.admission_reporting_usable);
        assert_eq!(host.mod_config_json("ctz"), r#"{"captureSecondsToWin":5}"#);
        assert_eq!(host.mod_config_json("other"), "{}");
        assert_eq!(host.limits_for("ctz").callback_deadline_ms, 99);
        assert_eq!(host.limits_for("ls").memory_bytes, 1 << 20);
        assert_eq!(
            host.limits_for("ls").callback_deadline_ms,
            250,
            "a mod's own table replaces the defaults"
        );
    }

    #[test]
    fn bridge_queue_limits_are_checked_and_named() {
        let check = |bridge: &str| {
            HostConfig::from_toml(&format!("[bridge]\ntoken = \"t\"\n{bridge}"))
                .unwrap()
                .validate_for_serve()
        };
        assert_eq!(check(""), Ok(()));
        assert_eq!(
            check("maxMessageBytes = 100"),
            Err("bridge.maxMessageBytes 100 must be between 1024 and 67108864".into())
        );
        assert_eq!(
            check("maxMessageBytes = 2048\ninboundQueueBytes = 1024"),
            Err("bridge.inboundQueueBytes 1024 must be at least bridge.maxMessageBytes (2048) and at most 4294967295".into())
        );
        assert_eq!(
            check("maxQueuedCommands = 0"),
            Err("bridge.maxQueuedCommands must be at least 1".into())
        );
        assert_eq!(
            check("maxQueuedBytes = 1000"),
            Err("bridge.maxQueuedBytes 1000 must be at least 1048576".into())
        );
        let c = HostConfig::from_toml(EXAMPLE).unwrap();
        assert_eq!(
            c.bridge,
            BridgeSettings::default(),
            "the example shows the defaults"
        );
    }

    #[test]
    fn connection_limits_default_to_256_and_10_s_and_must_be_positive() {
        let c = HostConfig::from_toml("[bridge]\ntoken = \"t\"").unwrap();
        assert_eq!(c.bridge.max_connections, 256);
        assert_eq!(c.bridge.header_read_timeout_ms, 10_000);
        assert!(c.validate_for_serve().is_ok());
        let mut zero = c.clone();
        zero.bridge.max_connections = 0;
        assert_eq!(
            zero.validate_for_serve().unwrap_err(),
            "bridge.maxConnections must be at least 1"
        );
        let mut zero = c;
        zero.bridge.header_read_timeout_ms = 0;
        assert_eq!(
            zero.validate_for_serve().unwrap_err(),
            "bridge.headerReadTimeoutMs must be at least 1"
        );
        let err = HostConfig::from_toml("[bridge]\nmaxConnections = -1").unwrap_err();
        assert!(
            err.starts_with("invalid config: bridge.maxConnections: "),
            "{err}"
        );
    }

    #[test]
    fn bridge_tokens_are_trimmed() {
        let c =
            HostConfig::from_toml("[bridge]\ntoken = \"  secret\\n\"\nmetricsToken = \" watch \"")
                .unwrap();
        assert_eq!(c.bridge.token, "secret");
        assert_eq!(c.bridge.metrics_token, "watch");
        let c = HostConfig::from_toml("[bridge]\ntoken = \"t\"").unwrap();
        assert_eq!(c.bridge.metrics_token, "", "/metrics is open by default");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = HostConfig::from_json(json!({"baseURL": "x"})).unwrap_err();
        assert!(err.contains("baseURL"), "{err}");
    }
}
