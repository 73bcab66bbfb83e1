//! The `POST /nexori/matches/state` body: one match's admission snapshot
//! (docs/arena-behaviour.md#the-snapshot), its fields in the order Nexori sends them, with the
//! `payloadHash` over them.

use serde_json::{Map, Value};

use crate::payload_hash::admission_payload_hash;

/// The snapshot body's schema version.
pub const SCHEMA_VERSION: i64 = 1;

/// Everything one admission snapshot says, borrowed from whoever publishes it.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotBody<'a> {
    /// A fresh id per snapshot.
    pub state_update_id: &'a str,
    /// The match's snapshot counter, one more than the last one sent (kept across restarts).
    pub admission_state_sequence: i64,
    /// When the snapshot is sent, epoch ms.
    pub sent_at_epoch_ms: i64,
    /// When the backend should consider it stale, epoch ms.
    pub state_expires_at_epoch_ms: i64,
    /// The arena server's id.
    pub reporting_server_id: &'a str,
    /// Where players reach this server (left out of the hash).
    pub reporting_server_connection_address: &'a str,
    /// The match id as the arena knows it.
    pub match_id: &'a str,
    /// The matchmaker's match id.
    pub external_match_id: &'a str,
    /// The queue the match came from.
    pub queue_id: &'a str,
    /// The arena the match runs in.
    pub arena_id: &'a str,
    /// Whether the match takes backfill players at all.
    pub backfill_enabled: bool,
    /// `NONE`, `PLACEMENT_ONLY` or `ACTIVE_WINDOW`.
    pub backfill_mode: &'a str,
    /// How long backfill stays open after the start, in seconds.
    pub backfill_window_seconds: i64,
    /// The match's lifecycle status as the backend reads it.
    pub match_lifecycle_status: &'a str,
    /// Whether the match admits new players now.
    pub admission_open: bool,
    /// Until when it admits them, epoch ms (0: no deadline or closed).
    pub admission_open_until_epoch_ms: i64,
    /// How many players the match can hold.
    pub admission_capacity: i64,
    /// Slots taken.
    pub admitted_slot_count: i64,
    /// Slots still free.
    pub available_admission_slots: i64,
    /// Players the launch expected.
    pub initial_roster_size: i64,
    /// Expected players who arrived.
    pub arrived_initial_player_count: i64,
    /// Expected players who did not.
    pub unfilled_initial_roster_count: i64,
    /// Reservations consumed since the last snapshot, sorted case-insensitively.
    pub consumed_admission_reservation_ids: &'a [String],
    /// Whether this is the match's last snapshot.
    pub admission_reporting_closed: bool,
    /// Why reporting closed (`""` while open).
    pub admission_reporting_close_reason: &'a str,
    /// The change that caused this snapshot.
    pub primary_change_reason: &'a str,
    /// Every change since the last snapshot, sorted case-insensitively.
    pub coalesced_change_reasons: &'a [String],
}

impl SnapshotBody<'_> {
    /// The body as JSON, members in Nexori's order, `payloadHash` included.
    pub fn to_json(&self) -> Value {
        let strings = |list: &[String]| Value::from(list.to_vec());
        let mut fields: Vec<(&str, Value)> = vec![
            ("schemaVersion", SCHEMA_VERSION.into()),
            ("stateUpdateId", self.state_update_id.into()),
            (
                "admissionStateSequence",
                self.admission_state_sequence.into(),
            ),
            ("sentAtEpochMs", self.sent_at_epoch_ms.into()),
            (
                "stateExpiresAtEpochMs",
                self.state_expires_at_epoch_ms.into(),
            ),
            ("reportingServerId", self.reporting_server_id.into()),
            ("matchId", self.match_id.into()),
            ("externalMatchId", self.external_match_id.into()),
            ("queueId", self.queue_id.into()),
            ("arenaId", self.arena_id.into()),
            ("backfillEnabled", self.backfill_enabled.into()),
            ("backfillMode", self.backfill_mode.into()),
            ("backfillWindowSeconds", self.backfill_window_seconds.into()),
            ("matchLifecycleStatus", self.match_lifecycle_status.into()),
            ("admissionOpen", self.admission_open.into()),
            (
                "admissionOpenUntilEpochMs",
                self.admission_open_until_epoch_ms.into(),
            ),
            ("admissionCapacity", self.admission_capacity.into()),
            ("admittedSlotCount", self.admitted_slot_count.into()),
            (
                "availableAdmissionSlots",
                self.available_admission_slots.into(),
            ),
            ("initialRosterSize", self.initial_roster_size.into()),
            (
                "arrivedInitialPlayerCount",
                self.arrived_initial_player_count.into(),
            ),
            (
                "unfilledInitialRosterCount",
                self.unfilled_initial_roster_count.into(),
            ),
            (
                "consumedAdmissionReservationIds",
                strings(self.consumed_admission_reservation_ids),
            ),
            (
                "admissionReportingClosed",
                self.admission_reporting_closed.into(),
            ),
            (
                "admissionReportingCloseReason",
                self.admission_reporting_close_reason.into(),
            ),
            ("primaryChangeReason", self.primary_change_reason.into()),
            (
                "coalescedChangeReasons",
                strings(self.coalesced_change_reasons),
            ),
        ];
        // payloadHash covers the fields above, in this order, as Gson writes them; the
        // connection address is sent but not hashed (docs/arena-behaviour.md#the-snapshot).
        let hashed: Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        fields.insert(3, ("payloadHash", admission_payload_hash(&hashed).into()));
        fields.insert(
            7,
            (
                "reportingServerConnectionAddress",
                self.reporting_server_connection_address.into(),
            ),
        );
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}
