//! The durable result outbox (Decision D9): every accepted result is in SQLite, committed with
//! `synchronous=FULL` in WAL mode, before anything that follows from it leaves the host. A
//! SIGKILL at any point loses nothing anyone has seen: a restarted host finds the record `PENDING`
//! and sends it again with the same `resultId`, and the backend's idempotency turns a repeat into
//! `DUPLICATE`.
//!
//! **Group commit.** `submitFinalMatchResult` answers `QUEUED` inside the mod's callback, but the
//! host only lets a turn's effects out (game commands, the sender's requests) after
//! [`Outbox::insert_pending`] has committed every result that turn accepted, in one transaction
//! and one fsync. A crash before that commit loses the result together with the match itself (a
//! match's state lives in memory) and with everything the turn would have told the game server, so
//! nobody outside has seen it; a crash after it loses nothing. Under load a turn carries many
//! results, and the fsync, which bounds the rate at one result per commit, is shared.
//!
//! Acknowledgements and retry bookkeeping are committed with `synchronous=NORMAL`: WAL keeps them
//! consistent, and a power cut that rolls one back only means the result is sent again and the
//! backend answers `DUPLICATE`.
//!
//! Record states (docs/arena-behaviour.md#reporting-a-result): `PENDING` → `ACKNOWLEDGED` |
//! `FAILED_PERMANENT`. An operator can put failed records back to `PENDING` (`nexori outbox
//! retry`). The latest [`KEEP_ACKNOWLEDGED`] acknowledged records are kept (older ones are pruned
//! every [`PRUNE_EVERY`] acknowledgements and on the sender's first round); pending and failed ones
//! never expire.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use super::{BackendReportStatus, duplicate_status};
use nexori_runtime::results::AcceptedResult;

/// A result accepted but not yet committed: what [`Outbox::insert_pending`] writes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// The `resultId` it is sent with, every attempt and after restarts.
    pub result_id: String,
    /// The match on this host (normalised id), for the duplicate check.
    pub local_match_id: String,
    /// The backend's match id, for the duplicate check; never blank for a stored result.
    pub external_match_id: String,
    /// The result's payload hash (docs/arena-behaviour.md#payload-hash): same hash, same result.
    pub payload_hash: String,
    /// When the result was accepted, epoch ms. A new record is due at once.
    pub created_at: i64,
    /// The body text as it will be sent.
    pub body: String,
}

impl NewRecord {
    /// The record of `result`, stored under `result_id` with `body` (as built by
    /// [`result_body`](crate::result_body)) at `now`.
    pub fn new(result: &AcceptedResult, result_id: &str, body: &Value, now: i64) -> Self {
        Self {
            result_id: result_id.to_string(),
            local_match_id: result.local_match_id.clone(),
            external_match_id: result.external_match_id.clone(),
            payload_hash: result.payload_hash.clone(),
            created_at: now,
            body: body.to_string(),
        }
    }

    /// The `(resultId, localMatchId, externalMatchId, payloadHash)` view the duplicate check reads.
    pub fn view(&self) -> (&str, &str, &str, &str) {
        (
            &self.result_id,
            &self.local_match_id,
            &self.external_match_id,
            &self.payload_hash,
        )
    }
}

/// Stored records that share a local or external match id with a result.
#[derive(Debug, Clone, Default)]
pub struct Existing(Vec<(String, String, String, String)>);

impl Existing {
    /// The `(resultId, localMatchId, externalMatchId, payloadHash)` views, oldest first.
    pub fn views(&self) -> impl Iterator<Item = (&str, &str, &str, &str)> + Clone {
        self.0
            .iter()
            .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
    }
}

/// Acknowledged records kept for duplicate detection and inspection.
pub const KEEP_ACKNOWLEDGED: i64 = 256;

/// Log pages between two automatic checkpoints (see [`Outbox::open`]).
pub const WAL_CHECKPOINT_PAGES: i64 = 4_000;

