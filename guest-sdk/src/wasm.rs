//! The component side (wasm only): generated bindings, conversions to and from the SDK types,
//! the import adapter and the generic export implementation.
//!
//! Nothing here is public API. It is reachable as `nexori_sdk::__private` only because
//! [`crate::export_rules_mod!`] expands in the mod's crate and wit-bindgen's `export!` macro
//! names the generated modules by path from there.

use core::marker::PhantomData;

use crate::RulesMod;
use crate::driver::ModDriver;
use crate::host_calls::NativeHost;
use crate::types::*;

/// The generated bindings for world `rules-mod`.
///
/// `pub_export_macro` makes wit-bindgen's `export!` usable from the mod's crate, and with it the
/// export half of the component-type custom section is emitted there (where the exported
/// functions are), while this crate only carries the import half.
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod wit {
    wit_bindgen::generate!({
        path: "../wit",
        world: "rules-mod",
        pub_export_macro: true,
        default_bindings_module: "::nexori_sdk::__private::wit",
    });
}

use wit::exports::nexori::minigame as exports;
use wit::exports::nexori::minigame::game_event_batches as batches;
use wit::nexori::minigame::{api, host, types as w};

// ---------------------------------------------------------------------------- conversions

/// `From` both ways between an SDK enum and its generated twin; the variant names are identical
/// because both come from the same WIT case names.
macro_rules! enum_conv {
    ($($sdk:ident <=> $wit:ident { $($variant:ident),+ $(,)? })+) => {$(
        impl From<w::$wit> for $sdk {
            fn from(value: w::$wit) -> Self {
                match value { $( w::$wit::$variant => $sdk::$variant, )+ }
            }
        }
        impl From<$sdk> for w::$wit {
            fn from(value: $sdk) -> Self {
                match value { $( $sdk::$variant => w::$wit::$variant, )+ }
            }
        }
    )+};
}

enum_conv! {
    PlayerPlacementOutcome <=> PlayerPlacementOutcome { Confirmed, Fallback }
    AfkActivitySource <=> AfkActivitySource {
        Unknown, IdleTimeout, PlayerInput, InventoryPacket, PolicyChange, ExternalApi
    }
    SetAfkDetectionPolicyStatus <=> SetAfkDetectionPolicyStatus {
        Updated, Cleared, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidPolicy,
        NotSupported
    }
    SetPlayerAfkStatus <=> SetPlayerAfkStatus {
        Updated, Unchanged, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidRequest,
        NotSupported
    }
    Outcome <=> MatchResultPlayerOutcome { Win, Loss, Disconnected, NoContest }
    SetPlayerOutcomeStatus <=> SetPlayerOutcomeStatus {
        Updated, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidOutcome, InvalidReason
    }
    SetPlayerSpectatorStatus <=> SetPlayerSpectatorStatus {
        Updated, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidReason
    }
    ReturnPlayerStatus <=> ReturnPlayerStatus {
        Scheduled, MatchMissing, PlayerMissing, InvalidDelay, InvalidReason
    }
    MatchCompletionStatus <=> MatchCompletionStatus {
        Accepted, AlreadySubmitted, MatchMissing, InvalidResult
    }
    BackendReportStatus <=> BackendReportStatus {
        Queued, Disabled, ExternalMatchMissing, StoreFailed, AlreadySubmitted, DuplicateConflict,
        NotAttempted
    }
    CloseMatchAdmissionReason <=> CloseMatchAdmissionReason {
        ModRequest, GamePhaseLocked, RosterLocked, AdminForced
    }
    CloseMatchAdmissionStatus <=> CloseMatchAdmissionStatus {
        Closed, AlreadyClosed, MatchMissing, MatchNotBackendDriven, InvalidReason,
        ReportingDisabled
    }
    LogLevel <=> LogLevel { Trace, Debug, Info, Warn, Error }
}

