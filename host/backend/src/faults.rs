//! Fault injection for the reference backend: a [`FaultPlan`] says which share of the Nexori endpoint
//! requests get which misbehaviour; a seeded xorshift generator decides per request, so the same plan
//! and the same request order give the same faults on every run.
//!
//! Faults apply to `POST /nexori/results` and `POST /nexori/matches/state` only (narrowed by
//! [`FaultScope`]); the admin, API and HTML endpoints never fail on purpose. Every injected answer
//! carries the header `X-Nexori-Backend-Fault: <kind>` and is counted in [`FaultCounts`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A [`FaultPlan`] that cannot apply; the text names what is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidFaultPlan(pub String);

/// One kind of injected misbehaviour. Exactly one kind (or none) is drawn per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// Answer [`FaultPlan::server_error_status`] (default 500) without processing the request.
    ServerError,
    /// Answer 429 with `Retry-After: 1` without processing the request.
    RateLimited,
    /// Answer 401 without processing the request, whatever the token.
    Unauthorized,
    /// Hold the request for [`FaultPlan::timeout_hold_ms`] and then process and answer it normally:
    /// the client has usually given up by then, but its disconnect does not cancel the processing
    /// (the request *was* received). With `timeout_hold_ms: None`, never answer and never process:
    /// the request is held until the client disconnects or the backend shuts down. A shutdown during
    /// a hold answers 503 without processing.
    Timeout,
    /// Wait [`FaultPlan::slow_delay_ms`], then process and answer normally (a client that gives up
    /// meanwhile does not cancel the processing).
    Slow,
    /// Process the request normally, then answer `200` with a body that is not JSON (whatever the
    /// real answer would have been).
    Malformed,
    /// Process the request normally (it is stored, side effects applied), then answer `503`: the
    /// "accepted but the answer was lost" case that idempotency keys exist for.
    DropAnswer,
}

impl FaultKind {
    /// Every kind, in the order the shares are laid out on the unit interval.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::ServerError,
        FaultKind::RateLimited,
        FaultKind::Unauthorized,
        FaultKind::Timeout,
        FaultKind::Slow,
        FaultKind::Malformed,
        FaultKind::DropAnswer,
    ];

    /// The name used in JSON and in the `X-Nexori-Backend-Fault` header.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::ServerError => "serverError",
            FaultKind::RateLimited => "rateLimited",
            FaultKind::Unauthorized => "unauthorized",
            FaultKind::Timeout => "timeout",
            FaultKind::Slow => "slow",
            FaultKind::Malformed => "malformed",
            FaultKind::DropAnswer => "dropAnswer",
        }
    }

    fn index(self) -> usize {
        FaultKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// Which endpoints a [`FaultPlan`] applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FaultScope {
    /// Both `/nexori/results` and `/nexori/matches/state` (default).
    #[default]
    All,
    /// Only `/nexori/results`.
    Results,
    /// Only `/nexori/matches/state`.
    State,
}

/// The endpoint a request arrived on, for [`FaultScope`] filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /nexori/results`.
    Results,
    /// `POST /nexori/matches/state`.
    State,
}

/// What to inject. Shares are probabilities in `0.0..=1.0` whose sum is at most 1; they are laid out
/// on the unit interval in [`FaultKind::ALL`] order and one uniform draw per in-scope request picks
/// the kind (or none). The JSON form (for `POST /admin/faults`) uses the camelCase field names below;
/// missing fields take their defaults, unknown fields are rejected.
///
/// ```json
/// {"seed": 7, "serverError": 0.2, "rateLimited": 0.1, "timeout": 0.05, "timeoutHoldMs": 2000}
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultPlan {
    /// Seed of the per-request generator; the generator restarts from it whenever a plan is set.
    pub seed: u64,
    /// Share of requests answered with `server_error_status`.
    pub server_error: f64,
    /// Status used for [`FaultKind::ServerError`], `500..=599` (default 500).
    pub server_error_status: u16,
    /// Share of requests answered 429.
    pub rate_limited: f64,
    /// Share of requests answered 401.
    pub unauthorized: f64,
    /// Share of requests held as a timeout.
    pub timeout: f64,
    /// How long a timeout holds the request before answering; `None` = never answer (default).
    pub timeout_hold_ms: Option<u64>,
    /// Share of requests answered slowly.
    pub slow: f64,
    /// Delay of a slow answer (default 1000 ms).
    pub slow_delay_ms: u64,
    /// Share of requests processed and answered 200 with a non-JSON body.
    pub malformed: f64,
    /// Share of requests processed and answered 503.
    pub drop_answer: f64,
    /// Endpoints the plan applies to.
    pub scope: FaultScope,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            seed: 1,
            server_error: 0.0,
            server_error_status: 500,
            rate_limited: 0.0,
            unauthorized: 0.0,
            timeout: 0.0,
            timeout_hold_ms: None,
            slow: 0.0,
            slow_delay_ms: 1000,
            malformed: 0.0,
            drop_answer: 0.0,
            scope: FaultScope::All,
        }
    }
}

