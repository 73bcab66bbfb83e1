//! How the host reads the backend's answers
//! (docs/arena-behaviour.md#how-the-backends-answers-are-read for results,
//! docs/arena-behaviour.md#answers for admission state). Pure functions of (HTTP status, body), so
//! every status class is unit-tested.

use serde_json::Value;

/// Back-off after 401/403 from either endpoint.
pub const AUTH_BACKOFF_MS: i64 = 30_000;
/// Back-off after an answer that is neither success nor a known failure class.
pub const RESULT_ERROR_BACKOFF_MS: i64 = 5_000;

/// Health as operators see it (the reporting health record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Health {
    /// The last answer was an acknowledgement (or, for admission state, any 2xx), or nothing was
    /// sent yet.
    Healthy,
    /// The backend answered 401 (admission state: 401 or 403): the server token was refused;
    /// sending waits [`AUTH_BACKOFF_MS`].
    AuthFailed,
    /// The results endpoint answered 403; sending waits [`AUTH_BACKOFF_MS`].
    AuthForbidden,
    /// A result got a retryable or unexpected answer (429, 5xx, none, or anything not
    /// acknowledging it) and will be sent again.
    ResultReportFailed,
    /// A result was rejected for good (400 or 422 without an acknowledgement); it stays
    /// `FAILED_PERMANENT` until `nexori outbox retry`.
    FailedPermanent,
    /// Admission reporting is enabled but `baseUrl` or `serverToken` is blank, so nothing can be
    /// sent (docs/arena-behaviour.md#publication).
    ConfigInvalid,
    /// Never set: no code path of this host reports it.
    InFlightStale,
}

/// What to do with a result after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultVerdict {
    /// Delivered: `ACCEPTED` or `DUPLICATE` for this result id, whatever the status code.
    Acknowledged {
        /// The body's `status` as the backend wrote it, trimmed (`ACCEPTED`, `duplicate`, ...).
        backend_status: String,
    },
    /// 400/422 without an acknowledgement: never retried.
    FailedPermanent {
        /// `EMPTY_BODY`, `INVALID_JSON` or `HTTP_<status>`.
        error_class: String,
    },
    /// Try again after `backoff_ms`.
    Retry {
        /// How long the result waits before its next attempt, in ms: [`AUTH_BACKOFF_MS`] after
        /// 401/403, the configured retry interval after 429, 5xx or no answer, else
        /// [`RESULT_ERROR_BACKOFF_MS`].
        backoff_ms: i64,
        /// The health the answer puts result reporting in.
        health: Health,
        /// `TRANSPORT` (no answer), `EMPTY_BODY`, `INVALID_JSON` or `HTTP_<status>`.
        error_class: String,
    },
}

/// docs/arena-behaviour.md#how-the-backends-answers-are-read. `status` is 0 when no HTTP answer
/// arrived (timeout, connection refused).
pub fn result_verdict(
    status: u16,
    body: &str,
    result_id: &str,
    retry_interval_ms: i64,
) -> ResultVerdict {
    let parsed = parse_body(body);
    if let Ok(v) = &parsed {
        let received = v.get("receivedResultId").and_then(Value::as_str);
        let backend_status = v
            .get("status")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or("");
        let acknowledged = ["ACCEPTED", "DUPLICATE"]
            .iter()
            .any(|s| backend_status.eq_ignore_ascii_case(s));
        if received == Some(result_id) && acknowledged {
            return ResultVerdict::Acknowledged {
                backend_status: backend_status.to_string(),
            };
        }
    }
    let error_class = match (&parsed, status) {
        (_, 0) => "TRANSPORT".to_string(),
        (Err(class), _) => class.clone(),
        (Ok(_), _) => format!("HTTP_{status}"),
    };
    match status {
        400 | 422 => ResultVerdict::FailedPermanent { error_class },
        401 => ResultVerdict::Retry {
            backoff_ms: AUTH_BACKOFF_MS,
            health: Health::AuthFailed,
            error_class,
        },
        403 => ResultVerdict::Retry {
            backoff_ms: AUTH_BACKOFF_MS,
            health: Health::AuthForbidden,
            error_class,
        },
        0 | 429 | 500..=599 => ResultVerdict::Retry {
            backoff_ms: retry_interval_ms,
            health: Health::ResultReportFailed,
            error_class,
        },
        _ => ResultVerdict::Retry {
            backoff_ms: RESULT_ERROR_BACKOFF_MS,
            health: Health::ResultReportFailed,
            error_class,
        },
    }
}

fn parse_body(body: &str) -> Result<Value, String> {
    if body.trim().is_empty() {
        return Err("EMPTY_BODY".to_string());
    }
    serde_json::from_str::<Value>(body).map_err(|_| "INVALID_JSON".to_string())
}

