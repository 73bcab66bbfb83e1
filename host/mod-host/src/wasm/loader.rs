//! Loading mods: from bytes to a checked, pre-instantiated component whose registrations are
//! known. Each failure has its own error, so `nexori check` and the load log can say exactly
//! what is wrong with a file.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::{Component, HasSelf, Linker};

use super::instance::{ModInstance, new_store};
use super::since_v1_1_0::{RulesModBase, RulesModPre};
use super::state::{InstanceState, ModInfo, RegistrationPolicy};
use crate::host_state::HostStateHandle;
use crate::settings::ModLimits;
use nexori_protocol::payload_hash::hex;

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "nexori:minigame@1.1.0";

/// The versions of the package a mod may be built against. 1.1.0 only added to 1.0.0, so a
/// 1.0.0 mod loads unchanged (it gets one call per game event instead of batches).
pub const SUPPORTED_VERSIONS: &[&str] = &["1.0.0", "1.1.0"];

/// The interfaces a `rules-mod` component must export, at the version it was built against.
pub const REQUIRED_EXPORTS: &[&str] = &[
    "mod-init",
    "lifecycle-listener",
    "afk-listener",
    "game-events",
    "timers",
];

/// Why a mod could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes do not start with the WebAssembly magic `\0asm` (or are shorter than a header).
    #[error("not a WebAssembly file (no `\\0asm` header)")]
    NotWasm,
    /// The file is a core module (version 1, layer 0), not a component: built for the wrong
    /// target.
    #[error(
        "this is a core WebAssembly module, not a component; build the mod with `cargo build --target wasm32-wasip2` or `cargo component build`"
    )]
    CoreModule,
    /// wasmtime refused to compile the component (invalid or unsupported); holds its error chain.
    #[error("the component could not be compiled: {0}")]
    Compile(String),
    /// The component imports or exports `nexori:minigame` at a version outside
    /// [`SUPPORTED_VERSIONS`] (or unversioned); holds the version and the name that carries it.
    #[error(
        "the component targets {0}, but this host implements {WIT_PACKAGE} (and serves mods built against 1.0.0); rebuild the mod against this host's nexori-sdk"
    )]
    UnknownVersion(String),
    /// One of [`REQUIRED_EXPORTS`] is not exported; holds its full name at the mod's version.
    #[error(
        "the component does not export `{0}`, which the `rules-mod` world requires (a Rust mod \
         exports the whole world with `nexori_sdk::export_rules_mod!(YourMod);` in its lib.rs)"
    )]
    MissingExport(String),
    /// The linker cannot instantiate the component: an import this host does not provide, or an
    /// export of the wrong shape; holds the linker's error.
    #[error("the component does not fit the `rules-mod` world of {WIT_PACKAGE}: {0}")]
    WrongWorld(String),
    /// The probe instance faulted during instantiation or `init`, or `init` returned an error;
    /// holds the fault's detail (with the guest backtrace when there is one).
    #[error("the mod failed at start-up: {0}")]
    Startup(String),
    /// `init` registered no lifecycle or AFK listener, so the mod would own no match.
    #[error(
        "the mod registered no rules engine id in init; call register_match_lifecycle_listener there"
    )]
    NoRegistrations,
    /// `init` tried to register more listeners than `maxListenerRegistrations` (the value held).
    #[error(
        "the mod tried to register more than {0} listeners in init (limits.maxListenerRegistrations)"
    )]
    TooManyRegistrations(usize),
    /// The mod registers a rules engine id another loaded mod already registered (D13); the
    /// message names the id and both mods.
    #[error("{0}")]
    Conflict(String),
    /// A mod file could not be opened, measured or read, or the mods directory could not be
    /// listed.
    #[error("could not read {path}: {error}")]
    Io {
        /// The file or directory, as given.
        path: String,
        /// The operating system's error.
        error: String,
    },
    /// The mod file is larger than `maxModFileBytes`; it was not read (or read no further than
    /// the limit, if it grew meanwhile).
    #[error(
        "{path} is {size} bytes, more than the {max} bytes a mod file may have (maxModFileBytes); it was not read"
    )]
    TooLarge {
        /// The file, as given.
        path: String,
        /// Its size in bytes (at least `max + 1` when it grew while being read).
        size: u64,
        /// The limit, `maxModFileBytes`.
        max: u64,
    },
}

