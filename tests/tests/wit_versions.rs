//! The versions of the WIT contract (`wit/README.md`): every released `nexori:minigame` text
//! under `wit/released/` stays exactly as released and is what mods built against it import
//! and export, each minor version only adds to the one before, and the host serves every
//! released version of its major.
//!
//! Texts are compared by shape: interfaces, worlds, named types and functions, each spelled out
//! by its structure, without docs, ids or versions, so the same checks read a parsed WIT package
//! and a compiled mod's component type as the host's wasmtime sees it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use nexori_host::wasm::loader::{REQUIRED_EXPORTS, SUPPORTED_VERSIONS, WIT_PACKAGE};
use nexori_tests::{mods_dir, root};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::{self as wt, ComponentItem};
use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, PackageId, Resolve, SourceMap, Type, TypeDefKind,
    TypeId, WorldId, WorldItem, WorldKey,
};

const PACKAGE: &str = "nexori:minigame";

/// The world a mod targets.
const WORLD: &str = "rules-mod";

/// Every released version, oldest first, and the SHA-256 of its text (see [`digest`]). A
/// released text never changes, not even a doc comment: mods and SDKs were built against it. A
/// change goes into a new version, and releasing it adds its line here.
const RELEASED: &[(&str, &str)] = &[
    (
        "1.0.0",
        "621b141e2b379e6a2e0a98974f8c06561bc7d4db359a19186807b20f98c2574f",
    ),
    (
        "1.1.0",
        "23e02b18057326947361b71baa97f2861ea518d59ef090ab264e4f0f23605f66",
    ),
];

/// A mod built against each released version that the tree no longer builds (the example mods
/// are built against the current text). Never rebuilt: it stands for a binary an operator runs.
const FIXTURES: &[(&str, &str)] = &[(
    "1.0.0",
    "tests/fixtures/scripted-nexori-minigame-1.0.0.wasm",
)];

// ------------------------------------------------------------------------------------ tests

#[test]
fn released_texts_are_unchanged() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(wit_dir().join("released"))
        .expect("wit/released")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed: BTreeSet<String> = RELEASED.iter().map(|(v, _)| v.to_string()).collect();
    let digests: Vec<String> = on_disk
        .iter()
        .map(|v| format!("{v}: {}", digest(&wit_files(&released_dir(v)))))
        .collect();
    assert_eq!(
        on_disk, listed,
        "wit/released/ and RELEASED must list the same versions (on disk: {digests:?})"
    );

    for (version, expected) in RELEASED {
        let dir = released_dir(version);
        let actual = digest(&wit_files(&dir));
        assert_eq!(
            &actual,
            expected,
            "{} changed: a released text is frozen; put the change into a new version (wit/README.md)",
            dir.display()
        );
        let text = Text::parse(&dir);
        assert_eq!(
            text.name(),
            format!("{PACKAGE}@{version}"),
            "{}",
            dir.display()
        );
    }
}

#[test]
fn released_versions_are_what_mods_built_against_them_import_and_export() {
    let current = Text::parse(&wit_dir()).version();
    for (version, _) in RELEASED {
        if Version::parse(version) != current {
            assert!(
                FIXTURES.iter().any(|(v, _)| v == version),
                "released {version} has no mod built against it in FIXTURES: freeze one under \
                 tests/fixtures before the current text moves past it"
            );
        }
    }
    let engine = Engine::default();
    for (version, fixture) in FIXTURES {
        let text = Text::parse(&released_dir(version));
        assert_built_against(&engine, &root().join(fixture), &text);
    }
}

#[test]
fn the_example_mods_are_built_against_the_current_text() {
    let text = Text::parse(&wit_dir());
    let engine = Engine::default();
    for entry in std::fs::read_dir(mods_dir()).expect("mods dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|ext| ext == "wasm") {
            assert_built_against(&engine, &path, &text);
        }
    }
}

