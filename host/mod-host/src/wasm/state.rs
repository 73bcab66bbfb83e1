//! The data of one instance's store, and the Nexori API as host functions.
//!
//! Every API call takes the shared lock, runs the runtime operation inside the mod's ownership
//! scope (Decision D13), records an `api` trace entry and converts the answer.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use wasmtime::Result as WasmResult;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::convert;
use super::guest_output::GuestOutput;
use super::registrations::{ListenerKind, ListenerRegistration, Registration};
use super::since_v1_1_0::{api, host, types as wit};
use crate::host_state::{HostState, HostStateHandle, lock};
use crate::settings::ModLimits;
use nexori_protocol::commands::{CommandData, GameServerCommand};
use nexori_protocol::trace::TraceEntry;
use nexori_runtime::afk::SetPlayerAfk;
use nexori_runtime::ids::{java_trim, parse_uuid};
use nexori_runtime::model::{AfkPolicy, BackendReportStatus, MatchCompletionStatus, SubmitResult};
use nexori_runtime::ownership::Scope;
use nexori_runtime::results::Submission;

/// What the host knows about a loaded mod.
#[derive(Debug)]
pub struct ModInfo {
    /// The mod's name: its file name without `.wasm`; keys `[modLimits.<mod>]`, `[mods.<mod>]`
    /// and the log and trace entries.
    pub name: String,
    /// SHA-256 of the component bytes, for fault reports and caches.
    pub sha256: String,
    /// The rules engine ids the mod registered at load: its ownership scope.
    pub scope: Scope,
    /// The limits every instance of the mod runs under ([`HostSettings::limits_for`]).
    ///
    /// [`HostSettings::limits_for`]: crate::settings::HostSettings::limits_for
    pub limits: ModLimits,
    /// The operator's configuration for the mod, as the JSON text its `init` receives (`{}` when
    /// there is none).
    pub config_json: String,
}

/// Which registrations an instance may make.
#[derive(Debug, Clone)]
pub enum RegistrationPolicy {
    /// The load-time probe: any non-blank id; the loader checks for collisions.
    Probe,
    /// A match's instance: only the ids the mod registered at load.
    Loaded,
}

