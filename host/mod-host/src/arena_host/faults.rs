//! The fault policy's host side (docs/arena-behaviour.md#fault-policy): a mod that traps,
//! panics, runs past its deadline or exhausts its memory ends its own match, never the host or
//! another match. The instance is dropped, the operator is told (with the mod's SHA-256), the
//! trace records the fault, the match's timers go, and the runtime finishes the match as the
//! policy says.

use super::ArenaHost;
use crate::host_state::lock;
use crate::wasm::instance::Fault;
use nexori_protocol::trace::TraceEntry;

impl ArenaHost {
    /// Contains a fault to its match: drop the instance, tell the operator, apply the policy.
    pub(super) fn fault(&mut self, match_id: &str, mod_name: &str, fault: Fault) {
        self.instances.mark_faulted(match_id);
        let sha = self
            .mods
            .get(mod_name)
            .map(|m| m.info.sha256.clone())
            .unwrap_or_default();
        tracing::error!(
            target: "nexori::faults",
            module = mod_name,
            sha256 = %&sha[..sha.len().min(12)],
            match_id,
            "rules mod fault: {}\n{}",
            fault.kind,
            fault.detail
        );
        let mut shared = lock(&self.shared);
        let now = shared.now();
        shared.trace.push(TraceEntry::Fault {
            at: now,
            mod_name: mod_name.to_string(),
            match_id: Some(match_id.to_string()),
            error: fault.kind.clone(),
        });
        if let Some(recorder) = &mut shared.recorder {
            recorder.fault(match_id, now, &fault.kind);
        }
        shared.timers.drop_match(match_id);
        shared.arena.apply_fault_policy(match_id, &fault.kind, now);
    }
}
