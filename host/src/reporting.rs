//! Result reporting: the enqueue plan of §3.1 in front of a delivery backend.
//!
//! [`ResultReporter`] is the seam between the runtime's accepted results and delivery. The
//! [`RecordingReporter`] keeps results in memory and treats them as acknowledged; it is what
//! simulations use (bridge-protocol.md: "an in-process recorder that answers ACCEPTED").

use serde_json::Value;
use uuid::Uuid;

use crate::config::HostConfig;
use crate::runtime::model::BackendReportStatus;
use crate::runtime::results::AcceptedResult;

/// What enqueueing a result decided.
#[derive(Debug, Clone, PartialEq)]
pub struct EnqueueOutcome {
    pub status: BackendReportStatus,
    pub message: String,
    /// The durable id, `""` when nothing was stored.
    pub result_id: String,
    /// The body as sent, or as it would have been sent (with `resultId` `""`).
    pub body: Value,
}

/// Accepts results for delivery to `POST /nexori/results`.
pub trait ResultReporter: Send {
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome;
}

/// Makes ids. Simulations use a seeded sequence so that traces are reproducible.
#[derive(Debug, Clone)]
pub enum IdGenerator {
    Random,
    Seeded(u64),
}

impl IdGenerator {
    /// A lowercase, hyphenated, version-4 UUID.
    pub fn next_uuid(&mut self) -> String {
        let uuid = match self {
            Self::Random => Uuid::new_v4(),
            Self::Seeded(state) => {
                let mut bytes = [0u8; 16];
                for chunk in bytes.chunks_mut(8) {
                    // splitmix64: cheap, well-distributed and dependency-free.
                    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = *state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
                }
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
        };
        uuid.hyphenated().to_string()
    }
}

/// The part of the §3.1 plan that does not depend on the store: reporting switches and
/// `externalMatchId`. `None` means "go on and store it".
pub fn precheck(
    config: &HostConfig,
    result: &AcceptedResult,
) -> Option<(BackendReportStatus, &'static str)> {
    if !config.result_reporting_enabled {
        return Some((
            BackendReportStatus::Disabled,
            "Result reporting is disabled.",
        ));
    }
    if !config.backend_usable() {
        return Some((
            BackendReportStatus::Disabled,
            "Result reporting requires baseUrl and serverToken.",
        ));
    }
    if result.external_match_id.is_empty() {
        return Some((
            BackendReportStatus::ExternalMatchMissing,
            "Match has no externalMatchId.",
        ));
    }
    None
}

/// Which stored record a new result collides with (§3.1 step 4): same non-blank local or
/// external match id. Same hash is a repeat, a different one a conflict.
pub fn duplicate_status<'a>(
    existing: impl IntoIterator<Item = (&'a str, &'a str, &'a str, &'a str)>,
    result: &AcceptedResult,
) -> Option<(BackendReportStatus, &'static str, String)> {
    for (result_id, local, external, hash) in existing {
        let same_local = !local.is_empty() && local == result.local_match_id;
        let same_external = !external.is_empty() && external == result.external_match_id;
        if same_local || same_external {
            return Some(if hash == result.payload_hash {
                (
                    BackendReportStatus::AlreadySubmitted,
                    "Result already exists.",
                    result_id.to_string(),
                )
            } else {
                (
                    BackendReportStatus::DuplicateConflict,
                    "Result conflicts with an existing local or external match result.",
                    result_id.to_string(),
                )
            });
        }
    }
    None
}

/// A stored result of the in-memory recorder.
#[derive(Debug, Clone)]
pub struct RecordedResult {
    pub result_id: String,
    pub result: AcceptedResult,
    pub body: Value,
}

/// Keeps results in memory and treats each as acknowledged at once.
pub struct RecordingReporter {
    config: HostConfig,
    ids: IdGenerator,
    pub results: Vec<RecordedResult>,
}

impl RecordingReporter {
    pub fn new(config: HostConfig, ids: IdGenerator) -> Self {
        Self {
            config,
            ids,
            results: Vec::new(),
        }
    }
}

impl ResultReporter for RecordingReporter {
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome {
        let server_id = self.config.server_id.clone();
        let unsent = |status, message: &str| EnqueueOutcome {
            status,
            message: message.to_string(),
            result_id: String::new(),
            body: result.body("", &server_id, now),
        };
        if let Some((status, message)) = precheck(&self.config, result) {
            return unsent(status, message);
        }
        let existing = self.results.iter().map(|r| {
            (
                r.result_id.as_str(),
                r.result.local_match_id.as_str(),
                r.result.external_match_id.as_str(),
                r.result.payload_hash.as_str(),
            )
        });
        if let Some((status, message, result_id)) = duplicate_status(existing, result) {
            return EnqueueOutcome {
                result_id: result_id.clone(),
                body: result.body(&result_id, &server_id, now),
                ..unsent(status, message)
            };
        }
        let result_id = self.ids.next_uuid();
        let body = result.body(&result_id, &server_id, now);
        self.results.push(RecordedResult {
            result_id: result_id.clone(),
            result: result.clone(),
            body: body.clone(),
        });
        EnqueueOutcome {
            status: BackendReportStatus::Queued,
            message: "Result queued.".to_string(),
            result_id,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_reproducible_v4_uuids() {
        let mut a = IdGenerator::Seeded(7);
        let mut b = IdGenerator::Seeded(7);
        let first = a.next_uuid();
        assert_eq!(first, b.next_uuid());
        assert_ne!(first, a.next_uuid());
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "4");
    }
}
