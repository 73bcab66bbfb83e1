//! `nexori check`: is this file a rules mod the host will load?

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::settings::ModLimits;
use nexori_host::wasm::engine::EngineSettings;
use nexori_host::wasm::loader::{Compilation, CompileSource, ProbeUse, WIT_PACKAGE};
use nexori_reporting::{IdGenerator, RecordingReporter};
use nexori_runtime::clock::VirtualClock;
use wasmparser::{ComponentName, Dylink0Subsection, KnownCustom, Name, Parser, Payload};

/// Loads the file the way the host would (compile, link against the `rules-mod` world, run
/// `init` in a probe instance) and describes it. The error says what is wrong. With `cache`, the
/// compiled component is taken from and stored in that compile cache directory.
pub fn check_file(
    path: &Path,
    config_json: Option<&str>,
    cache: Option<&Path>,
) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read the file: {e}"))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut config = HostConfig::default();
    if let Some(text) = config_json {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("--config is not valid JSON: {e}"))?;
        config.mods.insert(name.clone(), value);
    }
    let reporter = RecordingReporter::new(config.reporting(), IdGenerator::Random);
    let settings = EngineSettings {
        max_instances: 4,
        ..EngineSettings::default()
    };
    let mut host = ArenaHost::new(
        config.host_settings(),
        HostClock::Virtual(VirtualClock::new(0)),
        Box::new(reporter),
        false,
        &settings,
    )?;
    if let Some(dir) = cache {
        host.set_compile_cache(dir.to_path_buf());
    }
    let loaded = host.load_mod(&name, &bytes)?;
    let mut out = String::new();
    writeln!(
        out,
        "mod:        {name} ({}, {} KiB)",
        path.display(),
        bytes.len().div_ceil(1024)
    )?;
    writeln!(out, "sha256:     {}", loaded.info.sha256)?;
    let toolchain = toolchain(&bytes);
    writeln!(out, "built with: {}", toolchain.component)?;
    if let Some(modules) = &toolchain.modules {
        writeln!(out, "modules:    {modules}")?;
    }
    writeln!(out, "language:   {}", toolchain.language)?;
    writeln!(
        out,
        "compiled:   {}",
        compilation(&loaded.compilation, cache)
    )?;
    writeln!(
        out,
        "world:      nexori:minigame@{} rules-mod — ok",
        loaded.wit_version
    )?;
    if loaded.pre.batches_game_events() {
        writeln!(
            out,
            "events:     a turn's game events in one call (game-event-batches)"
        )?;
    } else if loaded.wit_version == "1.0.0" {
        writeln!(
            out,
            "events:     one call each (built before {WIT_PACKAGE}; rebuild for batches)"
        )?;
    } else {
        // Built against this contract, but exporting only the base world.
        writeln!(
            out,
            "events:     one call each (the mod targets `rules-mod-base`: it does not export \
             `game-event-batches`)"
        )?;
    }
    let ids: Vec<&str> = loaded.info.scope.iter().map(String::as_str).collect();
    writeln!(out, "registers:  {}", ids.join(", "))?;
    for line in probe_use(&loaded.probe, &loaded.info.limits, &name) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "imports:")?;
    for import in &loaded.imports {
        writeln!(out, "  {import}")?;
    }
    Ok(out)
}

/// The compile cache of `nexori check` and `nexori simulate`: `dir` (`--cache-dir` or
/// `NEXORI_CACHE_DIR`), else `$XDG_CACHE_HOME/nexori/compiled`, else
/// `$HOME/.cache/nexori/compiled`; `None` with `--no-cache` (`no_cache`) or when neither variable
/// gives an absolute directory. `nexori serve` and `stdio` use `dataDir/compiled` instead.
pub fn cli_cache_dir(
    dir: Option<std::path::PathBuf>,
    no_cache: bool,
) -> Option<std::path::PathBuf> {
    if no_cache {
        return None;
    }
    if dir.is_some() {
        return dir;
    }
    // The XDG base directory spec: a relative path is invalid and to be ignored.
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(std::path::PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|cache| cache.join("nexori").join("compiled"))
}

