//! The HUD, as the Java mod draws it: what one viewer sees while the match is live.
//!
//! The session looks at it on the viewer's own tick, at most once per `hudUpdateIntervalMs`, and
//! sends it as a `hud.update` game command only when its content changed since the last one
//! sent, so a live match never costs a command, or a rebuilt view, per tick per player.

use std::cmp::Ordering;

use serde::Serialize;

use crate::respawn::seconds_text;
use crate::session::ZoneState;

/// Title of the HUD.
pub const TITLE: &str = "MID CONTROL";
/// Title of the progress sidebar.
pub const SIDEBAR_TITLE: &str = "Capture Progress";
/// Accent while preparing or while nobody holds the zone.
pub const ACCENT_IDLE: &str = "#82C7FF";
/// Accent while one player captures.
pub const ACCENT_CAPTURING: &str = "#9FF0A8";
/// Accent while the zone is contested.
pub const ACCENT_CONTESTED: &str = "#FFD36E";
/// Accent while the viewer waits for a forced respawn.
pub const ACCENT_RESPAWN: &str = "#FF7C7C";
/// The kill-bonus notice fades from this colour...
pub const KILL_BONUS_FROM: &str = "#9FF0A8";
/// ... to this one over its lifetime.
pub const KILL_BONUS_TO: &str = "#3A553E";

/// One player as the HUD needs them.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Lowercase UUID.
    pub uuid: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Progress in seconds.
    pub progress: f64,
}

/// The kill-bonus notice under the respawn panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KillBonus {
    /// `Kill bonus: -3s`.
    pub text: String,
    /// Fade start colour.
    pub from_color: &'static str,
    /// Fade end colour.
    pub to_color: &'static str,
    /// When the notice disappears (the game fades it linearly until then).
    pub until_epoch_ms: i64,
}

/// The `data` of a `hud.update` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HudView {
    /// `MID CONTROL`.
    pub title: &'static str,
    /// The status line (zone state, or the viewer's respawn countdown).
    pub status: String,
    /// Accent colour of the status line.
    pub accent: &'static str,
    /// `Capture Progress`.
    pub sidebar_title: &'static str,
    /// `<rank>. <name> <P>%`, the viewer first, then by progress and name.
    pub rows: Vec<String>,
    /// `Respawn: X.Xs`: the viewer's current penalty.
    pub respawn: String,
    /// The kill-bonus notice while it lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_bonus: Option<KillBonus>,
}

/// What the HUD of one viewer is built from.
#[derive(Debug, Clone)]
pub struct HudInput<'a> {
    /// The zone state of the last advance.
    pub zone: &'a ZoneState,
    /// Every tracked player, in insertion order.
    pub players: &'a [Row<'a>],
    /// The viewer's UUID.
    pub viewer: &'a str,
    /// Time left before the viewer's pending forced respawn.
    pub respawn_remaining_ms: Option<i64>,
    /// The viewer's current respawn penalty.
    pub penalty_ms: i64,
    /// Until when the viewer's kill-bonus notice shows.
    pub kill_bonus_until: Option<i64>,
    /// The kill reward, for the notice text.
    pub kill_reward_ms: i64,
    /// Seconds of progress needed to win.
    pub seconds_to_win: f64,
    /// Host time.
    pub now: i64,
}

fn tenths(ms: i64) -> String {
    format!("{:.1}s", ms.max(0) as f64 / 1000.0)
}

/// Percent of the target, rounded half up like Java's `Math.round`.
pub fn percent(progress: f64, seconds_to_win: f64) -> i64 {
    (progress / seconds_to_win * 100.0 + 0.5).floor() as i64
}

/// A name as the standings compare it: case-insensitively. Only a non-ASCII name is folded
/// into a new string; ASCII names (nearly all) are compared byte by byte, lowercased on the fly.
enum NameKey<'a> {
    Ascii(&'a str),
    Folded(String),
}

impl<'a> NameKey<'a> {
    fn new(name: &'a str) -> Self {
        if name.is_ascii() {
            NameKey::Ascii(name)
        } else {
            NameKey::Folded(name.to_lowercase())
        }
    }

    fn folded(&self) -> std::borrow::Cow<'_, str> {
        match self {
            NameKey::Ascii(name) => name.to_ascii_lowercase().into(),
            NameKey::Folded(folded) => folded.as_str().into(),
        }
    }

    /// The order of the lowercased names (`str::to_lowercase`, compared as strings).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (NameKey::Ascii(a), NameKey::Ascii(b)) => a
                .bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(b.bytes().map(|c| c.to_ascii_lowercase())),
            _ => self.folded().cmp(&other.folded()),
        }
    }
}

