//! Checking a log against a reported result: the log is the one the host recorded for it when
//! the hash of its inputs before the result, its mod and its result body are the result's.

use serde_json::Value;

use crate::format::{INPUT_LOG_SHA256_KEY, MOD_SHA256_KEY, ReadError, read_logs};

/// A log that backs a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The match.
    pub match_id: String,
    /// The result.
    pub result_id: String,
    /// The input hash both agree on.
    pub input_log_sha256: String,
    /// The mod both agree on.
    pub mod_sha256: String,
    /// The line of the result record in the log (1-based).
    pub line: usize,
}

/// Why a log does not back a result. The text says what differs.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log cannot be read.
    #[error("the log cannot be read: {0}")]
    Read(#[from] ReadError),
    /// The stored result has no `resultId`, or carries no hashes in `metadata`.
    #[error("the result carries no {0} to check the log against")]
    NotStamped(&'static str),
    /// No log in the file recorded this result.
    #[error("no log in the file records result {0}")]
    NoResult(String),
    /// The log was served by another mod.
    #[error("the log's mod has SHA-256 {log}; the result says {result}")]
    ModDiffers {
        /// The log header's.
        log: String,
        /// The result's.
        result: String,
    },
    /// The inputs differ from those the result was computed from.
    #[error(
        "the log's inputs hash to {log}; the result says {result}: an input was changed, added or removed"
    )]
    InputsDiffer {
        /// The hash of the log's inputs before the result.
        log: String,
        /// The result's `inputLogSha256`.
        result: String,
    },
    /// The result the log recorded is not the stored one.
    #[error("the log records a different result body at line {line}: field {field:?} differs")]
    BodyDiffers {
        /// The line of the result record.
        line: usize,
        /// The first top-level field that differs.
        field: String,
    },
}

fn metadata<'a>(body: &'a Value, key: &'static str) -> Result<&'a str, VerifyError> {
    body.pointer(&format!("/metadata/{key}"))
        .and_then(Value::as_str)
        .ok_or(VerifyError::NotStamped(key))
}

/// Checks that `file` (a log file, compressed or not) is the recording behind `stored`, a result
/// body as the backend received it: the log's inputs before the result hash to its
/// `inputLogSha256`, its mod is `modSha256`, and it recorded this body (apart from
/// `sentAtEpochMs`, which each sending attempt sets).
///
/// # Errors
///
/// [`VerifyError`] saying what does not match.
pub fn verify(file: &[u8], stored: &Value) -> Result<Verified, VerifyError> {
    let result_id = stored
        .get("resultId")
        .and_then(Value::as_str)
        .ok_or(VerifyError::NotStamped("resultId"))?;
    let claimed_inputs = metadata(stored, INPUT_LOG_SHA256_KEY)?;
    let claimed_mod = metadata(stored, MOD_SHA256_KEY)?;
    for log in read_logs(file)? {
        let Some((record, body)) = log
            .results()
            .find(|(_, body)| body.get("resultId").and_then(Value::as_str) == Some(result_id))
        else {
            continue;
        };
        let line = record.line_number;
        if log.header.module.sha256 != claimed_mod {
            return Err(VerifyError::ModDiffers {
                log: log.header.module.sha256.clone(),
                result: claimed_mod.to_string(),
            });
        }
        let hash = log.input_hash_until(|r| r.line_number == line);
        if hash != claimed_inputs {
            return Err(VerifyError::InputsDiffer {
                log: hash,
                result: claimed_inputs.to_string(),
            });
        }
        // `sentAtEpochMs` is the sending attempt's, written again on every retry.
        let (ours, theirs) = (without_sent_at(body), without_sent_at(stored));
        if ours != theirs {
            let field = first_difference(&ours, &theirs);
            return Err(VerifyError::BodyDiffers { line, field });
        }
        return Ok(Verified {
            match_id: log.header.match_id.clone(),
            result_id: result_id.to_string(),
            input_log_sha256: hash,
            mod_sha256: claimed_mod.to_string(),
            line,
        });
    }
    Err(VerifyError::NoResult(result_id.to_string()))
}

fn without_sent_at(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(object) = body.as_object_mut() {
        object.remove("sentAtEpochMs");
    }
    body
}

fn first_difference(a: &Value, b: &Value) -> String {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => a
            .keys()
            .chain(b.keys())
            .find(|k| a.get(*k) != b.get(*k))
            .cloned()
            .unwrap_or_default(),
        _ => String::new(),
    }
}