impl From<w::MatchPlacementState> for MatchPlacementState {
    fn from(v: w::MatchPlacementState) -> Self {
        MatchPlacementState {
            expected_players: v.expected_players,
            arrived_players: v.arrived_players,
            placed_players: v.placed_players,
            placement_complete: v.placement_complete,
            minimum_initial_players: v.minimum_initial_players,
            initial_placement_window_open: v.initial_placement_window_open,
            initial_placement_window_started_at_epoch_ms: v
                .initial_placement_window_started_at_epoch_ms,
            initial_placement_window_expires_at_epoch_ms: v
                .initial_placement_window_expires_at_epoch_ms,
            initial_placement_window_closed_at_epoch_ms: v
                .initial_placement_window_closed_at_epoch_ms,
            initial_placement_window_close_reason: v.initial_placement_window_close_reason,
            start_gate_open: v.start_gate_open,
            start_gate_opened_at_epoch_ms: v.start_gate_opened_at_epoch_ms,
            start_gate_open_reason: v.start_gate_open_reason,
        }
    }
}

impl From<w::MatchLifecycleEvent> for MatchLifecycleEvent {
    fn from(v: w::MatchLifecycleEvent) -> Self {
        MatchLifecycleEvent {
            match_id: v.match_id,
            queue_id: v.queue_id,
            arena_id: v.arena_id,
            assignment_id: v.assignment_id,
            external_match_id: v.external_match_id,
            rules_engine_id: v.rules_engine_id,
            match_resolution_trigger_id: v.match_resolution_trigger_id,
            expected_player_uuids: v.expected_player_uuids,
            arrived_player_uuids: v.arrived_player_uuids,
            active_player_uuids: v.active_player_uuids,
            spectator_player_uuids: v.spectator_player_uuids,
            required_result_player_uuids: v.required_result_player_uuids,
            placement_state: v.placement_state.into(),
            reason: v.reason,
            created_at_epoch_ms: v.created_at_epoch_ms,
            event_at_epoch_ms: v.event_at_epoch_ms,
        }
    }
}

impl From<w::PlayerMatchLifecycleEvent> for PlayerMatchLifecycleEvent {
    fn from(v: w::PlayerMatchLifecycleEvent) -> Self {
        PlayerMatchLifecycleEvent {
            match_: v.match_.into(),
            player_uuid: v.player_uuid,
            player_name: v.player_name,
            player_assignment_id: v.player_assignment_id,
            reason: v.reason,
            event_at_epoch_ms: v.event_at_epoch_ms,
        }
    }
}

impl From<w::PlayerPlacementLifecycleEvent> for PlayerPlacementLifecycleEvent {
    fn from(v: w::PlayerPlacementLifecycleEvent) -> Self {
        PlayerPlacementLifecycleEvent {
            player: v.player.into(),
            placement_outcome: v.placement_outcome.into(),
            placement_state: v.placement_state.into(),
            world_name: v.world_name,
            instance_template_id: v.instance_template_id,
            event_at_epoch_ms: v.event_at_epoch_ms,
        }
    }
}

impl From<w::PlayerAfkChangedEvent> for PlayerAfkChangedEvent {
    fn from(v: w::PlayerAfkChangedEvent) -> Self {
        PlayerAfkChangedEvent {
            match_id: v.match_id,
            queue_id: v.queue_id,
            arena_id: v.arena_id,
            rules_engine_id: v.rules_engine_id,
            player_uuid: v.player_uuid,
            player_name: v.player_name,
            afk: v.afk,
            changed_at_epoch_ms: v.changed_at_epoch_ms,
            idle_ms: v.idle_ms,
            source: v.source.into(),
        }
    }
}

impl From<AfkDetectionPolicy> for w::AfkDetectionPolicy {
    fn from(v: AfkDetectionPolicy) -> Self {
        w::AfkDetectionPolicy {
            enabled: v.enabled,
            inactivity_timeout_seconds: v.inactivity_timeout_seconds,
        }
    }
}