impl FaultPlan {
    /// No faults at all (the default).
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// The same plan with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same plan with the share of `kind` set to `share`.
    pub fn with(mut self, kind: FaultKind, share: f64) -> Self {
        *self.share_mut(kind) = share;
        self
    }

    /// The same plan limited to some endpoints.
    pub fn with_scope(mut self, scope: FaultScope) -> Self {
        self.scope = scope;
        self
    }

    /// The share of one kind.
    pub fn share(&self, kind: FaultKind) -> f64 {
        match kind {
            FaultKind::ServerError => self.server_error,
            FaultKind::RateLimited => self.rate_limited,
            FaultKind::Unauthorized => self.unauthorized,
            FaultKind::Timeout => self.timeout,
            FaultKind::Slow => self.slow,
            FaultKind::Malformed => self.malformed,
            FaultKind::DropAnswer => self.drop_answer,
        }
    }

    fn share_mut(&mut self, kind: FaultKind) -> &mut f64 {
        match kind {
            FaultKind::ServerError => &mut self.server_error,
            FaultKind::RateLimited => &mut self.rate_limited,
            FaultKind::Unauthorized => &mut self.unauthorized,
            FaultKind::Timeout => &mut self.timeout,
            FaultKind::Slow => &mut self.slow,
            FaultKind::Malformed => &mut self.malformed,
            FaultKind::DropAnswer => &mut self.drop_answer,
        }
    }

    /// Checks the shares (each finite in `0..=1`, sum at most 1) and the server error status.
    ///
    /// # Errors
    ///
    /// [`InvalidFaultPlan`] naming the share or status that is out of range.
    pub fn validate(&self) -> Result<(), InvalidFaultPlan> {
        let mut sum = 0.0;
        for kind in FaultKind::ALL {
            let share = self.share(kind);
            if !share.is_finite() || !(0.0..=1.0).contains(&share) {
                return Err(InvalidFaultPlan(format!(
                    "fault share {} must be between 0.0 and 1.0, got {share}",
                    kind.as_str()
                )));
            }
            sum += share;
        }
        if sum > 1.0 + 1e-9 {
            return Err(InvalidFaultPlan(format!(
                "fault shares add up to {sum}, more than 1.0"
            )));
        }
        if !(500..=599).contains(&self.server_error_status) {
            return Err(InvalidFaultPlan(format!(
                "serverErrorStatus must be 500..=599, got {}",
                self.server_error_status
            )));
        }
        Ok(())
    }

    fn applies_to(&self, endpoint: Endpoint) -> bool {
        matches!(
            (self.scope, endpoint),
            (FaultScope::All, _)
                | (FaultScope::Results, Endpoint::Results)
                | (FaultScope::State, Endpoint::State)
        )
    }

    /// The kind picked by a uniform draw `u` in `[0, 1)`.
    fn pick(&self, u: f64) -> Option<FaultKind> {
        let mut upper = 0.0;
        for kind in FaultKind::ALL {
            let share = self.share(kind);
            upper += share;
            if share > 0.0 && u < upper {
                return Some(kind);
            }
        }
        None
    }
}

/// How many faults of each kind were injected since the backend started (not reset by a new plan).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultCounts {
    /// Requests answered [`FaultPlan::server_error_status`] without processing
    /// ([`FaultKind::ServerError`]).
    pub server_error: u64,
    /// Requests answered 429 without processing ([`FaultKind::RateLimited`]).
    pub rate_limited: u64,
    /// Requests answered 401 without processing ([`FaultKind::Unauthorized`]).
    pub unauthorized: u64,
    /// Requests held as a timeout ([`FaultKind::Timeout`]), counted when drawn, answered or not.
    pub timeout: u64,
    /// Requests delayed before processing ([`FaultKind::Slow`]).
    pub slow: u64,
    /// Requests processed and answered 200 with a non-JSON body ([`FaultKind::Malformed`]).
    pub malformed: u64,
    /// Requests processed and answered 503 ([`FaultKind::DropAnswer`]).
    pub drop_answer: u64,
    /// Sum of the above.
    pub total: u64,
}

