//! Who may use the bridge and `/metrics` of `nexori serve`.
//!
//! - **The bridge** takes `Authorization: Bearer <bridge.token>`. The scheme is matched in any case
//!   (`bearer`, `BEARER`: RFC 9110 §11.1 makes schemes case-insensitive) and the token is compared
//!   in constant time: the SHA-256 digests of the presented and configured tokens are compared
//!   with `subtle`, so the time taken says nothing about the token's content or length.
//! - **`?token=<bridge.token>`** in the URL still works, for game servers written against earlier
//!   versions, but is discouraged: URLs end up in proxy and access logs. Each connection name
//!   (`?server=`) that uses it gets one warning in the log.
//! - **`/metrics`** is open while `bridge.metricsToken` is empty (loopback deployments); once it is
//!   set, it takes `Authorization: Bearer <metricsToken>` and answers 401 otherwise.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Connection names remembered as already warned about `?token=`. Only authenticated game
/// servers add to it; past this many names it starts over (a name may then be warned again).
const MAX_WARNED_NAMES: usize = 1024;

/// How a game server authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Header,
    /// `?token=<token>` (discouraged).
    Query,
}

/// The configured tokens and the connection names already warned about `?token=`.
pub struct BridgeAuth {
    bridge: Secret,
    metrics: Option<Secret>,
    query_token_warned: Mutex<HashSet<String>>,
}

impl BridgeAuth {
    /// `bridge_token` must not be blank (`validate_for_serve` sees to it); a blank
    /// `metrics_token` leaves `/metrics` open. Both are already trimmed by the config.
    pub fn new(bridge_token: &str, metrics_token: &str) -> Self {
        BridgeAuth {
            bridge: Secret::new(bridge_token),
            metrics: (!metrics_token.is_empty()).then(|| Secret::new(metrics_token)),
            query_token_warned: Mutex::new(HashSet::new()),
        }
    }

    /// How the request to `/bridge` authenticated, if it did. A bearer header is used when
    /// present; `?token=` only without one.
    pub fn bridge(&self, headers: &HeaderMap, query_token: Option<&str>) -> Option<Credential> {
        match bearer(headers) {
            Some(token) => self.bridge.matches(token).then_some(Credential::Header),
            None => query_token
                .filter(|token| self.bridge.matches(token))
                .map(|_| Credential::Query),
        }
    }

    /// Whether a request to `/metrics` may read it.
    pub fn metrics(&self, headers: &HeaderMap) -> bool {
        self.metrics
            .as_ref()
            .is_none_or(|secret| bearer(headers).is_some_and(|token| secret.matches(token)))
    }

    /// Logs, once per connection name, that `server` authenticated with `?token=`.
    pub fn warn_query_token(&self, server: &str) {
        let mut warned = self
            .query_token_warned
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if warned.contains(server) {
            return;
        }
        if warned.len() >= MAX_WARNED_NAMES {
            warned.clear();
        }
        warned.insert(server.to_string());
        tracing::warn!(
            target: "nexori::serve",
            server,
            "game server authenticated with ?token= in the URL, which ends up in proxy and access \
             logs; send `Authorization: Bearer <token>` instead"
        );
    }
}

/// The token of an `Authorization: Bearer <token>` header, trimmed; `None` without such a header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?.trim_start();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// A configured token, kept as its digest.
struct Secret([u8; 32]);

impl Secret {
    fn new(token: &str) -> Self {
        Secret(Sha256::digest(token.as_bytes()).into())
    }

    /// Constant time in the presented token's content and length (both are hashed first). An
    /// empty token never matches.
    fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        !presented.is_empty() && bool::from(digest.ct_eq(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", authorization.parse().unwrap());
        headers
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_exact() {
        let auth = BridgeAuth::new("secret", "");
        for ok in [
            "Bearer secret",
            "bearer secret",
            "BEARER secret",
            "bEaReR  secret ",
        ] {
            assert_eq!(
                auth.bridge(&headers(ok), None),
                Some(Credential::Header),
                "{ok}"
            );
        }
        for refused in [
            "Bearer secre",
            "Bearer secret2",
            "Bearer Secret",
            "Bearer ",
            "Basic secret",
            "Bearersecret",
            "secret",
        ] {
            assert_eq!(auth.bridge(&headers(refused), None), None, "{refused}");
        }
    }

    #[test]
    fn the_query_token_counts_only_without_a_header() {
        let auth = BridgeAuth::new("secret", "");
        let none = HeaderMap::new();
        assert_eq!(auth.bridge(&none, Some("secret")), Some(Credential::Query));
        assert_eq!(auth.bridge(&none, Some("wrong")), None);
        assert_eq!(auth.bridge(&none, Some("")), None);
        assert_eq!(auth.bridge(&none, None), None);
        assert_eq!(
            auth.bridge(&headers("Bearer wrong"), Some("secret")),
            None,
            "a wrong header is not rescued by the query"
        );
    }

    #[test]
    fn metrics_are_open_without_a_metrics_token_and_need_it_otherwise() {
        let open = BridgeAuth::new("secret", "");
        assert!(open.metrics(&HeaderMap::new()));
        let closed = BridgeAuth::new("secret", "watch");
        assert!(!closed.metrics(&HeaderMap::new()));
        assert!(!closed.metrics(&headers("Bearer secret")));
        assert!(!closed.metrics(&headers("Basic watch")));
        assert!(closed.metrics(&headers("Bearer watch")));
        assert!(closed.metrics(&headers("bearer watch")));
    }

    #[test]
    fn warned_names_stay_bounded() {
        let auth = BridgeAuth::new("secret", "");
        for i in 0..3 * MAX_WARNED_NAMES {
            auth.warn_query_token(&format!("server-{i}"));
        }
        assert!(auth.query_token_warned.lock().unwrap().len() <= MAX_WARNED_NAMES);
    }
}