/// The linker every instance uses: WASI (without any grants, see `instance::new_store`, and
/// without waits, see [`wasi_wait`](super::wasi_wait)) and the Nexori imports.
///
/// # Errors
///
/// wasmtime's error when WASI, the wait refusal or the Nexori imports cannot be added.
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    super::wasi_wait::refuse_waits(&mut linker)?;
    RulesModBase::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Checks the header before handing bytes to the compiler, which would otherwise give a less
/// helpful message for the two common mistakes.
fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return Err(LoadError::NotWasm);
    }
    // Version 1 with layer 0 is a core module; components use layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule);
    }
    Ok(())
}

/// A compiled, linked mod.
pub struct LoadedMod {
    /// Its name, hash, limits, configuration and the rules engine ids it registered (its scope).
    pub info: Arc<ModInfo>,
    /// The compiled component.
    pub component: Component,
    /// The component linked against this host's imports, its exports looked up once: each
    /// match's instance is made from it.
    pub pre: RulesModPre,
    /// The imports the component declares, for `nexori check`.
    pub imports: Vec<String>,
    /// The component file itself: recorded matches keep it beside their logs.
    pub wasm: Arc<[u8]>,
    /// The version of `nexori:minigame` it was built against (`1.0.0`, `1.1.0`).
    pub wit_version: String,
    /// How its machine code was had: compiled or taken from the compile cache, and how long it
    /// took (`nexori check` says).
    pub compilation: Compilation,
    /// What the load-time probe instance used (`nexori check` says).
    pub probe: ProbeUse,
}

/// What the probe instance of a mod used to start: every match's instance starts the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeUse {
    /// Its largest linear memory after `init`, in bytes (`limits.memoryBytes` bounds each).
    pub memory_bytes: u64,
    /// Instantiating it and running `init` (`limits.callbackDeadlineMs` bounds `init`).
    pub init_took: Duration,
}

/// Where a component's machine code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    /// Compiled, with no compile cache in use.
    Compiled,
    /// Taken from the compile cache.
    Cache,
    /// Compiled and stored in the compile cache.
    CompiledAndCached,
    /// Compiled; the compile cache could not be used (the log says why).
    CompiledCacheUnusable,
}

/// How a component was compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compilation {
    /// Compiled, or taken from the compile cache.
    pub source: CompileSource,
    /// The time it took: compiling (and storing the artifact), or reading and loading the
    /// artifact.
    pub took: Duration,
}

/// A component compiled and linked, not yet run: the slow part of loading, which can run on any
/// thread.
pub struct Prepared {
    /// The compiled component (from the compile cache when it had it).
    pub component: Component,
    /// The component linked against this host's imports, ready to instantiate.
    pub pre: RulesModPre,
    /// The imports the component declares, for `nexori check`.
    pub imports: Vec<String>,
    /// The version of `nexori:minigame` it was built against (`1.0.0`, `1.1.0`).
    pub wit_version: String,
    /// SHA-256 of the component bytes.
    pub sha256: String,
    /// The component file itself: recorded matches keep it beside their logs.
    pub wasm: Arc<[u8]>,
    /// Compiled or taken from the compile cache, and how long it took.
    pub compilation: Compilation,
}

