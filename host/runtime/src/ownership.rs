//! Ownership (Decision D13): a mod sees and changes only matches whose `rulesEngineId` it
//! registered. The host runs each mod's API call inside [`Arena::scoped`]; every lookup goes
//! through [`Arena::get`] or `Arena::live_match_id` (crate-private), which treat a match outside
//! the scope exactly like a match that does not exist. One enforcement point, so no API method can
//! forget.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Arena, Match};

/// The rules engine ids whose matches a caller may see.
pub type Scope = Arc<BTreeSet<String>>;

impl Arena {
    /// Runs `f` with lookups restricted to `scope`.
    pub fn scoped<R>(&mut self, scope: &Scope, f: impl FnOnce(&mut Arena) -> R) -> R {
        let previous = self.scope.replace(scope.clone());
        let result = f(self);
        self.scope = previous;
        result
    }

    /// Sets the scope for the calls that follow and returns the previous one, for callers
    /// that cannot hold a closure across their borrows.
    pub fn scope_replace(&mut self, scope: Option<Scope>) -> Option<Scope> {
        std::mem::replace(&mut self.scope, scope)
    }

    pub(crate) fn visible(&self, m: &Match) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|scope| scope.contains(&m.rules_engine_id))
    }
}
