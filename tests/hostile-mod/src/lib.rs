//! `hostile`: a mod that attacks its host when a `game.event` asks it to. It registers the
//! rules engine id `hostile`; every other event kind is answered by behaving well: `finish`
//! gives the event's player a WIN and submits.
//!
//! | event kind | what the mod does |
//! |---|---|
//! | `hostile.panic` | panics |
//! | `hostile.stack_overflow` | recurses without end (wasm call stack) |
//! | `hostile.shadow_stack_overflow` | recurses with big frames (Rust's shadow stack in linear memory) |
//! | `hostile.spin` | loops forever in the callback |
//! | `hostile.timer_spin` | sets a timer whose callback loops forever |
//! | `hostile.grow` | allocates memory without end |
//! | `hostile.huge_string` | passes a 2 MiB reason to `setPlayerOutcome` |
//! | `hostile.timers` | asks for a million timers |
//! | `hostile.commands` | sends 100 000 game commands |
//! | `hostile.logs` | writes 100 000 log lines |
//! | `hostile.print` | writes to stdout and stderr |
//! | `hostile.forged` | calls the API for `data.matchIds` (other mods' and made-up matches) |
//! | `hostile.deep_json` | submits customData nested 10 000 deep |
//! | `hostile.bad_escape` | submits customData with a lone surrogate escape |
//! | `hostile.sleep` | `std::thread::sleep` for an hour |
//! | `hostile.nap` | `std::thread::sleep` for zero time (allowed), then finishes like `finish` |
//! | `hostile.poll_forever` | `monotonic-clock.subscribe-instant` at the end of time, then `poll` |
//! | `hostile.block` | `monotonic-clock.subscribe-duration` of an hour, then `pollable.block` |
//! | `hostile.listeners` | registers `data` (a number) more lifecycle listeners for `hostile` |
//! | `hostile` mod config `{"registerAtLoad": N}` | `init` registers N distinct rules engine ids |

use std::hint::black_box;

use nexori_sdk::{GameEvent, ModConfig, Outcome, RulesMod, raw};

pub struct Hostile {
    spin_on_timer: bool,
}

/// Deep recursion on wasm's own call stack (scalar frames): the engine's stack limit traps.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    // black_box keeps the recursion from being turned into a loop.
    black_box(depth) + recurse(black_box(depth + 1))
}

/// Deep recursion with big frames, which Rust keeps on its shadow stack in linear memory: it
/// runs off the bottom of memory.
#[allow(unconditional_recursion)]
fn recurse_big(depth: u64, pad: [u64; 64]) -> u64 {
    black_box(pad)[0] + recurse_big(depth + 1, black_box([depth; 64]))
}

/// The raw WASI imports the waits use, at the version wasi-libc's component type declares (the
/// host resolves them to its own, newer minor version). The canonical ABI: a pollable is an i32
/// handle; `poll` takes a list of borrowed handles and writes the ready indices' list (pointer,
/// length) to `ret`.
#[cfg(target_arch = "wasm32")]
mod wasi_raw {
    #[link(wasm_import_module = "wasi:clocks/monotonic-clock@0.2.0")]
    unsafe extern "C" {
        #[link_name = "subscribe-instant"]
        pub fn subscribe_instant(when: i64) -> i32;
        #[link_name = "subscribe-duration"]
        pub fn subscribe_duration(duration: i64) -> i32;
    }
    #[link(wasm_import_module = "wasi:io/poll@0.2.0")]
    unsafe extern "C" {
        #[link_name = "poll"]
        pub fn poll(list: *const i32, len: usize, ret: *mut [usize; 2]);
        #[link_name = "[method]pollable.block"]
        pub fn block(pollable: i32);
    }
}

/// Waits until the end of time with `poll`.
fn poll_forever() {
    #[cfg(target_arch = "wasm32")]
    unsafe {
        let pollable = wasi_raw::subscribe_instant(-1); // u64::MAX nanoseconds
        let mut ready = [0usize; 2];
        wasi_raw::poll(&pollable, 1, &mut ready);
    }
}

/// Waits an hour with `pollable.block`.
fn block_an_hour() {
    #[cfg(target_arch = "wasm32")]
    unsafe {
        wasi_raw::block(wasi_raw::subscribe_duration(3_600_000_000_000));
    }
}