impl From<w::SetAfkDetectionPolicyResult> for SetAfkDetectionPolicyResult {
    fn from(v: w::SetAfkDetectionPolicyResult) -> Self {
        SetAfkDetectionPolicyResult {
            status: v.status.into(),
            message: v.message,
        }
    }
}

impl From<&SetPlayerAfkRequest> for w::SetPlayerAfkRequest {
    fn from(v: &SetPlayerAfkRequest) -> Self {
        w::SetPlayerAfkRequest {
            match_id: v.match_id.clone(),
            player_uuid: v.player_uuid.clone(),
            afk: v.afk,
            reason: v.reason.clone(),
            show_hud: v.show_hud,
        }
    }
}

impl From<w::SetPlayerAfkResult> for SetPlayerAfkResult {
    fn from(v: w::SetPlayerAfkResult) -> Self {
        SetPlayerAfkResult {
            status: v.status.into(),
            message: v.message,
        }
    }
}

impl From<w::PlayerOutcomeState> for PlayerOutcomeState {
    fn from(v: w::PlayerOutcomeState) -> Self {
        PlayerOutcomeState {
            player_uuid: v.player_uuid,
            outcome: v.outcome.into(),
            reason: v.reason,
        }
    }
}

impl From<w::ActiveMatchInfo> for ActiveMatchInfo {
    fn from(v: w::ActiveMatchInfo) -> Self {
        ActiveMatchInfo {
            match_id: v.match_id,
            queue_id: v.queue_id,
            arena_id: v.arena_id,
            assignment_id: v.assignment_id,
            external_match_id: v.external_match_id,
            rules_engine_id: v.rules_engine_id,
            match_resolution_trigger_id: v.match_resolution_trigger_id,
            expected_player_uuids: v.expected_player_uuids,
            arrived_player_uuids: v.arrived_player_uuids,
            active_player_uuids: v.active_player_uuids,
            eliminated_player_uuids: v.eliminated_player_uuids,
            spectator_player_uuids: v.spectator_player_uuids,
            afk_player_uuids: v.afk_player_uuids,
            required_result_player_uuids: v.required_result_player_uuids,
            player_outcomes: v.player_outcomes.into_iter().map(Into::into).collect(),
            expected_player_count: v.expected_player_count,
            completed_at_epoch_ms: v.completed_at_epoch_ms,
            result_submitted_at_epoch_ms: v.result_submitted_at_epoch_ms,
        }
    }
}

impl From<w::MatchResultRequirements> for MatchResultRequirements {
    fn from(v: w::MatchResultRequirements) -> Self {
        MatchResultRequirements {
            match_id: v.match_id,
            required_player_uuids: v.required_player_uuids,
        }
    }
}

impl From<w::SetPlayerOutcomeResult> for SetPlayerOutcomeResult {
    fn from(v: w::SetPlayerOutcomeResult) -> Self {
        SetPlayerOutcomeResult {
            status: v.status.into(),
            message: v.message,
        }
    }
}

impl From<w::SetPlayerSpectatorResult> for SetPlayerSpectatorResult {
    fn from(v: w::SetPlayerSpectatorResult) -> Self {
        SetPlayerSpectatorResult {
            status: v.status.into(),
            message: v.message,
        }
    }
}

impl From<w::ReturnPlayerResult> for ReturnPlayerResult {
    fn from(v: w::ReturnPlayerResult) -> Self {
        ReturnPlayerResult {
            status: v.status.into(),
            message: v.message,
        }
    }
}

impl From<&SubmitFinalMatchResultRequest> for w::SubmitFinalMatchResultRequest {
    fn from(v: &SubmitFinalMatchResultRequest) -> Self {
        w::SubmitFinalMatchResultRequest {
            match_id: v.match_id.clone(),
            reason: v.reason.clone(),
            custom_data: v.custom_data.clone(),
        }
    }
}