/// What a component's `producers` custom sections say about the toolchain that built it, as
/// `nexori check` prints it: the component's own section (`JavaScript (wit-component 0.258.0,
/// ComponentizeJS 0.23.0)`), and when that names no language, what its core modules' sections
/// name together (a Rust build names `Rust (rustc 1.95.0 (…), …)` there; a stripped one keeps
/// only the tools). Each value is `name version` as recorded.
#[derive(Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The component's own section: `<languages> (<tools>)`, `<tools> (no language named)`, or
    /// `not recorded (no producers section)`; `; sdk <sdks>` when it names one.
    pub component: String,
    /// The core modules' sections merged (a tool the component line names at the same version
    /// left out), when the component names no language and a module has a section.
    pub modules: Option<String>,
    /// The language the mod was written in, and the toolchain that made it a component, as far as
    /// the component tells (see [`language`]): `Python 3.14 (componentize-py)`, `JavaScript
    /// (ComponentizeJS 0.23.0)`, `Rust (wit-bindgen-rust 0.45.0)`, ...
    pub language: String,
}

/// Reads the [`Toolchain`] from a component's (or a core module's) bytes.
pub fn toolchain(bytes: &[u8]) -> Toolchain {
    let Some(Sections {
        producers: sections,
        libraries,
    }) = sections(bytes)
    else {
        return Toolchain {
            component: "unknown (the file could not be read for its producers sections)".into(),
            modules: None,
            language: "unknown (the file could not be read)".into(),
        };
    };
    let language = language(&sections, &libraries);
    let (top, inner): (Vec<&Producers>, Vec<&Producers>) =
        sections.iter().partition(|s| s.depth == 1);
    let component = describe(&top, &[]);
    let modules = if top.iter().any(|s| !s.field("language").is_empty()) || inner.is_empty() {
        None
    } else {
        let known: Vec<&(String, String)> = top.iter().flat_map(|s| s.values()).collect();
        Some(describe(&inner, &known))
    };
    Toolchain {
        component: component.unwrap_or_else(|| "not recorded (no producers section)".into()),
        modules: modules.flatten(),
        language,
    }
}

/// The language a mod was written in, from what the component records of it, first match wins:
///
/// 1. the component's own producers section names a language (componentize-js does): that, with
///    the tools that section names besides wit-component (`JavaScript (ComponentizeJS 0.23.0)`);
/// 2. a core module is CPython's shared library, `libpython3.14.so` (componentize-py links the
///    interpreter dynamically but records no language): `Python 3.14`, with `(componentize-py)`
///    when its runtime library, `componentize_py_runtime`, is linked too;
/// 3. a core module was processed by wit-bindgen-rust (the bindings of a Rust mod, the
///    nexori-sdk's among them; kept in a stripped build): `Rust (wit-bindgen-rust 0.45.0)`, with
///    rustc's version first when that module names it;
/// 4. the languages the core modules name (an unstripped build in another language);
/// 5. else `unknown`.
///
/// For Python, the library names are the evidence rather than strings in the code (a
/// `componentize-py` in an error message could be any mod's text, and moves between versions):
/// they are what the dynamic linking that built the component resolved, in the `dylink.0`
/// sections' `needed` lists (which a `strip` of names and debug sections keeps), and also in the
/// modules' name sections and the component's `component-name` section. The `libpython` name
/// carries the interpreter's version, which is what a mod's code depends on; componentize-py
/// records its own version nowhere in the component.
fn language(sections: &[Producers], libraries: &[String]) -> String {
    let (top, inner): (Vec<&Producers>, Vec<&Producers>) =
        sections.iter().partition(|s| s.depth == 1);
    let names = |sections: &[&Producers], field: &str, skip: &[&str]| {
        let mut names: Vec<String> = Vec::new();
        for (name, version) in sections.iter().flat_map(|s| s.field(field)) {
            let text = if version.is_empty() {
                name.clone()
            } else {
                format!("{name} {version}")
            };
            if !skip.contains(&name.as_str()) && !names.contains(&text) {
                names.push(text);
            }
        }
        names
    };
    let with_tools = |language: String, tools: Vec<String>| {
        if tools.is_empty() {
            language
        } else {
            format!("{language} ({})", tools.join(", "))
        }
    };
    let languages = names(&top, "language", &[]);
    if !languages.is_empty() {
        let tools = names(&top, "processed-by", &["wit-component"]);
        return with_tools(languages.join(", "), tools);
    }
    let python = libraries.iter().find_map(|lib| {
        let version = lib.strip_prefix("libpython")?.strip_suffix(".so")?;
        let is_version = !version.is_empty()
            && version.starts_with(|c: char| c.is_ascii_digit())
            && version.chars().all(|c| c.is_ascii_digit() || c == '.');
        is_version.then(|| format!("Python {version}"))
    });
    if let Some(python) = python {
        let componentize_py = libraries
            .iter()
            .any(|lib| lib.contains("componentize_py_runtime"));
        return if componentize_py {
            format!("{python} (componentize-py)")
        } else {
            python
        };
    }
    let rust = inner.iter().find(|s| {
        s.field("processed-by")
            .iter()
            .any(|(name, _)| name == "wit-bindgen-rust")
    });
    if let Some(rust) = rust {
        let tool = |wanted: &str| {
            rust.field("processed-by")
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(name, version)| format!("{name} {version}").trim_end().to_string())
        };
        let tools = [tool("rustc"), tool("wit-bindgen-rust")];
        return with_tools("Rust".into(), tools.into_iter().flatten().collect());
    }
    let languages = names(&inner, "language", &[]);
    if !languages.is_empty() {
        return format!("{} (named by its core modules)", languages.join(", "));
    }
    "unknown (neither the component nor its modules name one)".into()
}

