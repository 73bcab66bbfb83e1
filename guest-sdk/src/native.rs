//! Running mods without wasm (every target except `wasm32`): unit tests and native benchmarks.
//!
//! Natively, the SDK's public functions call whatever [`NativeHost`] the current thread
//! installed with [`set_host`], and [`ModDriver`] calls the mod's `init` and callbacks the way the
//! component exports do. So the exact mod code that goes into the `.wasm` runs, and its calls can
//! be checked, in a plain `cargo test`:
//!
//! ```
//! use nexori_sdk::native::{Call, ModDriver, RecordingHost};
//! use nexori_sdk::{GameEvent, ModConfig, Outcome, RulesMod};
//!
//! struct FirstBloodLoses;
//!
//! impl RulesMod for FirstBloodLoses {
//!     fn init(_config: ModConfig) -> Result<Self, String> {
//!         nexori_sdk::register_match_lifecycle_listener("first_blood")?;
//!         Ok(FirstBloodLoses)
//!     }
//!     fn on_game_event(&mut self, event: GameEvent) {
//!         if let ("player.died", Some(victim)) = (event.kind.as_str(), &event.player) {
//!             nexori_sdk::set_player_outcome(&event.match_id, victim, Outcome::Loss, "first_blood");
//!         }
//!     }
//! }
//!
//! let host = RecordingHost::new();
//! host.install();
//! let mut driver = ModDriver::<FirstBloodLoses>::new();
//! driver.init("{}").unwrap();
//! driver.on_game_event(GameEvent {
//!     match_id: "m1".into(),
//!     kind: "player.died".into(),
//!     player: Some("11111111-1111-1111-1111-111111111111".into()),
//!     ..Default::default()
//! });
//!
//! assert_eq!(host.api_calls(), vec![
//!     Call::RegisterMatchLifecycleListener { rules_engine_id: "first_blood".into() },
//!     Call::SetPlayerOutcome {
//!         match_id: "m1".into(),
//!         player_uuid: "11111111-1111-1111-1111-111111111111".into(),
//!         outcome: Some(Outcome::Loss),
//!         reason: "first_blood".into(),
//!     },
//! ]);
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;

use crate::TimerId;
pub use crate::driver::ModDriver;
pub use crate::host_calls::NativeHost;
use crate::types::*;

std::thread_local! {
    static HOST: RefCell<Option<Box<dyn NativeHost>>> = const { RefCell::new(None) };
}

/// Installs the host that answers this thread's SDK calls, returning the previous one.
///
/// Thread-local because Rust tests run on several threads at once: each test installs its own
/// host and cannot see another's.
pub fn set_host(host: Box<dyn NativeHost>) -> Option<Box<dyn NativeHost>> {
    HOST.with_borrow_mut(|slot| slot.replace(host))
}

/// Removes this thread's host, returning it.
pub fn clear_host() -> Option<Box<dyn NativeHost>> {
    HOST.with_borrow_mut(Option::take)
}

pub(crate) fn with_installed_host<R>(f: impl FnOnce(&mut dyn NativeHost) -> R) -> R {
    HOST.with(|slot| {
        let mut slot = slot.try_borrow_mut().expect(
            "nexori-sdk: a NativeHost method called back into the SDK; host methods must not use the SDK's API",
        );
        let host = slot.as_deref_mut().expect(
            "nexori-sdk: no native host installed on this thread; call nexori_sdk::native::set_host (or RecordingHost::install) first",
        );
        f(host)
    })
}

// ---------------------------------------------------------------------------- RecordingHost