impl From<w::SubmitFinalMatchResultResult> for SubmitFinalMatchResultResult {
    fn from(v: w::SubmitFinalMatchResultResult) -> Self {
        SubmitFinalMatchResultResult {
            match_status: v.match_status.into(),
            backend_report_status: v.backend_report_status.into(),
            result_id: v.result_id,
            message: v.message,
        }
    }
}

impl From<&CloseMatchAdmissionRequest> for w::CloseMatchAdmissionRequest {
    fn from(v: &CloseMatchAdmissionRequest) -> Self {
        w::CloseMatchAdmissionRequest {
            match_id: v.match_id.clone(),
            reason: v.reason.map(Into::into),
            message: v.message.clone(),
        }
    }
}

impl From<w::CloseMatchAdmissionResult> for CloseMatchAdmissionResult {
    fn from(v: w::CloseMatchAdmissionResult) -> Self {
        CloseMatchAdmissionResult {
            status: v.status.into(),
            match_id: v.match_id,
            closed_locally: v.closed_locally,
            message: v.message,
        }
    }
}

impl From<w::GameEvent> for GameEvent {
    fn from(v: w::GameEvent) -> Self {
        GameEvent {
            match_id: v.match_id,
            kind: v.kind,
            player: v.player,
            data: v.data,
            at_epoch_ms: v.at_epoch_ms,
        }
    }
}

impl From<&GameCommand> for w::GameCommand {
    fn from(v: &GameCommand) -> Self {
        w::GameCommand {
            match_id: v.match_id.clone(),
            player: v.player.clone(),
            name: v.name.clone(),
            data: v.data.clone(),
        }
    }
}

// ---------------------------------------------------------------------------- imports

std::thread_local! {
    /// Registration resources, indexed by the handle given to [`crate::ListenerRegistration`].
    ///
    /// The SDK handle is a plain index so that registration goes through [`NativeHost`] like
    /// every other import. The resources are never dropped before the instance ends, which is
    /// observably the same as Nexori: dropping a registration does not unregister, only
    /// `close` does. An instance serves one match, so the table stays tiny.
    static REGISTRATIONS: core::cell::RefCell<Vec<api::ListenerRegistration>> =
        const { core::cell::RefCell::new(Vec::new()) };
}

fn keep_registration(result: Result<api::ListenerRegistration, String>) -> Result<u64, String> {
    let registration = result?;
    Ok(REGISTRATIONS.with_borrow_mut(|table| {
        table.push(registration);
        (table.len() - 1) as u64
    }))
}