/// Standing order: progress (highest first), then name, case-insensitive.
fn standing(a: &Row<'_>, a_key: &NameKey<'_>, b: &Row<'_>, b_key: &NameKey<'_>) -> Ordering {
    b.progress
        .partial_cmp(&a.progress)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a_key.cmp(b_key))
}

/// Appends a non-negative integer in decimal. Rows are written on every HUD refresh of every
/// player, and `format!` spends most of that time in its formatting machinery.
fn push_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[start..]).expect("ASCII digits"));
}

/// `<rank>. <name> <P>%`.
fn row_text(rank: usize, name: &str, percent: i64) -> String {
    let mut row = String::with_capacity(name.len() + 12);
    push_decimal(&mut row, rank as u64);
    row.push_str(". ");
    row.push_str(name);
    row.push(' ');
    if percent < 0 {
        row.push('-');
    }
    push_decimal(&mut row, percent.unsigned_abs());
    row.push('%');
    row
}

impl HudView {
    /// Builds the viewer's HUD.
    pub fn build(input: &HudInput<'_>) -> Self {
        let (mut status, mut accent) = match input.zone {
            ZoneState::Preparing => ("Waiting for placements".to_string(), ACCENT_IDLE),
            ZoneState::Empty => ("No one is holding the zone".to_string(), ACCENT_IDLE),
            ZoneState::Contested => ("Zone contested".to_string(), ACCENT_CONTESTED),
            ZoneState::Capturing(uuid) => {
                let text = match input.players.iter().find(|row| row.uuid == uuid) {
                    Some(row) => format!(
                        "{} is capturing ({}s)",
                        row.name,
                        (input.seconds_to_win - row.progress).max(0.0).ceil() as i64
                    ),
                    None => "Capturing".to_string(),
                };
                (text, ACCENT_CAPTURING)
            }
        };
        if let Some(remaining) = input.respawn_remaining_ms {
            status = format!("Respawn in {}", tenths(remaining));
            accent = ACCENT_RESPAWN;
        }

        // Ranks by position in `players` (UUIDs are unique there), so no UUID is compared
        // more than once per build.
        let players = input.players;
        let mut order: Vec<(usize, NameKey<'_>)> = players
            .iter()
            .map(|row| NameKey::new(row.name))
            .enumerate()
            .collect();
        order.sort_by(|(a, a_key), (b, b_key)| standing(&players[*a], a_key, &players[*b], b_key));
        let mut rank = vec![0; players.len()];
        for (place, (index, _)) in order.iter().enumerate() {
            rank[*index] = place + 1;
        }
        let viewer = players.iter().position(|row| row.uuid == input.viewer);
        let others = order
            .into_iter()
            .map(|(index, _)| index)
            .filter(|index| Some(*index) != viewer);
        let shown = viewer.into_iter().chain(others);
        let rows = shown
            .map(|index| {
                let row = &players[index];
                row_text(
                    rank[index],
                    row.name,
                    percent(row.progress, input.seconds_to_win),
                )
            })
            .collect();

        let kill_bonus = input
            .kill_bonus_until
            .filter(|until| input.now < *until)
            .map(|until| KillBonus {
                text: format!("Kill bonus: -{}s", seconds_text(input.kill_reward_ms)),
                from_color: KILL_BONUS_FROM,
                to_color: KILL_BONUS_TO,
                until_epoch_ms: until,
            });

        HudView {
            title: TITLE,
            status,
            accent,
            sidebar_title: SIDEBAR_TITLE,
            rows,
            respawn: format!("Respawn: {}", tenths(input.penalty_ms)),
            kill_bonus,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_keys_order_like_the_lowercased_names() {
        let names = [
            "alice", "Alice", "ALICE", "bob", "Bob", "Émile", "émile", "Zoë", "zoe", "a", "", "Ω",
            "ω", "_x", "[y", "Straße", "STRASSE",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    NameKey::new(a).cmp(&NameKey::new(b)),
                    a.to_lowercase().cmp(&b.to_lowercase()),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn rows_read_like_the_format_string() {
        for (rank, name, percent) in [(1, "Alice", 0), (16, "Ünal", 100), (3, "", 7), (2, "b", -1)]
        {
            assert_eq!(
                row_text(rank, name, percent),
                format!("{rank}. {name} {percent}%")
            );
        }
        let mut text = String::new();
        push_decimal(&mut text, u64::MAX);
        assert_eq!(text, u64::MAX.to_string());
    }
}
