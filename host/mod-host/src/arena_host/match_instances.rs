//! The per-match instances: each live match's sandboxed instance of the mod (and version) it
//! started with, and the matches whose instance faulted, to which nothing more is delivered.

use std::collections::{HashMap, HashSet};

use crate::wasm::game_event_batch::BatchSizer;
use crate::wasm::instance::ModInstance;

/// A match's instance and the mod it belongs to.
pub(crate) struct MatchInstance {
    pub(crate) mod_name: String,
    pub(crate) instance: ModInstance,
    /// How many game events one call may carry for this match.
    pub(crate) batches: BatchSizer,
}

/// The live instances by match id, and the faulted matches.
#[derive(Default)]
pub(crate) struct MatchInstances {
    live: HashMap<String, MatchInstance>,
    faulted: HashSet<String>,
}

impl MatchInstances {
    pub(crate) fn get(&self, match_id: &str) -> Option<&MatchInstance> {
        self.live.get(match_id)
    }

    pub(crate) fn get_mut(&mut self, match_id: &str) -> Option<&mut MatchInstance> {
        self.live.get_mut(match_id)
    }

    pub(crate) fn contains(&self, match_id: &str) -> bool {
        self.live.contains_key(match_id)
    }

    /// The mod serving `match_id`, if the match has an instance.
    pub(crate) fn mod_of(&self, match_id: &str) -> Option<&str> {
        self.live.get(match_id).map(|entry| entry.mod_name.as_str())
    }

    /// Instances alive now (instance slots in use).
    pub(crate) fn len(&self) -> usize {
        self.live.len()
    }

    pub(crate) fn insert(&mut self, match_id: &str, mod_name: &str, instance: ModInstance) {
        self.live.insert(
            match_id.to_string(),
            MatchInstance {
                mod_name: mod_name.to_string(),
                instance,
                batches: BatchSizer::default(),
            },
        );
    }

    /// Drops the match's instance (if any) and delivers nothing more to it.
    pub(crate) fn mark_faulted(&mut self, match_id: &str) {
        self.live.remove(match_id);
        self.faulted.insert(match_id.to_string());
    }

    pub(crate) fn is_faulted(&self, match_id: &str) -> bool {
        self.faulted.contains(match_id)
    }

    /// Forgets the match: its runtime closed.
    pub(crate) fn close(&mut self, match_id: &str) {
        self.live.remove(match_id);
        self.faulted.remove(match_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faulted_match_stays_faulted_until_its_runtime_closes() {
        let mut instances = MatchInstances::default();
        instances.mark_faulted("m1");
        assert!(instances.is_faulted("m1"));
        assert!(!instances.is_faulted("m2"));
        assert_eq!(instances.len(), 0);
        assert_eq!(instances.mod_of("m1"), None);
        instances.close("m1");
        assert!(!instances.is_faulted("m1"), "a closed match is forgotten");
    }
}