/// Compiles and links a component, without running it. With `cache` (`dataDir/compiled`), a
/// compiled artifact is taken from and stored in that directory.
///
/// # Errors
///
/// [`LoadError::NotWasm`], [`LoadError::CoreModule`], [`LoadError::Compile`],
/// [`LoadError::UnknownVersion`], [`LoadError::MissingExport`] or [`LoadError::WrongWorld`]. A
/// compile cache that cannot be used is logged, not an error.
pub fn prepare(
    engine: &Engine,
    linker: &Linker<InstanceState>,
    bytes: &[u8],
    cache: Option<&Path>,
) -> Result<Prepared, LoadError> {
    check_header(bytes)?;
    let sha256 = hex(&Sha256::digest(bytes));
    let started = Instant::now();
    let (component, source) = match cache {
        Some(dir) => compile_cached(engine, bytes, dir)?,
        None => (compile(engine, bytes)?, CompileSource::Compiled),
    };
    let compilation = Compilation {
        source,
        took: started.elapsed(),
    };
    let imports: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    // Say what is wrong before the linker's generic "not found" for the two usual causes: a mod
    // built against another version of the contract, and a mod missing part of the world.
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let version = target_version(imports.iter().chain(&exports))?.to_string();
    for required in REQUIRED_EXPORTS {
        let prefix = format!("nexori:minigame/{required}@");
        // At any supported version: wasmtime resolves them semver-compatibly.
        if !exports.iter().any(|e| e.starts_with(&prefix)) {
            return Err(LoadError::MissingExport(format!("{prefix}{version}")));
        }
    }
    let instance_pre = linker
        .instantiate_pre(&component)
        .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
    let pre =
        RulesModPre::new(instance_pre).map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
    Ok(Prepared {
        component,
        pre,
        imports,
        wit_version: version,
        sha256,
        wasm: Arc::from(bytes),
        compilation,
    })
}

/// Reads a mod file of at most `max_bytes` (`maxModFileBytes`); a bigger file is refused
/// before it is read.
///
/// # Errors
///
/// [`LoadError::TooLarge`] above `max_bytes`, [`LoadError::Io`] when the file cannot be opened or
/// read.
pub fn read_mod_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let io = |e: std::io::Error| LoadError::Io {
        path: path.display().to_string(),
        error: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let too_large = |size| LoadError::TooLarge {
        path: path.display().to_string(),
        size,
        max: max_bytes,
    };
    if size > max_bytes {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // A file that grows after the check is still read no further than the limit.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The version of `nexori:minigame` a component was built against: the newest among the names it
/// imports and exports; this host's own when it names none (then an export is missing anyway).
fn target_version<'a>(names: impl Iterator<Item = &'a String>) -> Result<&'a str, LoadError> {
    // SUPPORTED_VERSIONS is oldest first.
    let rank = |v: &str| SUPPORTED_VERSIONS.iter().position(|s| *s == v);
    let mut target = None;
    for name in names {
        let Some(rest) = name.strip_prefix("nexori:minigame/") else {
            continue;
        };
        let version = rest.rsplit_once('@').map_or("", |(_, v)| v);
        if !SUPPORTED_VERSIONS.contains(&version) {
            let version = if version.is_empty() {
                "an unversioned package"
            } else {
                version
            };
            return Err(LoadError::UnknownVersion(format!(
                "nexori:minigame@{version} (`{name}`)"
            )));
        }
        if target.is_none_or(|t| rank(version) > rank(t)) {
            target = Some(version);
        }
    }
    Ok(target.unwrap_or(&WIT_PACKAGE["nexori:minigame@".len()..]))
}

/// The file a compiled component is cached in: keyed by the component's SHA-256 and by
/// wasmtime's own compatibility hash (its version and every setting that changes machine code), so
/// a different wasmtime or engine configuration never picks up a stale artifact.
pub fn cache_path(engine: &Engine, bytes: &[u8], dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let sha = hex(&Sha256::digest(bytes));
    dir.join(format!("{sha}-{:016x}.cwasm", hasher.finish()))
}

/// Components this process compiled (rather than took from the compile cache):
/// `nexori_mod_compilations_total`.
static COMPILATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The same, for the calling thread only: a test that loads synchronously counts its own
    /// compilations exactly while other tests compile beside it.
    static COMPILATIONS_HERE: Cell<u64> = const { Cell::new(0) };
}

/// Compiles a component with Cranelift, counting it.
fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, LoadError> {
    COMPILATIONS.fetch_add(1, Ordering::Relaxed);
    COMPILATIONS_HERE.with(|n| n.set(n.get() + 1));
    Component::new(engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))
}