#[test]
fn the_current_text_is_the_latest_release_or_adds_to_it() {
    let current = Text::parse(&wit_dir());
    let version = current.version();
    let latest = Version::parse(RELEASED.last().expect("a released version").0);
    if version == latest {
        let released = wit_files(&released_dir(&latest.to_string()));
        let ours = wit_files(&wit_dir());
        let differing: Vec<&String> = released
            .keys()
            .chain(ours.keys())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|name| released.get(*name) != ours.get(*name))
            .collect();
        assert!(
            differing.is_empty(),
            "wit/ names released version {latest}, but {differing:?} differ from \
             wit/released/{latest}: a released text is frozen; bump the version in wit/ to \
             change it (wit/README.md)"
        );
    } else {
        assert!(
            version > latest,
            "wit/ is at {version}, older than the latest release {latest}"
        );
        // Same major: checked in `each_minor_version_only_adds_to_the_one_before`.
    }
}

#[test]
fn each_minor_version_only_adds_to_the_one_before() {
    let mut texts: Vec<(String, Text)> = RELEASED
        .iter()
        .map(|(v, _)| (format!("wit/released/{v}"), Text::parse(&released_dir(v))))
        .collect();
    let current = Text::parse(&wit_dir());
    if texts.iter().all(|(_, t)| t.version() != current.version()) {
        texts.push(("wit".to_string(), current));
    }
    for pair in texts.windows(2) {
        let [(old_dir, old), (new_dir, new)] = pair else {
            unreachable!()
        };
        assert!(
            new.version() > old.version(),
            "{new_dir} must be newer than {old_dir}"
        );
        if new.version().major != old.version().major {
            continue; // a major version may break; the host keeps a module for the old one
        }
        let removed = old.shape().missing_from(&new.shape());
        assert!(
            removed.is_empty(),
            "{} removes or changes what {} released (a minor version may only add):\n{}",
            new.name(),
            old.name(),
            removed.join("\n")
        );
    }
}

#[test]
fn the_host_serves_every_released_version_of_its_major() {
    let current = Text::parse(&wit_dir());
    assert_eq!(WIT_PACKAGE, current.name(), "the host implements wit/");

    let mut texts: BTreeMap<Version, Text> = RELEASED
        .iter()
        .map(|(v, _)| (Version::parse(v), Text::parse(&released_dir(v))))
        .collect();
    let major = current.version().major;
    texts.insert(current.version(), current);

    let supported: Vec<Version> = SUPPORTED_VERSIONS
        .iter()
        .map(|v| Version::parse(v))
        .collect();
    assert!(
        supported.is_sorted(),
        "SUPPORTED_VERSIONS (host/mod-host/src/wasm/loader.rs) is oldest first: {SUPPORTED_VERSIONS:?}"
    );
    for version in &supported {
        assert!(
            texts.contains_key(version),
            "the host supports {version}, which was never released (no wit/released/{version})"
        );
    }
    // A minor version never drops a mod that loaded before it.
    for version in texts.keys().filter(|v| v.major == major) {
        assert!(
            supported.contains(version),
            "SUPPORTED_VERSIONS (host/mod-host/src/wasm/loader.rs) lacks {version}: the host serves every \
             version of its major"
        );
    }

    // What the host requires a mod to export, every supported version's world exports: a new
    // export (like 1.1.0's `game-event-batches`) stays optional for the host.
    for version in SUPPORTED_VERSIONS {
        let text = &texts[&Version::parse(version)];
        let exports = world_shape(&text.resolve, text.world(WORLD)).exports;
        for required in REQUIRED_EXPORTS {
            assert!(
                exports.contains(&format!("{PACKAGE}/{required}")),
                "the host requires `{required}`, which {} does not export",
                text.name()
            );
        }
    }
}

// ------------------------------------------------------------------------ files and digests

fn wit_dir() -> PathBuf {
    root().join("wit")
}

fn released_dir(version: &str) -> PathBuf {
    wit_dir().join("released").join(version)
}

