//! The backend's durable state in SQLite (WAL; an answer is sent only after the transaction that it
//! reports on is durable: requests commit to the log and `Store::sync` fsyncs it for all of them,
//! see `durability`).
//!
//! ```sql
//! meta(key TEXT PRIMARY KEY, value TEXT)                      -- schema_version = 1
//! results(seq, result_id UNIQUE, server_id, local_match_id, external_match_id, rules_engine_id,
//!         reason, match_role FIRST|REPEAT|CONFLICT, related_result_id, fingerprint,
//!         sent_at_epoch_ms, ended_at_epoch_ms, received_at_epoch_ms,
//!         duplicate_count, duplicate_mismatch_count, last_duplicate_at_epoch_ms,
//!         body)                                               -- the JSON text as received
//! snapshots(seq, state_update_id UNIQUE, match_key, external_match_id, match_id,
//!           reporting_server_id, sequence, status ACCEPTED|STALE, received_at_epoch_ms,
//!           repeat_count, last_repeat_at_epoch_ms, consumed_reservation_ids (JSON),
//!           already_consumed_reservation_ids (JSON), payload_hash_check, warnings (JSON), body)
//! open_matches(match_key PRIMARY KEY, ...latest accepted snapshot's fields..., last_sequence,
//!              last_state_update_id, closed_at_epoch_ms, first_seen_at_epoch_ms,
//!              updated_at_epoch_ms, snapshot)
//! consumed_reservations(reservation_id PRIMARY KEY, match_key, state_update_id,
//!                       consumed_at_epoch_ms)                 -- the at-most-once ledger
//! reservations(reservation_id PRIMARY KEY, match_key, status ACTIVE|CONSUMED|RELEASED,
//!              created_at_epoch_ms, expires_at_epoch_ms, consumed_at_epoch_ms,
//!              consumed_by_state_update_id, released_at_epoch_ms)  -- issued via /admin/reservations
//! ```

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde_json::{Value, json};

use super::hash::PayloadHashCheck;

/// Log pages between two automatic checkpoints: 4 000 (16 MiB of 4 KiB pages) instead of
/// SQLite's 1 000, the figure the host's outbox measured best for the same write pattern.
const WAL_CHECKPOINT_PAGES: i64 = 4_000;
use super::validate::{ResultReport, StateSnapshot};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    result_id TEXT NOT NULL UNIQUE,
    server_id TEXT NOT NULL,
    local_match_id TEXT NOT NULL,
    external_match_id TEXT NOT NULL,
    rules_engine_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    match_role TEXT NOT NULL CHECK (match_role IN ('FIRST', 'REPEAT', 'CONFLICT')),
    related_result_id TEXT,
    fingerprint TEXT NOT NULL,
    sent_at_epoch_ms INTEGER NOT NULL,
    ended_at_epoch_ms INTEGER NOT NULL,
    received_at_epoch_ms INTEGER NOT NULL,
    duplicate_count INTEGER NOT NULL DEFAULT 0,
    duplicate_mismatch_count INTEGER NOT NULL DEFAULT 0,
    last_duplicate_at_epoch_ms INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_by_external_match ON results (external_match_id, seq);