/// The data of one store.
pub struct InstanceState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: super::instance::MeteredLimits,
    pub(crate) module: Arc<ModInfo>,
    pub(crate) match_id: Option<String>,
    pub(crate) shared: HostStateHandle,
    pub(crate) registrations: Vec<Registration>,
    /// Whether a registration was refused for the limit (the loader rejects such a mod).
    pub(crate) registrations_refused: bool,
    pub(crate) policy: RegistrationPolicy,
    /// The instance's stderr, for what it wrote during a call that trapped.
    pub(crate) stderr: GuestOutput,
    /// How many callbacks the current guest call stands for (the events of a batch, else 1):
    /// the per-callback limits below are multiplied by it.
    pub(crate) callbacks_this_call: u32,
    /// Game commands and log lines of the current guest call, for the per-callback limits.
    pub(crate) commands_this_call: u32,
    pub(crate) logs_this_call: u32,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl InstanceState {
    /// Whether this instance listens for `kind` callbacks of `rules_engine_id`.
    pub fn listens(&self, kind: ListenerKind, rules_engine_id: &str) -> bool {
        self.registrations
            .iter()
            .any(|r| r.kind == kind && !r.closed && r.rules_engine_id == rules_engine_id)
    }

    /// Whether the instance tried to register more listeners than its limit allows.
    pub fn registrations_refused(&self) -> bool {
        self.registrations_refused
    }

    /// The ids this instance registered (open or closed), for the load-time probe.
    pub fn registered_ids(&self) -> BTreeSet<String> {
        self.registrations
            .iter()
            .map(|r| r.rules_engine_id.clone())
            .collect()
    }

    /// Traps the guest if it hands the host a string above its limit: oversized arguments are
    /// an attack or a bug, and either way the match cannot go on safely.
    fn check_sizes(&self, args: &[(&str, &str)]) -> WasmResult<()> {
        let max = self.module.limits.max_string_bytes;
        for (name, value) in args {
            if value.len() > max {
                return Err(wasmtime::format_err!(
                    "the mod passed a {}-byte `{name}`; the limit is {max} bytes",
                    value.len()
                ));
            }
        }
        Ok(())
    }

    fn register(
        &mut self,
        kind: ListenerKind,
        rules_engine_id: String,
    ) -> WasmResult<Result<Resource<ListenerRegistration>, String>> {
        let id = java_trim(&rules_engine_id).to_string();
        let method = match kind {
            ListenerKind::Lifecycle => "registerMatchLifecycleListener",
            ListenerKind::Afk => "registerAfkActivityListener",
        };
        let max = self.module.limits.max_listener_registrations;
        let refusal = if id.is_empty() {
            Some("Rules engine id cannot be blank.".to_string())
        } else if self.registrations.len() >= max {
            // Each registration is kept for the instance's life (`close` only marks it), so a
            // mod registering in a loop would grow host memory without end.
            self.registrations_refused = true;
            Some(format!(
                "listener registration limit reached: an instance may register at most {max} listeners (limits.maxListenerRegistrations)"
            ))
        } else {
            match &self.policy {
                // The loader rejects a mod whose registrations collide with another mod's,
                // naming both; refusing here would let a mod that ignores the error load.
                RegistrationPolicy::Probe => None,
                RegistrationPolicy::Loaded => (!self.module.scope.contains(&id)).then(|| {
                    format!(
                        "rules engine id {id:?} was not registered when mod {:?} loaded; register every id in init",
                        self.module.name
                    )
                }),
            }
        };
        // The load-time probe is the host learning about the mod, not the mod at work.
        if matches!(self.policy, RegistrationPolicy::Loaded) {
            let status = if refusal.is_some() {
                "ERROR"
            } else {
                "REGISTERED"
            };
            self.trace_api(
                method,
                None,
                None,
                status,
                refusal.as_deref().unwrap_or(""),
                None,
            );
        }
        if let Some(message) = refusal {
            return Ok(Err(message));
        }
        self.registrations.push(Registration {
            kind,
            rules_engine_id: id,
            closed: false,
        });
        let handle = self.table.push(ListenerRegistration {
            index: self.registrations.len() - 1,
        })?;
        Ok(Ok(handle))
    }

    fn trace_api(
        &self,
        method: &'static str,
        match_id: Option<&str>,
        player: Option<&str>,
        status: &str,
        message: &str,
        result: Option<Value>,
    ) {
        let mut shared = lock(&self.shared);
        let at = shared.now();
        push_api(
            &mut shared,
            &self.module.name,
            at,
            method,
            match_id,
            player,
            status,
            message,
            result,
        );
    }

    /// Runs a runtime operation inside this mod's ownership scope.
    fn with_arena<R>(&self, f: impl FnOnce(&mut HostState, i64) -> R) -> R {
        let mut shared = lock(&self.shared);
        let now = shared.now();
        let scope = self.module.scope.clone();
        let shared_ref: &mut HostState = &mut shared;
        let previous = shared_ref.arena.scope_replace(Some(scope));
        let result = f(shared_ref, now);
        shared_ref.arena.scope_replace(previous);
        shared_ref.flush_commands();
        result
    }

    /// A status-returning call: runs it scoped and traces it.
    fn status_call<R: Clone>(
        &self,
        method: &'static str,
        match_id: &str,
        player: Option<&str>,
        call: impl FnOnce(&mut HostState, i64) -> R,
        describe: impl Fn(&R) -> (&'static str, String),
    ) -> R {
        let module = self.module.name.clone();
        self.with_arena(|shared, now| {
            let result = call(shared, now);
            let (status, message) = describe(&result);
            push_api(
                shared,
                &module,
                now,
                method,
                Some(match_id),
                player,
                status,
                &message,
                None,
            );
            result
        })
    }

    /// A query: runs it scoped and traces the answer.
    fn query<R: Serialize>(
        &self,
        method: &'static str,
        match_id: Option<&str>,
        player: Option<&str>,
        call: impl FnOnce(&nexori_runtime::Arena) -> Option<R>,
    ) -> Option<R> {
        let module = self.module.name.clone();
        self.with_arena(|shared, now| {
            let answer = call(&shared.arena);
            let status = if answer.is_some() { "FOUND" } else { "EMPTY" };
            let json = shared
                .trace
                .is_enabled()
                .then(|| serde_json::to_value(&answer).unwrap_or(Value::Null));
            push_api(
                shared, &module, now, method, match_id, player, status, "", json,
            );
            answer
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn push_api(
    shared: &mut HostState,
    module: &str,
    at: i64,
    method: &'static str,
    match_id: Option<&str>,
    player: Option<&str>,
    status: &str,
    message: &str,
    result: Option<Value>,
) {
    shared.trace.count(
        "nexori_api_calls_total",
        format_args!("{{method=\"{method}\",status=\"{status}\"}}"),
    );
    shared.trace.push_with(|| TraceEntry::Api {
        at,
        mod_name: module.to_string(),
        method,
        match_id: match_id.map(str::to_string),
        player: player.map(str::to_string),
        status: status.to_string(),
        message: message.to_string(),
        backend_report_status: None,
        result_id: None,
        result,
    });
}

fn policy(p: Option<wit::AfkDetectionPolicy>) -> Option<AfkPolicy> {
    p.map(|p| AfkPolicy {
        enabled: p.enabled,
        inactivity_timeout_seconds: p.inactivity_timeout_seconds,
    })
}

impl api::HostListenerRegistration for InstanceState {
    fn close(&mut self, handle: Resource<ListenerRegistration>) -> WasmResult<()> {
        let index = self.table.get(&handle)?.index;
        if let Some(r) = self.registrations.get_mut(index) {
            r.closed = true;
        }
        Ok(())
    }

    fn drop(&mut self, handle: Resource<ListenerRegistration>) -> WasmResult<()> {
        self.table.delete(handle)?;
        Ok(())
    }
}

impl api::Host for InstanceState {
    fn register_match_lifecycle_listener(
        &mut self,
        id: String,
    ) -> WasmResult<Result<Resource<ListenerRegistration>, String>> {
        self.check_sizes(&[("id", id.as_str())])?;
        self.register(ListenerKind::Lifecycle, id)
    }

    fn register_afk_activity_listener(
        &mut self,
        id: String,
    ) -> WasmResult<Result<Resource<ListenerRegistration>, String>> {
        self.check_sizes(&[("id", id.as_str())])?;
        self.register(ListenerKind::Afk, id)
    }

    fn find_active_match_id(&mut self, player: String) -> WasmResult<Option<String>> {
        self.check_sizes(&[("player", player.as_str())])?;
        let uuid = parse_uuid(&player);
        Ok(self.query("findActiveMatchId", None, Some(&player), |a| {
            uuid.and_then(|u| a.find_active_match_id(u))
        }))
    }

    fn find_active_player_uuid(
        &mut self,
        match_id: String,
        token: String,
    ) -> WasmResult<Option<String>> {
        self.check_sizes(&[("match_id", match_id.as_str()), ("token", token.as_str())])?;
        Ok(self
            .query("findActivePlayerUuid", Some(&match_id), None, |a| {
                a.find_active_player_uuid(&match_id, &token)
            })
            .map(|u| u.hyphenated().to_string()))
    }

    fn find_active_match_info(
        &mut self,
        match_id: String,
    ) -> WasmResult<Option<wit::ActiveMatchInfo>> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        Ok(self
            .query("findActiveMatchInfo", Some(&match_id), None, |a| {
                a.find_active_match_info(&match_id)
            })
            .map(|i| convert::match_info(&i)))
    }

    fn find_rules_engine_id(&mut self, match_id: String) -> WasmResult<Option<String>> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        Ok(self.query("findRulesEngineId", Some(&match_id), None, |a| {
            a.rules_engine_id(&match_id).map(str::to_string)
        }))
    }

    fn find_match_placement_state(
        &mut self,
        match_id: String,
    ) -> WasmResult<Option<wit::MatchPlacementState>> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        Ok(self
            .query("findMatchPlacementState", Some(&match_id), None, |a| {
                a.find_match_placement_state(&match_id)
            })
            .map(|p| convert::placement_state(&p)))
    }

    fn find_match_result_requirements(
        &mut self,
        match_id: String,
    ) -> WasmResult<Option<wit::MatchResultRequirements>> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        Ok(self
            .query("findMatchResultRequirements", Some(&match_id), None, |a| {
                a.find_match_result_requirements(&match_id)
            })
            .map(|r| convert::requirements(&r)))
    }

    fn find_match_resolution_trigger_id(&mut self, match_id: String) -> WasmResult<Option<String>> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        Ok(
            self.query("findMatchResolutionTriggerId", Some(&match_id), None, |a| {
                a.find_match_resolution_trigger_id(&match_id)
            }),
        )
    }

    fn set_player_outcome(
        &mut self,
        match_id: String,
        player: String,
        outcome: Option<wit::MatchResultPlayerOutcome>,
        reason: String,
    ) -> WasmResult<wit::SetPlayerOutcomeResult> {
        self.check_sizes(&[
            ("match_id", match_id.as_str()),
            ("player", player.as_str()),
            ("reason", reason.as_str()),
        ])?;
        let uuid = parse_uuid(&player);
        let r = self.status_call(
            "setPlayerOutcome",
            &match_id,
            Some(&player),
            |s, _| {
                s.arena.set_player_outcome(
                    &match_id,
                    uuid,
                    outcome.map(convert::outcome_from_wit),
                    &reason,
                )
            },
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetPlayerOutcomeResult {
            status: convert::outcome_status(r.status),
            message: r.message,
        })
    }

    fn set_player_spectator(
        &mut self,
        match_id: String,
        player: String,
        spectator: bool,
        reason: String,
        model: Option<String>,
    ) -> WasmResult<wit::SetPlayerSpectatorResult> {
        self.check_sizes(&[
            ("match_id", match_id.as_str()),
            ("player", player.as_str()),
            ("reason", reason.as_str()),
        ])?;
        let uuid = parse_uuid(&player);
        let r = self.status_call(
            "setPlayerSpectator",
            &match_id,
            Some(&player),
            |s, _| {
                s.arena
                    .set_player_spectator(&match_id, uuid, spectator, &reason, model.as_deref())
            },
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetPlayerSpectatorResult {
            status: convert::spectator_status(r.status),
            message: r.message,
        })
    }

    fn set_match_afk_detection_policy(
        &mut self,
        match_id: String,
        p: Option<wit::AfkDetectionPolicy>,
    ) -> WasmResult<wit::SetAfkDetectionPolicyResult> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        let r = self.status_call(
            "setMatchAfkDetectionPolicy",
            &match_id,
            None,
            |s, now| {
                s.arena
                    .set_afk_policy(&match_id, None, Some(policy(p)), now)
            },
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetAfkDetectionPolicyResult {
            status: convert::afk_policy_status(r.status),
            message: r.message,
        })
    }

    fn clear_match_afk_detection_policy(
        &mut self,
        match_id: String,
    ) -> WasmResult<wit::SetAfkDetectionPolicyResult> {
        self.check_sizes(&[("match_id", match_id.as_str())])?;
        let r = self.status_call(
            "clearMatchAfkDetectionPolicy",
            &match_id,
            None,
            |s, now| s.arena.set_afk_policy(&match_id, None, None, now),
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetAfkDetectionPolicyResult {
            status: convert::afk_policy_status(r.status),
            message: r.message,
        })
    }

    fn set_player_afk_detection_policy(
        &mut self,
        match_id: String,
        player: String,
        p: Option<wit::AfkDetectionPolicy>,
    ) -> WasmResult<wit::SetAfkDetectionPolicyResult> {
        self.check_sizes(&[("match_id", match_id.as_str()), ("player", player.as_str())])?;
        let uuid = parse_uuid(&player);
        let r = self.status_call(
            "setPlayerAfkDetectionPolicy",
            &match_id,
            Some(&player),
            |s, now| {
                s.arena
                    .set_afk_policy(&match_id, Some(uuid), Some(policy(p)), now)
            },
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetAfkDetectionPolicyResult {
            status: convert::afk_policy_status(r.status),
            message: r.message,
        })
    }

    fn clear_player_afk_detection_policy(
        &mut self,
        match_id: String,
        player: String,
    ) -> WasmResult<wit::SetAfkDetectionPolicyResult> {
        self.check_sizes(&[("match_id", match_id.as_str()), ("player", player.as_str())])?;
        let uuid = parse_uuid(&player);
        let r = self.status_call(
            "clearPlayerAfkDetectionPolicy",
            &match_id,
            Some(&player),
            |s, now| s.arena.set_afk_policy(&match_id, Some(uuid), None, now),
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetAfkDetectionPolicyResult {
            status: convert::afk_policy_status(r.status),
            message: r.message,
        })
    }

    fn set_player_afk(
        &mut self,
        request: wit::SetPlayerAfkRequest,
    ) -> WasmResult<wit::SetPlayerAfkResult> {
        self.check_sizes(&[
            ("match_id", request.match_id.as_str()),
            ("player_uuid", request.player_uuid.as_str()),
            ("reason", request.reason.as_str()),
        ])?;
        let req = SetPlayerAfk {
            match_id: request.match_id.clone(),
            player: parse_uuid(&request.player_uuid),
            afk: request.afk,
            show_hud: request.show_hud,
        };
        let r = self.status_call(
            "setPlayerAfk",
            &request.match_id,
            Some(&request.player_uuid),
            |s, now| s.arena.set_player_afk(req, now),
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::SetPlayerAfkResult {
            status: convert::set_afk_status(r.status),
            message: r.message,
        })
    }

    fn return_player_to_lobby(
        &mut self,
        match_id: String,
        player: String,
        delay_seconds: i32,
        reason: String,
    ) -> WasmResult<wit::ReturnPlayerResult> {
        self.check_sizes(&[
            ("match_id", match_id.as_str()),
            ("player", player.as_str()),
            ("reason", reason.as_str()),
        ])?;
        let uuid = parse_uuid(&player);
        let r = self.status_call(
            "returnPlayerToLobby",
            &match_id,
            Some(&player),
            |s, now| {
                s.arena
                    .return_player_to_lobby(&match_id, uuid, delay_seconds, &reason, now)
            },
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::ReturnPlayerResult {
            status: convert::return_status(r.status),
            message: r.message,
        })
    }

    fn submit_final_match_result(
        &mut self,
        request: wit::SubmitFinalMatchResultRequest,
    ) -> WasmResult<wit::SubmitFinalMatchResultResult> {
        self.check_sizes(&[
            ("match_id", request.match_id.as_str()),
            ("reason", request.reason.as_str()),
        ])?;
        let max = self.module.limits.max_custom_data_bytes;
        if let Some(text) = request.custom_data.as_ref().filter(|t| t.len() > max) {
            return Err(wasmtime::format_err!(
                "the mod passed {} bytes of customData; the limit is {max} bytes",
                text.len()
            ));
        }
        let module = self.module.name.clone();
        let r = self.with_arena(|shared, now| {
            let submission = shared.arena.submit_final_match_result(
                &request.match_id,
                &request.reason,
                request.custom_data.as_deref(),
                now,
            );
            let answer = match submission {
                Submission::Rejected(answer) => answer,
                Submission::Accepted(result) => {
                    let outcome = shared.report(&result);
                    SubmitResult {
                        match_status: MatchCompletionStatus::Accepted,
                        backend_report_status: outcome.status,
                        result_id: outcome.result_id,
                        message: outcome.message,
                    }
                }
            };
            shared.trace.count(
                "nexori_api_calls_total",
                format_args!(
                    "{{method=\"submitFinalMatchResult\",status=\"{}\"}}",
                    answer.match_status.as_str()
                ),
            );
            shared.trace.push_with(|| TraceEntry::Api {
                at: now,
                mod_name: module,
                method: "submitFinalMatchResult",
                match_id: Some(request.match_id.clone()),
                player: None,
                status: answer.match_status.as_str().to_string(),
                message: answer.message.clone(),
                backend_report_status: Some(answer.backend_report_status.as_str().to_string()),
                result_id: Some(answer.result_id.clone()),
                result: None,
            });
            answer
        });
        debug_assert!(
            r.match_status == MatchCompletionStatus::Accepted
                || r.backend_report_status != BackendReportStatus::Queued
        );
        Ok(wit::SubmitFinalMatchResultResult {
            match_status: convert::completion_status(r.match_status),
            backend_report_status: convert::backend_status(r.backend_report_status),
            result_id: r.result_id,
            message: r.message,
        })
    }

    fn close_match_admission(
        &mut self,
        request: wit::CloseMatchAdmissionRequest,
    ) -> WasmResult<wit::CloseMatchAdmissionResult> {
        self.check_sizes(&[("match_id", request.match_id.as_str())])?;
        let r = self.status_call(
            "closeMatchAdmission",
            &request.match_id,
            None,
            |s, _| {
                s.arena.close_match_admission(
                    &request.match_id,
                    request.reason.map(convert::close_reason),
                    request.message.as_deref(),
                )
            },
            |r| (r.status.as_str(), r.message.clone()),
        );
        Ok(wit::CloseMatchAdmissionResult {
            status: convert::close_status(r.status),
            match_id: r.match_id,
            closed_locally: r.closed_locally,
            message: r.message,
        })
    }
}