/// One import call a mod made, with its arguments, as [`RecordingHost`] records it.
///
/// Serialises as `{"method": "<name>", ...arguments in camelCase}`, where the name is the Java
/// method name for Nexori API calls (`setPlayerOutcome`) and the WIT name in camelCase for host
/// services (`setTimer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "method",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// [`crate::register_match_lifecycle_listener`].
    RegisterMatchLifecycleListener {
        /// The rules engine id, as passed.
        rules_engine_id: String,
    },
    /// [`crate::register_afk_activity_listener`].
    RegisterAfkActivityListener {
        /// The rules engine id, as passed.
        rules_engine_id: String,
    },
    /// [`crate::ListenerRegistration::close`].
    CloseListenerRegistration {
        /// The handle the host returned at registration.
        handle: u64,
    },
    /// [`crate::find_active_match_id`].
    FindActiveMatchId {
        /// The player UUID, as passed.
        player_uuid: String,
    },
    /// [`crate::find_active_player_uuid`].
    FindActivePlayerUuid {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The UUID or player name, as passed.
        player_token: String,
    },
    /// [`crate::find_active_match_info`].
    FindActiveMatchInfo {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
    },
    /// [`crate::find_rules_engine_id`].
    FindRulesEngineId {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
    },
    /// [`crate::find_match_placement_state`].
    FindMatchPlacementState {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
    },
    /// [`crate::find_match_result_requirements`].
    FindMatchResultRequirements {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
    },
    /// [`crate::find_match_resolution_trigger_id`].
    FindMatchResolutionTriggerId {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
    },
    /// [`crate::set_player_outcome`] / [`crate::raw::set_player_outcome`].
    SetPlayerOutcome {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The player UUID, as passed.
        player_uuid: String,
        /// The outcome; `None` is Java `null`.
        outcome: Option<Outcome>,
        /// The reason text.
        reason: String,
    },
    /// [`crate::set_player_spectator`].
    SetPlayerSpectator {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The player UUID, as passed.
        player_uuid: String,
        /// Whether the player becomes a spectator.
        spectator: bool,
        /// The reason text.
        reason: String,
        /// The optional spectator model.
        spectator_model_id: Option<String>,
    },
    /// [`crate::set_match_afk_detection_policy`] / [`crate::raw::set_match_afk_detection_policy`].
    SetMatchAfkDetectionPolicy {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The policy; `None` is Java `null`.
        policy: Option<AfkDetectionPolicy>,
    },
    /// [`crate::clear_match_afk_detection_policy`].
    ClearMatchAfkDetectionPolicy {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
    },
    /// [`crate::set_player_afk_detection_policy`] / [`crate::raw::set_player_afk_detection_policy`].
    SetPlayerAfkDetectionPolicy {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The player UUID, as passed.
        player_uuid: String,
        /// The policy; `None` is Java `null`.
        policy: Option<AfkDetectionPolicy>,
    },
    /// [`crate::clear_player_afk_detection_policy`].
    ClearPlayerAfkDetectionPolicy {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The player UUID, as passed.
        player_uuid: String,
    },
    /// [`crate::set_player_afk`].
    SetPlayerAfk {
        /// The request as the host receives it.
        request: SetPlayerAfkRequest,
    },
    /// [`crate::return_player_to_lobby`].
    ReturnPlayerToLobby {
        /// The match id, as passed (the host trims and lowercases it).
        match_id: String,
        /// The player UUID, as passed.
        player_uuid: String,
        /// The delay before the return.
        delay_seconds: i32,
        /// The reason text.
        reason: String,
    },
    /// [`crate::submit_final_match_result`] / [`crate::raw::submit_final_match_result`].
    SubmitFinalMatchResult {
        /// The request as the host receives it.
        request: SubmitFinalMatchResultRequest,
    },
    /// [`crate::close_match_admission`] / [`crate::raw::close_match_admission`].
    CloseMatchAdmission {
        /// The request as the host receives it.
        request: CloseMatchAdmissionRequest,
    },
    /// [`crate::now_epoch_ms`].
    NowEpochMs,
    /// [`crate::current_match_id`].
    CurrentMatchId,
    /// [`crate::set_timer`].
    SetTimer {
        /// The delay in host milliseconds.
        delay_ms: u64,
    },
    /// [`crate::cancel_timer`].
    CancelTimer {
        /// The timer id.
        id: u64,
    },
    /// [`crate::send_game_command`] / [`crate::raw::send_game_command`].
    SendGameCommand {
        /// The command as the host receives it.
        command: GameCommand,
    },
    /// [`crate::log`] and the level macros.
    Log {
        /// The log level.
        level: LogLevel,
        /// The log line.
        message: String,
    },
}

impl Call {
    /// `true` for calls of the Nexori API (`nexori:minigame/api`, what the host's trace records
    /// as `api` entries); `false` for host services (clock, timers, game commands, log).
    pub fn is_nexori_api(&self) -> bool {
        !matches!(
            self,
            Call::NowEpochMs
                | Call::CurrentMatchId
                | Call::SetTimer { .. }
                | Call::CancelTimer { .. }
                | Call::SendGameCommand { .. }
                | Call::Log { .. }
        )
    }
}