CREATE TABLE IF NOT EXISTS snapshots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    state_update_id TEXT NOT NULL UNIQUE,
    match_key TEXT NOT NULL,
    external_match_id TEXT NOT NULL,
    match_id TEXT NOT NULL,
    reporting_server_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACCEPTED', 'STALE')),
    received_at_epoch_ms INTEGER NOT NULL,
    repeat_count INTEGER NOT NULL DEFAULT 0,
    last_repeat_at_epoch_ms INTEGER NOT NULL DEFAULT 0,
    consumed_reservation_ids TEXT NOT NULL DEFAULT '[]',
    already_consumed_reservation_ids TEXT NOT NULL DEFAULT '[]',
    payload_hash_check TEXT NOT NULL,
    warnings TEXT NOT NULL DEFAULT '[]',
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_by_match ON snapshots (match_key, sequence);
CREATE TABLE IF NOT EXISTS open_matches (
    match_key TEXT PRIMARY KEY,
    external_match_id TEXT NOT NULL,
    match_id TEXT NOT NULL,
    reporting_server_id TEXT NOT NULL,
    connection_address TEXT NOT NULL,
    queue_id TEXT NOT NULL,
    arena_id TEXT NOT NULL,
    backfill_mode TEXT NOT NULL,
    lifecycle_status TEXT NOT NULL,
    admission_open INTEGER NOT NULL,
    admission_open_until_epoch_ms INTEGER NOT NULL,
    admission_capacity INTEGER NOT NULL,
    admitted_slot_count INTEGER NOT NULL,
    available_admission_slots INTEGER NOT NULL,
    state_expires_at_epoch_ms INTEGER NOT NULL,
    reporting_closed INTEGER NOT NULL,
    close_reason TEXT NOT NULL,
    closed_at_epoch_ms INTEGER NOT NULL DEFAULT 0,
    last_sequence INTEGER NOT NULL,
    last_state_update_id TEXT NOT NULL,
    first_seen_at_epoch_ms INTEGER NOT NULL,
    updated_at_epoch_ms INTEGER NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consumed_reservations (
    reservation_id TEXT PRIMARY KEY,
    match_key TEXT NOT NULL,
    state_update_id TEXT NOT NULL,
    consumed_at_epoch_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    reservation_id TEXT PRIMARY KEY,
    match_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CONSUMED', 'RELEASED')),
    created_at_epoch_ms INTEGER NOT NULL,
    expires_at_epoch_ms INTEGER NOT NULL DEFAULT 0,
    consumed_at_epoch_ms INTEGER NOT NULL DEFAULT 0,
    consumed_by_state_update_id TEXT,
    released_at_epoch_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS reservations_by_match ON reservations (match_key, status);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
"#;

/// Match identity for admission state: `ext:<externalMatchId>` when the external id is not blank,
/// else `local:<reportingServerId>:<matchId>` (both lowercased, trimmed).
pub fn match_key(external_match_id: &str, reporting_server_id: &str, match_id: &str) -> String {
    let ext = external_match_id.trim();
    if !ext.is_empty() {
        format!("ext:{ext}")
    } else {
        format!(
            "local:{}:{}",
            reporting_server_id.trim().to_lowercase(),
            match_id.trim().to_lowercase()
        )
    }
}

/// The answer status of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Accepted,
    Duplicate,
    Stale,
}

impl Answer {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Answer::Accepted => "ACCEPTED",
            Answer::Duplicate => "DUPLICATE",
            Answer::Stale => "STALE",
        }
    }
}

/// An admin reservation request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReservationError {
    #[error("reservation {0} already exists")]
    Exists(String),
    #[error("reservation {0} is unknown")]
    Unknown(String),
    #[error("reservation {0} is {1}, not ACTIVE")]
    NotActive(String, String),
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
}

pub(crate) struct Store {
    conn: Connection,
}