impl host::Host for InstanceState {
    fn now_epoch_ms(&mut self) -> WasmResult<i64> {
        Ok(lock(&self.shared).now())
    }

    fn current_match_id(&mut self) -> WasmResult<Option<String>> {
        Ok(self.match_id.clone())
    }

    fn set_timer(&mut self, delay_ms: u64) -> WasmResult<Result<u64, String>> {
        let Some(match_id) = self.match_id.clone() else {
            return Ok(Err(
                "timers need a match: set them from a match's callbacks, not from init at load"
                    .into(),
            ));
        };
        let mut shared = lock(&self.shared);
        let at = shared
            .now()
            .saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX));
        let limit = self.module.limits.max_pending_timers;
        Ok(shared
            .timers
            .set(&match_id, at, limit)
            .map_err(|e| e.to_string()))
    }

    fn cancel_timer(&mut self, id: u64) -> WasmResult<bool> {
        let Some(match_id) = &self.match_id else {
            return Ok(false);
        };
        Ok(lock(&self.shared).timers.cancel(match_id, id))
    }

    fn send_game_command(&mut self, command: wit::GameCommand) -> WasmResult<Result<(), String>> {
        self.check_sizes(&[
            ("match_id", command.match_id.as_str()),
            ("name", command.name.as_str()),
        ])?;
        self.commands_this_call += 1;
        let max = self.module.limits.max_game_commands_per_call;
        if self.commands_this_call > max.saturating_mul(self.callbacks_this_call) {
            return Ok(Err(format!(
                "game command limit reached: at most {max} per callback"
            )));
        }
        let limits = &self.module.limits;
        if command
            .data
            .as_ref()
            .is_some_and(|d| d.len() > limits.max_game_command_bytes)
        {
            return Ok(Err(format!(
                "game command data exceeds {} bytes",
                limits.max_game_command_bytes
            )));
        }
        let name = java_trim(&command.name);
        if name.is_empty() || name.len() > 128 {
            return Ok(Err("game command name must be 1 to 128 bytes".into()));
        }
        let player = match command.player.as_deref().map(|p| parse_uuid(p).ok_or(p)) {
            None => None,
            Some(Ok(uuid)) => Some(uuid),
            Some(Err(text)) => {
                return Ok(Err(format!("game command player {text:?} is not a UUID")));
            }
        };
        let data = match command.data.as_deref().map(CommandData::parse) {
            None => None,
            Some(Ok(value)) => Some(value),
            Some(Err(e)) => return Ok(Err(format!("game command data is not valid JSON: {e}"))),
        };
        let name = name.to_string();
        let sent = self.with_arena(|shared, _| {
            let id = shared
                .arena
                .get(&command.match_id)
                .map(|m| m.match_id.clone());
            match id {
                None => Err(format!(
                    "game command names match {:?}, which this mod does not own",
                    command.match_id
                )),
                Some(match_id) => {
                    shared.send_command(GameServerCommand::Game {
                        match_id,
                        player,
                        name,
                        data,
                    });
                    Ok(())
                }
            }
        });
        Ok(sent)
    }

    fn log(&mut self, level: wit::LogLevel, message: String) -> WasmResult<()> {
        self.logs_this_call += 1;
        let per_callback = self.module.limits.max_log_lines_per_call;
        let max_lines = per_callback.saturating_mul(self.callbacks_this_call);
        if self.logs_this_call > max_lines.saturating_add(1) {
            return Ok(());
        }
        let (level, message) = if self.logs_this_call == max_lines.saturating_add(1) {
            (
                wit::LogLevel::Warn,
                format!(
                    "log line limit reached: at most {per_callback} per callback; the rest is dropped"
                ),
            )
        } else {
            (level, message)
        };
        let max = self.module.limits.max_log_line_bytes;
        let mut message = message;
        if message.len() > max {
            let mut cut = max;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let level = convert::log_level(level);
        let module = &self.module.name;
        let match_id = self.match_id.as_deref().unwrap_or("-");
        match level {
            "error" => tracing::error!(target: "nexori::mod", module, match_id, "{message}"),
            "warn" => tracing::warn!(target: "nexori::mod", module, match_id, "{message}"),
            "info" => tracing::info!(target: "nexori::mod", module, match_id, "{message}"),
            _ => tracing::debug!(target: "nexori::mod", module, match_id, "{message}"),
        }
        let mut shared = lock(&self.shared);
        let at = shared.now();
        shared.trace.push(TraceEntry::Log {
            at,
            mod_name: self.module.name.clone(),
            match_id: self.match_id.clone(),
            level,
            message,
        });
        Ok(())
    }
}

impl wit::Host for InstanceState {}