/// The `.wit` files of a package's directory by name (wit-parser reads no other file there).
fn wit_files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "wit"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            // A checkout that turned line ends into CRLF has not changed the text.
            (name, text.replace("\r\n", "\n"))
        })
        .collect()
}

/// SHA-256 over the files in name order, each as its name, a NUL, its text and a NUL.
fn digest(files: &BTreeMap<String, String>) -> String {
    let mut sha = Sha256::new();
    for (name, text) in files {
        sha.update(name.as_bytes());
        sha.update([0]);
        sha.update(text.as_bytes());
        sha.update([0]);
    }
    sha.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

// ------------------------------------------------------------------------ texts and versions

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

impl Version {
    fn parse(text: &str) -> Version {
        let parts: Vec<u64> = text
            .split('.')
            .map(|part| part.parse().unwrap_or_else(|_| panic!("version {text}")))
            .collect();
        let [major, minor, patch] = parts[..] else {
            panic!("version {text}: not major.minor.patch")
        };
        Version {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A parsed WIT package.
struct Text {
    resolve: Resolve,
    package: PackageId,
}

impl Text {
    /// Parses the package in `dir` from its `.wit` files, as `bindgen!` does (it also reads a
    /// `deps/` folder, which these packages do not have; wit-parser's own `push_dir` needs its
    /// `std` feature, see tests/Cargo.toml).
    fn parse(dir: &Path) -> Text {
        let mut sources = SourceMap::new();
        for (name, text) in wit_files(dir) {
            sources.push_str(&dir.join(name).to_string_lossy(), text);
        }
        let group = sources
            .parse()
            .unwrap_or_else(|(_, e)| panic!("parse {}: {e}", dir.display()));
        let mut resolve = Resolve::default();
        let package = resolve
            .push_group(group)
            .unwrap_or_else(|e| panic!("resolve {}: {e}", dir.display()));
        Text { resolve, package }
    }

    /// `nexori:minigame@1.1.0`
    fn name(&self) -> String {
        self.resolve.packages[self.package].name.to_string()
    }

    fn version(&self) -> Version {
        let name = &self.resolve.packages[self.package].name;
        let version = name.version.as_ref().expect("the package is versioned");
        Version::parse(&version.to_string())
    }

    fn world(&self, name: &str) -> WorldId {
        *self.resolve.packages[self.package]
            .worlds
            .get(name)
            .unwrap_or_else(|| panic!("{} has no world `{name}`", self.name()))
    }

    fn shape(&self) -> Shape {
        let package = &self.resolve.packages[self.package];
        Shape {
            interfaces: package
                .interfaces
                .values()
                .map(|id| {
                    (
                        interface_name(&self.resolve, *id),
                        interface_shape(&self.resolve, *id),
                    )
                })
                .collect(),
            worlds: package
                .worlds
                .iter()
                .map(|(name, id)| (name.clone(), world_shape(&self.resolve, *id)))
                .collect(),
        }
    }
}

// -------------------------------------------------------------------------------- shapes

/// What a package offers, by name: interfaces (`nexori:minigame/api`, without the version, so
/// versions compare by content) and worlds.
struct Shape {
    interfaces: BTreeMap<String, InterfaceShape>,
    worlds: BTreeMap<String, WorldShape>,
}

/// An interface's named types and functions, each rendered by its structure (see
/// [`text_type`]): what the component model checks when it links a mod.
#[derive(Default)]
struct InterfaceShape {
    types: BTreeMap<String, String>,
    functions: BTreeMap<String, String>,
}

/// A world's imports and exports: interface names, or `name: shape` for a function or type.
struct WorldShape {
    imports: BTreeSet<String>,
    exports: BTreeSet<String>,
}

impl InterfaceShape {
    /// What `self` names that `other` lacks or has otherwise, one line each, for interface
    /// `name`.
    fn missing_from(&self, name: &str, other: &InterfaceShape, wrong: &mut Vec<String>) {
        for (kind, ours, theirs) in [
            ("type", &self.types, &other.types),
            ("function", &self.functions, &other.functions),
        ] {
            for (item, shape) in ours {
                match theirs.get(item) {
                    Some(their_shape) if their_shape == shape => {}
                    Some(their_shape) => wrong.push(format!(
                        "{name} {kind} {item}: `{shape}` vs `{their_shape}`"
                    )),
                    None => wrong.push(format!("{name} {kind} {item} (`{shape}`) is missing")),
                }
            }
        }
    }
}

impl Shape {
    /// What this package offers that `newer` lacks or has changed, one line each.
    fn missing_from(&self, newer: &Shape) -> Vec<String> {
        let mut missing = Vec::new();
        for (name, old) in &self.interfaces {
            match newer.interfaces.get(name) {
                Some(new) => old.missing_from(name, new, &mut missing),
                None => missing.push(format!("interface {name} is missing")),
            }
        }
        for (name, old) in &self.worlds {
            let Some(new) = newer.worlds.get(name) else {
                missing.push(format!("world {name} is missing"));
                continue;
            };
            for (kind, old_items, new_items) in [
                ("import", &old.imports, &new.imports),
                ("export", &old.exports, &new.exports),
            ] {
                for item in old_items.difference(new_items) {
                    missing.push(format!("world {name} no longer has {kind} {item}"));
                }
            }
        }
        missing
    }
}

fn interface_shape(resolve: &Resolve, id: InterfaceId) -> InterfaceShape {
    let interface = &resolve.interfaces[id];
    InterfaceShape {
        types: interface
            .types
            .iter()
            .map(|(name, ty)| (name.clone(), text_type(resolve, &Type::Id(*ty))))
            .collect(),
        functions: interface
            .functions
            .iter()
            .map(|(name, function)| (name.clone(), text_function(resolve, function)))
            .collect(),
    }
}

fn world_shape(resolve: &Resolve, id: WorldId) -> WorldShape {
    let items = |items: &wit_parser::IndexMap<WorldKey, WorldItem>| -> BTreeSet<String> {
        items
            .iter()
            .map(|(key, item)| {
                let name = match key {
                    WorldKey::Name(name) => name.clone(),
                    WorldKey::Interface(id) => interface_name(resolve, *id),
                };
                match item {
                    WorldItem::Interface { .. } => name,
                    WorldItem::Function(function) => {
                        format!("{name}: {}", text_function(resolve, function))
                    }
                    WorldItem::Type { id, .. } => {
                        format!("{name}: {}", text_type(resolve, &Type::Id(*id)))
                    }
                }
            })
            .collect()
    };
    let world = &resolve.worlds[id];
    WorldShape {
        imports: items(&world.imports),
        exports: items(&world.exports),
    }
}

/// `nexori:minigame/api`
fn interface_name(resolve: &Resolve, id: InterfaceId) -> String {
    let interface = &resolve.interfaces[id];
    let package = &resolve.packages[interface.package.expect("a package's interface")].name;
    let name = interface.name.as_deref().expect("a named interface");
    format!("{}:{}/{name}", package.namespace, package.name)
}

// Both renderers below spell a type the same way, so a parsed text and a compiled component
// compare as strings: named types spelled out (`player-uuid` is `string`), resources by name.

/// `func(match-id: string) -> option<record { ... }>`
fn text_function(resolve: &Resolve, function: &Function) -> String {
    let params: Vec<(String, String)> = function
        .params
        .iter()
        .map(|param| (param.name.clone(), text_type(resolve, &param.ty)))
        .collect();
    let is_async = matches!(
        function.kind,
        FunctionKind::AsyncFreestanding
            | FunctionKind::AsyncMethod(_)
            | FunctionKind::AsyncStatic(_)
    );
    let result = function.result.as_ref().map(|ty| text_type(resolve, ty));
    signature(is_async, &params, result)
}

fn signature(is_async: bool, params: &[(String, String)], result: Option<String>) -> String {
    let params: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
    format!(
        "{}func({}){}",
        if is_async { "async " } else { "" },
        params.join(", "),
        result.map(|r| format!(" -> {r}")).unwrap_or_default()
    )
}

fn text_type(resolve: &Resolve, ty: &Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => *id,
    };
    let ty = |ty: &Type| text_type(resolve, ty);
    let optional = |ty: &Option<Type>| ty.as_ref().map(|ty| text_type(resolve, ty));
    match &resolve.types[id].kind {
        TypeDefKind::Type(aliased) => ty(aliased),
        TypeDefKind::Resource => "resource".into(),
        TypeDefKind::Handle(Handle::Own(resource)) => {
            format!("own<{}>", resource_name(resolve, *resource))
        }
        TypeDefKind::Handle(Handle::Borrow(resource)) => {
            format!("borrow<{}>", resource_name(resolve, *resource))
        }
        TypeDefKind::Record(record) => {
            structure::record(record.fields.iter().map(|f| (f.name.as_str(), ty(&f.ty))))
        }
        TypeDefKind::Variant(variant) => structure::variant(
            variant
                .cases
                .iter()
                .map(|c| (c.name.as_str(), optional(&c.ty))),
        ),
        TypeDefKind::Enum(cases) => structure::names("enum", cases.cases.iter().map(|c| &c.name)),
        TypeDefKind::Flags(flags) => structure::names("flags", flags.flags.iter().map(|f| &f.name)),
        TypeDefKind::Tuple(tuple) => structure::tuple(tuple.types.iter().map(ty)),
        TypeDefKind::Option(inner) => format!("option<{}>", ty(inner)),
        TypeDefKind::Result(result) => {
            structure::result(optional(&result.ok), optional(&result.err))
        }
        TypeDefKind::List(inner) => format!("list<{}>", ty(inner)),
        TypeDefKind::FixedLengthList(inner, len) => format!("list<{}, {len}>", ty(inner)),
        TypeDefKind::Map(key, value) => format!("map<{}, {}>", ty(key), ty(value)),
        TypeDefKind::Future(inner) => structure::generic("future", optional(inner)),
        TypeDefKind::Stream(inner) => structure::generic("stream", optional(inner)),
        TypeDefKind::Unknown => "unknown".into(),
    }
}

/// The name a resource was declared with (a `use` makes an alias of it).
fn resource_name(resolve: &Resolve, mut id: TypeId) -> String {
    while let TypeDefKind::Type(Type::Id(aliased)) = resolve.types[id].kind {
        id = aliased;
    }
    resolve.types[id].name.clone().expect("a named resource")
}

/// The spelling of structured types, shared by both renderers.
mod structure {
    pub fn record<'a>(fields: impl Iterator<Item = (&'a str, String)>) -> String {
        let fields: Vec<String> = fields.map(|(name, ty)| format!("{name}: {ty}")).collect();
        format!("record {{ {} }}", fields.join(", "))
    }

    pub fn variant<'a>(cases: impl Iterator<Item = (&'a str, Option<String>)>) -> String {
        let cases: Vec<String> = cases
            .map(|(name, ty)| match ty {
                Some(ty) => format!("{name}({ty})"),
                None => name.to_string(),
            })
            .collect();
        format!("variant {{ {} }}", cases.join(", "))
    }

    pub fn names<S: AsRef<str>>(kind: &str, names: impl Iterator<Item = S>) -> String {
        let names: Vec<String> = names.map(|n| n.as_ref().to_string()).collect();
        format!("{kind} {{ {} }}", names.join(", "))
    }

    pub fn tuple(types: impl Iterator<Item = String>) -> String {
        format!("tuple<{}>", types.collect::<Vec<_>>().join(", "))
    }

    pub fn result(ok: Option<String>, err: Option<String>) -> String {
        let or_none = |ty: Option<String>| ty.unwrap_or_else(|| "_".into());
        format!("result<{}, {}>", or_none(ok), or_none(err))
    }

    pub fn generic(kind: &str, ty: Option<String>) -> String {
        format!("{kind}<{}>", ty.unwrap_or_else(|| "_".into()))
    }
}