/// How an admission-state answer classifies (docs/arena-behaviour.md#answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateVerdict {
    /// 2xx and semantically accepted (`""`, OK, ACCEPTED, DUPLICATE, DUPLICATE_ACCEPTED).
    Acknowledged {
        /// The body's `status`, trimmed; `OK` when the body had none or was not JSON.
        backend_status: String,
    },
    /// 2xx with another status (`STALE`, `REJECTED`, ...): the snapshot's reasons are dirty
    /// again and its reservation ids stay pending (D7).
    NotAcknowledged {
        /// The body's `status`, trimmed, as the backend wrote it.
        backend_status: String,
    },
    /// 400/422.
    PermanentFailure,
    /// 401/403.
    AuthFailure,
    /// 408, 429, ≥ 500 and no answer.
    Retryable,
    /// Anything else (3xx, 404, 409, ...).
    Unexpected,
}

/// docs/arena-behaviour.md#answers.
pub fn state_verdict(status: u16, body: &str) -> StateVerdict {
    match status {
        200..=299 => {
            let backend_status = serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|v| {
                    v.get("status")
                        .and_then(Value::as_str)
                        .map(|s| s.trim().to_string())
                })
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "OK".to_string());
            let upper = backend_status.to_ascii_uppercase();
            if ["", "OK", "ACCEPTED", "DUPLICATE", "DUPLICATE_ACCEPTED"].contains(&upper.as_str()) {
                StateVerdict::Acknowledged { backend_status }
            } else {
                StateVerdict::NotAcknowledged { backend_status }
            }
        }
        400 | 422 => StateVerdict::PermanentFailure,
        401 | 403 => StateVerdict::AuthFailure,
        0 | 408 | 429 | 500..=599 => StateVerdict::Retryable,
        _ => StateVerdict::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2";

    fn ack(status: &str) -> String {
        format!(r#"{{"schemaVersion":1,"receivedResultId":"{ID}","status":"{status}"}}"#)
    }

    #[test]
    fn results_are_acknowledged_by_body_whatever_the_status_code() {
        for code in [200, 202, 400, 500] {
            assert_eq!(
                result_verdict(code, &ack(" accepted "), ID, 5000),
                ResultVerdict::Acknowledged {
                    backend_status: "accepted".into()
                }
            );
        }
        assert_eq!(
            result_verdict(200, &ack("DUPLICATE"), ID, 5000),
            ResultVerdict::Acknowledged {
                backend_status: "DUPLICATE".into()
            }
        );
    }

    #[test]
    fn each_failure_class_gets_its_backoff() {
        let retry = |code, body: &str| result_verdict(code, body, ID, 7000);
        assert_eq!(
            retry(400, ""),
            ResultVerdict::FailedPermanent {
                error_class: "EMPTY_BODY".into()
            }
        );
        assert_eq!(
            retry(422, "{}"),
            ResultVerdict::FailedPermanent {
                error_class: "HTTP_422".into()
            }
        );
        assert_eq!(
            retry(401, ""),
            ResultVerdict::Retry {
                backoff_ms: 30_000,
                health: Health::AuthFailed,
                error_class: "EMPTY_BODY".into()
            }
        );
        assert!(matches!(
            retry(403, "{}"),
            ResultVerdict::Retry {
                backoff_ms: 30_000,
                health: Health::AuthForbidden,
                ..
            }
        ));
        for code in [0, 429, 500, 503] {
            assert!(
                matches!(
                    retry(code, ""),
                    ResultVerdict::Retry {
                        backoff_ms: 7000,
                        health: Health::ResultReportFailed,
                        ..
                    }
                ),
                "{code}"
            );
        }
        // 2xx with the wrong id, an unknown status or junk, and odd codes: the fixed error backoff.
        let wrong_id = r#"{"receivedResultId":"other","status":"ACCEPTED"}"#;
        for (code, body) in [
            (200, wrong_id),
            (200, r#"{"receivedResultId":"x","status":"MAYBE"}"#),
            (200, "<html>"),
            (404, ""),
            (409, "{}"),
            (302, ""),
        ] {
            assert!(
                matches!(
                    retry(code, body),
                    ResultVerdict::Retry {
                        backoff_ms: 5000,
                        ..
                    }
                ),
                "{code} {body}"
            );
        }
        assert!(
            matches!(retry(200, "<html>"), ResultVerdict::Retry { error_class, .. } if error_class == "INVALID_JSON")
        );
    }

    #[test]
    fn state_answers_are_classified() {
        for body in [
            "",
            "junk",
            r#"{"status":""}"#,
            r#"{"status":"ok"}"#,
            r#"{"status":"DUPLICATE_ACCEPTED"}"#,
            r#"{"status":"ACCEPTED"}"#,
        ] {
            assert!(
                matches!(state_verdict(200, body), StateVerdict::Acknowledged { .. }),
                "{body}"
            );
        }
        assert_eq!(
            state_verdict(200, r#"{"status":"STALE"}"#),
            StateVerdict::NotAcknowledged {
                backend_status: "STALE".into()
            }
        );
        assert_eq!(state_verdict(422, ""), StateVerdict::PermanentFailure);
        assert_eq!(state_verdict(403, ""), StateVerdict::AuthFailure);
        for code in [0, 408, 429, 502] {
            assert_eq!(state_verdict(code, ""), StateVerdict::Retryable);
        }
        for code in [301, 404, 409, 418] {
            assert_eq!(state_verdict(code, ""), StateVerdict::Unexpected);
        }
    }
}
