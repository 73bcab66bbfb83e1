//! `scripted`: a rules mod whose behaviour the scenario gives, so any API behaviour can be tested
//! without writing a new mod (see docs/bridge-protocol.md#the-scripted-mod).
//!
//! - Config `{"rulesEngineIds": [...]}` (default `["scripted"]`): lifecycle and AFK listeners are
//!   registered for every id.
//! - `game.event` kind `script.call`, data `{"method": "<Java method name>", "args": {...}}`:
//!   makes that API call with the Java argument names in camelCase. `script.calls` takes an array
//!   of such objects and makes the calls in order, in the same callback.
//! - `script.trap` traps, `script.spin` loops forever, `script.grow` allocates without bound.
//! - `on_timer` logs `timer <id> fired` at info.
//!
//! The host records every API call and its answer in the trace, so the mod does not echo
//! answers. It logs at warn whatever it cannot understand (unknown method or argument, wrong JSON
//! type), naming it, and otherwise passes what it was given: missing strings as `""` and missing
//! nullable values as `None` (Java `null`), so the host's own validation answers.

use std::cell::RefCell;

use nexori_sdk::{
    AfkDetectionPolicy, CloseMatchAdmissionReason, GameEvent, ListenerRegistration, LogLevel,
    ModConfig, Outcome, RulesMod, SetPlayerAfkRequest, TimerId, raw, warn,
};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Config {
    rules_engine_ids: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rules_engine_ids: vec!["scripted".to_string()],
        }
    }
}

/// The mod: only the registrations it made, so `closeListenerRegistrations` can close them.
pub struct Scripted {
    registrations: Vec<ListenerRegistration>,
}

impl RulesMod for Scripted {
    fn init(config: ModConfig) -> Result<Self, String> {
        let config: Config = config.parse()?;
        let mut registrations = Vec::new();
        for id in &config.rules_engine_ids {
            registrations.push(nexori_sdk::register_match_lifecycle_listener(id)?);
            registrations.push(nexori_sdk::register_afk_activity_listener(id)?);
        }
        Ok(Scripted { registrations })
    }

    fn on_game_event(&mut self, event: GameEvent) {
        match event.kind.as_str() {
            "script.call" => {
                if let Some(data) = parse_data(&event) {
                    self.call(&data);
                }
            }
            "script.calls" => match parse_data(&event) {
                Some(Value::Array(calls)) => calls.iter().for_each(|call| self.call(call)),
                Some(other) => warn!(
                    "script.calls: data must be an array of calls, got {}",
                    type_name(&other)
                ),
                None => {}
            },
            "script.trap" => trap(),
            "script.spin" => spin(),
            "script.grow" => grow(),
            // Other kinds are gameplay noise a scenario may send to any mod.
            _ => {}
        }
    }

    fn on_timer(&mut self, id: TimerId) {
        nexori_sdk::info!("timer {id} fired");
    }
}

nexori_sdk::export_rules_mod!(Scripted);

fn parse_data(event: &GameEvent) -> Option<Value> {
    let Some(text) = event.data.as_deref() else {
        warn!("{}: the event has no data", event.kind);
        return None;
    };
    match serde_json::from_str(text) {
        Ok(value) => Some(value),
        Err(err) => {
            warn!("{}: data is not JSON: {err}", event.kind);
            None
        }
    }
}

impl Scripted {
    /// Makes the call one `{method, args}` object describes.
    fn call(&mut self, call: &Value) {
        let Some(call) = call.as_object() else {
            warn!(
                "script call must be an object {{method, args}}, got {}",
                type_name(call)
            );
            return;
        };
        let method = match call.get("method") {
            Some(Value::String(method)) => method.as_str(),
            Some(other) => {
                warn!(
                    "script call: `method` must be a string, got {}",
                    type_name(other)
                );
                return;
            }
            None => {
                warn!("script call: `method` is missing");
                return;
            }
        };
        for key in call
            .keys()
            .filter(|key| !matches!(key.as_str(), "method" | "args"))
        {
            warn!("{method}: unknown field `{key}` next to `method` and `args`");
        }
        let empty = Map::new();
        let args = match call.get("args") {
            Some(Value::Object(args)) => args,
            None | Some(Value::Null) => &empty,
            Some(other) => {
                warn!(
                    "{method}: `args` must be an object, got {}",
                    type_name(other)
                );
                &empty
            }
        };
        let args = Args::new(method, args);
        if self.dispatch(method, &args) {
            args.warn_unused();
        } else {
            // Every argument of an unknown method is unknown too; one line says it all.
            warn!("unknown script method `{method}`");
        }
    }