/// How long a statement waits for another process's lock on the file unless
/// `outboxBusyTimeoutMs` says otherwise (see [`Outbox::set_busy_timeout`]).
pub const DEFAULT_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1000);

/// Acknowledgements between two prunes of old acknowledged records (so up to
/// `KEEP_ACKNOWLEDGED + PRUNE_EVERY` can be on disk for a while).
pub const PRUNE_EVERY: usize = 64;

/// The backend's answer to one attempt, as the outbox records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `ACCEPTED` or `DUPLICATE` for this result id, whatever the HTTP status: done.
    Acknowledged {
        /// The body's `status` (trimmed), kept as `last_backend_status`.
        backend_status: String,
    },
    /// Rejected for good; only an operator puts it back in line.
    FailedPermanent {
        /// The error class (`EMPTY_BODY`, `INVALID_JSON`, `HTTP_<status>`).
        class: String,
        /// The answer's body, cut to 512 characters.
        message: String,
    },
    /// Sent again at `next_attempt_at`.
    Retry {
        /// When the record is due again, epoch ms.
        next_attempt_at: i64,
        /// The error class (`TRANSPORT`, `EMPTY_BODY`, `INVALID_JSON`, `HTTP_<status>`).
        class: String,
        /// The transport error, or the answer's body cut to 512 characters.
        message: String,
    },
}

/// One answer for [`Outbox::record_answers`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRecord {
    /// The record the answer is for.
    pub result_id: String,
    /// When the answer arrived.
    pub at: i64,
    /// HTTP status (0 when the request never got one).
    pub status_code: u16,
    /// What the answer means for the record.
    pub answer: Answer,
}

fn record_answer(conn: &Connection, a: &AnswerRecord) -> rusqlite::Result<usize> {
    match &a.answer {
        Answer::Acknowledged { backend_status } => conn
            .prepare_cached(
                "UPDATE results SET status = 'ACKNOWLEDGED', acknowledged_at = ?2, updated_at = ?2,
                     next_attempt_at = 0, last_status_code = ?3, last_backend_status = ?4,
                     last_error_class = '', last_error_message = ''
                 WHERE result_id = ?1",
            )?
            .execute(params![a.result_id, a.at, a.status_code, backend_status]),
        Answer::FailedPermanent { class, message } => conn
            .prepare_cached(
                "UPDATE results SET status = 'FAILED_PERMANENT', updated_at = ?2, next_attempt_at = 0,
                     last_status_code = ?3, last_error_class = ?4, last_error_message = ?5
                 WHERE result_id = ?1",
            )?
            .execute(params![a.result_id, a.at, a.status_code, class, message]),
        Answer::Retry {
            next_attempt_at,
            class,
            message,
        } => conn
            .prepare_cached(
                "UPDATE results SET updated_at = ?2, next_attempt_at = ?3, last_status_code = ?4,
                     last_error_class = ?5, last_error_message = ?6
                 WHERE result_id = ?1 AND status = 'PENDING'",
            )?
            .execute(params![
                a.result_id,
                a.at,
                next_attempt_at,
                a.status_code,
                class,
                message
            ]),
    }
}