// ------------------------------------------------------------------------------ components

/// A compiled mod's `nexori:minigame` imports and exports as the host's wasmtime types them:
/// interface name (without version) to its version and shape.
struct ComponentShape {
    imports: BTreeMap<String, (String, InterfaceShape)>,
    exports: BTreeMap<String, (String, InterfaceShape)>,
}

impl ComponentShape {
    fn read(engine: &Engine, path: &Path) -> ComponentShape {
        let component = Component::from_file(engine, path)
            .unwrap_or_else(|e| panic!("compile {}: {e:#}", path.display()));
        let ty = component.component_type();
        let instances =
            |items: Vec<(&str, ComponentItem)>| -> Vec<(String, String, wt::ComponentInstance)> {
                items
                    .into_iter()
                    .filter_map(|(name, item)| {
                        let rest = name.strip_prefix(PACKAGE)?.strip_prefix('/')?;
                        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
                        let ComponentItem::ComponentInstance(instance) = item else {
                            panic!("{}: `{name}` is not an instance", path.display())
                        };
                        Some((
                            format!("{PACKAGE}/{interface}"),
                            version.to_string(),
                            instance,
                        ))
                    })
                    .collect()
            };
        let imports = instances(ty.imports(engine).map(|(n, e)| (n, e.ty)).collect());
        let exports = instances(ty.exports(engine).map(|(n, e)| (n, e.ty)).collect());

        // Resources by name, wherever declared: a function may use another interface's.
        let mut resources = Vec::new();
        for (_, _, instance) in imports.iter().chain(&exports) {
            for (name, item) in instance.exports(engine) {
                if let ComponentItem::Resource(resource) = item.ty {
                    resources.push((resource, name.to_string()));
                }
            }
        }
        let shape = |list: Vec<(String, String, wt::ComponentInstance)>| {
            list.into_iter()
                .map(|(name, version, instance)| {
                    let mut shape = InterfaceShape::default();
                    for (item_name, item) in instance.exports(engine) {
                        let item_name = item_name.to_string();
                        match item.ty {
                            ComponentItem::ComponentFunc(func) => {
                                let params: Vec<(String, String)> = func
                                    .params()
                                    .map(|(n, t)| (n.to_string(), wasm_type(&t, &resources)))
                                    .collect();
                                let result =
                                    func.results().next().map(|t| wasm_type(&t, &resources));
                                shape
                                    .functions
                                    .insert(item_name, signature(func.async_(), &params, result));
                            }
                            ComponentItem::Type(ty) => {
                                shape.types.insert(item_name, wasm_type(&ty, &resources));
                            }
                            ComponentItem::Resource(_) => {
                                shape.types.insert(item_name, "resource".into());
                            }
                            other => {
                                panic!("{}: {name} exports {item_name}: {other:?}", path.display())
                            }
                        }
                    }
                    (name, (version, shape))
                })
                .collect()
        };
        ComponentShape {
            imports: shape(imports),
            exports: shape(exports),
        }
    }
}