    /// One arm per public API method (plus the host services); `false` for an unknown method.
    /// Answers are dropped on purpose: the host traces them.
    #[allow(deprecated)] // findMatchResolutionTriggerId is deprecated, and must still be callable
    fn dispatch(&mut self, method: &str, args: &Args<'_>) -> bool {
        match method {
            "findActiveMatchId" => {
                nexori_sdk::find_active_match_id(&args.string("playerUuid"));
            }
            "findActivePlayerUuid" => {
                nexori_sdk::find_active_player_uuid(
                    &args.string("matchId"),
                    &args.string("playerToken"),
                );
            }
            "findActiveMatchInfo" => {
                nexori_sdk::find_active_match_info(&args.string("matchId"));
            }
            "findRulesEngineId" => {
                nexori_sdk::find_rules_engine_id(&args.string("matchId"));
            }
            "findMatchPlacementState" => {
                nexori_sdk::find_match_placement_state(&args.string("matchId"));
            }
            "findMatchResultRequirements" => {
                nexori_sdk::find_match_result_requirements(&args.string("matchId"));
            }
            "findMatchResolutionTriggerId" => {
                nexori_sdk::find_match_resolution_trigger_id(&args.string("matchId"));
            }
            "setPlayerOutcome" => {
                raw::set_player_outcome(
                    &args.string("matchId"),
                    &args.string("playerUuid"),
                    args.java_enum::<Outcome>("outcome"),
                    &args.string("reason"),
                );
            }
            "setPlayerSpectator" => {
                nexori_sdk::set_player_spectator(
                    &args.string("matchId"),
                    &args.string("playerUuid"),
                    args.bool("spectator", false),
                    &args.string("reason"),
                    args.opt_string("spectatorModelId").as_deref(),
                );
            }
            "setMatchAfkDetectionPolicy" => {
                raw::set_match_afk_detection_policy(&args.string("matchId"), args.policy("policy"));
            }
            "clearMatchAfkDetectionPolicy" => {
                nexori_sdk::clear_match_afk_detection_policy(&args.string("matchId"));
            }
            "setPlayerAfkDetectionPolicy" => {
                raw::set_player_afk_detection_policy(
                    &args.string("matchId"),
                    &args.string("playerUuid"),
                    args.policy("policy"),
                );
            }
            "clearPlayerAfkDetectionPolicy" => {
                nexori_sdk::clear_player_afk_detection_policy(
                    &args.string("matchId"),
                    &args.string("playerUuid"),
                );
            }
            "setPlayerAfk" => {
                nexori_sdk::set_player_afk(&SetPlayerAfkRequest {
                    match_id: args.string("matchId"),
                    player_uuid: args.string("playerUuid"),
                    afk: args.bool("afk", false),
                    reason: args.string("reason"),
                    show_hud: args.bool("showHud", true),
                });
            }
            "returnPlayerToLobby" => {
                nexori_sdk::return_player_to_lobby(
                    &args.string("matchId"),
                    &args.string("playerUuid"),
                    args.i32("delaySeconds"),
                    &args.string("reason"),
                );
            }
            "submitFinalMatchResult" => {
                raw::submit_final_match_result(
                    &args.string("matchId"),
                    &args.string("reason"),
                    args.json_text("customDataJson").as_deref(),
                );
            }
            "closeMatchAdmission" => {
                raw::close_match_admission(
                    &args.string("matchId"),
                    args.java_enum::<CloseMatchAdmissionReason>("reason"),
                    args.opt_string("message").as_deref(),
                );
            }
            "registerMatchLifecycleListener" => {
                if let Ok(registration) =
                    nexori_sdk::register_match_lifecycle_listener(&args.string("rulesEngineId"))
                {
                    self.registrations.push(registration);
                }
            }
            "registerAfkActivityListener" => {
                if let Ok(registration) =
                    nexori_sdk::register_afk_activity_listener(&args.string("rulesEngineId"))
                {
                    self.registrations.push(registration);
                }
            }
            "closeListenerRegistrations" => {
                // Twice: the second round must be a no-op, which is what a test wants to see.
                for _ in 0..2 {
                    self.registrations
                        .iter()
                        .for_each(ListenerRegistration::close);
                }
            }
            // Host services are not in the API trace, so their failures are logged.
            "setTimer" => {
                if let Err(err) = nexori_sdk::set_timer_ms(args.u64("delayMs")) {
                    warn!("setTimer failed: {err}");
                }
            }
            "sendGameCommand" => {
                let result = raw::send_game_command(
                    &args.string("matchId"),
                    args.opt_string("playerUuid").as_deref(),
                    &args.string("name"),
                    args.json_value_text("data").as_deref(),
                );
                if let Err(err) = result {
                    warn!("sendGameCommand failed: {err}");
                }
            }
            "log" => {
                let level = args.log_level("level");
                nexori_sdk::log(level, &args.string("message"));
            }
            _ => return false,
        }
        true
    }
}