fn json_list(items: &[String]) -> String {
    Value::from(items.to_vec()).to_string()
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl Store {
    /// Opens (creating if needed) the database; `":memory:"` gives a private in-memory database.
    pub(crate) fn open(path: &Path) -> anyhow::Result<Store> {
        let in_memory = path.as_os_str() == ":memory:";
        let conn = if in_memory {
            Connection::open_in_memory()?
        } else {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            Connection::open(path)
                .with_context(|| format!("opening backend database {}", path.display()))?
        };
        if !in_memory {
            let mode: String =
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                anyhow::bail!(
                    "backend database {} refused WAL mode (journal_mode={mode})",
                    path.display()
                );
            }
        }
        // Requests commit to the log without an fsync; `sync` makes them durable together
        // before any of them is answered (see `durability`).
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        // As the host's outbox does: fewer, larger checkpoints, since each request rewrites the
        // same few pages (the newest rows and their index entries).
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
        conn.execute_batch(SCHEMA)
            .context("creating the backend schema")?;
        let version: String = conn.query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )?;
        if version != "1" {
            anyhow::bail!(
                "backend database {} has schema version {version}, expected 1",
                path.display()
            );
        }
        Ok(Store { conn })
    }

    // ---------------------------------------------------------------- results

    /// Makes every transaction committed so far durable: one `synchronous=FULL` commit, whose fsync of
    /// the write-ahead log covers the transactions written before it.
    pub(crate) fn sync(&mut self) -> rusqlite::Result<()> {
        // Cached statements: this runs for every group of requests, and the results path for
        // every request, so none of them is parsed again.
        let run = |conn: &Connection, sql: &str| conn.prepare_cached(sql)?.execute([]).map(drop);
        run(&self.conn, "PRAGMA synchronous = FULL")?;
        let synced = (|| {
            run(&self.conn, "BEGIN IMMEDIATE")?;
            run(
                &self.conn,
                "UPDATE meta SET value = value WHERE key = 'schema_version'",
            )?;
            run(&self.conn, "COMMIT")
        })();
        if synced.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        run(&self.conn, "PRAGMA synchronous = NORMAL")?;
        synced
    }

    /// Records a result; ACCEPTED for a new `resultId`, DUPLICATE (counted, body kept as first seen)
    /// otherwise.
    pub(crate) fn record_result(
        &mut self,
        report: &ResultReport,
        body: &str,
        fingerprint: &str,
        now: i64,
    ) -> rusqlite::Result<Answer> {
        let tx = self.conn.transaction()?;
        let existing: Option<String> = tx
            .prepare_cached("SELECT fingerprint FROM results WHERE result_id = ?1")?
            .query_row([&report.result_id], |r| r.get(0))
            .optional()?;
        if let Some(stored) = existing {
            let mismatch = i64::from(stored != fingerprint);
            tx.prepare_cached(
                "UPDATE results SET duplicate_count = duplicate_count + 1,
                    duplicate_mismatch_count = duplicate_mismatch_count + ?2, last_duplicate_at_epoch_ms = ?3
                 WHERE result_id = ?1",
            )?
            .execute(params![report.result_id, mismatch, now])?;
            tx.commit()?;
            return Ok(Answer::Duplicate);
        }
        let earlier: Vec<(String, String)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT result_id, fingerprint FROM results WHERE external_match_id = ?1 ORDER BY seq",
            )?;
            stmt.query_map([&report.external_match_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        let (role, related) = match earlier.first() {
            None => ("FIRST", None),
            Some(_) => match earlier.iter().find(|(_, f)| f != fingerprint) {
                Some((id, _)) => ("CONFLICT", Some(id.clone())),
                None => ("REPEAT", Some(earlier[0].0.clone())),
            },
        };
        tx.prepare_cached(
            "INSERT INTO results (result_id, server_id, local_match_id, external_match_id, rules_engine_id, reason,
                match_role, related_result_id, fingerprint, sent_at_epoch_ms, ended_at_epoch_ms, received_at_epoch_ms, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            report.result_id,
            report.server_id,
            report.local_match_id,
            report.external_match_id,
            report.rules_engine_id,
            report.reason,
            role,
            related,
            fingerprint,
            report.sent_at_epoch_ms,
            report.ended_at_epoch_ms,
            now,
            body
        ])?;
        tx.commit()?;
        Ok(Answer::Accepted)
    }

    fn result_view(row: &Row<'_>, with_body: bool) -> rusqlite::Result<Value> {
        let body: String = row.get("body")?;
        let body = parse_json(&body);
        let players = body.get("players").cloned().unwrap_or(Value::Null);
        let mut v = json!({
            "resultId": row.get::<_, String>("result_id")?,
            "matchRole": row.get::<_, String>("match_role")?,
            "relatedResultId": row.get::<_, Option<String>>("related_result_id")?,
            "serverId": row.get::<_, String>("server_id")?,
            "localMatchId": row.get::<_, String>("local_match_id")?,
            "externalMatchId": row.get::<_, String>("external_match_id")?,
            "rulesEngineId": row.get::<_, String>("rules_engine_id")?,
            "reason": row.get::<_, String>("reason")?,
            "players": players,
            "sentAtEpochMs": row.get::<_, i64>("sent_at_epoch_ms")?,
            "endedAtEpochMs": row.get::<_, i64>("ended_at_epoch_ms")?,
            "receivedAtEpochMs": row.get::<_, i64>("received_at_epoch_ms")?,
            "duplicateCount": row.get::<_, i64>("duplicate_count")?,
            "duplicateMismatchCount": row.get::<_, i64>("duplicate_mismatch_count")?,
            "lastDuplicateAtEpochMs": row.get::<_, i64>("last_duplicate_at_epoch_ms")?,
        });
        if with_body {
            v["fingerprint"] = Value::from(row.get::<_, String>("fingerprint")?);
            v["body"] = body;
        }
        Ok(v)
    }

    /// Results, newest first, optionally for one external match.
    pub(crate) fn list_results(
        &self,
        external_match_id: Option<&str>,
        limit: i64,
    ) -> rusqlite::Result<Vec<Value>> {
        let mut stmt = self.conn.prepare(
            "SELECT * FROM results WHERE (?1 IS NULL OR external_match_id = ?1) ORDER BY seq DESC LIMIT ?2",
        )?;
        stmt.query_map(params![external_match_id, limit], |r| {
            Self::result_view(r, false)
        })?
        .collect()
    }

    /// The body of a result exactly as it was received (the first time), when it is known.
    pub(crate) fn result_body(&self, result_id: &str) -> rusqlite::Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT body FROM results WHERE result_id = ?1")?
            .query_row([result_id], |r| r.get(0))
            .optional()
    }

    /// One result with its stored body.
    pub(crate) fn get_result(&self, result_id: &str) -> rusqlite::Result<Option<Value>> {
        self.conn
            .query_row(
                "SELECT * FROM results WHERE result_id = ?1",
                [result_id],
                |r| Self::result_view(r, true),
            )
            .optional()
    }

    // ---------------------------------------------------------------- snapshots

    /// Records an admission snapshot (see the module docs of `backend` for the rules).
    pub(crate) fn record_snapshot(
        &mut self,
        snap: &StateSnapshot,
        body: &str,
        hash_check: PayloadHashCheck,
        mut warnings: Vec<String>,
        now: i64,
    ) -> rusqlite::Result<Answer> {
        let key = match_key(
            &snap.external_match_id,
            &snap.reporting_server_id,
            &snap.match_id,
        );
        let tx = self.conn.transaction()?;
        let existing: Option<(String, i64)> = tx
            .query_row(
                "SELECT status, sequence FROM snapshots WHERE state_update_id = ?1",
                [&snap.state_update_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((status, _)) = existing {
            tx.execute(
                "UPDATE snapshots SET repeat_count = repeat_count + 1, last_repeat_at_epoch_ms = ?2
                 WHERE state_update_id = ?1",
                params![snap.state_update_id, now],
            )?;
            tx.commit()?;
            return Ok(if status == "ACCEPTED" {
                Answer::Duplicate
            } else {
                Answer::Stale
            });
        }
        let current: Option<(i64, String, i64)> = tx
            .query_row(
                "SELECT last_sequence, reporting_server_id, closed_at_epoch_ms FROM open_matches WHERE match_key = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((last_sequence, _, _)) = &current
            && snap.sequence <= *last_sequence
        {
            warnings.push(format!(
                "sequence {} is not newer than the last accepted sequence {last_sequence} for {key}",
                snap.sequence
            ));
            insert_snapshot(
                &tx,
                snap,
                &key,
                "STALE",
                body,
                hash_check,
                &[],
                &[],
                &warnings,
                now,
            )?;
            tx.commit()?;
            return Ok(Answer::Stale);
        }
        if let Some((_, server, _)) = &current
            && server != &snap.reporting_server_id
        {
            warnings.push(format!(
                "reported by server {} but {key} was last reported by {server}",
                snap.reporting_server_id
            ));
        }
        let previously_closed_at = current.as_ref().map(|c| c.2).unwrap_or(0);
        if previously_closed_at > 0 && !snap.reporting_closed {
            warnings.push(format!(
                "{key} was closed at {previously_closed_at}; closure is final, the match stays ineligible"
            ));
        }

        // Reservation consumption: each id at most once, ever.
        let mut newly = Vec::new();
        let mut already = Vec::new();
        let mut seen = HashSet::new();
        for id in snap
            .consumed_reservation_ids
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            if !seen.insert(id.to_owned()) {
                warnings.push(format!("reservation {id} is listed more than once"));
                continue;
            }
            let consumed: Option<String> = tx
                .query_row(
                    "SELECT match_key FROM consumed_reservations WHERE reservation_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            if consumed.is_some() {
                already.push(id.to_owned());
                continue;
            }
            tx.execute(
                "INSERT INTO consumed_reservations (reservation_id, match_key, state_update_id, consumed_at_epoch_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, key, snap.state_update_id, now],
            )?;
            let issued: Option<(String, String)> = tx
                .query_row(
                    "SELECT match_key, status FROM reservations WHERE reservation_id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            match issued {
                None => warnings.push(format!("reservation {id} was not issued by this backend")),
                Some((issued_key, status)) => {
                    if issued_key != key {
                        warnings.push(format!(
                            "reservation {id} was issued for {issued_key}, consumed by {key}"
                        ));
                    }
                    if status != "ACTIVE" {
                        warnings.push(format!("reservation {id} was {status} when consumed"));
                    }
                    tx.execute(
                        "UPDATE reservations SET status = 'CONSUMED', consumed_at_epoch_ms = ?2,
                            consumed_by_state_update_id = ?3 WHERE reservation_id = ?1",
                        params![id, now, snap.state_update_id],
                    )?;
                }
            }
            newly.push(id.to_owned());
        }

        insert_snapshot(
            &tx, snap, &key, "ACCEPTED", body, hash_check, &newly, &already, &warnings, now,
        )?;
        let closed_at = if previously_closed_at > 0 {
            previously_closed_at
        } else if snap.reporting_closed {
            now
        } else {
            0
        };
        tx.execute(
            "INSERT INTO open_matches (match_key, external_match_id, match_id, reporting_server_id, connection_address,
                queue_id, arena_id, backfill_mode, lifecycle_status, admission_open, admission_open_until_epoch_ms,
                admission_capacity, admitted_slot_count, available_admission_slots, state_expires_at_epoch_ms,
                reporting_closed, close_reason, closed_at_epoch_ms, last_sequence, last_state_update_id,
                first_seen_at_epoch_ms, updated_at_epoch_ms, snapshot)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?21, ?22)
             ON CONFLICT (match_key) DO UPDATE SET external_match_id = excluded.external_match_id,
                match_id = excluded.match_id, reporting_server_id = excluded.reporting_server_id,
                connection_address = excluded.connection_address, queue_id = excluded.queue_id,
                arena_id = excluded.arena_id, backfill_mode = excluded.backfill_mode,
                lifecycle_status = excluded.lifecycle_status, admission_open = excluded.admission_open,
                admission_open_until_epoch_ms = excluded.admission_open_until_epoch_ms,
                admission_capacity = excluded.admission_capacity, admitted_slot_count = excluded.admitted_slot_count,
                available_admission_slots = excluded.available_admission_slots,
                state_expires_at_epoch_ms = excluded.state_expires_at_epoch_ms,
                reporting_closed = excluded.reporting_closed, close_reason = excluded.close_reason,
                closed_at_epoch_ms = excluded.closed_at_epoch_ms, last_sequence = excluded.last_sequence,
                last_state_update_id = excluded.last_state_update_id, updated_at_epoch_ms = excluded.updated_at_epoch_ms,
                snapshot = excluded.snapshot",
            params![
                key,
                snap.external_match_id,
                snap.match_id,
                snap.reporting_server_id,
                snap.connection_address,
                snap.queue_id,
                snap.arena_id,
                snap.backfill_mode,
                snap.lifecycle_status,
                snap.admission_open,
                snap.admission_open_until_epoch_ms,
                snap.admission_capacity,
                snap.admitted_slot_count,
                snap.available_admission_slots,
                snap.state_expires_at_epoch_ms,
                snap.reporting_closed,
                snap.close_reason,
                closed_at,
                snap.sequence,
                snap.state_update_id,
                now,
                body
            ],
        )?;
        tx.commit()?;
        Ok(Answer::Accepted)
    }

    fn snapshot_view(row: &Row<'_>) -> rusqlite::Result<Value> {
        Ok(json!({
            "stateUpdateId": row.get::<_, String>("state_update_id")?,
            "matchKey": row.get::<_, String>("match_key")?,
            "externalMatchId": row.get::<_, String>("external_match_id")?,
            "matchId": row.get::<_, String>("match_id")?,
            "reportingServerId": row.get::<_, String>("reporting_server_id")?,
            "admissionStateSequence": row.get::<_, i64>("sequence")?,
            "status": row.get::<_, String>("status")?,
            "receivedAtEpochMs": row.get::<_, i64>("received_at_epoch_ms")?,
            "repeatCount": row.get::<_, i64>("repeat_count")?,
            "lastRepeatAtEpochMs": row.get::<_, i64>("last_repeat_at_epoch_ms")?,
            "consumedReservationIds": parse_json(&row.get::<_, String>("consumed_reservation_ids")?),
            "alreadyConsumedReservationIds": parse_json(&row.get::<_, String>("already_consumed_reservation_ids")?),
            "payloadHashCheck": row.get::<_, String>("payload_hash_check")?,
            "warnings": parse_json(&row.get::<_, String>("warnings")?),
            "body": parse_json(&row.get::<_, String>("body")?),
        }))
    }

    /// Snapshots, newest first; `match_filter` matches the match key, `externalMatchId` or `matchId`
    /// (the latter case-insensitively).
    pub(crate) fn list_snapshots(
        &self,
        match_filter: Option<&str>,
        limit: i64,
    ) -> rusqlite::Result<Vec<Value>> {
        let filter = match_filter.map(str::trim);
        let mut stmt = self.conn.prepare(
            "SELECT * FROM snapshots
             WHERE (?1 IS NULL OR match_key = ?1 OR external_match_id = ?1 OR lower(match_id) = lower(?1))
             ORDER BY seq DESC LIMIT ?2",
        )?;
        stmt.query_map(params![filter, limit], Self::snapshot_view)?
            .collect()
    }

    // ---------------------------------------------------------------- registry

    fn active_reservations(&self, key: &str, now: i64) -> rusqlite::Result<i64> {
        self.conn.query_row(
            "SELECT count(*) FROM reservations WHERE match_key = ?1 AND status = 'ACTIVE'
                AND (expires_at_epoch_ms = 0 OR expires_at_epoch_ms > ?2)",
            params![key, now],
            |r| r.get(0),
        )
    }

    /// Every match of the registry with its eligibility at `now`, most recently updated first.
    pub(crate) fn matches(&self, now: i64) -> rusqlite::Result<Vec<Value>> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM open_matches ORDER BY updated_at_epoch_ms DESC, match_key")?;
        let rows: Vec<(String, Value)> = stmt
            .query_map([], |row| {
                let key: String = row.get("match_key")?;
                let open: bool = row.get("admission_open")?;
                let closed: bool = row.get("reporting_closed")?;
                let closed_at: i64 = row.get("closed_at_epoch_ms")?;
                let available: i64 = row.get("available_admission_slots")?;
                let expires: i64 = row.get("state_expires_at_epoch_ms")?;
                let until: i64 = row.get("admission_open_until_epoch_ms")?;
                let v = json!({
                    "matchKey": key,
                    "externalMatchId": row.get::<_, String>("external_match_id")?,
                    "matchId": row.get::<_, String>("match_id")?,
                    "reportingServerId": row.get::<_, String>("reporting_server_id")?,
                    "reportingServerConnectionAddress": row.get::<_, String>("connection_address")?,
                    "queueId": row.get::<_, String>("queue_id")?,
                    "arenaId": row.get::<_, String>("arena_id")?,
                    "backfillMode": row.get::<_, String>("backfill_mode")?,
                    "matchLifecycleStatus": row.get::<_, String>("lifecycle_status")?,
                    "admissionOpen": open,
                    "admissionOpenUntilEpochMs": until,
                    "admissionCapacity": row.get::<_, i64>("admission_capacity")?,
                    "admittedSlotCount": row.get::<_, i64>("admitted_slot_count")?,
                    "availableAdmissionSlots": available,
                    "stateExpiresAtEpochMs": expires,
                    "admissionReportingClosed": closed,
                    "admissionReportingCloseReason": row.get::<_, String>("close_reason")?,
                    "closedAtEpochMs": closed_at,
                    "lastSequence": row.get::<_, i64>("last_sequence")?,
                    "lastStateUpdateId": row.get::<_, String>("last_state_update_id")?,
                    "firstSeenAtEpochMs": row.get::<_, i64>("first_seen_at_epoch_ms")?,
                    "updatedAtEpochMs": row.get::<_, i64>("updated_at_epoch_ms")?,
                });
                Ok((key, v))
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (key, mut v) in rows {
            let active = self.active_reservations(&key, now)?;
            let available = v["availableAdmissionSlots"].as_i64().unwrap_or(0);
            let effective = available - active;
            let mut reasons: Vec<&str> = Vec::new();
            if v["closedAtEpochMs"].as_i64().unwrap_or(0) > 0
                || v["admissionReportingClosed"] == true
            {
                reasons.push("ADMISSION_REPORTING_CLOSED");
            }
            if v["admissionOpen"] != true {
                reasons.push("ADMISSION_NOT_OPEN");
            }
            let until = v["admissionOpenUntilEpochMs"].as_i64().unwrap_or(0);
            if until > 0 && now > until {
                reasons.push("ADMISSION_WINDOW_PASSED");
            }
            if now > v["stateExpiresAtEpochMs"].as_i64().unwrap_or(0) {
                reasons.push("SNAPSHOT_EXPIRED");
            }
            if available <= 0 {
                reasons.push("NO_AVAILABLE_SLOTS");
            } else if effective <= 0 {
                reasons.push("RESERVATIONS_FILL_AVAILABLE_SLOTS");
            }
            v["activeReservationCount"] = Value::from(active);
            v["effectiveAvailableSlots"] = Value::from(effective);
            v["eligible"] = Value::from(reasons.is_empty());
            v["ineligibleReasons"] = Value::from(reasons);
            out.push(v);
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- reservations

    /// Issues an ACTIVE reservation for a match key (`expires_at` 0 = no expiry).
    pub(crate) fn create_reservation(
        &mut self,
        reservation_id: &str,
        key: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Value, ReservationError> {
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM reservations WHERE reservation_id = ?1)
                 OR EXISTS (SELECT 1 FROM consumed_reservations WHERE reservation_id = ?1)",
            [reservation_id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(ReservationError::Exists(reservation_id.to_owned()));
        }
        tx.execute(
            "INSERT INTO reservations (reservation_id, match_key, status, created_at_epoch_ms, expires_at_epoch_ms)
             VALUES (?1, ?2, 'ACTIVE', ?3, ?4)",
            params![reservation_id, key, now, expires_at],
        )?;
        tx.commit()?;
        Ok(self
            .reservation(reservation_id, now)?
            .unwrap_or(Value::Null))
    }

    /// Releases an ACTIVE reservation (the player never showed up).
    pub(crate) fn release_reservation(
        &mut self,
        reservation_id: &str,
        now: i64,
    ) -> Result<Value, ReservationError> {
        let status: Option<String> = self
            .conn
            .query_row(
                "SELECT status FROM reservations WHERE reservation_id = ?1",
                [reservation_id],
                |r| r.get(0),
            )
            .optional()?;
        match status.as_deref() {
            None => return Err(ReservationError::Unknown(reservation_id.to_owned())),
            Some("ACTIVE") => {}
            Some(other) => {
                return Err(ReservationError::NotActive(
                    reservation_id.to_owned(),
                    other.to_owned(),
                ));
            }
        }
        self.conn.execute(
            "UPDATE reservations SET status = 'RELEASED', released_at_epoch_ms = ?2 WHERE reservation_id = ?1",
            params![reservation_id, now],
        )?;
        Ok(self
            .reservation(reservation_id, now)?
            .unwrap_or(Value::Null))
    }

    fn reservation_view(row: &Row<'_>, now: i64) -> rusqlite::Result<Value> {
        let status: String = row.get("status")?;
        let expires: i64 = row.get("expires_at_epoch_ms")?;
        let effective = if status == "ACTIVE" && expires > 0 && expires <= now {
            "EXPIRED".to_owned()
        } else {
            status.clone()
        };
        Ok(json!({
            "reservationId": row.get::<_, String>("reservation_id")?,
            "matchKey": row.get::<_, String>("match_key")?,
            "status": effective,
            "createdAtEpochMs": row.get::<_, i64>("created_at_epoch_ms")?,
            "expiresAtEpochMs": expires,
            "consumedAtEpochMs": row.get::<_, i64>("consumed_at_epoch_ms")?,
            "consumedByStateUpdateId": row.get::<_, Option<String>>("consumed_by_state_update_id")?,
            "releasedAtEpochMs": row.get::<_, i64>("released_at_epoch_ms")?,
        }))
    }

    fn reservation(&self, reservation_id: &str, now: i64) -> rusqlite::Result<Option<Value>> {
        self.conn
            .query_row(
                "SELECT * FROM reservations WHERE reservation_id = ?1",
                [reservation_id],
                |r| Self::reservation_view(r, now),
            )
            .optional()
    }

    /// Issued reservations and the consumption ledger.
    pub(crate) fn reservations(&self, now: i64) -> rusqlite::Result<Value> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM reservations ORDER BY created_at_epoch_ms, reservation_id")?;
        let issued: Vec<Value> = stmt
            .query_map([], |r| Self::reservation_view(r, now))?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT reservation_id, match_key, state_update_id, consumed_at_epoch_ms FROM consumed_reservations
             ORDER BY consumed_at_epoch_ms, reservation_id",
        )?;
        let consumed: Vec<Value> = stmt
            .query_map([], |r| {
                Ok(json!({
                    "reservationId": r.get::<_, String>(0)?,
                    "matchKey": r.get::<_, String>(1)?,
                    "stateUpdateId": r.get::<_, String>(2)?,
                    "consumedAtEpochMs": r.get::<_, i64>(3)?,
                }))
            })?
            .collect::<Result<_, _>>()?;
        Ok(json!({ "issued": issued, "consumed": consumed }))
    }

    // ---------------------------------------------------------------- stats

    fn count(&self, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<i64> {
        self.conn
            .query_row(sql, p, |r| r.get::<_, Option<i64>>(0))
            .map(|v| v.unwrap_or(0))
    }

    /// Durable counters (see `GET /api/stats`).
    pub(crate) fn stats(&self, now: i64) -> rusqlite::Result<Value> {
        let role = |r: &str| self.count("SELECT count(*) FROM results WHERE match_role = ?1", [r]);
        let results = json!({
            "accepted": self.count("SELECT count(*) FROM results", [])?,
            "first": role("FIRST")?,
            "repeats": role("REPEAT")?,
            "conflicts": role("CONFLICT")?,
            "duplicates": self.count("SELECT sum(duplicate_count) FROM results", [])?,
            "duplicateMismatches": self.count("SELECT sum(duplicate_mismatch_count) FROM results", [])?,
        });
        let rows = |s: &str| self.count("SELECT count(*) FROM snapshots WHERE status = ?1", [s]);
        let repeats = |s: &str| {
            self.count(
                "SELECT sum(repeat_count) FROM snapshots WHERE status = ?1",
                [s],
            )
        };
        let snapshots = json!({
            "stored": self.count("SELECT count(*) FROM snapshots", [])?,
            "accepted": rows("ACCEPTED")?,
            "duplicate": repeats("ACCEPTED")?,
            "stale": rows("STALE")? + repeats("STALE")?,
            "payloadHashMismatches": self.count("SELECT count(*) FROM snapshots WHERE payload_hash_check = 'MISMATCH'", [])?,
        });
        let matches = self.matches(now)?;
        let matches = json!({
            "known": matches.len(),
            "closed": matches.iter().filter(|m| m["closedAtEpochMs"].as_i64().unwrap_or(0) > 0).count(),
            "eligible": matches.iter().filter(|m| m["eligible"] == true).count(),
        });
        let reservations = json!({
            "active": self.count(
                "SELECT count(*) FROM reservations WHERE status = 'ACTIVE' AND (expires_at_epoch_ms = 0 OR expires_at_epoch_ms > ?1)",
                [now],
            )?,
            "expired": self.count(
                "SELECT count(*) FROM reservations WHERE status = 'ACTIVE' AND expires_at_epoch_ms > 0 AND expires_at_epoch_ms <= ?1",
                [now],
            )?,
            "released": self.count("SELECT count(*) FROM reservations WHERE status = 'RELEASED'", [])?,
            "consumed": self.count("SELECT count(*) FROM consumed_reservations", [])?,
        });
        Ok(
            json!({ "results": results, "snapshots": snapshots, "matches": matches, "reservations": reservations }),
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_snapshot(
    tx: &Transaction<'_>,
    snap: &StateSnapshot,
    key: &str,
    status: &str,
    body: &str,
    hash_check: PayloadHashCheck,
    newly: &[String],
    already: &[String],
    warnings: &[String],
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO snapshots (state_update_id, match_key, external_match_id, match_id, reporting_server_id, sequence,
            status, received_at_epoch_ms, consumed_reservation_ids, already_consumed_reservation_ids,
            payload_hash_check, warnings, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            snap.state_update_id,
            key,
            snap.external_match_id,
            snap.match_id,
            snap.reporting_server_id,
            snap.sequence,
            status,
            now,
            json_list(newly),
            json_list(already),
            hash_check.as_str(),
            json_list(warnings),
            body
        ],
    )?;
    Ok(())
}