fn select_due(
    conn: &Connection,
    now: i64,
    limit: usize,
    in_flight: &[String],
) -> rusqlite::Result<Vec<DueRecord>> {
    // Ids first: the records in flight come back too and are skipped, and reading their bodies
    // on every round of the sender was wasted work.
    let chosen: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT seq, result_id FROM results WHERE status = 'PENDING' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, seq LIMIT ?2",
        )?
        .query_map(params![now, (limit + in_flight.len()) as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .filter(|r| r.as_ref().map_or(true, |(_, id)| !in_flight.contains(id)))
        .take(limit)
        .collect::<Result<_, _>>()?;
    let mut body = conn.prepare_cached("SELECT body FROM results WHERE seq = ?1")?;
    chosen
        .into_iter()
        .map(|(seq, result_id)| {
            Ok(DueRecord {
                result_id,
                body: body.query_row([seq], |r| r.get(0))?,
            })
        })
        .collect()
}

fn prune_acknowledged(conn: &Connection) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM results WHERE status = 'ACKNOWLEDGED' AND seq NOT IN (
             SELECT seq FROM results WHERE status = 'ACKNOWLEDGED'
             ORDER BY acknowledged_at DESC, updated_at DESC, seq DESC LIMIT ?1)",
    )?
    .execute(params![KEEP_ACKNOWLEDGED])
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[error("outbox: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

/// The state of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordStatus {
    /// Waiting to be sent, in flight, or due again after a retryable answer.
    Pending,
    /// The backend acknowledged it (`ACCEPTED` or `DUPLICATE`); kept among the latest
    /// [`KEEP_ACKNOWLEDGED`].
    Acknowledged,
    /// The backend rejected it for good (400/422); `nexori outbox retry` puts it back to
    /// `PENDING`.
    FailedPermanent,
}

impl RecordStatus {
    /// The name stored in the database and shown by `nexori outbox list`: `PENDING`,
    /// `ACKNOWLEDGED` or `FAILED_PERMANENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Acknowledged => "ACKNOWLEDGED",
            Self::FailedPermanent => "FAILED_PERMANENT",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "ACKNOWLEDGED" => Self::Acknowledged,
            "FAILED_PERMANENT" => Self::FailedPermanent,
            _ => Self::Pending,
        }
    }
}

/// One stored result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxRecord {
    /// The `resultId` the result is sent with.
    pub result_id: String,
    /// The match on this host (normalised id).
    pub local_match_id: String,
    /// The backend's match id.
    pub external_match_id: String,
    /// The result's payload hash (docs/arena-behaviour.md#payload-hash).
    pub payload_hash: String,
    /// Where the record is in its life.
    pub status: RecordStatus,
    /// Requests started for it, across restarts.
    pub attempt_count: i64,
    /// When the result was accepted and stored, epoch ms.
    pub created_at_epoch_ms: i64,
    /// When the record last changed (an attempt, an answer, an operator's retry), epoch ms.
    pub updated_at_epoch_ms: i64,
    /// When a pending record is due, epoch ms; 0 means at once (and for records not pending).
    pub next_attempt_at_epoch_ms: i64,
    /// When the backend acknowledged it, epoch ms; 0 while not acknowledged.
    pub acknowledged_at_epoch_ms: i64,
    /// The latest failure's class (`TRANSPORT`, `EMPTY_BODY`, `INVALID_JSON`, `HTTP_<status>`);
    /// `""` once acknowledged.
    pub last_error_class: String,
    /// The latest failure's detail (transport error, or answer body cut to 512 characters); `""`
    /// once acknowledged.
    pub last_error_message: String,
    /// The HTTP status of the latest answer, 0 when none came or none was asked for yet.
    pub last_status_code: i64,
    /// The `status` of the acknowledging answer (`ACCEPTED`, `DUPLICATE`); `""` before.
    pub last_backend_status: String,
    /// The request body; `sentAtEpochMs` is rewritten on every attempt.
    pub body: Value,
}

/// A record due to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct DueRecord {
    /// The record's `resultId`, sent as `X-Nexori-Result-Id`.
    pub result_id: String,
    /// The body text as stored; the sender sets `sentAtEpochMs` on each attempt.
    pub body: String,
}

/// What storing a result decided (the duplicate check of
/// docs/arena-behaviour.md#reporting-a-result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// `QUEUED` when stored, else `ALREADY_SUBMITTED` or `DUPLICATE_CONFLICT`.
    pub status: BackendReportStatus,
    /// The plan's message for `status` (`Result queued.`, `Result already exists.`, ...).
    pub message: &'static str,
    /// The new record's id, or the id of the stored record it collided with.
    pub result_id: String,
}

