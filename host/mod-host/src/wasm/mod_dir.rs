//! The mods directory: which files changed since they were last looked at, and the worker that
//! watches the directory for `nexori serve`.
//!
//! Reading, hashing and compiling a mod takes from milliseconds to seconds (Cranelift, for a big
//! component), so a running host does none of it on the thread that runs the matches: a
//! [`ModWatch`] thread scans the directory, reads and compiles what changed, and hands over
//! [`ModUpdate`]s; the host thread only runs each new mod's `init` and checks its registrations
//! (`ArenaHost::take_mod_updates`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel, sync_channel};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Linker;

use super::loader::{self, LoadError, Prepared};
use super::state::InstanceState;
use nexori_protocol::payload_hash::hex;

/// What a scan found out about one mod.
pub enum ModUpdate {
    /// New or changed bytes, compiled and linked: ready for the probe.
    Prepared {
        /// The mod's name: its file name without `.wasm`.
        name: String,
        /// The file, for the load log.
        path: String,
        /// The compiled, linked component, to be probed on the host thread.
        prepared: Box<Prepared>,
    },
    /// New or changed bytes that cannot be loaded. `fingerprint` identifies them, so the same
    /// broken file is reported once.
    Failed {
        /// The mod's name: its file name without `.wasm`.
        name: String,
        /// The file, for the load log.
        path: String,
        /// The SHA-256 of the bytes (lowercase hex), or `unread: <error>` when they could not be
        /// read.
        fingerprint: String,
        /// Why the file cannot be loaded.
        error: LoadError,
    },
    /// The mod's file is gone.
    Removed {
        /// The mod's name: its file name without `.wasm`.
        name: String,
    },
}

/// What compiling needs, shareable with a worker thread.
#[derive(Clone)]
pub struct Compiler {
    /// The host's engine: components compiled for another engine cannot be instantiated in it.
    pub engine: Engine,
    /// The host's linker (see [`loader::linker`]).
    pub linker: Linker<InstanceState>,
    /// The compile cache directory (`dataDir/compiled`), or `None` to compile in memory only.
    pub cache: Option<PathBuf>,
    /// `maxModFileBytes`.
    pub max_file_bytes: u64,
}

/// The `*.wasm` files of `dir` as (mod name, path), in name order.
fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError::Io {
        path: dir.display().to_string(),
        error: e.to_string(),
    })?;
    let mut files: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "wasm") && p.is_file())
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, p)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Scans `dir` once: `known` maps each mod name to the fingerprint of the bytes last handed over
/// (loaded or rejected) and is brought up to date; `emit` gets one update per change and returns
/// false to stop.
///
/// # Errors
///
/// [`LoadError::Io`] when `dir` cannot be listed. A file that cannot be read or loaded is not an
/// error of the scan: it is a [`ModUpdate::Failed`].
pub fn scan(
    dir: &Path,
    compiler: &Compiler,
    known: &mut HashMap<String, String>,
    mut emit: impl FnMut(ModUpdate) -> bool,
) -> Result<(), LoadError> {
    let files = list(dir)?;
    let gone: Vec<String> = known
        .keys()
        .filter(|name| !files.iter().any(|(n, _)| n == *name))
        .cloned()
        .collect();
    for name in gone {
        known.remove(&name);
        if !emit(ModUpdate::Removed { name }) {
            return Ok(());
        }
    }
    for (name, path) in files {
        let shown = path.display().to_string();
        let update = match loader::read_mod_file(&path, compiler.max_file_bytes) {
            Ok(bytes) => {
                let sha = hex(&Sha256::digest(&bytes));
                if known.get(&name) == Some(&sha) {
                    continue;
                }
                known.insert(name.clone(), sha.clone());
                match loader::prepare(
                    &compiler.engine,
                    &compiler.linker,
                    &bytes,
                    compiler.cache.as_deref(),
                ) {
                    Ok(prepared) => ModUpdate::Prepared {
                        name,
                        path: shown,
                        prepared: Box::new(prepared),
                    },
                    Err(error) => ModUpdate::Failed {
                        name,
                        path: shown,
                        fingerprint: sha,
                        error,
                    },
                }
            }
            Err(error) => {
                // Unread bytes have no hash: the error text (size, reason) stands for them.
                let fingerprint = format!("unread: {error}");
                if known.get(&name) == Some(&fingerprint) {
                    continue;
                }
                known.insert(name.clone(), fingerprint.clone());
                ModUpdate::Failed {
                    name,
                    path: shown,
                    fingerprint,
                    error,
                }
            }
        };
        if !emit(update) {
            return Ok(());
        }
    }
    Ok(())
}

/// A thread that scans the mods directory every `interval` and hands over what changed. It
/// stops when dropped (after the compile in progress, if any).
pub struct ModWatch {
    updates: Receiver<ModUpdate>,
    _stop: Sender<()>,
    ended: std::cell::Cell<bool>,
}

impl ModWatch {
    /// Starts watching `dir`; `known` is what the host already loaded or rejected (see [`scan`]).
    /// The first scan runs one `interval` after the start.
    ///
    /// # Errors
    ///
    /// The operating system's error when the `nexori-mods` thread cannot be spawned.
    pub fn start(
        dir: PathBuf,
        interval: Duration,
        compiler: Compiler,
        mut known: HashMap<String, String>,
    ) -> std::io::Result<Self> {
        // One finished update waits at a time: the worker compiles the next only once the host
        // took it, so compiled components never pile up in memory.
        let (updates_tx, updates) = sync_channel(1);
        let (stop, stop_rx) = channel::<()>();
        std::thread::Builder::new()
            .name("nexori-mods".into())
            .spawn(move || {
                loop {
                    match stop_rx.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let mut open = true;
                    let scanned = scan(&dir, &compiler, &mut known, |update| {
                        open = updates_tx.send(update).is_ok();
                        open
                    });
                    if let Err(e) = scanned {
                        tracing::error!(target: "nexori::mods", "cannot scan {}: {e}", dir.display());
                    }
                    if !open {
                        return;
                    }
                }
            })?;
        Ok(Self {
            updates,
            _stop: stop,
            ended: std::cell::Cell::new(false),
        })
    }

    /// The next finished update, without waiting. A worker that ended (it only does so by
    /// panicking while the watch lives) is reported once: reloads have stopped.
    pub fn try_next(&self) -> Option<ModUpdate> {
        match self.updates.try_recv() {
            Ok(update) => Some(update),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                if !self.ended.replace(true) {
                    tracing::error!(target: "nexori::mods", "the mods directory watch stopped unexpectedly: new and changed mods are no longer loaded until the host restarts");
                }
                None
            }
        }
    }
}