/// What [`RecordingHost`] answers. Defaults are the success answers (`UPDATED`, `SCHEDULED`,
/// `ACCEPTED`/`QUEUED`, `CLOSED`, ...) and `None` for every lookup; change them with
/// [`RecordingHost::configure`].
///
/// The answers are fixed, not computed: the recording host does not model a match. That keeps
/// tests explicit about the host behaviour they rely on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// When set, both registrations fail with this message.
    pub register_error: Option<String>,
    /// Answer of `find-active-match-id`.
    pub find_active_match_id: Option<String>,
    /// Answer of `find-active-player-uuid`.
    pub find_active_player_uuid: Option<PlayerUuid>,
    /// Answer of `find-active-match-info`.
    pub find_active_match_info: Option<ActiveMatchInfo>,
    /// Answer of `find-rules-engine-id`.
    pub find_rules_engine_id: Option<String>,
    /// Answer of `find-match-placement-state`.
    pub find_match_placement_state: Option<MatchPlacementState>,
    /// Answer of `find-match-result-requirements`.
    pub find_match_result_requirements: Option<MatchResultRequirements>,
    /// Answer of `find-match-resolution-trigger-id`.
    pub find_match_resolution_trigger_id: Option<String>,
    /// Answer of `set-player-outcome`.
    pub set_player_outcome: SetPlayerOutcomeResult,
    /// Answer of `set-player-spectator`.
    pub set_player_spectator: SetPlayerSpectatorResult,
    /// Answer of both `set-*-afk-detection-policy` imports.
    pub set_afk_detection_policy: SetAfkDetectionPolicyResult,
    /// Answer of both `clear-*-afk-detection-policy` imports.
    pub clear_afk_detection_policy: SetAfkDetectionPolicyResult,
    /// Answer of `set-player-afk`.
    pub set_player_afk: SetPlayerAfkResult,
    /// Answer of `return-player-to-lobby`.
    pub return_player_to_lobby: ReturnPlayerResult,
    /// Answer of `submit-final-match-result`.
    pub submit_final_match_result: SubmitFinalMatchResultResult,
    /// Answer of `close-match-admission` (an empty `match_id` is filled with the
    /// request's, trimmed and lowercased).
    pub close_match_admission: CloseMatchAdmissionResult,
    /// Answer of `current-match-id`.
    pub current_match_id: Option<String>,
    /// When set, `set-timer` fails with this message.
    pub set_timer_error: Option<String>,
    /// When set, `send-game-command` fails with this message.
    pub send_game_command_error: Option<String>,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            register_error: None,
            find_active_match_id: None,
            find_active_player_uuid: None,
            find_active_match_info: None,
            find_rules_engine_id: None,
            find_match_placement_state: None,
            find_match_result_requirements: None,
            find_match_resolution_trigger_id: None,
            set_player_outcome: SetPlayerOutcomeResult {
                status: SetPlayerOutcomeStatus::Updated,
                message: String::new(),
            },
            set_player_spectator: SetPlayerSpectatorResult {
                status: SetPlayerSpectatorStatus::Updated,
                message: String::new(),
            },
            set_afk_detection_policy: SetAfkDetectionPolicyResult {
                status: SetAfkDetectionPolicyStatus::Updated,
                message: String::new(),
            },
            clear_afk_detection_policy: SetAfkDetectionPolicyResult {
                status: SetAfkDetectionPolicyStatus::Cleared,
                message: String::new(),
            },
            set_player_afk: SetPlayerAfkResult {
                status: SetPlayerAfkStatus::Updated,
                message: String::new(),
            },
            return_player_to_lobby: ReturnPlayerResult {
                status: ReturnPlayerStatus::Scheduled,
                message: String::new(),
            },
            submit_final_match_result: SubmitFinalMatchResultResult {
                match_status: MatchCompletionStatus::Accepted,
                backend_report_status: BackendReportStatus::Queued,
                result_id: "recorded-result".to_string(),
                message: String::new(),
            },
            close_match_admission: CloseMatchAdmissionResult {
                status: CloseMatchAdmissionStatus::Closed,
                match_id: String::new(),
                closed_locally: true,
                message: "Admission was closed locally.".to_string(),
            },
            current_match_id: None,
            set_timer_error: None,
            send_game_command_error: None,
        }
    }
}

/// The default start of [`RecordingHost`]'s clock: the default `startEpochMs` of scenario files.
pub const DEFAULT_START_EPOCH_MS: i64 = 1_760_000_000_000;