/// The SQLite outbox. One connection behind a mutex: SQLite serialises writers anyway, and
/// every statement here is short.
pub struct Outbox {
    conn: Mutex<Connection>,
    /// Acknowledgements recorded since the last prune (see [`Outbox::record_answers`]).
    acknowledged_since_prune: Mutex<usize>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    result_id TEXT NOT NULL UNIQUE,
    local_match_id TEXT NOT NULL,
    external_match_id TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    acknowledged_at INTEGER NOT NULL DEFAULT 0,
    last_error_class TEXT NOT NULL DEFAULT '',
    last_error_message TEXT NOT NULL DEFAULT '',
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_backend_status TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_due ON results(status, next_attempt_at);
CREATE INDEX IF NOT EXISTS results_pending_age ON results(status, created_at);
CREATE INDEX IF NOT EXISTS results_local ON results(local_match_id);
CREATE INDEX IF NOT EXISTS results_external ON results(external_match_id);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('enqueued', 0);
INSERT OR IGNORE INTO counters (name, value) VALUES ('admission_sequence_floor', 0);
CREATE TABLE IF NOT EXISTS admission_sequences (
    match_id TEXT PRIMARY KEY,
    last_sequence INTEGER NOT NULL
);
";

const COLUMNS: &str = "result_id, local_match_id, external_match_id, payload_hash, status, attempt_count, created_at, \
    updated_at, next_attempt_at, acknowledged_at, last_error_class, last_error_message, last_status_code, \
    last_backend_status, body";

fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRecord> {
    let status: String = row.get(4)?;
    let body: String = row.get(14)?;
    Ok(OutboxRecord {
        result_id: row.get(0)?,
        local_match_id: row.get(1)?,
        external_match_id: row.get(2)?,
        payload_hash: row.get(3)?,
        status: RecordStatus::parse(&status),
        attempt_count: row.get(5)?,
        created_at_epoch_ms: row.get(6)?,
        updated_at_epoch_ms: row.get(7)?,
        next_attempt_at_epoch_ms: row.get(8)?,
        acknowledged_at_epoch_ms: row.get(9)?,
        last_error_class: row.get(10)?,
        last_error_message: row.get(11)?,
        last_status_code: row.get(12)?,
        last_backend_status: row.get(13)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    })
}

impl Outbox {
    /// Opens (or creates) the outbox at `path`, creating parent directories.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the file cannot be opened as a SQLite database, or WAL mode, the
    /// pragmas or the schema cannot be applied to it. A parent directory that cannot be created
    /// shows up as the open failing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        Self::init(Connection::open(path)?)
    }