impl FaultCounts {
    /// The count of one kind.
    pub fn get(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::ServerError => self.server_error,
            FaultKind::RateLimited => self.rate_limited,
            FaultKind::Unauthorized => self.unauthorized,
            FaultKind::Timeout => self.timeout,
            FaultKind::Slow => self.slow,
            FaultKind::Malformed => self.malformed,
            FaultKind::DropAnswer => self.drop_answer,
        }
    }
}

/// xorshift64* — tiny, seedable, good enough to spread faults.
#[derive(Clone, Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Scramble the seed (splitmix64 step) so nearby seeds diverge; the state must not be zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The live plan, its generator and the counters.
pub(crate) struct FaultInjector {
    state: Mutex<(FaultPlan, XorShift)>,
    counts: [AtomicU64; 7],
}

impl FaultInjector {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        let rng = XorShift::new(plan.seed);
        FaultInjector {
            state: Mutex::new((plan, rng)),
            counts: Default::default(),
        }
    }

    /// Replaces the plan and restarts the generator from its seed.
    pub(crate) fn set(&self, plan: FaultPlan) {
        let rng = XorShift::new(plan.seed);
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = (plan, rng);
    }

    pub(crate) fn plan(&self) -> FaultPlan {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Draws for one request on `endpoint`; returns the kind to inject (already counted) and the plan
    /// it was drawn from. Requests outside the plan's scope do not consume a draw.
    pub(crate) fn decide(&self, endpoint: Endpoint) -> Option<(FaultKind, FaultPlan)> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (plan, rng) = &mut *guard;
        if !plan.applies_to(endpoint) {
            return None;
        }
        let u = rng.next_unit();
        let kind = plan.pick(u)?;
        self.counts[kind.index()].fetch_add(1, Ordering::SeqCst);
        Some((kind, plan.clone()))
    }

    pub(crate) fn counts(&self) -> FaultCounts {
        let c = |k: FaultKind| self.counts[k.index()].load(Ordering::SeqCst);
        let mut counts = FaultCounts {
            server_error: c(FaultKind::ServerError),
            rate_limited: c(FaultKind::RateLimited),
            unauthorized: c(FaultKind::Unauthorized),
            timeout: c(FaultKind::Timeout),
            slow: c(FaultKind::Slow),
            malformed: c(FaultKind::Malformed),
            drop_answer: c(FaultKind::DropAnswer),
            total: 0,
        };
        counts.total = FaultKind::ALL.iter().map(|k| counts.get(*k)).sum();
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let plan = FaultPlan::none()
            .with_seed(42)
            .with(FaultKind::ServerError, 0.3)
            .with(FaultKind::Slow, 0.2);
        let a = FaultInjector::new(plan.clone());
        let b = FaultInjector::new(plan);
        let sa: Vec<_> = (0..200)
            .map(|_| a.decide(Endpoint::Results).map(|d| d.0))
            .collect();
        let sb: Vec<_> = (0..200)
            .map(|_| b.decide(Endpoint::Results).map(|d| d.0))
            .collect();
        assert_eq!(sa, sb);
        let errors = sa
            .iter()
            .filter(|k| **k == Some(FaultKind::ServerError))
            .count();
        assert!((30..=90).contains(&errors), "{errors}");
        assert_eq!(a.counts().server_error as usize, errors);
    }

    #[test]
    fn full_share_always_and_scope() {
        let inj = FaultInjector::new(
            FaultPlan::none()
                .with(FaultKind::RateLimited, 1.0)
                .with_scope(FaultScope::State),
        );
        assert!(inj.decide(Endpoint::Results).is_none());
        for _ in 0..50 {
            assert_eq!(
                inj.decide(Endpoint::State).map(|d| d.0),
                Some(FaultKind::RateLimited)
            );
        }
    }

    #[test]
    fn validation() {
        assert!(FaultPlan::none().validate().is_ok());
        assert!(
            FaultPlan::none()
                .with(FaultKind::Slow, 1.5)
                .validate()
                .is_err()
        );
        assert!(
            FaultPlan::none()
                .with(FaultKind::Slow, 0.6)
                .with(FaultKind::Timeout, 0.6)
                .validate()
                .is_err()
        );
        let json: FaultPlan = serde_json::from_str(r#"{"seed":3,"dropAnswer":0.5}"#).unwrap();
        assert_eq!(json.drop_answer, 0.5);
        assert!(serde_json::from_str::<FaultPlan>(r#"{"bogus":1}"#).is_err());
    }
}
