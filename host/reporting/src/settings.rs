//! What reporting needs to know, and nothing more: the backend's address and credentials, the
//! two endpoints' switches and timings. The `nexori` CLI fills it from its configuration file
//! (the keys of docs/arena-behaviour.md#defaults, already normalised).

/// Result requests in flight at once unless [`ReportingSettings::result_max_in_flight`] says
/// otherwise.
pub const DEFAULT_RESULTS_IN_FLIGHT: i64 = 32;
/// The most [`ReportingSettings::result_max_in_flight`] can ask for.
pub const MAX_RESULTS_IN_FLIGHT: i64 = 256;

/// Where and how results and admission snapshots reach the operator's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingSettings {
    /// This arena server's id, sent as `serverId` / `X-Nexori-Server-Id`.
    pub server_id: String,
    /// Where players reach this server; sent in admission snapshots.
    pub server_connection_address: String,
    /// The backend's base URL without a trailing `/` (`""`: no backend, results are recorded in
    /// memory).
    pub base_url: String,
    /// The bearer token the backend expects.
    pub server_token: String,
    /// How long one request may take.
    pub request_timeout_ms: i64,
    /// Whether results are reported at all.
    pub result_reporting_enabled: bool,
    /// How long a result waits before it is sent again after a retryable answer.
    pub result_retry_interval_ms: i64,
    /// Result requests in flight at once (1 to [`MAX_RESULTS_IN_FLIGHT`]).
    pub result_max_in_flight: i64,
    /// Whether admission snapshots are published.
    pub match_state_reporting_enabled: bool,
    /// How long a change waits for others before its snapshot is sent.
    pub match_state_debounce_ms: i64,
    /// The longest a dirty match waits, however often it changes.
    pub match_state_max_coalesce_window_ms: i64,
    /// How long a snapshot waits before it is sent again after a retryable answer.
    pub match_state_retry_interval_ms: i64,
    /// When a match's published state counts as stale and is sent again.
    pub match_state_stale_after_ms: i64,
    /// How long a write to the outbox waits for another process's lock.
    pub outbox_busy_timeout_ms: i64,
}

impl Default for ReportingSettings {
    fn default() -> Self {
        Self {
            server_id: String::new(),
            server_connection_address: String::new(),
            base_url: String::new(),
            server_token: String::new(),
            request_timeout_ms: 3000,
            result_reporting_enabled: false,
            result_retry_interval_ms: 5000,
            result_max_in_flight: DEFAULT_RESULTS_IN_FLIGHT,
            match_state_reporting_enabled: false,
            match_state_debounce_ms: 1000,
            match_state_max_coalesce_window_ms: 5000,
            match_state_retry_interval_ms: 3000,
            match_state_stale_after_ms: 30000,
            outbox_busy_timeout_ms: 1000,
        }
    }
}

impl ReportingSettings {
    /// Whether the backend connection settings are present.
    pub fn backend_usable(&self) -> bool {
        !self.base_url.is_empty() && !self.server_token.is_empty()
    }

    /// Whether admission snapshots can be published.
    pub fn admission_reporting_usable(&self) -> bool {
        self.match_state_reporting_enabled && self.backend_usable()
    }
}