    /// An outbox that lives as long as the process (simulations, tests).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite cannot create the database or apply the schema.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        // WAL lets the sender read while the tick thread writes; FULL makes a commit durable
        // before it returns, which is what QUEUED promises.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Checkpoint every 4 000 pages (16 MiB of log) rather than SQLite's 1 000: delivery
        // rewrites the same few pages (the latest records, their index entries) many times, and
        // a checkpoint copies each page once however often it was written. 10-15 % more results
        // delivered per second in the benchmark.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            // The sender's first round prunes: opening the outbox (`nexori outbox list`) only reads.
            acknowledged_since_prune: Mutex::new(PRUNE_EVERY),
        })
    }

    /// How long a statement waits for another connection's lock (another process on the same
    /// file) before it fails with "database is locked". The host's tick thread waits this long
    /// at most per commit attempt (`outboxBusyTimeoutMs`).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite refuses the setting.
    pub fn set_busy_timeout(&self, timeout: std::time::Duration) -> Result<(), StoreError> {
        Ok(self.conn().busy_timeout(timeout)?)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new result unless one for the same local or external match exists (see
    /// docs/arena-behaviour.md#reporting-a-result), in a transaction of its own. The host batches
    /// instead: [`Outbox::existing`] when a result is accepted, [`Outbox::insert_pending`] once per
    /// turn.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn put_pending(
        &self,
        result: &AcceptedResult,
        result_id: &str,
        body: &Value,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        let existing = self.existing(result)?;
        if let Some((status, message, existing_id)) = duplicate_status(existing.views(), result) {
            return Ok(PutOutcome {
                status,
                message,
                result_id: existing_id,
            });
        }
        self.insert_pending(&[NewRecord::new(result, result_id, body, now)])?;
        Ok(PutOutcome {
            status: BackendReportStatus::Queued,
            message: "Result queued.",
            result_id: result_id.to_string(),
        })
    }

    /// The stored records for the same local or external match as `result`, oldest first: what
    /// the duplicate check of docs/arena-behaviour.md#reporting-a-result compares it with.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn existing(&self, result: &AcceptedResult) -> Result<Existing, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT result_id, local_match_id, external_match_id, payload_hash FROM results
             WHERE (local_match_id <> '' AND local_match_id = ?1) OR (external_match_id <> '' AND external_match_id = ?2)
             ORDER BY seq",
        )?;
        let rows = stmt.query_map(
            params![result.local_match_id, result.external_match_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(Existing(rows.collect::<Result<_, _>>()?))
    }

    /// Makes new `PENDING` records durable: one transaction, one fsync, however many records.
    /// Callers have already run the duplicate check against the store and against each other.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the transaction fails (disk full, `database is locked` past the busy
    /// timeout, a `resultId` already stored); nothing of it is kept then.
    pub fn insert_pending(&self, records: &[NewRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO results (result_id, local_match_id, external_match_id, payload_hash, status, created_at, updated_at, body)
                 VALUES (?1, ?2, ?3, ?4, 'PENDING', ?5, ?5, ?6)",
            )?;
            for r in records {
                insert.execute(params![
                    r.result_id,
                    r.local_match_id,
                    r.external_match_id,
                    r.payload_hash,
                    r.created_at,
                    r.body
                ])?;
            }
        }
        tx.execute(
            "UPDATE counters SET value = value + ?1 WHERE name = 'enqueued'",
            params![records.len() as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The earliest time a pending record is due.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT MIN(next_attempt_at) FROM results WHERE status = 'PENDING'",
            [],
            |r| r.get(0),
        )?)
    }

    /// One round of the sender, in one transaction: records the backend's answers that arrived
    /// together, then takes the pending records due at `now` (earliest first, ties in store
    /// order, at most `limit`, skipping those in flight) and counts an attempt for each. What
    /// it returns is what the sender sends next, bodies as stored.
    ///
    /// Acknowledged records beyond [`KEEP_ACKNOWLEDGED`] are pruned once [`PRUNE_EVERY`] more
    /// have been acknowledged: pruning sorts every acknowledged record, too much for each answer.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the transaction fails; then nothing was recorded and nothing is
    /// returned, and the caller keeps the answers for the next round.
    pub fn delivery_round(
        &self,
        answers: &[AnswerRecord],
        now: i64,
        limit: usize,
        in_flight: &[String],
    ) -> Result<Vec<DueRecord>, StoreError> {
        let acknowledged = answers
            .iter()
            .filter(|a| matches!(a.answer, Answer::Acknowledged { .. }))
            .count();
        let mut since_prune = self
            .acknowledged_since_prune
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let prune = *since_prune + acknowledged >= PRUNE_EVERY;
        let due = self.bookkeeping(|tx| {
            for answer in answers {
                record_answer(tx, answer)?;
            }
            if prune {
                prune_acknowledged(tx)?;
            }
            if limit == 0 {
                return Ok(Vec::new());
            }
            let due = select_due(tx, now, limit, in_flight)?;
            let mut count = tx.prepare_cached(
                "UPDATE results SET attempt_count = attempt_count + 1, updated_at = ?2 WHERE result_id = ?1",
            )?;
            for record in &due {
                count.execute(params![record.result_id, now])?;
            }
            Ok(due)
        })?;
        *since_prune = if prune {
            0
        } else {
            *since_prune + acknowledged
        };
        Ok(due)
    }

    /// Records answers without taking anything due (see [`Outbox::delivery_round`]).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn record_answers(&self, answers: &[AnswerRecord]) -> Result<(), StoreError> {
        self.delivery_round(answers, 0, 0, &[]).map(drop)
    }

    /// Runs delivery bookkeeping in one transaction without an fsync of its own (see the
    /// module docs); the next `FULL` commit makes it durable too.
    fn bookkeeping<R>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        let mut conn = self.conn();
        let synchronous = |conn: &Connection, level: &str| {
            conn.prepare_cached(&format!("PRAGMA synchronous = {level}"))?
                .execute([])
        };
        synchronous(&conn, "NORMAL")?;
        // IMMEDIATE: the round reads before it writes, and a deferred transaction whose
        // snapshot another writer (`nexori outbox retry`) overtook fails without waiting.
        let result = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .and_then(|tx| {
                let r = f(&tx)?;
                tx.commit()?;
                Ok(r)
            });
        synchronous(&conn, "FULL")?;
        Ok(result?)
    }

    /// Every record, oldest first, optionally of one status.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn list(&self, status: Option<RecordStatus>) -> Result<Vec<OutboxRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM results WHERE ?1 IS NULL OR status = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![status.map(RecordStatus::as_str)], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The record stored under `result_id`, `None` if there is none (never stored, or pruned
    /// after it was acknowledged).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn get(&self, result_id: &str) -> Result<Option<OutboxRecord>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM results WHERE result_id = ?1"),
                params![result_id],
                record,
            )
            .optional()?)
    }

    /// Puts a failed (or pending) record back in line to be sent at once. Returns whether it
    /// existed and was not already acknowledged.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn retry_now(&self, result_id: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE results SET status = 'PENDING', next_attempt_at = 0, updated_at = ?2
             WHERE result_id = ?1 AND status <> 'ACKNOWLEDGED'",
            params![result_id, now],
        )?;
        Ok(changed > 0)
    }

    /// Puts every failed record back in line. Returns how many.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn retry_failed(&self, now: i64) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "UPDATE results SET status = 'PENDING', next_attempt_at = 0, updated_at = ?1 WHERE status = 'FAILED_PERMANENT'",
            params![now],
        )?)
    }

    /// Counts by status and the creation time of the oldest pending record, for operators:
    /// `(pending, acknowledged, failed_permanent, oldest pending created_at in epoch ms)`.
    ///
    /// `nexori serve` renders this every turn, so it reads indexes only (`results_due` for the
    /// counts, `results_pending_age` for the age), never the rows with their bodies.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn depth(&self) -> Result<(i64, i64, i64, Option<i64>), StoreError> {
        let conn = self.conn();
        let count = |status: &str| -> rusqlite::Result<i64> {
            conn.prepare_cached("SELECT COUNT(*) FROM results WHERE status = ?1")?
                .query_row([status], |r| r.get(0))
        };
        let oldest = conn
            .prepare_cached("SELECT MIN(created_at) FROM results WHERE status = 'PENDING'")?
            .query_row([], |r| r.get(0))?;
        Ok((
            count("PENDING")?,
            count("ACKNOWLEDGED")?,
            count("FAILED_PERMANENT")?,
            oldest,
        ))
    }

    /// How many results were ever queued here (acknowledged records are pruned; this is not).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn enqueued_total(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT value FROM counters WHERE name = 'enqueued'",
            [],
            |r| r.get(0),
        )?)
    }

    /// The last admission-state sequence used for a match (D7: monotonic across restarts): its
    /// own row while it has one, else the floor every forgotten match's sequence was folded
    /// into (see [`Outbox::forget_admission_sequence`]).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn last_admission_sequence(&self, match_id: &str) -> Result<i64, StoreError> {
        let conn = self.conn();
        let own: Option<i64> = conn
            .query_row(
                "SELECT last_sequence FROM admission_sequences WHERE match_id = ?1",
                params![match_id],
                |r| r.get(0),
            )
            .optional()?;
        match own {
            Some(last) => Ok(last),
            None => Ok(conn.query_row(
                "SELECT value FROM counters WHERE name = 'admission_sequence_floor'",
                [],
                |r| r.get(0),
            )?),
        }
    }

    /// Drops a match's sequence row once the publisher is done with the match, raising the
    /// shared floor to its last sequence, so a match id seen again (after a restart, or a
    /// match still live when its closure was long acknowledged) continues above everything it
    /// ever sent and the table holds only the matches being published.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn forget_admission_sequence(&self, match_id: &str) -> Result<(), StoreError> {
        self.fold_admission_sequences(Some(match_id))
    }

    /// [`Outbox::forget_admission_sequence`] for every match: a starting host has no match
    /// yet, so whatever a previous run left is folded into the floor.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn forget_all_admission_sequences(&self) -> Result<(), StoreError> {
        self.fold_admission_sequences(None)
    }

    fn fold_admission_sequences(&self, match_id: Option<&str>) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE counters SET value = MAX(value, COALESCE((SELECT MAX(last_sequence)
                 FROM admission_sequences WHERE ?1 IS NULL OR match_id = ?1), 0))
             WHERE name = 'admission_sequence_floor'",
            params![match_id],
        )?;
        tx.execute(
            "DELETE FROM admission_sequences WHERE ?1 IS NULL OR match_id = ?1",
            params![match_id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Matches with a sequence row (for the leak tests and metrics).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    #[doc(hidden)]
    pub fn admission_sequence_rows(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM admission_sequences", [], |r| r.get(0))?)
    }

    /// Records `sequence` as the last admission-state sequence built for `match_id` (D7), never
    /// lowering a stored one. The publisher calls it for every snapshot it builds, before sending.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite fails (I/O error, `database is locked` past the busy timeout,
    /// a corrupt file).
    pub fn store_admission_sequence(
        &self,
        match_id: &str,
        sequence: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO admission_sequences (match_id, last_sequence) VALUES (?1, ?2)
             ON CONFLICT(match_id) DO UPDATE SET last_sequence = MAX(last_sequence, excluded.last_sequence)",
            params![match_id, sequence],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> NewRecord {
        NewRecord {
            result_id: format!("r{n:04}"),
            local_match_id: format!("m{n}"),
            external_match_id: format!("x{n}"),
            payload_hash: "h".into(),
            created_at: n as i64,
            body: format!(r#"{{"resultId":"r{n:04}","sentAtEpochMs":0}}"#),
        }
    }

    fn filled(outbox: &Outbox, n: usize) {
        outbox
            .insert_pending(&(0..n).map(record).collect::<Vec<_>>())
            .unwrap();
    }

    fn acknowledged(result_id: &str, at: i64) -> AnswerRecord {
        AnswerRecord {
            result_id: result_id.into(),
            at,
            status_code: 200,
            answer: Answer::Acknowledged {
                backend_status: "ACCEPTED".into(),
            },
        }
    }

    #[test]
    fn a_round_records_answers_then_takes_what_is_due() {
        let outbox = Outbox::in_memory().unwrap();
        filled(&outbox, 4);
        let ids =
            |due: Vec<DueRecord>| -> Vec<String> { due.into_iter().map(|r| r.result_id).collect() };
        // r0001 is in flight already: skipped.
        let first = outbox
            .delivery_round(&[], 5, 3, &["r0001".to_string()])
            .unwrap();
        assert_eq!(
            first.iter().map(|r| r.body.as_str()).collect::<Vec<_>>(),
            [
                r#"{"resultId":"r0000","sentAtEpochMs":0}"#,
                r#"{"resultId":"r0002","sentAtEpochMs":0}"#,
                r#"{"resultId":"r0003","sentAtEpochMs":0}"#,
            ]
        );
        let answers = [
            acknowledged("r0000", 7),
            AnswerRecord {
                result_id: "r0002".into(),
                at: 7,
                status_code: 422,
                answer: Answer::FailedPermanent {
                    class: "VALIDATION".into(),
                    message: "bad".into(),
                },
            },
            AnswerRecord {
                result_id: "r0003".into(),
                at: 7,
                status_code: 503,
                answer: Answer::Retry {
                    next_attempt_at: 5_007,
                    class: "SERVER".into(),
                    message: "later".into(),
                },
            },
        ];
        // At 7 only r0001 is due; the retried r0003 waits for 5 007.
        assert_eq!(
            ids(outbox.delivery_round(&answers, 7, 8, &[]).unwrap()),
            ["r0001"]
        );
        let get = |id: &str| outbox.get(id).unwrap().unwrap();
        let ok = get("r0000");
        assert_eq!(
            (ok.status, ok.attempt_count, ok.acknowledged_at_epoch_ms),
            (RecordStatus::Acknowledged, 1, 7)
        );
        assert_eq!(ok.last_backend_status, "ACCEPTED");
        let failed = get("r0002");
        assert_eq!(
            (
                failed.status,
                failed.last_status_code,
                failed.last_error_class.as_str()
            ),
            (RecordStatus::FailedPermanent, 422, "VALIDATION")
        );
        let retry = get("r0003");
        assert_eq!(
            (
                retry.status,
                retry.attempt_count,
                retry.next_attempt_at_epoch_ms
            ),
            (RecordStatus::Pending, 1, 5_007)
        );
        assert_eq!(retry.last_error_message, "later");
        assert_eq!(get("r0001").attempt_count, 1);
        assert_eq!(
            ids(outbox
                .delivery_round(&[], 5_007, 8, &["r0001".to_string()])
                .unwrap()),
            ["r0003"]
        );
        assert_eq!(get("r0003").attempt_count, 2);
    }

    #[test]
    fn old_acknowledged_records_are_pruned_in_batches_keeping_the_latest() {
        let dir = std::env::temp_dir().join(format!("nexori-prune-{}", std::process::id()));
        let path = dir.join("outbox.sqlite");
        let _ = std::fs::remove_dir_all(&dir);
        let total = KEEP_ACKNOWLEDGED as usize + 3 * PRUNE_EVERY;
        {
            let outbox = Outbox::open(&path).unwrap();
            filled(&outbox, total);
            let mut most = 0;
            for n in 0..total {
                outbox
                    .record_answers(&[acknowledged(&format!("r{n:04}"), n as i64)])
                    .unwrap();
                let kept = outbox.list(Some(RecordStatus::Acknowledged)).unwrap().len();
                assert!(kept <= KEEP_ACKNOWLEDGED as usize + PRUNE_EVERY, "{kept}");
                most = most.max(kept);
            }
            assert_eq!(most, KEEP_ACKNOWLEDGED as usize + PRUNE_EVERY - 1);
        }
        // Opening only reads; the first round after it prunes down to exactly the latest
        // KEEP_ACKNOWLEDGED.
        let outbox = Outbox::open(&path).unwrap();
        let acknowledged = || outbox.list(Some(RecordStatus::Acknowledged)).unwrap().len();
        assert!(acknowledged() > KEEP_ACKNOWLEDGED as usize);
        assert!(outbox.delivery_round(&[], 0, 8, &[]).unwrap().is_empty());
        assert_eq!(acknowledged(), KEEP_ACKNOWLEDGED as usize);
        let kept: Vec<String> = outbox
            .list(Some(RecordStatus::Acknowledged))
            .unwrap()
            .into_iter()
            .map(|r| r.result_id)
            .collect();
        let latest: Vec<String> = (total - KEEP_ACKNOWLEDGED as usize..total)
            .map(|n| format!("r{n:04}"))
            .collect();
        assert_eq!(kept, latest);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