/// How many components this process compiled rather than took from the compile cache.
pub fn compilations() -> u64 {
    COMPILATIONS.load(Ordering::Relaxed)
}

/// How many components the calling thread compiled (tests).
#[doc(hidden)]
pub fn compilations_on_this_thread() -> u64 {
    COMPILATIONS_HERE.with(Cell::get)
}

/// Compiles through the on-disk cache: a restart does not recompile an unchanged mod.
///
/// An artifact is native code the host runs as it is, so the cache is trusted only while nobody
/// but the host's user can write to it: the directory is created `0700`, and a directory or an
/// artifact writable by group or others is not used (an error names it, and the mod is compiled
/// in memory; an untrusted artifact in a trusted directory is replaced). A cache that cannot be
/// used is never an error: the mod is compiled in memory. After storing an artifact, the oldest
/// ones go while the directory's artifacts take more than [`MAX_CACHE_BYTES`].
fn compile_cached(
    engine: &Engine,
    bytes: &[u8],
    dir: &Path,
) -> Result<(Component, CompileSource), LoadError> {
    let compile = || compile(engine, bytes);
    if let Err(problem) = trusted_cache_dir(dir) {
        tracing::error!(target: "nexori::mods", dir = %dir.display(), "not using the compile cache: {problem}");
        return Ok((compile()?, CompileSource::CompiledCacheUnusable));
    }
    let path = cache_path(engine, bytes, dir);
    match read_trusted(&path) {
        Ok(Ok(artifact)) => {
            // SAFETY: the file was written by this function from `Component::serialize` of the
            // same bytes under the same engine compatibility hash (both are in its name), in a
            // directory and a file only the host's user can write to (checked on the handle the
            // bytes came from). Deserialisation still checks the header and version, and an
            // artifact that fails is recompiled below.
            match unsafe { Component::deserialize(engine, &artifact) } {
                Ok(component) => {
                    tracing::debug!(target: "nexori::mods", file = %path.display(), "taken from the compile cache");
                    return Ok((component, CompileSource::Cache));
                }
                Err(e) => {
                    tracing::warn!(target: "nexori::mods", file = %path.display(), "ignoring a cached artifact: {e}")
                }
            }
        }
        Ok(Err(mode)) => tracing::error!(
            target: "nexori::mods",
            file = %path.display(),
            "not loading a cached artifact writable by group or others (mode {mode:o}); recompiling and replacing it"
        ),
        Err(_) => {} // not cached yet
    }
    let component = compile()?;
    let source = match component.serialize() {
        Ok(artifact) => {
            // A name of its own, so two processes storing the same artifact at once do not write
            // into one file; the rename is atomic, the last one wins.
            static STORES: AtomicU64 = AtomicU64::new(0);
            let tmp = path.with_extension(format!(
                "{}-{}.tmp",
                std::process::id(),
                STORES.fetch_add(1, Ordering::Relaxed)
            ));
            match write_private(&tmp, &artifact).and_then(|()| std::fs::rename(&tmp, &path)) {
                Ok(()) => {
                    prune_cache(dir, &path, MAX_CACHE_BYTES);
                    CompileSource::CompiledAndCached
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    tracing::warn!(target: "nexori::mods", dir = %dir.display(), "cannot write the compile cache: {e}");
                    CompileSource::CompiledCacheUnusable
                }
            }
        }
        Err(e) => {
            tracing::warn!(target: "nexori::mods", "cannot serialise a compiled mod: {e}");
            CompileSource::CompiledCacheUnusable
        }
    };
    Ok((component, source))
}

/// The most the artifacts in a compile cache directory may take together; past it, the oldest
/// written go first (the one just written stays, whatever its size). A mod whose artifact went is
/// compiled again the next time it loads.
pub const MAX_CACHE_BYTES: u64 = 1 << 30;

