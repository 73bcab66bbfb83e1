//! `nexori new NAME --lang rust|python|ts`: a buildable mod project.
//!
//! The files are `host/templates/new/<lang>/` plus `common/`, built into the binary; `{{name}}`
//! becomes the mod's name (also its rules engine id and `.wasm` name) and `{{sdk}}` the Nexori
//! checkout that holds the SDKs and the WIT (the one this binary was built from, unless
//! `--sdk-dir` or `NEXORI_SDK_DIR` says otherwise).

use std::path::{Path, PathBuf};

/// A mod author's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    Python,
    #[value(alias = "typescript")]
    Ts,
}

type Template = (&'static str, &'static str);

macro_rules! templates {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/new/", $path)))),*]
    };
}

const COMMON: &[Template] = templates!["common/scenarios/first-blood.json"];
const RUST: &[Template] = templates![
    "rust/Cargo.toml",
    "rust/.cargo/config.toml",
    "rust/rust-toolchain.toml",
    "rust/src/lib.rs",
    "rust/README.md",
    "rust/.gitignore",
];
const PYTHON: &[Template] = templates![
    "python/app.py",
    "python/build.sh",
    "python/requirements-build.txt",
    "python/README.md",
    "python/.gitignore",
];
const TS: &[Template] = templates![
    "ts/src/mod.ts",
    "ts/package.json",
    "ts/tsconfig.json",
    "ts/README.md",
    "ts/.gitignore",
];

/// What each language needs from the SDK checkout.
fn sdk_files(language: Language) -> &'static [&'static str] {
    match language {
        Language::Rust => &["guest-sdk/Cargo.toml"],
        Language::Python => &["guest-sdk-python/nexori/__init__.py", "wit/guest.wit"],
        Language::Ts => &["guest-sdk-ts/package.json", "wit/guest.wit"],
    }
}

/// The checkout this binary was built from.
pub fn default_sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Why a project could not be written.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error(
        "{0:?} is not a mod name: use lowercase letters, digits and `_`, starting with a letter (at most 64); it is also the rules engine id and the .wasm name"
    )]
    Name(String),
    #[error("{0} already exists; choose another name or remove it")]
    Exists(String),
    #[error(
        "the Nexori SDKs are not in {dir} (no {missing}); pass --sdk-dir (or set NEXORI_SDK_DIR) to a checkout of the Nexori repository"
    )]
    Sdk { dir: String, missing: String },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: String },
}

/// Checks a mod name: it names the directory, the rules engine id, the crate or package, and the
/// `.wasm` file (so the host's `config.mods.<name>` finds it).
pub fn check_name(name: &str) -> Result<(), NewError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(NewError::Name(name.to_string()))
    }
}

/// Writes the project `dir/<name>` and returns its path and the files written.
///
/// # Errors
///
/// A bad name, an existing directory, an SDK checkout without the language's SDK, or a file that
/// cannot be written; nothing is left behind on error but what was already written.
pub fn create(
    parent: &Path,
    name: &str,
    language: Language,
    sdk_dir: &Path,
) -> Result<(PathBuf, Vec<String>), NewError> {
    check_name(name)?;
    let sdk_dir = std::path::absolute(sdk_dir).unwrap_or_else(|_| sdk_dir.to_path_buf());
    for file in sdk_files(language) {
        if !sdk_dir.join(file).is_file() {
            return Err(NewError::Sdk {
                dir: sdk_dir.display().to_string(),
                missing: (*file).to_string(),
            });
        }
    }
    let project = parent.join(name);
    if project.exists() {
        return Err(NewError::Exists(project.display().to_string()));
    }
    let (prefix, templates) = match language {
        Language::Rust => ("rust/", RUST),
        Language::Python => ("python/", PYTHON),
        Language::Ts => ("ts/", TS),
    };
    let sdk = sdk_dir.display().to_string();
    let mut written = Vec::new();
    for (path, text) in templates.iter().chain(COMMON) {
        let relative = path
            .strip_prefix(prefix)
            .or_else(|| path.strip_prefix("common/"))
            .unwrap_or(path);
        let target = project.join(relative);
        let text = text.replace("{{name}}", name).replace("{{sdk}}", &sdk);
        let write = |target: &Path| -> std::io::Result<()> {
            std::fs::create_dir_all(target.parent().unwrap_or(&project))?;
            std::fs::write(target, &text)?;
            if relative.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o755))?;
            }
            Ok(())
        };
        write(&target).map_err(|e| NewError::Write {
            path: target.display().to_string(),
            error: e.to_string(),
        })?;
        written.push(relative.to_string());
    }
    Ok((project, written))
}

/// The two commands that build and simulate a new project, as its README gives them.
pub fn next_steps(language: Language) -> [&'static str; 2] {
    match language {
        Language::Rust => [
            "cargo build --release",
            "nexori simulate --mods target/wasm32-wasip2/release scenarios/first-blood.json",
        ],
        Language::Python => [
            "./build.sh",
            "nexori simulate --mods mods scenarios/first-blood.json",
        ],
        Language::Ts => [
            "npm install && npm run build",
            "nexori simulate --mods mods scenarios/first-blood.json",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_rules_engine_ids_and_file_names() {
        for good in ["first_blood", "ctz2", "a"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "First",
            "2fast",
            "my-mod",
            "a b",
            "../x",
            &"x".repeat(65),
        ] {
            assert_eq!(
                check_name(bad).unwrap_err().to_string(),
                format!(
                    "{bad:?} is not a mod name: use lowercase letters, digits and `_`, starting with a letter (at most 64); it is also the rules engine id and the .wasm name"
                )
            );
        }
    }

    #[test]
    fn every_template_is_written_with_the_name_and_the_sdk() {
        let parent = std::env::temp_dir().join(format!("nexori-new-unit-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        for language in [Language::Rust, Language::Python, Language::Ts] {
            let name = format!("{language:?}_mod").to_lowercase();
            let (dir, files) = create(&parent, &name, language, &default_sdk_dir()).unwrap();
            assert!(files.contains(&"scenarios/first-blood.json".to_string()));
            for file in &files {
                let text = std::fs::read_to_string(dir.join(file)).unwrap();
                assert!(!text.contains("{{"), "{file} keeps a placeholder");
            }
            let scenario = std::fs::read_to_string(dir.join("scenarios/first-blood.json")).unwrap();
            assert!(scenario.contains(&format!("\"rulesEngineId\": \"{name}\"")));
            assert!(matches!(
                create(&parent, &name, language, &default_sdk_dir()),
                Err(NewError::Exists(_))
            ));
        }
        let error = create(&parent, "elsewhere", Language::Python, &parent).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "the Nexori SDKs are not in {} (no guest-sdk-python/nexori/__init__.py); pass --sdk-dir (or set NEXORI_SDK_DIR) to a checkout of the Nexori repository",
                parent.display()
            )
        );
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