#[derive(Debug)]
struct Recording {
    calls: Vec<Call>,
    answers: Answers,
    now: i64,
    next_timer: u64,
    /// Pending timers: id → due time on the host clock.
    timers: BTreeMap<u64, i64>,
    next_registration: u64,
}

/// An in-memory [`NativeHost`] that records every call and answers from [`Answers`].
///
/// It is a cheap handle (`Clone` shares the recording), so a test installs one clone and keeps
/// another to inspect the calls. Its clock starts at [`DEFAULT_START_EPOCH_MS`] and moves only
/// when the test says so; timers are recorded with their due time, never fired (call
/// [`ModDriver::on_timer`] for that).
///
/// ```
/// use nexori_sdk::native::{Call, RecordingHost};
/// use nexori_sdk::{CloseMatchAdmissionReason, CloseMatchAdmissionStatus, LogLevel};
///
/// let host = RecordingHost::new();
/// host.install();
/// host.configure(|answers| answers.close_match_admission.status = CloseMatchAdmissionStatus::MatchNotBackendDriven);
///
/// let result = nexori_sdk::close_match_admission("m1", CloseMatchAdmissionReason::GamePhaseLocked, None);
/// assert_eq!(result.status, CloseMatchAdmissionStatus::MatchNotBackendDriven);
/// nexori_sdk::info!("admission: {}", result.status);
///
/// assert_eq!(host.api_calls().len(), 1);
/// assert_eq!(host.logs(), vec![(LogLevel::Info, "admission: MATCH_NOT_BACKEND_DRIVEN".to_string())]);
/// ```
#[derive(Debug, Clone)]
pub struct RecordingHost {
    inner: Rc<RefCell<Recording>>,
}

impl Default for RecordingHost {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingHost {
    /// A host with default [`Answers`], no calls, the clock at [`DEFAULT_START_EPOCH_MS`].
    pub fn new() -> Self {
        RecordingHost {
            inner: Rc::new(RefCell::new(Recording {
                calls: Vec::new(),
                answers: Answers::default(),
                now: DEFAULT_START_EPOCH_MS,
                next_timer: 1,
                timers: BTreeMap::new(),
                next_registration: 1,
            })),
        }
    }

    /// Installs a clone of this host for the current thread ([`set_host`]).
    pub fn install(&self) {
        set_host(Box::new(self.clone()));
    }

    /// Changes the answers for the calls that follow.
    pub fn configure(&self, f: impl FnOnce(&mut Answers)) {
        f(&mut self.inner.borrow_mut().answers)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.borrow().calls.clone()
    }

    /// The game commands sent so far, in order.
    ///
    /// ```
    /// use nexori_sdk::native::RecordingHost;
    /// let host = RecordingHost::new();
    /// host.install();
    /// nexori_sdk::send_game_command("m1", None, "player.message", Some(&serde_json::json!({"text": "hi"}))).unwrap();
    /// assert_eq!(host.game_commands()[0].name, "player.message");
    /// ```
    pub fn game_commands(&self) -> Vec<GameCommand> {
        self.inner
            .borrow()
            .calls
            .iter()
            .filter_map(|call| match call {
                Call::SendGameCommand { command } => Some(command.clone()),
                _ => None,
            })
            .collect()
    }

    /// The Nexori API calls so far ([`Call::is_nexori_api`]), in order.
    pub fn api_calls(&self) -> Vec<Call> {
        self.inner
            .borrow()
            .calls
            .iter()
            .filter(|call| call.is_nexori_api())
            .cloned()
            .collect()
    }

    /// Every call so far, clearing the recording.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.inner.borrow_mut().calls)
    }