/// Typed access to a call's `args`, warning about anything it cannot understand.
struct Args<'a> {
    method: &'a str,
    map: &'a Map<String, Value>,
    /// Argument names read so far; whatever is left is reported as unknown.
    used: RefCell<Vec<&'static str>>,
}

impl<'a> Args<'a> {
    fn new(method: &'a str, map: &'a Map<String, Value>) -> Self {
        Args {
            method,
            map,
            used: RefCell::new(Vec::new()),
        }
    }

    /// The argument, with JSON `null` read as absent (Java has no difference).
    fn get(&self, name: &'static str) -> Option<&'a Value> {
        self.used.borrow_mut().push(name);
        self.map.get(name).filter(|value| !value.is_null())
    }

    fn wrong_type(&self, name: &str, expected: &str, value: &Value) {
        warn!(
            "{}: argument `{name}` must be {expected}, got {}",
            self.method,
            type_name(value)
        );
    }

    /// A string argument; missing (or not a string) is `""`, so the host answers for itself.
    fn string(&self, name: &'static str) -> String {
        self.opt_string(name).unwrap_or_default()
    }

    /// An optional string argument; missing is `None`.
    fn opt_string(&self, name: &'static str) -> Option<String> {
        match self.get(name)? {
            Value::String(text) => Some(text.clone()),
            other => {
                self.wrong_type(name, "a string", other);
                None
            }
        }
    }

    fn bool(&self, name: &'static str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(Value::Bool(value)) => *value,
            Some(other) => {
                self.wrong_type(name, "a boolean", other);
                default
            }
        }
    }

    fn integer(&self, name: &'static str, expected: &str) -> Option<i128> {
        let value = self.get(name)?;
        let integer = value
            .as_i64()
            .map(i128::from)
            .or_else(|| value.as_u64().map(i128::from));
        if integer.is_none() {
            self.wrong_type(name, expected, value);
        }
        integer
    }

    /// An `s32` argument; missing is 0, out of range saturates (with a warning).
    fn i32(&self, name: &'static str) -> i32 {
        let Some(value) = self.integer(name, "an s32 integer") else {
            return 0;
        };
        i32::try_from(value).unwrap_or_else(|_| {
            warn!(
                "{}: argument `{name}` = {value} does not fit an s32; saturated",
                self.method
            );
            if value < 0 { i32::MIN } else { i32::MAX }
        })
    }