/// Removes the oldest artifacts (`*.cwasm` named as [`cache_path`] names them, and `*.tmp` files
/// left by a process that died while storing one, once they are an hour old) from `dir` while
/// the artifacts take more than `max_bytes`; `keep` is never removed. Failures are logged.
pub fn prune_cache(dir: &Path, keep: &Path, max_bytes: u64) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(target: "nexori::mods", dir = %dir.display(), "cannot list the compile cache: {e}");
            return;
        }
    };
    let mut artifacts = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let modified = metadata.modified().unwrap_or(std::time::UNIX_EPOCH);
        if !metadata.is_file() || path == keep {
            continue;
        }
        if name.ends_with(".tmp") && is_artifact_name(name.split('.').next().unwrap_or_default()) {
            let stale = modified
                .elapsed()
                .is_ok_and(|age| age > Duration::from_secs(3600));
            if stale {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        if name.strip_suffix(".cwasm").is_some_and(is_artifact_name) {
            artifacts.push((modified, metadata.len(), path));
        }
    }
    let kept = std::fs::metadata(keep).map_or(0, |m| m.len());
    let mut total = kept + artifacts.iter().map(|(_, len, _)| len).sum::<u64>();
    // Oldest first.
    artifacts.sort();
    for (_, len, path) in artifacts {
        if total <= max_bytes {
            break;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                total -= len;
                tracing::info!(target: "nexori::mods", file = %path.display(), "removed an old compiled mod from the compile cache (more than {max_bytes} bytes)");
            }
            Err(e) => {
                tracing::warn!(target: "nexori::mods", file = %path.display(), "cannot remove an old compiled mod from the compile cache: {e}")
            }
        }
    }
}

/// `<64 hex digits>-<16 hex digits>`: the stem [`cache_path`] gives an artifact.
fn is_artifact_name(stem: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    stem.split_once('-')
        .is_some_and(|(sha, engine)| hex(sha, 64) && hex(engine, 16))
}

/// Permission bits that let someone other than the owner write.
const WRITABLE_BY_OTHERS: u32 = 0o022;

/// `Some(mode)` when `metadata` says group or others may write.
fn untrusted_mode(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    (mode & WRITABLE_BY_OTHERS != 0).then_some(mode)
}

/// The contents of a cached artifact, or its mode when group or others may write to it. Read
/// into memory rather than mapped, so an artifact truncated or replaced while the host runs
/// cannot take the mapped code with it; checked and read through one handle, so the bytes are
/// those of the file checked.
fn read_trusted(path: &Path) -> std::io::Result<Result<Vec<u8>, u32>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    if let Some(mode) = untrusted_mode(&file.metadata()?) {
        return Ok(Err(mode));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(Ok(bytes))
}

/// Creates the cache directory `0700` if it is missing, and checks that nobody but its owner
/// can write to it.
fn trusted_cache_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create it: {e}"))?;
    }
    match std::fs::metadata(dir).map(|m| untrusted_mode(&m)) {
        Ok(None) => Ok(()),
        Ok(Some(mode)) => Err(format!(
            "it is writable by group or others (mode {mode:o}); make it 0700 (chmod 700) so that only the host's user can put native code there"
        )),
        Err(e) => Err(format!("cannot read its permissions: {e}")),
    }
}

/// Writes `bytes` to a new file only its owner can read or write.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // A leftover file would keep its own mode: `mode` applies only to a file it creates.
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

/// Loads a mod: compiles it, links it, runs `init` in a probe instance and records the rules
/// engine ids it registers. `taken` maps ids already registered to the mod that owns them.
///
/// # Errors
///
/// What [`prepare`] and [`probe`] refuse.
#[allow(clippy::too_many_arguments)]
pub fn load(
    engine: &Engine,
    linker: &Linker<InstanceState>,
    shared: &HostStateHandle,
    name: &str,
    bytes: &[u8],
    config_json: String,
    limits: ModLimits,
    taken: Arc<HashMap<String, String>>,
    cache: Option<&Path>,
) -> Result<LoadedMod, LoadError> {
    let prepared = prepare(engine, linker, bytes, cache)?;
    probe(engine, shared, name, prepared, config_json, limits, &taken)
}