/// `sections` merged into one description (see [`Toolchain`]), leaving out `(name, version)`s
/// in `known`; `None` when nothing is left.
fn describe(sections: &[&Producers], known: &[&(String, String)]) -> Option<String> {
    let merged = |field: &str| {
        let mut values: Vec<String> = Vec::new();
        for value @ (name, version) in sections.iter().flat_map(|s| s.field(field)) {
            if known.contains(&value) {
                continue;
            }
            let text = if version.is_empty() {
                name.clone()
            } else {
                format!("{name} {version}")
            };
            if !values.contains(&text) {
                values.push(text);
            }
        }
        values.join(", ")
    };
    let (language, tools, sdk) = (merged("language"), merged("processed-by"), merged("sdk"));
    let mut text = match (language.is_empty(), tools.is_empty()) {
        (false, false) => format!("{language} ({tools})"),
        (false, true) => language,
        (true, false) => format!("{tools} (no language named)"),
        (true, true) if sdk.is_empty() => return None,
        (true, true) => "no language named".into(),
    };
    if !sdk.is_empty() {
        write!(text, "; sdk {sdk}").expect("a String takes any write");
    }
    Some(text)
}

/// One `producers` section: where it is (1 = the component itself, 2 = a module or component
/// in it, ...) and its fields with their `(name, version)` values.
struct Producers {
    depth: usize,
    fields: Vec<(String, Vec<(String, String)>)>,
}

impl Producers {
    fn field(&self, name: &str) -> &[(String, String)] {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, values)| values.as_slice())
    }

    fn values(&self) -> impl Iterator<Item = &(String, String)> {
        self.fields.iter().flat_map(|(_, values)| values)
    }
}

/// What a component's custom sections say about how it was built.
struct Sections {
    /// Every `producers` section, in file order.
    producers: Vec<Producers>,
    /// The names of the libraries its core modules are and link (see [`language`]).
    libraries: Vec<String>,
}

