//! Delivering the runtime's events: callbacks to the mod serving each match (routing by
//! `rulesEngineId` for a match's first instance, then the instance it started with), commands to
//! the game server, results to reporting, admission changes to the publisher.

use nexori_protocol::trace::TraceEntry;
use nexori_runtime::model::Callback;
use nexori_runtime::{CallbackPayload, RuntimeEvent};

use super::ArenaHost;
use crate::host_state::lock;
use crate::wasm::convert;
use crate::wasm::instance::{ModInstance, new_seeded_store};
use crate::wasm::registrations::ListenerKind;
use crate::wasm::state::{InstanceState, RegistrationPolicy};
use nexori_recording::format::ModIdentity;

impl ArenaHost {
    /// Delivers queued runtime events, in order, until none are left.
    pub(super) fn deliver_events(&mut self) {
        loop {
            let event = lock(&self.shared).arena.next_event();
            let Some(event) = event else { break };
            match event {
                RuntimeEvent::Callback {
                    rules_engine_id,
                    callback,
                    payload,
                } => {
                    self.dispatch_callback(&rules_engine_id, callback, payload);
                }
                RuntimeEvent::Command(command) => lock(&self.shared).send_command(command),
                RuntimeEvent::NexoriResult(result) => {
                    lock(&self.shared).report(&result);
                }
                RuntimeEvent::AdmissionDirty { match_id, reason } => {
                    if let Some(publisher) = &mut self.admission {
                        let now = lock(&self.shared).now();
                        publisher.mark_dirty(&match_id, &reason, now);
                    }
                }
                RuntimeEvent::AdmissionReservationConsumed {
                    match_id,
                    reservation_id,
                } => {
                    if let Some(publisher) = &mut self.admission {
                        publisher.reservation_consumed(&match_id, &reservation_id);
                    }
                }
                RuntimeEvent::PlayerDisconnected {
                    match_id,
                    player,
                    reason,
                    at_epoch_ms,
                    ..
                } => {
                    // Not a Nexori listener, but a callback all the same: the trace shows it.
                    if let Some(entry) = self.instances.get(&match_id) {
                        let mut shared = lock(&self.shared);
                        shared.trace.push(TraceEntry::Callback {
                            at: at_epoch_ms,
                            mod_name: entry.mod_name.clone(),
                            callback: "onPlayerDisconnected",
                            match_id: match_id.clone(),
                            player: Some(player),
                            reason: reason.clone(),
                        });
                    }
                    let player = player.hyphenated().to_string();
                    self.call_match(&match_id, None, 1, |b, s| {
                        b.nexori_minigame_game_events().call_on_player_disconnected(
                            s,
                            &match_id,
                            &player,
                            &reason,
                            at_epoch_ms,
                        )
                    });
                }
            }
        }
    }

    /// Delivers one lifecycle callback to the mod serving the match, starting its instance if
    /// it has none yet; a match whose runtime closed is forgotten.
    fn dispatch_callback(
        &mut self,
        rules_engine_id: &str,
        callback: Callback,
        payload: CallbackPayload,
    ) {
        let match_id = payload.match_id().to_string();
        let kind = if callback == Callback::PlayerAfkChanged {
            ListenerKind::Afk
        } else {
            ListenerKind::Lifecycle
        };
        tracing::trace!(target: "nexori::host", match_id, callback = callback.as_str(), rules_engine_id, "dispatch");
        // A running match stays with the instance (and mod version) it started with, even if
        // the mod was reloaded or unloaded since; only a new instance follows the routes.
        let mod_name = match self.instances.mod_of(&match_id) {
            Some(name) => Some(name.to_string()),
            None => self.mods.owner(rules_engine_id).map(str::to_string),
        };
        if mod_name.is_none() && callback == Callback::MatchCreated {
            // Allowed (Nexori runs such a match), but silence would hide a typo or a missing mod.
            let message = self.mods.unrouted(rules_engine_id);
            tracing::warn!(target: "nexori::host", match_id, "{message}");
            let mut shared = lock(&self.shared);
            let at = shared.now();
            shared.trace.push(TraceEntry::Warning {
                at,
                match_id: match_id.clone(),
                message,
            });
        }
        if let Some(mod_name) = mod_name
            && !self.instances.is_faulted(&match_id)
            && self.ensure_instance(&match_id, &mod_name)
            && let Some(entry) = self.instances.get(&match_id)
        {
            let listens = entry.instance.store.data().listens(kind, rules_engine_id);
            if !listens {
                tracing::debug!(target: "nexori::host", match_id, callback = callback.as_str(), "mod does not listen; not delivered");
            } else {
                {
                    let mut shared = lock(&self.shared);
                    let at = shared.now();
                    shared.trace.push(TraceEntry::Callback {
                        at,
                        mod_name: mod_name.clone(),
                        callback: callback.as_str(),
                        match_id: match_id.clone(),
                        player: payload.player(),
                        reason: payload.reason().to_string(),
                    });
                }
                self.call_match(&match_id, Some(&mod_name), 1, |b, s| {
                    call_listener(b, s, callback, &payload)
                });
            }
        }
        if callback == Callback::MatchRuntimeClosed {
            self.instances.close(&match_id);
            let mut shared = lock(&self.shared);
            shared.timers.drop_match(&match_id);
            let now = shared.now();
            if let Some(recorder) = &mut shared.recorder {
                recorder.closed(&match_id, now);
            }
        }
    }