fn wasm_type(ty: &wt::Type, resources: &[(wt::ResourceType, String)]) -> String {
    let ty_of = |t: &wt::Type| wasm_type(t, resources);
    let optional = |t: Option<wt::Type>| t.as_ref().map(ty_of);
    let resource = |r: &wt::ResourceType| {
        resources.iter().find(|(known, _)| known == r).map_or_else(
            || "<unknown resource>".to_string(),
            |(_, name)| name.clone(),
        )
    };
    match ty {
        wt::Type::Bool => "bool".into(),
        wt::Type::S8 => "s8".into(),
        wt::Type::U8 => "u8".into(),
        wt::Type::S16 => "s16".into(),
        wt::Type::U16 => "u16".into(),
        wt::Type::S32 => "s32".into(),
        wt::Type::U32 => "u32".into(),
        wt::Type::S64 => "s64".into(),
        wt::Type::U64 => "u64".into(),
        wt::Type::Float32 => "f32".into(),
        wt::Type::Float64 => "f64".into(),
        wt::Type::Char => "char".into(),
        wt::Type::String => "string".into(),
        wt::Type::ErrorContext => "error-context".into(),
        wt::Type::Own(r) => format!("own<{}>", resource(r)),
        wt::Type::Borrow(r) => format!("borrow<{}>", resource(r)),
        wt::Type::Record(record) => {
            structure::record(record.fields().map(|f| (f.name, ty_of(&f.ty))))
        }
        wt::Type::Variant(variant) => {
            structure::variant(variant.cases().map(|c| (c.name, optional(c.ty))))
        }
        wt::Type::Enum(cases) => structure::names("enum", cases.names()),
        wt::Type::Flags(flags) => structure::names("flags", flags.names()),
        wt::Type::Tuple(tuple) => structure::tuple(tuple.types().map(|t| ty_of(&t))),
        wt::Type::Option(inner) => format!("option<{}>", ty_of(&inner.ty())),
        wt::Type::Result(result) => {
            structure::result(optional(result.ok()), optional(result.err()))
        }
        wt::Type::List(inner) => format!("list<{}>", ty_of(&inner.ty())),
        wt::Type::FixedLengthList(inner) => {
            format!("list<{}, {}>", ty_of(&inner.ty()), inner.len())
        }
        wt::Type::Map(map) => format!("map<{}, {}>", ty_of(&map.key()), ty_of(&map.value())),
        wt::Type::Future(inner) => structure::generic("future", optional(inner.ty())),
        wt::Type::Stream(inner) => structure::generic("stream", optional(inner.ty())),
    }
}