/// The quick part of loading, on the thread that runs the matches: runs `init` in a probe
/// instance of a prepared mod and records the rules engine ids it registers. `taken` maps ids
/// already registered to the mod that owns them.
///
/// # Errors
///
/// [`LoadError::Startup`] when the probe faults or `init` fails,
/// [`LoadError::TooManyRegistrations`], [`LoadError::Conflict`] for an id in `taken`, or
/// [`LoadError::NoRegistrations`].
pub fn probe(
    engine: &Engine,
    shared: &HostStateHandle,
    name: &str,
    prepared: Prepared,
    config_json: String,
    limits: ModLimits,
    taken: &HashMap<String, String>,
) -> Result<LoadedMod, LoadError> {
    let Prepared {
        component,
        pre,
        imports,
        wit_version,
        sha256,
        wasm,
        compilation,
    } = prepared;
    let probe_info = Arc::new(ModInfo {
        name: name.to_string(),
        sha256: sha256.clone(),
        scope: Arc::default(),
        limits: limits.clone(),
        config_json: config_json.clone(),
    });
    let store = new_store(
        engine,
        probe_info,
        shared.clone(),
        None,
        RegistrationPolicy::Probe,
    );
    let started = Instant::now();
    let probe =
        ModInstance::start(&pre, store).map_err(|fault| LoadError::Startup(fault.describe()))?;
    let probe_use = ProbeUse {
        memory_bytes: probe.memory_bytes() as u64,
        init_took: started.elapsed(),
    };
    if probe.store.data().registrations_refused() {
        return Err(LoadError::TooManyRegistrations(
            probe.store.data().module.limits.max_listener_registrations,
        ));
    }
    let ids = probe.store.data().registered_ids();
    for id in &ids {
        if let Some(other) = taken.get(id) {
            return Err(LoadError::Conflict(format!(
                "mod {name:?} registers rules engine id {id:?}, which mod {other:?} already registered"
            )));
        }
    }
    if ids.is_empty() {
        return Err(LoadError::NoRegistrations);
    }
    let info = Arc::new(ModInfo {
        name: name.to_string(),
        sha256,
        scope: Arc::new(ids),
        limits,
        config_json,
    });
    Ok(LoadedMod {
        info,
        component,
        pre,
        imports,
        wasm,
        wit_version,
        compilation,
        probe: probe_use,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compile_cache_drops_its_oldest_artifacts_past_its_size() {
        let dir = std::env::temp_dir().join(format!("nexori-prune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = |i: u8| dir.join(format!("{}-{}.cwasm", hex(&[i; 32]), "0123456789abcdef"));
        let old = std::time::SystemTime::now() - Duration::from_secs(7200);
        for i in 0..4u8 {
            std::fs::write(name(i), vec![0; 100]).unwrap();
            // Written in order, an hour apart at least in the eyes of the cache.
            let file = std::fs::File::options().write(true).open(name(i)).unwrap();
            file.set_modified(old + Duration::from_secs(u64::from(i) * 60))
                .unwrap();
        }
        let stale_tmp = dir.join(format!(
            "{}-{}.cwasm.1-0.tmp",
            hex(&[9; 32]),
            "0123456789abcdef"
        ));
        std::fs::write(&stale_tmp, b"x").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&stale_tmp)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let fresh_tmp = dir.join(format!("{}-{}.2-0.tmp", hex(&[8; 32]), "0123456789abcdef"));
        std::fs::write(&fresh_tmp, b"x").unwrap();
        let foreign = dir.join("notes.cwasm");
        std::fs::write(&foreign, vec![0; 1000]).unwrap();

        // name(0) was just written (it is kept); 250 bytes fit: name(1) and name(2) go.
        prune_cache(&dir, &name(0), 250);
        let left: Vec<bool> = (0..4).map(|i| name(i).exists()).collect();
        assert_eq!(left, [true, false, false, true]);
        assert!(!stale_tmp.exists(), "a leftover of a dead process goes");
        assert!(fresh_tmp.exists(), "another process may be writing it");
        assert!(
            foreign.exists(),
            "files the cache did not name are left alone"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