    /// The log lines so far.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.inner
            .borrow()
            .calls
            .iter()
            .filter_map(|call| match call {
                Call::Log { level, message } => Some((*level, message.clone())),
                _ => None,
            })
            .collect()
    }

    /// The host clock.
    pub fn now(&self) -> i64 {
        self.inner.borrow().now
    }

    /// Sets the host clock.
    pub fn set_now(&self, epoch_ms: i64) {
        self.inner.borrow_mut().now = epoch_ms;
    }

    /// Moves the host clock forward.
    pub fn advance(&self, ms: i64) {
        self.inner.borrow_mut().now += ms;
    }

    /// Pending timers as `(id, due at epoch ms)`, by id.
    pub fn pending_timers(&self) -> Vec<(TimerId, i64)> {
        self.inner
            .borrow()
            .timers
            .iter()
            .map(|(id, due)| (TimerId(*id), *due))
            .collect()
    }

    /// Removes the timers due at the current clock and returns them in due order, for the test
    /// to pass to [`ModDriver::on_timer`] (the recording host never calls the mod itself).
    pub fn take_due_timers(&self) -> Vec<TimerId> {
        let mut recording = self.inner.borrow_mut();
        let now = recording.now;
        let mut due: Vec<(i64, u64)> = recording
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, at)| (*at, *id))
            .collect();
        due.sort_unstable();
        for (_, id) in &due {
            recording.timers.remove(id);
        }
        due.into_iter().map(|(_, id)| TimerId(id)).collect()
    }

    fn record(&self, call: Call) -> std::cell::RefMut<'_, Recording> {
        let mut recording = self.inner.borrow_mut();
        recording.calls.push(call);
        recording
    }

    fn register(&self, call: Call) -> Result<u64, String> {
        let mut recording = self.record(call);
        if let Some(error) = &recording.answers.register_error {
            return Err(error.clone());
        }
        let handle = recording.next_registration;
        recording.next_registration += 1;
        Ok(handle)
    }
}

impl NativeHost for RecordingHost {
    fn register_match_lifecycle_listener(&mut self, rules_engine_id: &str) -> Result<u64, String> {
        self.register(Call::RegisterMatchLifecycleListener {
            rules_engine_id: rules_engine_id.to_string(),
        })
    }

    fn register_afk_activity_listener(&mut self, rules_engine_id: &str) -> Result<u64, String> {
        self.register(Call::RegisterAfkActivityListener {
            rules_engine_id: rules_engine_id.to_string(),
        })
    }

    fn close_listener_registration(&mut self, handle: u64) {
        self.record(Call::CloseListenerRegistration { handle });
    }

    fn find_active_match_id(&mut self, player_uuid: &str) -> Option<String> {
        let call = Call::FindActiveMatchId {
            player_uuid: player_uuid.to_string(),
        };
        self.record(call).answers.find_active_match_id.clone()
    }

    fn find_active_player_uuid(
        &mut self,
        match_id: &str,
        player_token: &str,
    ) -> Option<PlayerUuid> {
        let call = Call::FindActivePlayerUuid {
            match_id: match_id.to_string(),
            player_token: player_token.to_string(),
        };
        self.record(call).answers.find_active_player_uuid.clone()
    }

    fn find_active_match_info(&mut self, match_id: &str) -> Option<ActiveMatchInfo> {
        let call = Call::FindActiveMatchInfo {
            match_id: match_id.to_string(),
        };
        self.record(call).answers.find_active_match_info.clone()
    }

    fn find_rules_engine_id(&mut self, match_id: &str) -> Option<String> {
        let call = Call::FindRulesEngineId {
            match_id: match_id.to_string(),
        };
        self.record(call).answers.find_rules_engine_id.clone()
    }

    fn find_match_placement_state(&mut self, match_id: &str) -> Option<MatchPlacementState> {
        let call = Call::FindMatchPlacementState {
            match_id: match_id.to_string(),
        };
        self.record(call).answers.find_match_placement_state.clone()
    }

    fn find_match_result_requirements(
        &mut self,
        match_id: &str,
    ) -> Option<MatchResultRequirements> {
        let call = Call::FindMatchResultRequirements {
            match_id: match_id.to_string(),
        };
        self.record(call)
            .answers
            .find_match_result_requirements
            .clone()
    }

    fn find_match_resolution_trigger_id(&mut self, match_id: &str) -> Option<String> {
        let call = Call::FindMatchResolutionTriggerId {
            match_id: match_id.to_string(),
        };
        self.record(call)
            .answers
            .find_match_resolution_trigger_id
            .clone()
    }

    fn set_player_outcome(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        outcome: Option<Outcome>,
        reason: &str,
    ) -> SetPlayerOutcomeResult {
        let call = Call::SetPlayerOutcome {
            match_id: match_id.to_string(),
            player_uuid: player_uuid.to_string(),
            outcome,
            reason: reason.to_string(),
        };
        self.record(call).answers.set_player_outcome.clone()
    }