impl RulesMod for Hostile {
    fn init(config: ModConfig) -> Result<Self, String> {
        nexori_sdk::register_match_lifecycle_listener("hostile")?;
        let config: serde_json::Value = config.parse()?;
        let extra = config["registerAtLoad"].as_u64().unwrap_or(0);
        for i in 0..extra {
            nexori_sdk::register_match_lifecycle_listener(&format!("hostile-{i}"))?;
        }
        Ok(Hostile {
            spin_on_timer: false,
        })
    }

    fn on_game_event(&mut self, event: GameEvent) {
        let match_id = event.match_id.clone();
        let player = event.player.clone().unwrap_or_default();
        match event.kind.as_str() {
            "finish" => {
                nexori_sdk::set_player_outcome(&match_id, &player, Outcome::Win, "survived");
                let _ = nexori_sdk::submit_final_match_result(
                    &match_id,
                    "done",
                    &serde_json::json!({}),
                );
            }
            "hostile.panic" => panic!("hostile mod panics on purpose"),
            "hostile.stack_overflow" => {
                black_box(recurse(0));
            }
            "hostile.shadow_stack_overflow" => {
                black_box(recurse_big(0, [0; 64]));
            }
            "hostile.spin" => loop {
                black_box(());
            },
            "hostile.timer_spin" => {
                self.spin_on_timer = true;
                let _ = nexori_sdk::set_timer_ms(10);
            }
            "hostile.grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "hostile.huge_string" => {
                let reason = "x".repeat(2 << 20);
                nexori_sdk::set_player_outcome(&match_id, &player, Outcome::Loss, &reason);
            }
            "hostile.timers" => {
                let refused = (0..1_000_000)
                    .filter(|_| nexori_sdk::set_timer_ms(60_000).is_err())
                    .count();
                nexori_sdk::info!("timers refused: {refused}");
            }
            "hostile.commands" => {
                let refused = (0..100_000)
                    .filter(|i| {
                        nexori_sdk::send_game_command(&match_id, None, "spam", Some(&i)).is_err()
                    })
                    .count();
                nexori_sdk::info!("commands refused: {refused}");
            }
            "hostile.logs" => {
                for i in 0..100_000 {
                    nexori_sdk::info!("flood {i}");
                }
            }
            "hostile.print" => {
                println!("hostile says hello on stdout");
                eprintln!("hostile says hello on stderr");
            }
            "hostile.forged" => {
                let ids: Vec<String> = event
                    .data_as::<Vec<String>>()
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                for id in ids {
                    nexori_sdk::set_player_outcome(&id, &player, Outcome::Win, "forged");
                    let _ = raw::submit_final_match_result(&id, "forged", None);
                    nexori_sdk::return_player_to_lobby(&id, &player, 0, "forged");
                    let _ = nexori_sdk::find_active_match_info(&id);
                }
            }
            "hostile.deep_json" => {
                let depth = 10_000;
                let text = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
                nexori_sdk::set_player_outcome(&match_id, &player, Outcome::Win, "");
                let _ = raw::submit_final_match_result(&match_id, "deep", Some(&text));
            }
            "hostile.bad_escape" => {
                nexori_sdk::set_player_outcome(&match_id, &player, Outcome::Win, "");
                let _ =
                    raw::submit_final_match_result(&match_id, "escape", Some(r#"{"a": "\ud800"}"#));
            }
            "hostile.sleep" => std::thread::sleep(std::time::Duration::from_secs(3600)),
            "hostile.nap" => {
                std::thread::sleep(std::time::Duration::ZERO);
                nexori_sdk::set_player_outcome(&match_id, &player, Outcome::Win, "napped");
                let _ = nexori_sdk::submit_final_match_result(
                    &match_id,
                    "done",
                    &serde_json::json!({}),
                );
            }
            "hostile.poll_forever" => poll_forever(),
            "hostile.block" => block_an_hour(),
            "hostile.listeners" => {
                let wanted = event.data_as::<u32>().ok().flatten().unwrap_or(0);
                let refused = (0..wanted)
                    .filter_map(|_| nexori_sdk::register_match_lifecycle_listener("hostile").err())
                    .collect::<Vec<_>>();
                nexori_sdk::info!(
                    "listeners refused: {}; first refusal: {}",
                    refused.len(),
                    refused.first().map_or("none", |e| e.message())
                );
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, _id: nexori_sdk::TimerId) {
        if self.spin_on_timer {
            loop {
                black_box(());
            }
        }
    }
}

nexori_sdk::export_rules_mod!(Hostile);