std::thread_local! {
    /// Set when the mod calls an `api` function that changes its match (everything but the
    /// `find-*` lookups): a batch of game events stops after that event, so the runtime acts
    /// on the change before the mod sees the next one (see `game-event-batches`).
    static MATCH_CHANGED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

fn changes_match() {
    MATCH_CHANGED.set(true);
}

/// The imports of the real host, behind the same trait native hosts implement.
pub(crate) struct WitHost;

impl NativeHost for WitHost {
    fn register_match_lifecycle_listener(&mut self, rules_engine_id: &str) -> Result<u64, String> {
        changes_match();
        keep_registration(api::register_match_lifecycle_listener(rules_engine_id))
    }

    fn register_afk_activity_listener(&mut self, rules_engine_id: &str) -> Result<u64, String> {
        changes_match();
        keep_registration(api::register_afk_activity_listener(rules_engine_id))
    }

    fn close_listener_registration(&mut self, handle: u64) {
        changes_match();
        REGISTRATIONS.with_borrow(|table| {
            if let Some(registration) = table.get(handle as usize) {
                registration.close();
            }
        });
    }

    fn find_active_match_id(&mut self, player_uuid: &str) -> Option<String> {
        api::find_active_match_id(player_uuid)
    }

    fn find_active_player_uuid(
        &mut self,
        match_id: &str,
        player_token: &str,
    ) -> Option<PlayerUuid> {
        api::find_active_player_uuid(match_id, player_token)
    }

    fn find_active_match_info(&mut self, match_id: &str) -> Option<ActiveMatchInfo> {
        api::find_active_match_info(match_id).map(Into::into)
    }

    fn find_rules_engine_id(&mut self, match_id: &str) -> Option<String> {
        api::find_rules_engine_id(match_id)
    }

    fn find_match_placement_state(&mut self, match_id: &str) -> Option<MatchPlacementState> {
        api::find_match_placement_state(match_id).map(Into::into)
    }

    fn find_match_result_requirements(
        &mut self,
        match_id: &str,
    ) -> Option<MatchResultRequirements> {
        api::find_match_result_requirements(match_id).map(Into::into)
    }

    fn find_match_resolution_trigger_id(&mut self, match_id: &str) -> Option<String> {
        api::find_match_resolution_trigger_id(match_id)
    }

    fn set_player_outcome(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        outcome: Option<Outcome>,
        reason: &str,
    ) -> SetPlayerOutcomeResult {
        changes_match();
        api::set_player_outcome(match_id, player_uuid, outcome.map(Into::into), reason).into()
    }

    fn set_player_spectator(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        spectator: bool,
        reason: &str,
        spectator_model_id: Option<&str>,
    ) -> SetPlayerSpectatorResult {
        changes_match();
        api::set_player_spectator(match_id, player_uuid, spectator, reason, spectator_model_id)
            .into()
    }

    fn set_match_afk_detection_policy(
        &mut self,
        match_id: &str,
        policy: Option<AfkDetectionPolicy>,
    ) -> SetAfkDetectionPolicyResult {
        changes_match();
        api::set_match_afk_detection_policy(match_id, policy.map(Into::into)).into()
    }

    fn clear_match_afk_detection_policy(&mut self, match_id: &str) -> SetAfkDetectionPolicyResult {
        changes_match();
        api::clear_match_afk_detection_policy(match_id).into()
    }

    fn set_player_afk_detection_policy(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        policy: Option<AfkDetectionPolicy>,
    ) -> SetAfkDetectionPolicyResult {
        changes_match();
        api::set_player_afk_detection_policy(match_id, player_uuid, policy.map(Into::into)).into()
    }

    fn clear_player_afk_detection_policy(
        &mut self,
        match_id: &str,
        player_uuid: &str,
    ) -> SetAfkDetectionPolicyResult {
        changes_match();
        api::clear_player_afk_detection_policy(match_id, player_uuid).into()
    }

    fn set_player_afk(&mut self, request: &SetPlayerAfkRequest) -> SetPlayerAfkResult {
        changes_match();
        api::set_player_afk(&request.into()).into()
    }

    fn return_player_to_lobby(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        delay_seconds: i32,
        reason: &str,
    ) -> ReturnPlayerResult {
        changes_match();
        api::return_player_to_lobby(match_id, player_uuid, delay_seconds, reason).into()
    }

    fn submit_final_match_result(
        &mut self,
        request: &SubmitFinalMatchResultRequest,
    ) -> SubmitFinalMatchResultResult {
        changes_match();
        api::submit_final_match_result(&request.into()).into()
    }

    fn close_match_admission(
        &mut self,
        request: &CloseMatchAdmissionRequest,
    ) -> CloseMatchAdmissionResult {
        changes_match();
        api::close_match_admission(&request.into()).into()
    }

    fn now_epoch_ms(&mut self) -> i64 {
        host::now_epoch_ms()
    }

    fn current_match_id(&mut self) -> Option<String> {
        host::current_match_id()
    }

    fn set_timer(&mut self, delay_ms: u64) -> Result<u64, String> {
        host::set_timer(delay_ms)
    }

    fn cancel_timer(&mut self, id: u64) -> bool {
        host::cancel_timer(id)
    }

    fn send_game_command(&mut self, command: &GameCommand) -> Result<(), String> {
        host::send_game_command(&command.into())
    }

    fn log(&mut self, level: LogLevel, message: &str) {
        host::log(level.into(), message)
    }
}

// ---------------------------------------------------------------------------- exports

/// Where one mod crate keeps its single [`ModDriver`].
///
/// Statics cannot be generic, so [`crate::export_rules_mod!`] declares the `thread_local!` in the
/// mod's crate and implements this trait to reach it; [`Exports`] then implements the generated
/// `Guest` traits once, generically, here.
pub trait Slot: 'static {
    /// The mod type given to `export_rules_mod!`.
    type Mod: RulesMod;

    /// Runs `f` with the instance's driver borrowed mutably.
    fn with_driver<R>(f: impl FnOnce(&mut ModDriver<Self::Mod>) -> R) -> R;
}