    /// A `u64` argument; missing is 0, out of range saturates (with a warning).
    fn u64(&self, name: &'static str) -> u64 {
        let Some(value) = self.integer(name, "a u64 integer") else {
            return 0;
        };
        u64::try_from(value).unwrap_or_else(|_| {
            warn!(
                "{}: argument `{name}` = {value} does not fit a u64; saturated",
                self.method
            );
            if value < 0 { 0 } else { u64::MAX }
        })
    }

    /// A Java enum constant (`"WIN"`, `"GAME_PHASE_LOCKED"`, ...); missing or unknown is `None`,
    /// which the host answers as Java's `null`.
    fn java_enum<T: std::str::FromStr<Err = nexori_sdk::Error>>(
        &self,
        name: &'static str,
    ) -> Option<T> {
        match self.get(name)? {
            Value::String(text) => match text.parse() {
                Ok(value) => Some(value),
                Err(err) => {
                    warn!("{}: argument `{name}`: {err}; passing null", self.method);
                    None
                }
            },
            other => {
                self.wrong_type(name, "a string", other);
                None
            }
        }
    }

    /// `{enabled, inactivityTimeoutSeconds}`; missing or `null` is `None`. Missing fields are
    /// `false`/0 (the host normalises a 0 timeout to 30).
    fn policy(&self, name: &'static str) -> Option<AfkDetectionPolicy> {
        let value = self.get(name)?;
        let Value::Object(policy) = value else {
            self.wrong_type(
                name,
                "an object {enabled, inactivityTimeoutSeconds} or null",
                value,
            );
            return None;
        };
        let nested = format!("{}.{name}", self.method);
        let fields = Args::new(&nested, policy);
        let policy = AfkDetectionPolicy {
            enabled: fields.bool("enabled", false),
            inactivity_timeout_seconds: fields.i32("inactivityTimeoutSeconds"),
        };
        fields.warn_unused();
        Some(policy)
    }

    /// JSON text given as a string and passed verbatim (even when it is not valid JSON). A JSON
    /// value given instead of a string is passed serialised, with a warning.
    fn json_text(&self, name: &'static str) -> Option<String> {
        match self.get(name)? {
            Value::String(text) => Some(text.clone()),
            other => {
                warn!(
                    "{}: argument `{name}` should be a string of JSON text, got {}; passing it serialised",
                    self.method,
                    type_name(other)
                );
                Some(other.to_string())
            }
        }
    }

    /// Any JSON value, serialised to text.
    fn json_value_text(&self, name: &'static str) -> Option<String> {
        self.get(name).map(Value::to_string)
    }

    fn log_level(&self, name: &'static str) -> LogLevel {
        let Some(value) = self.get(name) else {
            return LogLevel::Info;
        };
        let parsed = value
            .as_str()
            .and_then(|text| text.to_ascii_lowercase().parse().ok());
        parsed.unwrap_or_else(|| {
            warn!("{}: argument `{name}` must be one of trace, debug, info, warn, error, got {value}; using info", self.method);
            LogLevel::Info
        })
    }

    fn warn_unused(&self) {
        let used = self.used.borrow();
        for key in self.map.keys().filter(|key| !used.contains(&key.as_str())) {
            warn!("{}: unknown argument `{key}`", self.method);
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn trap() -> ! {
    // A panic in a component is an `unreachable` trap after the message reaches stderr, which
    // makes the fault easy to attribute in the host's log.
    panic!("scripted: trap requested by a script.trap game event")
}

fn spin() -> ! {
    let mut spins: u64 = 0;
    loop {
        // black_box keeps the optimiser from reasoning about the loop at all.
        spins = std::hint::black_box(spins.wrapping_add(1));
    }
}

fn grow() -> ! {
    const CHUNK: usize = 1 << 20;
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        // Write every page so the memory is really used, not just reserved.
        for byte in chunk.iter_mut().step_by(4096) {
            *byte = 1;
        }
        hoard.push(std::hint::black_box(chunk));
    }
}

#[cfg(test)]
mod tests;