/// Reads the [`Sections`] of a component or module; `None` when the bytes do not parse (the
/// loader has then said what is wrong already). A name or `dylink.0` section that does not parse
/// is skipped: they only add evidence.
fn sections(bytes: &[u8]) -> Option<Sections> {
    let mut sections = Vec::new();
    let mut libraries: Vec<String> = Vec::new();
    let mut library = |name: &str| {
        if !libraries.iter().any(|l| l == name) {
            libraries.push(name.to_string());
        }
    };
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::CustomSection(custom) => {
                let reader = match custom.as_known() {
                    KnownCustom::Producers(reader) => reader,
                    KnownCustom::Dylink0(reader) => {
                        for subsection in reader.into_iter().flatten() {
                            if let Dylink0Subsection::Needed(needed) = subsection {
                                needed.into_iter().for_each(&mut library);
                            }
                        }
                        continue;
                    }
                    KnownCustom::Name(reader) => {
                        for name in reader.into_iter().flatten() {
                            if let Name::Module { name, .. } = name {
                                library(name);
                            }
                        }
                        continue;
                    }
                    KnownCustom::ComponentName(reader) => {
                        for name in reader.into_iter().flatten() {
                            if let ComponentName::CoreModules(names) = name {
                                for naming in names.into_iter().flatten() {
                                    library(naming.name);
                                }
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                let mut fields = Vec::new();
                for field in reader {
                    let field = field.ok()?;
                    let values = field
                        .values
                        .into_iter()
                        .map(|v| v.map(|v| (v.name.to_string(), v.version.to_string())))
                        .collect::<Result<Vec<_>, _>>()
                        .ok()?;
                    fields.push((field.name.to_string(), values));
                }
                sections.push(Producers { depth, fields });
            }
            _ => {}
        }
    }
    Some(Sections {
        producers: sections,
        libraries,
    })
}

/// What `check` says of the probe instance against the mod's limits (every match's instance
/// starts the same way): its memory after `init` against `limits.memoryBytes`, the time of
/// instantiating it and running `init` against `limits.callbackDeadlineMs`, and a warning naming
/// the key to raise for each past half its limit. `name` is the mod's, for `[modLimits.<name>]`.
pub fn probe_use(probe: &ProbeUse, limits: &ModLimits, name: &str) -> Vec<String> {
    let memory = probe.memory_bytes;
    let deadline = Duration::from_millis(limits.callback_deadline_ms);
    let mut lines = vec![
        format!(
            "memory:     {} after init (limits.memoryBytes: {})",
            mebibytes(memory),
            size(limits.memory_bytes)
        ),
        format!(
            "init:       {} (limits.callbackDeadlineMs: {} ms)",
            if probe.init_took < Duration::from_millis(1) {
                "under 1 ms".to_string()
            } else {
                duration(probe.init_took)
            },
            limits.callback_deadline_ms
        ),
    ];
    let raise = |key: &str| {
        format!("raise {key} in [limits] (or in [modLimits.{name}] for this mod alone)")
    };
    if memory.saturating_mul(2) > limits.memory_bytes {
        lines.push(format!(
            "warning:    the mod uses more than half of limits.memoryBytes before its first \
             callback: {}, or its matches may fault with `memory limit reached`",
            raise("memoryBytes")
        ));
    }
    if probe.init_took.saturating_mul(2) > deadline {
        lines.push(format!(
            "warning:    init took more than half of limits.callbackDeadlineMs: {}, or its \
             matches may fault with `deadline exceeded` as they start",
            raise("callbackDeadlineMs")
        ));
    }
    lines
}

/// `12.8 MiB`.
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// A limit in bytes as it is best said: `64 MiB`, `512 KiB`, `1000 bytes`.
fn size(bytes: u64) -> String {
    if bytes != 0 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes != 0 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// `compiled in 5.8 s; stored in the compile cache DIR`, `taken from the compile cache DIR in
/// 40 ms`, ...
fn compilation(compilation: &Compilation, cache: Option<&Path>) -> String {
    let took = duration(compilation.took);
    let dir = cache.map_or_else(String::new, |d| d.display().to_string());
    match compilation.source {
        CompileSource::Cache => format!("taken from the compile cache in {took} ({dir})"),
        CompileSource::CompiledAndCached => {
            format!("compiled in {took}; stored in the compile cache ({dir})")
        }
        CompileSource::CompiledCacheUnusable => {
            format!("compiled in {took}; the compile cache {dir} could not be used (see the log)")
        }
        CompileSource::Compiled => format!("compiled in {took} (no compile cache)"),
    }
}

/// `5.8 s`, `40 ms`.
fn duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A producers section: its fields, each with `(name, version)` values.
    type Section<'a> = &'a [(&'a str, &'a [(&'a str, &'a str)])];

    /// A component holding `sections` as producers sections, the first at its top level and
    /// each other in a core module of its own.
    fn component(sections: &[Section]) -> Vec<u8> {
        fn leb(mut n: usize, out: &mut Vec<u8>) {
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    return;
                }
                out.push(byte | 0x80);
            }
        }
        fn string(s: &str, out: &mut Vec<u8>) {
            leb(s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        fn custom(fields: Section) -> Vec<u8> {
            let mut body = Vec::new();
            string("producers", &mut body);
            leb(fields.len(), &mut body);
            for (name, values) in fields {
                string(name, &mut body);
                leb(values.len(), &mut body);
                for (value, version) in *values {
                    string(value, &mut body);
                    string(version, &mut body);
                }
            }
            let mut section = vec![0];
            leb(body.len(), &mut section);
            section.extend(body);
            section
        }
        let mut out = b"\0asm\x0d\0\x01\0".to_vec();
        // wit-component writes the component's own section last, after its modules.
        for (i, fields) in sections
            .iter()
            .enumerate()
            .skip(1)
            .chain([(0, &sections[0])])
        {
            if i == 0 {
                out.extend(custom(fields));
            } else {
                let mut module = b"\0asm\x01\0\0\0".to_vec();
                module.extend(custom(fields));
                out.push(1); // a core module section
                leb(module.len(), &mut out);
                out.extend(module);
            }
        }
        out
    }

    #[test]
    fn the_component_says_its_language() {
        let bytes = component(&[
            &[
                (
                    "processed-by",
                    &[("wit-component", "0.258.0"), ("ComponentizeJS", "0.23.0")],
                ),
                ("language", &[("JavaScript", "")]),
            ],
            &[
                ("language", &[("C11", "")]),
                ("processed-by", &[("clang", "21")]),
            ],
        ]);
        assert_eq!(
            toolchain(&bytes),
            Toolchain {
                component: "JavaScript (wit-component 0.258.0, ComponentizeJS 0.23.0)".into(),
                modules: None,
                language: "JavaScript (ComponentizeJS 0.23.0)".into(),
            }
        );
    }

    #[test]
    fn else_its_modules_say_what_they_can() {
        // A Rust build: the language is in the module.
        let bytes = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[
                ("language", &[("Rust", ""), ("C11", "")]),
                (
                    "processed-by",
                    &[
                        ("rustc", "1.95.0 (17067e9ac 2026-01-01)"),
                        ("wit-bindgen-rust", "0.61.1"),
                    ],
                ),
                ("sdk", &[("nexori-sdk", "0.1.0")]),
            ],
            &[(
                "processed-by",
                &[("wit-component", "0.245.1"), ("wit-component", "0.244.0")],
            )],
        ]);
        assert_eq!(
            toolchain(&bytes),
            Toolchain {
                component: "wit-component 0.245.1 (no language named)".into(),
                modules: Some(
                    "Rust, C11 (rustc 1.95.0 (17067e9ac 2026-01-01), wit-bindgen-rust 0.61.1, \
                     wit-component 0.244.0); sdk nexori-sdk 0.1.0"
                        .into()
                ),
                language: "Rust (rustc 1.95.0 (17067e9ac 2026-01-01), wit-bindgen-rust 0.61.1)"
                    .into(),
            }
        );
        // Modules that add nothing, and no section at all.
        let bare = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[("processed-by", &[("wit-component", "0.245.1")])],
        ]);
        assert_eq!(toolchain(&bare).modules, None);
        assert_eq!(
            toolchain(&bare).language,
            "unknown (neither the component nor its modules name one)"
        );
        assert_eq!(
            toolchain(b"\0asm\x0d\0\x01\0").component,
            "not recorded (no producers section)"
        );
        // A stripped Rust build: the bindings generator still says it.
        let stripped = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[(
                "processed-by",
                &[
                    ("wit-component", "0.244.0"),
                    ("wit-bindgen-rust", "0.45.0"),
                    ("wit-bindgen-c", "0.51.0"),
                ],
            )],
        ]);
        assert_eq!(
            toolchain(&stripped).language,
            "Rust (wit-bindgen-rust 0.45.0)"
        );
    }

    /// A custom section named `name` holding `body`.
    fn custom_section(name: &str, body: &[u8]) -> Vec<u8> {
        let mut content = vec![name.len() as u8];
        content.extend_from_slice(name.as_bytes());
        content.extend_from_slice(body);
        let mut section = vec![0, content.len() as u8];
        assert!(content.len() < 0x80, "one-byte sizes");
        section.extend(content);
        section
    }

    /// A core module whose name section names it `name` and whose `dylink.0` section says it
    /// needs `needed`.
    fn library(name: &str, needed: &[&str]) -> Vec<u8> {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        let mut dylink = vec![2]; // WASM_DYLINK_NEEDED
        let mut list = vec![needed.len() as u8];
        for lib in needed {
            list.push(lib.len() as u8);
            list.extend_from_slice(lib.as_bytes());
        }
        dylink.push(list.len() as u8);
        dylink.extend(list);
        module.extend(custom_section("dylink.0", &dylink));
        let mut names = vec![0, name.len() as u8 + 1, name.len() as u8]; // the module's name
        names.extend_from_slice(name.as_bytes());
        module.extend(custom_section("name", &names));
        module
    }

    #[test]
    fn a_componentize_py_component_is_python_by_its_libraries() {
        // The component and its modules record no language; the WASI adapter module says Rust.
        let mut bytes = component(&[
            &[(
                "processed-by",
                &[
                    ("wit-component", "0.245.1"),
                    ("component-init-transform", "0.2.0"),
                ],
            )],
            &[
                ("language", &[("Rust", "")]),
                (
                    "processed-by",
                    &[("rustc", "1.75.0 (82e1608df 2023-12-21)")],
                ),
            ],
        ]);
        for module in [
            library("libpython3.14.so", &["libc.so"]),
            library(
                "componentize_py_runtime.wasm",
                &["libc.so", "libpython3.14.so"],
            ),
        ] {
            bytes.push(1);
            bytes.push(module.len() as u8);
            bytes.extend(module);
        }
        let toolchain = toolchain(&bytes);
        assert_eq!(toolchain.language, "Python 3.14 (componentize-py)");
        // The lines that were there before stay as they were.
        assert_eq!(
            toolchain.component,
            "wit-component 0.245.1, component-init-transform 0.2.0 (no language named)"
        );
        assert_eq!(
            toolchain.modules.as_deref(),
            Some("Rust (rustc 1.75.0 (82e1608df 2023-12-21))")
        );
        // The interpreter alone (its name only in the `needed` list of another module).
        let mut bytes = component(&[&[("processed-by", &[("wit-component", "0.245.1")])]]);
        let module = library("main", &["libpython3.12.so"]);
        bytes.push(1);
        bytes.push(module.len() as u8);
        bytes.extend(module);
        assert_eq!(super::toolchain(&bytes).language, "Python 3.12");
    }

    #[test]
    fn check_says_what_init_used_and_warns_past_half_a_limit() {
        let limits = ModLimits::default();
        let probe = ProbeUse {
            memory_bytes: 13_369_344,
            init_took: Duration::from_millis(9),
        };
        assert_eq!(
            probe_use(&probe, &limits, "last_standing"),
            [
                "memory:     12.8 MiB after init (limits.memoryBytes: 64 MiB)",
                "init:       9 ms (limits.callbackDeadlineMs: 250 ms)",
            ]
        );
        let probe = ProbeUse {
            memory_bytes: 40 << 20,
            init_took: Duration::from_millis(130),
        };
        assert_eq!(
            probe_use(&probe, &limits, "big"),
            [
                "memory:     40.0 MiB after init (limits.memoryBytes: 64 MiB)",
                "init:       130 ms (limits.callbackDeadlineMs: 250 ms)",
                "warning:    the mod uses more than half of limits.memoryBytes before its first \
                 callback: raise memoryBytes in [limits] (or in [modLimits.big] for this mod \
                 alone), or its matches may fault with `memory limit reached`",
                "warning:    init took more than half of limits.callbackDeadlineMs: raise \
                 callbackDeadlineMs in [limits] (or in [modLimits.big] for this mod alone), or \
                 its matches may fault with `deadline exceeded` as they start",
            ]
        );
        let quick = ProbeUse {
            memory_bytes: 1_114_112,
            init_took: Duration::from_micros(300),
        };
        assert_eq!(
            probe_use(&quick, &limits, "m")[1],
            "init:       under 1 ms (limits.callbackDeadlineMs: 250 ms)"
        );
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(size(512 << 10), "512 KiB");
    }

    #[test]
    fn durations_read_as_a_person_would_say_them() {
        assert_eq!(duration(Duration::from_millis(5_840)), "5.8 s");
        assert_eq!(duration(Duration::from_millis(40)), "40 ms");
    }
}