/// The type handed to wit-bindgen's `export!`: implements every exported interface by
/// converting the arguments and forwarding to the slot's [`ModDriver`].
pub struct Exports<S>(PhantomData<S>);

impl<S: Slot> exports::mod_init::Guest for Exports<S> {
    fn init(config: String) -> Result<(), String> {
        S::with_driver(|driver| driver.init(config))
    }
}

impl<S: Slot> exports::lifecycle_listener::Guest for Exports<S> {
    fn on_match_created(event: w::MatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_match_created(event.into()))
    }

    fn on_player_arrived(event: w::PlayerMatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_player_arrived(event.into()))
    }

    fn on_player_placement_confirmed(event: w::PlayerPlacementLifecycleEvent) {
        S::with_driver(|driver| driver.on_player_placement_confirmed(event.into()))
    }

    fn on_match_placement_completed(event: w::MatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_match_placement_completed(event.into()))
    }

    fn on_match_start_allowed(event: w::MatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_match_start_allowed(event.into()))
    }

    fn on_match_cancellation_requested(event: w::MatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_match_cancellation_requested(event.into()))
    }

    fn on_match_completed(event: w::MatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_match_completed(event.into()))
    }

    fn on_match_runtime_closed(event: w::MatchLifecycleEvent) {
        S::with_driver(|driver| driver.on_match_runtime_closed(event.into()))
    }
}

impl<S: Slot> exports::afk_listener::Guest for Exports<S> {
    fn on_player_afk_changed(event: w::PlayerAfkChangedEvent) {
        S::with_driver(|driver| driver.on_player_afk_changed(event.into()))
    }
}

impl<S: Slot> exports::game_events::Guest for Exports<S> {
    fn on_game_event(event: w::GameEvent) {
        S::with_driver(|driver| driver.on_game_event(event.into()))
    }

    fn on_player_disconnected(
        match_id: String,
        player_uuid: String,
        reason: String,
        at_epoch_ms: i64,
    ) {
        S::with_driver(|driver| {
            driver.on_player_disconnected(PlayerDisconnectedEvent {
                match_id,
                player_uuid,
                reason,
                at_epoch_ms,
            })
        })
    }
}

impl<S: Slot> exports::game_event_batches::Guest for Exports<S> {
    fn on_game_events(batch: batches::GameEventBatch) -> u32 {
        let text = batch.text.as_str();
        // The host's spans are always in range and on character boundaries; an empty string
        // is the answer to one that is not, rather than a trap.
        let part = |span: batches::TextSpan| {
            let start = span.start as usize;
            text.get(start..start.saturating_add(span.len as usize))
                .unwrap_or_default()
                .to_string()
        };
        S::with_driver(|driver| {
            let mut handled = 0;
            for event in &batch.events {
                MATCH_CHANGED.set(false);
                driver.on_game_event(GameEvent {
                    match_id: batch.match_id.clone(),
                    kind: part(event.kind),
                    player: event.player.map(part),
                    data: event.data.map(part),
                    at_epoch_ms: event.at_epoch_ms,
                });
                handled += 1;
                if MATCH_CHANGED.get() {
                    break;
                }
            }
            handled
        })
    }
}

impl<S: Slot> exports::timers::Guest for Exports<S> {
    fn on_timer(id: u64) {
        S::with_driver(|driver| driver.on_timer(crate::TimerId(id)))
    }
}