    /// Makes sure the match has an instance of `mod_name`; false if it could not be started
    /// (the match is then faulted).
    fn ensure_instance(&mut self, match_id: &str, mod_name: &str) -> bool {
        if self.instances.contains(match_id) {
            return true;
        }
        let Some(loaded) = self.mods.get(mod_name) else {
            return false;
        };
        // Each match's random generators get their own seed: the replayed log's, or a fresh
        // one that its log keeps.
        let seed = lock(&self.shared)
            .recorder
            .as_ref()
            .map_or_else(crate::recording::fresh_seed, |r| r.seed_for(match_id));
        // The log starts before the instance does, so that a mod whose `init` fails in this
        // match leaves a log that replays to the same fault.
        if let Some(recorder) = &mut lock(&self.shared).recorder {
            let identity = ModIdentity {
                name: mod_name.to_string(),
                sha256: loaded.info.sha256.clone(),
                wit: loaded.wit_version.clone(),
            };
            let settings = serde_json::json!({
                "modConfig": serde_json::from_str::<serde_json::Value>(&loaded.info.config_json)
                    .unwrap_or_default(),
                "limits": loaded.info.limits,
            });
            recorder.open(match_id, identity, settings, seed, &loaded.wasm);
        }
        let store = new_seeded_store(
            &self.engine,
            loaded.info.clone(),
            self.shared.clone(),
            Some(match_id.to_string()),
            RegistrationPolicy::Loaded,
            seed,
        );
        let started = std::time::Instant::now();
        let result = ModInstance::start(&loaded.pre, store);
        {
            let micros = started.elapsed().as_micros() as u64;
            let mut shared = lock(&self.shared);
            shared.trace.add(
                "nexori_instantiation_microseconds_sum",
                format_args!(""),
                micros,
            );
            shared
                .trace
                .count("nexori_instantiation_microseconds_count", format_args!(""));
        }
        match result {
            Ok(instance) => {
                self.instances.insert(match_id, mod_name, instance);
                true
            }
            Err(fault) => {
                self.fault(match_id, mod_name, fault);
                false
            }
        }
    }

    /// Calls into the match's instance, if it has one (and it runs `expected_mod`, when given);
    /// a failure faults the match. `callbacks` is how many callbacks the guest call stands for:
    /// the events of a batch, else 1 (see [`ModInstance::call_for`]).
    pub(super) fn call_match<R>(
        &mut self,
        match_id: &str,
        expected_mod: Option<&str>,
        callbacks: u32,
        f: impl FnOnce(
            &crate::wasm::since_v1_1_0::RulesMod,
            &mut wasmtime::Store<InstanceState>,
        ) -> wasmtime::Result<R>,
    ) -> Option<R> {
        let entry = self.instances.get_mut(match_id)?;
        if expected_mod.is_some_and(|m| m != entry.mod_name) {
            return None;
        }
        match entry.instance.call_for(callbacks, f) {
            Ok(r) => Some(r),
            Err(fault) => {
                let mod_name = entry.mod_name.clone();
                self.fault(match_id, &mod_name, fault);
                None
            }
        }
    }
}

/// Calls the guest export that `callback` names with its payload.
fn call_listener(
    bindings: &crate::wasm::since_v1_1_0::RulesMod,
    store: &mut wasmtime::Store<InstanceState>,
    callback: Callback,
    payload: &CallbackPayload,
) -> wasmtime::Result<()> {
    let lifecycle = bindings.nexori_minigame_lifecycle_listener();
    match (callback, payload) {
        (Callback::PlayerAfkChanged, CallbackPayload::Afk(e)) => bindings
            .nexori_minigame_afk_listener()
            .call_on_player_afk_changed(store, &convert::afk_event(e)),
        (Callback::PlayerArrived, CallbackPayload::Player(e)) => {
            lifecycle.call_on_player_arrived(store, &convert::player_event(e))
        }
        (Callback::PlayerPlacementConfirmed, CallbackPayload::Placement(e)) => {
            lifecycle.call_on_player_placement_confirmed(store, &convert::placement_event(e))
        }
        (callback, CallbackPayload::Match(e)) => {
            let e = convert::match_event(e);
            match callback {
                Callback::MatchCreated => lifecycle.call_on_match_created(store, &e),
                Callback::MatchPlacementCompleted => {
                    lifecycle.call_on_match_placement_completed(store, &e)
                }
                Callback::MatchStartAllowed => lifecycle.call_on_match_start_allowed(store, &e),
                Callback::MatchCancellationRequested => {
                    lifecycle.call_on_match_cancellation_requested(store, &e)
                }
                Callback::MatchCompleted => lifecycle.call_on_match_completed(store, &e),
                Callback::MatchRuntimeClosed => lifecycle.call_on_match_runtime_closed(store, &e),
                other => Err(wasmtime::format_err!(
                    "callback {other} does not carry a match event"
                )),
            }
        }
        (callback, _) => Err(wasmtime::format_err!(
            "callback {callback} got the wrong payload"
        )),
    }
}
