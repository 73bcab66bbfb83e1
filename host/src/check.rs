//! `nexori check`: is this file a rules mod the host will load?

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::wasm::engine::EngineSettings;
use nexori_host::wasm::loader::{Compilation, CompileSource, WIT_PACKAGE};
use nexori_reporting::{IdGenerator, RecordingReporter};
use nexori_runtime::clock::VirtualClock;
use wasmparser::{KnownCustom, Parser, Payload};

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
}

/// Reads the [`Toolchain`] from a component's (or a core module's) bytes.
pub fn toolchain(bytes: &[u8]) -> Toolchain {
    let Some(sections) = producers(bytes) else {
        return Toolchain {
            component: "unknown (the file could not be read for its producers sections)".into(),
            modules: None,
        };
    };
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
    }
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

/// Every `producers` section of a component or module, in file order; `None` when the bytes do
/// not parse (the loader has then said what is wrong already).
fn producers(bytes: &[u8]) -> Option<Vec<Producers>> {
    let mut sections = Vec::new();
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::CustomSection(custom) => {
                let KnownCustom::Producers(reader) = custom.as_known() else {
                    continue;
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
    Some(sections)
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
            }
        );
        // Modules that add nothing, and no section at all.
        let bare = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[("processed-by", &[("wit-component", "0.245.1")])],
        ]);
        assert_eq!(toolchain(&bare).modules, None);
        assert_eq!(
            toolchain(b"\0asm\x0d\0\x01\0").component,
            "not recorded (no producers section)"
        );
    }

    #[test]
    fn durations_read_as_a_person_would_say_them() {
        assert_eq!(duration(Duration::from_millis(5_840)), "5.8 s");
        assert_eq!(duration(Duration::from_millis(40)), "40 ms");
    }
}