    fn set_player_spectator(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        spectator: bool,
        reason: &str,
        spectator_model_id: Option<&str>,
    ) -> SetPlayerSpectatorResult {
        let call = Call::SetPlayerSpectator {
            match_id: match_id.to_string(),
            player_uuid: player_uuid.to_string(),
            spectator,
            reason: reason.to_string(),
            spectator_model_id: spectator_model_id.map(str::to_string),
        };
        self.record(call).answers.set_player_spectator.clone()
    }

    fn set_match_afk_detection_policy(
        &mut self,
        match_id: &str,
        policy: Option<AfkDetectionPolicy>,
    ) -> SetAfkDetectionPolicyResult {
        let call = Call::SetMatchAfkDetectionPolicy {
            match_id: match_id.to_string(),
            policy,
        };
        self.record(call).answers.set_afk_detection_policy.clone()
    }

    fn clear_match_afk_detection_policy(&mut self, match_id: &str) -> SetAfkDetectionPolicyResult {
        let call = Call::ClearMatchAfkDetectionPolicy {
            match_id: match_id.to_string(),
        };
        self.record(call).answers.clear_afk_detection_policy.clone()
    }

    fn set_player_afk_detection_policy(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        policy: Option<AfkDetectionPolicy>,
    ) -> SetAfkDetectionPolicyResult {
        let call = Call::SetPlayerAfkDetectionPolicy {
            match_id: match_id.to_string(),
            player_uuid: player_uuid.to_string(),
            policy,
        };
        self.record(call).answers.set_afk_detection_policy.clone()
    }

    fn clear_player_afk_detection_policy(
        &mut self,
        match_id: &str,
        player_uuid: &str,
    ) -> SetAfkDetectionPolicyResult {
        let call = Call::ClearPlayerAfkDetectionPolicy {
            match_id: match_id.to_string(),
            player_uuid: player_uuid.to_string(),
        };
        self.record(call).answers.clear_afk_detection_policy.clone()
    }

    fn set_player_afk(&mut self, request: &SetPlayerAfkRequest) -> SetPlayerAfkResult {
        self.record(Call::SetPlayerAfk {
            request: request.clone(),
        })
        .answers
        .set_player_afk
        .clone()
    }

    fn return_player_to_lobby(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        delay_seconds: i32,
        reason: &str,
    ) -> ReturnPlayerResult {
        let call = Call::ReturnPlayerToLobby {
            match_id: match_id.to_string(),
            player_uuid: player_uuid.to_string(),
            delay_seconds,
            reason: reason.to_string(),
        };
        self.record(call).answers.return_player_to_lobby.clone()
    }

    fn submit_final_match_result(
        &mut self,
        request: &SubmitFinalMatchResultRequest,
    ) -> SubmitFinalMatchResultResult {
        let call = Call::SubmitFinalMatchResult {
            request: request.clone(),
        };
        self.record(call).answers.submit_final_match_result.clone()
    }

    fn close_match_admission(
        &mut self,
        request: &CloseMatchAdmissionRequest,
    ) -> CloseMatchAdmissionResult {
        let recording = self.record(Call::CloseMatchAdmission {
            request: request.clone(),
        });
        let mut answer = recording.answers.close_match_admission.clone();
        // Echo the target like the real host, so tests need not configure it per match.
        if answer.match_id.is_empty() {
            answer.match_id = request.match_id.trim().to_lowercase();
        }
        answer
    }

    fn now_epoch_ms(&mut self) -> i64 {
        self.record(Call::NowEpochMs).now
    }

    fn current_match_id(&mut self) -> Option<String> {
        self.record(Call::CurrentMatchId)
            .answers
            .current_match_id
            .clone()
    }

    fn set_timer(&mut self, delay_ms: u64) -> Result<u64, String> {
        let mut recording = self.record(Call::SetTimer { delay_ms });
        if let Some(error) = &recording.answers.set_timer_error {
            return Err(error.clone());
        }
        let id = recording.next_timer;
        recording.next_timer += 1;
        let due = recording
            .now
            .saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX));
        recording.timers.insert(id, due);
        Ok(id)
    }

    fn cancel_timer(&mut self, id: u64) -> bool {
        self.record(Call::CancelTimer { id })
            .timers
            .remove(&id)
            .is_some()
    }

    fn send_game_command(&mut self, command: &GameCommand) -> Result<(), String> {
        let recording = self.record(Call::SendGameCommand {
            command: command.clone(),
        });
        match &recording.answers.send_game_command_error {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        self.record(Call::Log {
            level,
            message: message.to_string(),
        });
    }
}