/// Asserts that the compiled mod at `path` was built against `text`: its `nexori:minigame`
/// names carry the text's version; it exports exactly the interfaces of the text's `rules-mod`
/// world, each with all its functions, and imports only interfaces of that world; and every
/// function and type it names has the text's shape.
///
/// A component carries only the imports its mod calls, so an import it does not use proves
/// nothing either way; the digests in [`RELEASED`] pin those.
fn assert_built_against(engine: &Engine, path: &Path, text: &Text) {
    let component = ComponentShape::read(engine, path);
    let world = world_shape(&text.resolve, text.world(WORLD));
    let declared = text.shape().interfaces;
    let version = text.version().to_string();

    let mut wrong = Vec::new();
    let exported: BTreeSet<String> = component.exports.keys().cloned().collect();
    if exported != world.exports {
        wrong.push(format!(
            "exports {exported:?}; `{WORLD}` exports {:?}",
            world.exports
        ));
    }
    for (direction, interfaces) in [
        ("imports", &component.imports),
        ("exports", &component.exports),
    ] {
        for (name, (v, used)) in interfaces {
            if *v != version {
                wrong.push(format!("{direction} {name}@{v}"));
            }
            if direction == "imports" && !world.imports.contains(name) {
                wrong.push(format!("imports {name}, which `{WORLD}` does not"));
            }
            let Some(declared) = declared.get(name) else {
                wrong.push(format!(
                    "{direction} {name}, which the text does not declare"
                ));
                continue;
            };
            used.missing_from(name, declared, &mut wrong);
            if direction == "exports" {
                // A mod exports every function of an interface it exports.
                for function in declared.functions.keys() {
                    if !used.functions.contains_key(function) {
                        wrong.push(format!("{name} function {function} is not exported"));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} was not built against {} (mod's shape vs the text's):\n{}",
        path.display(),
        text.name(),
        wrong.join("\n")
    );
}
