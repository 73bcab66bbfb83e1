//! Host services (WIT interface `nexori:minigame/host`): time, timers, game commands and the
//! operator's log. Everything is scoped to the match the instance serves, and re-exported at the
//! crate root.

use core::fmt;
use core::time::Duration;

use serde::Serialize;

use crate::Error;
use crate::host_calls::with_host;
use crate::types::LogLevel;

/// The host clock in Unix epoch milliseconds.
///
/// Game rules must use this rather than the system clock: in simulations the host clock is
/// virtual, and only it agrees with event timestamps and timers.
///
/// ```no_run
/// let started_at = nexori_sdk::now_epoch_ms();
/// ```
pub fn now_epoch_ms() -> i64 {
    with_host(|host| host.now_epoch_ms())
}

/// The match this instance serves; `None` in the instance the host uses to learn a mod's
/// registrations at load time (where only `init` runs).
pub fn current_match_id() -> Option<String> {
    with_host(|host| host.current_match_id())
}

/// Identifies a timer set with [`set_timer`]; passed back to
/// [`RulesMod::on_timer`](crate::RulesMod::on_timer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TimerId(pub u64);

impl fmt::Display for TimerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Calls [`RulesMod::on_timer`](crate::RulesMod::on_timer) after `delay` of host time
/// (millisecond resolution; longer delays saturate).
///
/// Errors when the mod has too many pending timers.
///
/// ```no_run
/// use std::time::Duration;
/// let countdown = nexori_sdk::set_timer(Duration::from_secs(10))?;
/// // ... later, if no longer needed:
/// nexori_sdk::cancel_timer(countdown);
/// # Ok::<(), nexori_sdk::Error>(())
/// ```
pub fn set_timer(delay: Duration) -> Result<TimerId, Error> {
    set_timer_ms(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))
}

/// [`set_timer`] with the delay in milliseconds.
pub fn set_timer_ms(delay_ms: u64) -> Result<TimerId, Error> {
    with_host(|host| host.set_timer(delay_ms))
        .map(TimerId)
        .map_err(Error::new)
}

/// Cancels a pending timer; `false` if it was not pending (already fired or cancelled).
pub fn cancel_timer(id: TimerId) -> bool {
    with_host(|host| host.cancel_timer(id.0))
}

/// Asks the game server to do something (`game.command` on the bridge): respawn a player, show a
/// HUD, ... `data` is serialised with serde_json. The match must be one this mod owns; errors
/// name what is wrong (or that `data` could not be serialised).
///
/// With no data, name the type: `None::<&()>`, or use [`crate::raw::send_game_command`].
///
/// ```no_run
/// use nexori_sdk::send_game_command;
///
/// send_game_command("m1", Some("11111111-1111-1111-1111-111111111111"), "hud.show",
///     Some(&serde_json::json!({ "text": "3 players left" })))?;
/// send_game_command("m1", None, "round.reset", None::<&()>)?;
/// # Ok::<(), nexori_sdk::Error>(())
/// ```
pub fn send_game_command<T: Serialize + ?Sized>(
    match_id: &str,
    player: Option<&str>,
    name: &str,
    data: Option<&T>,
) -> Result<(), Error> {
    let data = data.map(serde_json::to_string).transpose().map_err(|err| {
        Error::new(format!(
            "data of game command `{name}` could not be serialised: {err}"
        ))
    })?;
    crate::raw::send_game_command(match_id, player, name, data.as_deref())
}

/// Writes a line to the operator's log, tagged by the host with the mod and the match.
///
/// The level macros ([`info!`](crate::info), [`warn!`](crate::warn), ...) format and call this.
pub fn log(level: LogLevel, message: &str) {
    with_host(|host| host.log(level, message))
}

/// Logs a `format!`-style message at `trace` level through [`log`](crate::log()).
///
/// ```no_run
/// nexori_sdk::trace!("match {} has {} players", "m1", 3);
/// ```
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => {
        $crate::log($crate::LogLevel::Trace, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at `debug` level through [`log`](crate::log()).
///
/// ```no_run
/// nexori_sdk::debug!("match {} has {} players", "m1", 3);
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::log($crate::LogLevel::Debug, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at `info` level through [`log`](crate::log()).
///
/// ```no_run
/// nexori_sdk::info!("match {} has {} players", "m1", 3);
/// ```
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::log($crate::LogLevel::Info, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at `warn` level through [`log`](crate::log()).
///
/// ```no_run
/// nexori_sdk::warn!("match {} has {} players", "m1", 3);
/// ```
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::log($crate::LogLevel::Warn, &::std::format!($($arg)+))
    };
}

/// Logs a `format!`-style message at `error` level through [`log`](crate::log()).
///
/// ```no_run
/// nexori_sdk::error!("match {} has {} players", "m1", 3);
/// ```
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::log($crate::LogLevel::Error, &::std::format!($($arg)+))
    };
}
