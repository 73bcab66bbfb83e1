//! The registry of loaded mods: which version of each mod serves new matches, which mod owns
//! each `rulesEngineId`, and which files were rejected, so a directory scan does not retry (and
//! re-report) the same broken bytes. Running matches keep the instance, and so the version, they
//! started with; the registry only decides where new matches go.

use std::collections::{BTreeMap, HashMap};

use crate::wasm::loader::LoadedMod;

/// Which mod owns each rules engine id: the ids a mod registered in its load-time probe.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Routes(HashMap<String, String>);

impl Routes {
    /// The ids owned by mods other than `name` (id → owner): `name` may not register them.
    pub(crate) fn taken_by_others(&self, name: &str) -> HashMap<String, String> {
        self.0
            .iter()
            .filter(|(_, owner)| owner.as_str() != name)
            .map(|(id, owner)| (id.clone(), owner.clone()))
            .collect()
    }

    /// Makes `name` the owner of exactly `ids`: a new version that no longer registers an id
    /// gives it up.
    pub(crate) fn assign<'a>(&mut self, name: &str, ids: impl IntoIterator<Item = &'a String>) {
        self.remove_mod(name);
        for id in ids {
            self.0.insert(id.clone(), name.to_string());
        }
    }

    /// Routes nothing more to `name`.
    pub(crate) fn remove_mod(&mut self, name: &str) {
        self.0.retain(|_, owner| owner != name);
    }

    /// The mod that serves new matches of `rules_engine_id`.
    pub(crate) fn owner(&self, rules_engine_id: &str) -> Option<&str> {
        self.0.get(rules_engine_id).map(String::as_str)
    }

    /// Every registered id, sorted.
    pub(crate) fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.0.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }
}

/// The loaded mods by name, their routes and the rejected files.
#[derive(Default)]
pub(crate) struct ModRegistry {
    mods: BTreeMap<String, LoadedMod>,
    routes: Routes,
    /// The fingerprint (SHA-256, or why it was not read) of each mod file that failed to load.
    rejected: HashMap<String, String>,
}

impl ModRegistry {
    pub(crate) fn get(&self, name: &str) -> Option<&LoadedMod> {
        self.mods.get(name)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &LoadedMod> {
        self.mods.values()
    }

    /// The mod that serves new matches of `rules_engine_id`.
    pub(crate) fn owner(&self, rules_engine_id: &str) -> Option<&str> {
        self.routes.owner(rules_engine_id)
    }

    /// Why no mod serves `rules_engine_id`, naming the ids that are registered.
    pub(crate) fn unrouted(&self, rules_engine_id: &str) -> String {
        let ids = self.routes.ids();
        let registered = if ids.is_empty() {
            "no loaded mod registered any".to_string()
        } else {
            format!("registered: {}", ids.join(", "))
        };
        format!(
            "no loaded mod registered rulesEngineId {rules_engine_id:?} ({registered}); the match runs \
             without rules: nothing decides it until it is ended"
        )
    }

    /// The ids `name` may not register (see [`Routes::taken_by_others`]).
    pub(crate) fn taken_by_others(&self, name: &str) -> HashMap<String, String> {
        self.routes.taken_by_others(name)
    }

    /// Serves new matches of the ids `loaded` registered with it; whether it replaced a loaded
    /// version of the same name.
    pub(crate) fn install(&mut self, name: &str, loaded: LoadedMod) -> bool {
        self.routes.assign(name, loaded.info.scope.iter());
        self.mods.insert(name.to_string(), loaded).is_some()
    }

    /// Unloads `name` for new matches (its file is gone); whether it was loaded.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        self.rejected.remove(name);
        let loaded = self.mods.remove(name).is_some();
        if loaded {
            self.routes.remove_mod(name);
        }
        loaded
    }

    /// Remembers that the bytes with `fingerprint` of mod `name` failed to load.
    pub(crate) fn reject(&mut self, name: String, fingerprint: String) {
        self.rejected.insert(name, fingerprint);
    }

    /// Forgets an earlier rejection of `name` (a version of it loaded since).
    pub(crate) fn clear_rejection(&mut self, name: &str) {
        self.rejected.remove(name);
    }

    /// Mod name → fingerprint of the bytes last loaded or rejected, for a directory scan.
    pub(crate) fn known_files(&self) -> HashMap<String, String> {
        let mut known: HashMap<String, String> = self
            .mods
            .iter()
            .map(|(name, m)| (name.clone(), m.info.sha256.clone()))
            .collect();
        // A rejection is newer than the version still serving (a load clears it).
        known.extend(self.rejected.clone());
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_reload_owns_exactly_what_the_new_version_registers() {
        let mut routes = Routes::default();
        routes.assign("ctz", &ids(&["ctz", "ctz.ranked"]));
        routes.assign("ls", &ids(&["last-standing"]));
        routes.assign("ctz", &ids(&["ctz"]));
        assert_eq!(routes.owner("ctz"), Some("ctz"));
        assert_eq!(
            routes.owner("ctz.ranked"),
            None,
            "given up by the new version"
        );
        assert_eq!(routes.owner("last-standing"), Some("ls"));
    }

    #[test]
    fn a_mod_may_keep_its_own_ids_but_not_take_others() {
        let mut routes = Routes::default();
        routes.assign("ctz", &ids(&["ctz"]));
        routes.assign("ls", &ids(&["last-standing"]));
        let taken = routes.taken_by_others("ctz");
        assert_eq!(taken.len(), 1);
        assert_eq!(taken["last-standing"], "ls");
        routes.remove_mod("ls");
        assert!(routes.taken_by_others("ctz").is_empty());
        assert_eq!(routes.owner("last-standing"), None);
    }

    #[test]
    fn rejections_are_known_until_cleared_or_removed() {
        let mut registry = ModRegistry::default();
        registry.reject("broken".into(), "sha-1".into());
        registry.reject("gone".into(), "sha-2".into());
        assert_eq!(registry.known_files()["broken"], "sha-1");
        registry.clear_rejection("broken");
        assert!(!registry.remove("gone"), "never loaded");
        assert!(registry.known_files().is_empty());
    }
}
