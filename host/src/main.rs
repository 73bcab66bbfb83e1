//! `nexori`: the arena host's command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nexori_host::scenario::{self, RunOptions, Scenario};

#[derive(Parser)]
#[command(
    name = "nexori",
    version,
    about = "Nexori arena runtime: a WebAssembly host for minigame rules mods"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Play a scenario file against the mods in a directory, on a virtual clock.
    Simulate {
        /// Directory of `.wasm` mods (a mod's name is its file name without `.wasm`).
        #[arg(long)]
        mods: PathBuf,
        /// The scenario file.
        scenario: PathBuf,
        /// Print the trace and final match snapshots as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Check that a `.wasm` file is a loadable rules mod; print its registrations and imports.
    Check {
        /// The component to check.
        module: PathBuf,
        /// JSON configuration to pass to the mod's `init` (default `{}`).
        #[arg(long)]
        config: Option<String>,
    },
    /// Play the bundled demo matches through the example mods and show what happened.
    Demo {
        /// Directory of the example mods (built by `cargo xtask build-mods`).
        #[arg(long, default_value = "target/nexori-mods")]
        mods: PathBuf,
    },
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Simulate {
            mods,
            scenario,
            json,
        } => simulate(&mods, &scenario, json),
        Command::Check { module, config } => check(&module, config.as_deref()),
        Command::Demo { mods } => demo(&mods),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEXORI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn simulate(mods: &Path, path: &Path, json: bool) -> ExitCode {
    let scenario = match Scenario::from_file(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nexori simulate: {e}");
            return ExitCode::from(2);
        }
    };
    let output = match scenario::run(&scenario, mods, &RunOptions::default()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nexori simulate: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        match serde_json::to_string_pretty(&output) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("nexori simulate: cannot write the trace: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        for line in scenario::timeline(&output, scenario.start_epoch_ms) {
            println!("{line}");
        }
    }
    ExitCode::SUCCESS
}

fn check(path: &Path, config: Option<&str>) -> ExitCode {
    match nexori_host::check::check_file(path, config) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nexori check: {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

fn demo(mods: &Path) -> ExitCode {
    match nexori_host::demo::run(mods, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nexori demo: {e}");
            ExitCode::FAILURE
        }
    }
}
