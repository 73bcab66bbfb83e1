//! Behaviour of the runtime state machine, with the exact statuses and messages of the spec.

use std::collections::BTreeSet;
use std::sync::Arc;

use uuid::Uuid;

use super::arrivals::{Arrival, Placed};
use super::launch::{ExpectedPlayer, LaunchAdmission, LaunchSpec};
use super::results::Submission;
use super::*;
use nexori_protocol::commands::GameServerCommand;

const T0: i64 = 1_760_000_000_000;

fn p(n: u8) -> Uuid {
    Uuid::parse_str(&format!("{n:08x}-0000-4000-8000-000000000000")).unwrap()
}

fn launch(id: &str, players: &[Uuid]) -> LaunchSpec {
    LaunchSpec {
        match_id: id.to_string(),
        queue_id: "q".into(),
        arena_id: "a".into(),
        rules_engine_id: "rules".into(),
        external_match_id: format!("ext-{id}"),
        expected_players: players
            .iter()
            .enumerate()
            .map(|(i, u)| ExpectedPlayer {
                uuid: *u,
                name: format!("P{i}"),
                assignment_id: String::new(),
            })
            .collect(),
        ..LaunchSpec::default()
    }
}

fn arrive(arena: &mut Arena, id: &str, player: Uuid, now: i64) {
    arena
        .arrive(
            Arrival {
                match_id: id.into(),
                player,
                ..Arrival::default()
            },
            now,
        )
        .unwrap();
}

fn place(arena: &mut Arena, id: &str, player: Uuid, now: i64) {
    arena
        .placed(
            Placed {
                match_id: id.into(),
                player,
                outcome: PlacementOutcome::Confirmed,
                world_name: String::new(),
                instance_template_id: String::new(),
            },
            now,
        )
        .unwrap();
}

/// The callbacks queued so far, as `(callback, reason)`.
fn callbacks(arena: &mut Arena) -> Vec<(Callback, String)> {
    arena
        .drain_events()
        .filter_map(|e| match e {
            RuntimeEvent::Callback {
                callback, payload, ..
            } => Some((callback, payload.reason().to_string())),
            _ => None,
        })
        .collect()
}

fn started(players: &[Uuid]) -> Arena {
    let mut arena = Arena::default();
    arena.create_match(launch("m1", players), T0).unwrap();
    for (i, &u) in players.iter().enumerate() {
        arrive(&mut arena, "m1", u, T0 + 10 + i as i64);
        place(&mut arena, "m1", u, T0 + 20 + i as i64);
    }
    arena.drain_events().for_each(drop);
    arena
}

#[test]
fn all_players_placed_opens_the_gate_and_starts_the_match() {
    let mut arena = Arena::default();
    arena
        .create_match(launch("M1 ", &[p(1), p(2)]), T0)
        .unwrap();
    arrive(&mut arena, "m1", p(1), T0 + 100);
    arrive(&mut arena, "m1", p(2), T0 + 200);
    place(&mut arena, "m1", p(1), T0 + 300);
    place(&mut arena, "m1", p(2), T0 + 400);
    assert_eq!(
        callbacks(&mut arena),
        vec![
            (Callback::MatchCreated, "MATCH_CREATED".into()),
            (Callback::PlayerArrived, "PLAYER_ARRIVED".into()),
            (Callback::PlayerArrived, "PLAYER_ARRIVED".into()),
            (
                Callback::PlayerPlacementConfirmed,
                "PLACEMENT_CONFIRMED".into()
            ),
            (
                Callback::PlayerPlacementConfirmed,
                "PLACEMENT_CONFIRMED".into()
            ),
            (
                Callback::MatchPlacementCompleted,
                "MATCH_PLACEMENT_COMPLETED".into()
            ),
            (
                Callback::MatchStartAllowed,
                "ALL_INITIAL_PLAYERS_PLACED".into()
            ),
        ]
    );
    let m = arena.get("m1").unwrap();
    let state = m.placement_state();
    assert!(
        state.placement_complete && state.start_gate_open && !state.initial_placement_window_open
    );
    assert_eq!(state.start_gate_opened_at_epoch_ms, T0 + 400);
    assert_eq!(
        state.initial_placement_window_close_reason,
        "ALL_INITIAL_PLAYERS_PLACED"
    );
    assert_eq!(
        m.match_started_at,
        T0 + 400,
        "D4: the gate starts the match"
    );
}

#[test]
fn window_expiry_with_minimum_met_starts_a_partial_roster() {
    let mut arena = Arena::default();
    let mut spec = launch("m1", &[p(1), p(2), p(3)]);
    spec.minimum_initial_players = Some(2);
    spec.initial_placement_window_seconds = Some(30);
    arena.create_match(spec, T0).unwrap();
    for u in [p(1), p(2), p(3)] {
        arrive(&mut arena, "m1", u, T0 + 10);
    }
    place(&mut arena, "m1", p(1), T0 + 20);
    place(&mut arena, "m1", p(2), T0 + 20);
    arena.drain_events().for_each(drop);
    assert_eq!(arena.next_deadline(), Some(T0 + 30_000));
    arena.advance(T0 + 29_999);
    assert!(callbacks(&mut arena).is_empty());
    arena.advance(T0 + 30_000);
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    let m = arena.get("m1").unwrap();
    assert_eq!(
        m.placement.gate_open_reason,
        "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET"
    );
    assert_eq!(m.placement.placement_completed_at, 0);
    assert_eq!(m.match_started_at, T0 + 30_000);
    assert_eq!(
        m.outcomes[&p(3)],
        OutcomeRecord {
            outcome: Outcome::NoContest,
            reason: "INITIAL_PLACEMENT_WINDOW_MISSED".into()
        }
    );
    assert_eq!(m.pending_returns[&p(3)].at, T0 + 40_000);
    assert!(
        events.contains(&RuntimeEvent::Command(GameServerCommand::Message {
            match_id: "m1".into(),
            player: p(3),
            text: "Match start window expired: you did not join in time. Returning to lobby..."
                .into(),
        }))
    );
    assert!(events.iter().any(|e| matches!(e, RuntimeEvent::Callback { callback: Callback::MatchStartAllowed, payload, .. }
        if payload.reason() == "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET")));
    // A late placement for the missed player is ignored.
    place(&mut arena, "m1", p(3), T0 + 31_000);
    assert!(!arena.get("m1").unwrap().active.contains(&p(3)));
}

#[test]
fn window_expiry_below_minimum_cancels_with_a_nexori_result() {
    let mut arena = Arena::default();
    arena.create_match(launch("m1", &[p(1), p(2)]), T0).unwrap();
    arrive(&mut arena, "m1", p(1), T0 + 10);
    place(&mut arena, "m1", p(1), T0 + 20);
    arena.drain_events().for_each(drop);
    arena.advance(T0 + 60_000);
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    let order: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Callback { callback, .. } => Some(callback.as_str()),
            RuntimeEvent::NexoriResult(_) => Some("result"),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        ["onMatchCancellationRequested", "result", "onMatchCompleted"]
    );
    let result = events
        .iter()
        .find_map(|e| match e {
            RuntimeEvent::NexoriResult(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(result.reason, "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET");
    assert_eq!(result.players.len(), 2);
    assert!(result.players.iter().all(|pl| pl.outcome == "NO_CONTEST"
        && pl.reason
            == "Match cancelled: not enough players joined in time. Returning to lobby..."));
    assert_eq!(
        result.custom_data.canonical_json(),
        r#"{"cancelReason":"INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET","cancelledBy":"nexori","minimumInitialPlayers":2,"placedInitialPlayers":1}"#
    );
    assert_eq!(
        result.metadata,
        vec![
            (
                "cancel_reason".to_string(),
                "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET".to_string()
            ),
            ("cancelled_by".to_string(), "nexori".to_string()),
            ("minimum_initial_players".to_string(), "2".to_string()),
            ("placed_initial_players".to_string(), "1".to_string()),
        ]
    );
    let m = arena.get("m1").unwrap();
    assert!(m.is_completed() && m.result_submitted_at == T0 + 60_000);
    // The present player is returned after 10 s, the absent one is not.
    assert_eq!(
        m.pending_returns.keys().copied().collect::<Vec<_>>(),
        vec![p(1)]
    );
    assert_eq!(m.pending_returns[&p(1)].at, T0 + 70_000);
    assert_eq!(
        m.explicit_close.as_ref().unwrap().reason_id,
        "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET"
    );
    // After the return the runtime closes.
    arena.advance(T0 + 70_000);
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    assert!(events.iter().any(|e| matches!(e, RuntimeEvent::Command(GameServerCommand::Return { player, .. }) if *player == p(1))));
    assert!(events.iter().any(|e| matches!(
        e,
        RuntimeEvent::Callback {
            callback: Callback::MatchRuntimeClosed,
            ..
        }
    )));
    assert!(arena.get("m1").is_none());
    assert!(arena.get_any("m1").is_some());
}

#[test]
fn set_player_outcome_statuses_and_messages() {
    let mut arena = started(&[p(1), p(2)]);
    let r = arena.set_player_outcome("nope", Some(p(1)), Some(Outcome::Win), "");
    assert_eq!(
        (r.status, r.message.as_str()),
        (SetPlayerOutcomeStatus::MatchMissing, "Match is not active.")
    );
    let r = arena.set_player_outcome("m1", Some(p(9)), Some(Outcome::Win), "");
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            SetPlayerOutcomeStatus::PlayerMissing,
            "Player is not part of the active match."
        )
    );
    let r = arena.set_player_outcome("m1", None, Some(Outcome::Win), "");
    assert_eq!(r.status, SetPlayerOutcomeStatus::PlayerMissing);
    let r = arena.set_player_outcome("m1", Some(p(1)), None, "");
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            SetPlayerOutcomeStatus::InvalidOutcome,
            "Outcome cannot be null."
        )
    );
    let r = arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), &"x".repeat(257));
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            SetPlayerOutcomeStatus::InvalidReason,
            "Player result reason exceeds 256 characters."
        )
    );
    let r = arena.set_player_outcome(" M1 ", Some(p(1)), Some(Outcome::Win), &"x".repeat(256));
    assert_eq!(
        r,
        SetPlayerOutcomeResult::new(SetPlayerOutcomeStatus::Updated, "")
    );
    // LOSS eliminates, WIN un-eliminates, NO_CONTEST leaves elimination alone.
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::Loss), "out");
    assert!(arena.get("m1").unwrap().eliminated.contains(&p(2)));
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::NoContest), "");
    assert!(arena.get("m1").unwrap().eliminated.contains(&p(2)));
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::Win), "");
    assert!(!arena.get("m1").unwrap().eliminated.contains(&p(2)));
    // D3: a WIN neither completes the match nor schedules a return.
    let m = arena.get("m1").unwrap();
    assert!(!m.is_completed() && m.pending_returns.is_empty());
}

#[test]
fn final_result_validation_order_and_idempotency() {
    let mut arena = started(&[p(1), p(2)]);
    let reject = |s: Submission| match s {
        Submission::Rejected(r) => (r.match_status, r.backend_report_status, r.message),
        Submission::Accepted(_) => panic!("accepted"),
    };
    assert_eq!(
        reject(arena.submit_final_match_result("m1", &"r".repeat(513), None, T0)),
        (
            MatchCompletionStatus::InvalidResult,
            BackendReportStatus::NotAttempted,
            "Result reason exceeds 512 characters.".into()
        )
    );
    assert_eq!(
        reject(arena.submit_final_match_result("m1", "done", Some("{nope"), T0)).2[..29]
            .to_string(),
        "customData is not valid JSON:"
    );
    let missing = reject(arena.submit_final_match_result("m1", "done", None, T0));
    assert_eq!(
        missing.2,
        format!("Result is missing required player outcome {}.", p(1))
    );
    arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Loss), "");
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::NoContest), "");
    assert_eq!(
        reject(arena.submit_final_match_result("m1", "done", None, T0)).2,
        "Final match result must include at least one WIN outcome unless all players are NO_CONTEST."
    );
    arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), "best");
    let Submission::Accepted(accepted) =
        arena.submit_final_match_result("m1", "done", Some(r#"{"k":1}"#), T0 + 5)
    else {
        panic!("not accepted")
    };
    assert_eq!(accepted.ended_at_epoch_ms, T0 + 5);
    assert_eq!(
        accepted
            .players
            .iter()
            .map(|p| p.outcome.as_str())
            .collect::<Vec<_>>(),
        ["WIN", "NO_CONTEST"]
    );
    assert_eq!(
        reject(arena.submit_final_match_result("m1", "done", Some(r#"{ "k" : 1 }"#), T0 + 6)),
        (
            MatchCompletionStatus::AlreadySubmitted,
            BackendReportStatus::AlreadySubmitted,
            "Match result was already submitted.".into()
        )
    );
    assert_eq!(
        reject(arena.submit_final_match_result("m1", "done", Some(r#"{"k":2}"#), T0 + 6)),
        (
            MatchCompletionStatus::AlreadySubmitted,
            BackendReportStatus::DuplicateConflict,
            "Match already has a different submitted result.".into()
        )
    );
    // Validation runs before the already-submitted check.
    assert_eq!(
        reject(arena.submit_final_match_result("m1", "done", Some("[1]"), T0 + 6)).0,
        MatchCompletionStatus::InvalidResult
    );
    let r = arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Loss), "");
    assert_eq!(r.status, SetPlayerOutcomeStatus::MatchAlreadyCompleted);
}

#[test]
fn unexpected_outcome_and_manual_end() {
    let mut arena = started(&[p(1), p(2)]);
    arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), "");
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::Loss), "");
    // A stored outcome for a player who is no longer required cannot exist through the API;
    // simulate the reference's check directly.
    arena.matches.get_mut("m1").unwrap().outcomes.insert(
        p(7),
        OutcomeRecord {
            outcome: Outcome::Loss,
            reason: String::new(),
        },
    );
    let Submission::Rejected(r) = arena.submit_final_match_result("m1", "", None, T0) else {
        panic!()
    };
    assert_eq!(
        r.message,
        format!("Result contains unexpected player outcome {}.", p(7))
    );
    arena.matches.get_mut("m1").unwrap().outcomes.remove(&p(7));
    arena.end_match("m1", "", T0 + 1).unwrap();
    let m = arena.get_any("m1").unwrap();
    assert_eq!(m.last_error, "Manual match end requested: MATCH_ENDED");
    let Submission::Rejected(r) = ({
        let mut arena = started(&[p(1)]);
        arena.end_match("m1", "admin", T0 + 1).unwrap();
        // The runtime closed with everyone returned; the match is gone.
        arena.submit_final_match_result("m1", "", None, T0 + 2)
    }) else {
        panic!()
    };
    assert_eq!(r.match_status, MatchCompletionStatus::MatchMissing);
}

#[test]
fn manual_end_keeps_an_occupied_runtime_and_refuses_results() {
    let mut arena = started(&[p(1), p(2)]);
    arena.set_player_spectator("m1", Some(p(1)), true, "watching", None);
    arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), "");
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::Loss), "");
    // Returns run, but p1 is a spectator who is still online: returns remove spectators too.
    arena.end_match("m1", "", T0 + 1).unwrap();
    let events: Vec<_> = arena.drain_events().collect();
    assert!(events.iter().any(|e| matches!(
        e,
        RuntimeEvent::Callback {
            callback: Callback::MatchCompleted,
            ..
        }
    )));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, RuntimeEvent::Command(GameServerCommand::Return { .. })))
            .count(),
        2
    );
}

#[test]
fn returns_and_spectators() {
    let mut arena = started(&[p(1), p(2)]);
    let r = arena.return_player_to_lobby("m1", Some(p(1)), -1, "", T0);
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            ReturnPlayerStatus::InvalidDelay,
            "return delay cannot be negative."
        )
    );
    let r = arena.return_player_to_lobby("m1", Some(p(1)), 0, &"x".repeat(257), T0);
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            ReturnPlayerStatus::InvalidReason,
            "Return reason exceeds 256 characters."
        )
    );
    let r = arena.set_player_spectator("m1", Some(p(1)), true, &"x".repeat(257), None);
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            SetPlayerSpectatorStatus::InvalidReason,
            "Spectator reason exceeds 256 characters."
        )
    );
    assert_eq!(
        arena
            .set_player_spectator("m1", Some(p(1)), true, "out", Some("ghost"))
            .status,
        SetPlayerSpectatorStatus::Updated
    );
    let events: Vec<_> = arena.drain_events().collect();
    assert_eq!(
        events,
        vec![RuntimeEvent::Command(GameServerCommand::Spectator {
            match_id: "m1".into(),
            player: p(1),
            spectator: true,
            model_id: Some("ghost".into())
        })]
    );
    assert_eq!(
        arena
            .return_player_to_lobby("m1", Some(p(1)), 5, "bye", T0)
            .status,
        ReturnPlayerStatus::Scheduled
    );
    assert_eq!(arena.next_deadline(), Some(T0 + 5000));
    arena.advance(T0 + 5000);
    let events: Vec<_> = arena.drain_events().collect();
    assert_eq!(
        events,
        vec![RuntimeEvent::Command(GameServerCommand::Return {
            match_id: "m1".into(),
            player: p(1),
            reason: "bye".into()
        })]
    );
    let m = arena.get("m1").unwrap();
    assert!(!m.active.contains(&p(1)) && !m.spectators.contains(&p(1)));
    assert!(
        m.required_players().contains(&p(1)),
        "a returned player stays required"
    );
}

#[test]
fn disconnect_keeps_the_player_required_and_closes_an_empty_runtime() {
    let mut arena = started(&[p(1), p(2)]);
    arena.disconnect(p(1), "timeout", T0 + 100).unwrap();
    let events: Vec<_> = arena.drain_events().collect();
    assert!(events.contains(&RuntimeEvent::PlayerDisconnected {
        match_id: "m1".into(),
        rules_engine_id: "rules".into(),
        player: p(1),
        reason: "timeout".into(),
        at_epoch_ms: T0 + 100
    }));
    let m = arena.get("m1").unwrap();
    assert_eq!(m.last_error, "Player disconnected: timeout");
    assert!(!m.active.contains(&p(1)));
    assert_eq!(m.required_players(), vec![p(1), p(2)]);
    assert_eq!(
        arena
            .set_player_outcome("m1", Some(p(1)), Some(Outcome::Disconnected), "left")
            .status,
        SetPlayerOutcomeStatus::Updated
    );
    assert_eq!(
        arena
            .disconnect(p(1), "", T0 + 101)
            .unwrap_err()
            .to_string(),
        format!("player {} is not in any match", p(1))
    );
    arena.disconnect(p(2), "", T0 + 200).unwrap();
    assert!(
        callbacks(&mut arena)
            .contains(&(Callback::MatchRuntimeClosed, "MATCH_RUNTIME_CLOSED".into()))
    );
    assert!(arena.get("m1").is_none());
}

#[test]
fn arrivals_are_checked() {
    let mut arena = Arena::default();
    arena.create_match(launch("m1", &[p(1)]), T0).unwrap();
    let err = arena
        .arrive(
            Arrival {
                match_id: "m1".into(),
                player: p(2),
                ..Arrival::default()
            },
            T0,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("is not expected in match"),
        "{err}"
    );
    let err = arena
        .arrive(
            Arrival {
                match_id: "zz".into(),
                player: p(1),
                ..Arrival::default()
            },
            T0,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown match \"zz\"");
    assert_eq!(
        arena
            .create_match(launch("M1", &[p(1)]), T0)
            .unwrap_err()
            .to_string(),
        "match \"m1\" already exists"
    );
    let err = arena.placed(
        Placed {
            match_id: "m1".into(),
            player: p(1),
            outcome: PlacementOutcome::Confirmed,
            world_name: String::new(),
            instance_template_id: String::new(),
        },
        T0,
    );
    assert!(err.unwrap_err().to_string().contains("has not arrived"));
    // A duplicate arrival is not re-announced.
    arrive(&mut arena, "m1", p(1), T0 + 1);
    arrive(&mut arena, "m1", p(1), T0 + 2);
    assert_eq!(
        callbacks(&mut arena)
            .iter()
            .filter(|(c, _)| *c == Callback::PlayerArrived)
            .count(),
        1
    );
}

fn backfill_match(mode: &str) -> Arena {
    let mut arena = Arena::default();
    let mut spec = launch("m1", &[p(1)]);
    spec.match_source = Some(MatchSource::BackendDriven);
    spec.admission = Some(LaunchAdmission {
        capacity: 2,
        backfill_enabled: true,
        backfill_mode: mode.into(),
        backfill_window_seconds: 10,
    });
    arena.create_match(spec, T0).unwrap();
    arena
}

fn backfill(arena: &mut Arena, player: Uuid, reservation: &str, now: i64) -> Result<(), String> {
    arena
        .arrive(
            Arrival {
                match_id: "m1".into(),
                player,
                admission_reservation_id: reservation.into(),
                admission_expires_at_epoch_ms: T0 + 1_000_000,
                ..Arrival::default()
            },
            now,
        )
        .map_err(|e| e.to_string())
}

#[test]
fn backfill_admission_is_decided_in_order() {
    let mut arena = backfill_match("ACTIVE_WINDOW");
    let expired = arena.arrive(
        Arrival {
            match_id: "m1".into(),
            player: p(5),
            admission_reservation_id: "r0".into(),
            admission_expires_at_epoch_ms: T0 - 1,
            ..Arrival::default()
        },
        T0,
    );
    assert!(
        expired
            .unwrap_err()
            .to_string()
            .ends_with("EXPIRED_RESERVATION")
    );
    backfill(&mut arena, p(5), "r1", T0 + 1).unwrap();
    assert!(
        callbacks(&mut arena)
            .contains(&(Callback::PlayerArrived, "BACKFILL_PLAYER_ARRIVED".into()))
    );
    let m = arena.get("m1").unwrap();
    assert_eq!(m.consumed_backfill_admission_count, 1);
    assert!(
        m.required_players().contains(&p(5)),
        "D2: backfill players are required"
    );
    assert!(
        backfill(&mut arena, p(6), "r2", T0 + 2)
            .unwrap_err()
            .ends_with("CAPACITY_FULL")
    );

    let mut arena = backfill_match("ACTIVE_WINDOW");
    arrive(&mut arena, "m1", p(1), T0 + 1);
    place(&mut arena, "m1", p(1), T0 + 2);
    backfill(&mut arena, p(5), "r1", T0 + 10_002).unwrap();
    let state = admission::evaluate(arena.get("m1").unwrap(), T0 + 10_002);
    assert!(!state.admission_open && state.admission_reporting_closed);
    assert_eq!(
        state.admission_reporting_close_reason,
        "MATCH_NO_LONGER_ACCEPTING_PLAYERS"
    );
    let mut arena = backfill_match("ACTIVE_WINDOW");
    arrive(&mut arena, "m1", p(1), T0 + 1);
    place(&mut arena, "m1", p(1), T0 + 2);
    assert!(
        backfill(&mut arena, p(5), "r1", T0 + 10_003)
            .unwrap_err()
            .ends_with("ADMISSION_CLOSED")
    );
    let state = admission::evaluate(arena.get("m1").unwrap(), T0 + 10_003);
    assert_eq!(
        state.admission_reporting_close_reason,
        "BACKFILL_WINDOW_EXPIRED"
    );
    assert_eq!(state.primary_reason, "ADMISSION_WINDOW_EXPIRED");

    let mut arena = backfill_match("PLACEMENT_ONLY");
    arrive(&mut arena, "m1", p(1), T0 + 1);
    place(&mut arena, "m1", p(1), T0 + 2);
    assert!(
        backfill(&mut arena, p(5), "r1", T0 + 3)
            .unwrap_err()
            .ends_with("ADMISSION_CLOSED"),
        "D4: the gate closes PLACEMENT_ONLY"
    );

    let mut arena = backfill_match("ACTIVE_WINDOW");
    backfill(&mut arena, p(5), "dup", T0 + 1).unwrap();
    arena.matches.get_mut("m1").unwrap().admission.capacity = 5;
    assert!(
        backfill(&mut arena, p(6), "dup", T0 + 2)
            .unwrap_err()
            .ends_with("DUPLICATE_RESERVATION")
    );
    arena.close_match_admission("m1", Some(CloseAdmissionReason::RosterLocked), None);
    assert!(
        backfill(&mut arena, p(6), "r9", T0 + 3)
            .unwrap_err()
            .ends_with("EXPLICIT_ADMISSION_CLOSED")
    );

    let mut arena = started(&[p(1)]);
    assert!(
        backfill(&mut arena, p(5), "r1", T0 + 3)
            .unwrap_err()
            .ends_with("NOT_BACKEND_DRIVEN")
    );
}

#[test]
fn close_match_admission_statuses() {
    let mut arena = backfill_match("ACTIVE_WINDOW");
    let r = arena.close_match_admission(" ", Some(CloseAdmissionReason::ModRequest), None);
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            CloseAdmissionStatus::MatchMissing,
            "Match id cannot be blank."
        )
    );
    let r = arena.close_match_admission("M1", None, None);
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            CloseAdmissionStatus::InvalidReason,
            "Close reason cannot be null."
        )
    );
    let r = arena.close_match_admission(
        "M1",
        Some(CloseAdmissionReason::GamePhaseLocked),
        Some("locked"),
    );
    assert_eq!(r.status, CloseAdmissionStatus::ReportingDisabled);
    assert_eq!(
        r.message,
        "Admission was closed locally, but backend may not have been notified."
    );
    assert_eq!((r.match_id.as_str(), r.closed_locally), ("m1", true));
    let r = arena.close_match_admission("m1", Some(CloseAdmissionReason::GamePhaseLocked), None);
    assert_eq!(
        (r.status, r.closed_locally),
        (CloseAdmissionStatus::AlreadyClosed, true)
    );
    assert!(arena.drain_events().any(|e| e
        == RuntimeEvent::AdmissionDirty {
            match_id: "m1".into(),
            reason: "EXPLICIT_GAME_PHASE_LOCKED".into()
        }));
    let mut arena = Arena::new(RuntimeSettings {
        admission_reporting_usable: true,
    });
    let mut spec = launch("m2", &[p(1)]);
    spec.match_source = Some(MatchSource::BackendDriven);
    arena.create_match(spec, T0).unwrap();
    assert_eq!(
        arena
            .close_match_admission("m2", Some(CloseAdmissionReason::ModRequest), None)
            .status,
        CloseAdmissionStatus::Closed
    );
    arena.create_match(launch("m3", &[p(1)]), T0).unwrap();
    assert_eq!(
        arena
            .close_match_admission("m3", Some(CloseAdmissionReason::ModRequest), None)
            .status,
        CloseAdmissionStatus::MatchNotBackendDriven
    );
}

#[test]
fn afk_detection_runs_on_the_clock() {
    let mut arena = Arena::default();
    let mut spec = launch("m1", &[p(1)]);
    spec.afk_detection_policy = Some(AfkPolicy::normalized(true, 2)); // clamped to 5 s
    arena.create_match(spec, T0).unwrap();
    arrive(&mut arena, "m1", p(1), T0);
    place(&mut arena, "m1", p(1), T0);
    arena.drain_events().for_each(drop);
    assert_eq!(arena.next_deadline(), Some(T0 + 5_000));
    arena.player_activity(p(1), AfkSource::PlayerInput, T0 + 3_000);
    assert_eq!(arena.next_deadline(), Some(T0 + 8_000));
    arena.advance(T0 + 7_999);
    assert!(arena.drain_events().next().is_none());
    arena.advance(T0 + 8_000);
    let events: Vec<_> = arena.drain_events().collect();
    let afk = events
        .iter()
        .find_map(|e| match e {
            RuntimeEvent::Callback {
                payload: CallbackPayload::Afk(e),
                ..
            } => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert!(afk.afk);
    assert_eq!(
        (afk.idle_ms, afk.source, afk.changed_at_epoch_ms),
        (5_000, AfkSource::IdleTimeout, T0 + 8_000)
    );
    assert!(
        events.contains(&RuntimeEvent::Command(GameServerCommand::AfkHud {
            match_id: "m1".into(),
            player: p(1),
            afk: true
        }))
    );
    assert_eq!(arena.get("m1").unwrap().info().afk_player_uuids, vec![p(1)]);
    arena.player_activity(p(1), AfkSource::InventoryPacket, T0 + 10_000);
    let back = arena
        .drain_events()
        .find_map(|e| match e {
            RuntimeEvent::Callback {
                payload: CallbackPayload::Afk(e),
                ..
            } => Some(e),
            _ => None,
        })
        .unwrap();
    assert!(!back.afk);
    assert_eq!(
        (back.idle_ms, back.source),
        (7_000, AfkSource::InventoryPacket)
    );

    // The report goes into customData at submit time.
    arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), "");
    let Submission::Accepted(result) =
        arena.submit_final_match_result("m1", "", Some("{}"), T0 + 11_000)
    else {
        panic!()
    };
    let report = &result.custom_data.to_object()["nexoriAfk"];
    assert_eq!(report["schemaVersion"], 1);
    assert_eq!(report["players"][0][0], p(1).to_string());
    assert_eq!(report["players"][0][2], false);
    assert_eq!(report["players"][0][3], 2_000);
    assert_eq!(report["players"][0][4], 1);
    assert_eq!(
        report["players"][0][7],
        serde_json::json!(["IDLE_TIMEOUT", "INVENTORY_PACKET"])
    );
    // Re-submission reproduces the frozen report: same hash, ALREADY_SUBMITTED.
    let Submission::Rejected(again) =
        arena.submit_final_match_result("m1", "", Some("{}"), T0 + 50_000)
    else {
        panic!()
    };
    assert_eq!(
        again.backend_report_status,
        BackendReportStatus::AlreadySubmitted
    );
}

#[test]
fn set_player_afk_and_policies() {
    let mut arena = started(&[p(1), p(2)]);
    let req = |afk| afk::SetPlayerAfk {
        match_id: "m1".into(),
        player: Some(p(1)),
        afk,
        show_hud: false,
    };
    assert_eq!(
        arena.set_player_afk(req(false), T0).status,
        SetPlayerAfkStatus::Unchanged
    );
    assert_eq!(
        arena.set_player_afk(req(true), T0).status,
        SetPlayerAfkStatus::Updated
    );
    let events: Vec<_> = arena.drain_events().collect();
    assert!(
        !events.iter().any(|e| matches!(e, RuntimeEvent::Command(_))),
        "showHud=false hides the HUD"
    );
    assert_eq!(
        arena
            .set_player_afk(
                afk::SetPlayerAfk {
                    match_id: " ".into(),
                    player: Some(p(1)),
                    afk: true,
                    show_hud: true
                },
                T0
            )
            .status,
        SetPlayerAfkStatus::InvalidRequest
    );
    let r = arena.set_afk_policy("m1", None, Some(None), T0);
    assert_eq!(
        (r.status, r.message.as_str()),
        (
            SetAfkPolicyStatus::InvalidPolicy,
            "AFK detection policy request and policy must be non-null."
        )
    );
    let on = Some(Some(AfkPolicy {
        enabled: true,
        inactivity_timeout_seconds: 10,
    }));
    assert_eq!(
        arena.set_afk_policy("m1", None, on, T0).status,
        SetAfkPolicyStatus::Updated
    );
    assert_eq!(
        arena.next_deadline(),
        Some(T0 + 10_000),
        "p2 is now tracked; p1 is externally AFK"
    );
    assert_eq!(
        arena.set_afk_policy("m1", Some(Some(p(9))), on, T0).status,
        SetAfkPolicyStatus::PlayerMissing
    );
    assert_eq!(
        arena
            .set_afk_policy("m1", Some(Some(p(2))), Some(Some(AfkPolicy::default())), T0)
            .status,
        SetAfkPolicyStatus::Updated
    );
    assert_eq!(arena.next_deadline(), None);
    assert_eq!(
        arena.set_afk_policy("m1", None, None, T0).status,
        SetAfkPolicyStatus::Cleared
    );
}

#[test]
fn ownership_scopes_hide_other_mods_matches() {
    let mut arena = started(&[p(1)]);
    let mut other = launch("m2", &[p(2)]);
    other.rules_engine_id = "other".into();
    arena.create_match(other, T0).unwrap();
    let scope: ownership::Scope = Arc::new(BTreeSet::from(["other".to_string()]));
    arena.scoped(&scope, |a| {
        assert!(a.find_active_match_info("m1").is_none());
        assert!(a.find_active_match_id(p(1)).is_none());
        let r = a.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), "");
        assert_eq!(
            (r.status, r.message.as_str()),
            (SetPlayerOutcomeStatus::MatchMissing, "Match is not active.")
        );
        let Submission::Rejected(r) = a.submit_final_match_result("m1", "", None, T0) else {
            panic!()
        };
        assert_eq!(
            (r.match_status, r.message.as_str()),
            (MatchCompletionStatus::MatchMissing, "Match is not active.")
        );
        assert_eq!(
            a.close_match_admission("m1", Some(CloseAdmissionReason::ModRequest), None)
                .status,
            CloseAdmissionStatus::MatchMissing
        );
        assert!(a.find_active_match_info("m2").is_some());
    });
    assert!(
        arena.find_active_match_info("m1").is_some(),
        "the scope ends with the call"
    );
}

#[test]
fn fault_policy_finishes_the_match() {
    let mut arena = started(&[p(1), p(2)]);
    arena.apply_fault_policy("m1", "trap: unreachable", T0 + 1);
    let events: Vec<_> = arena.drain_events().collect();
    let result = events
        .iter()
        .find_map(|e| match e {
            RuntimeEvent::NexoriResult(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(result.reason, "RULES_MOD_FAULT");
    assert_eq!(result.players.len(), 2);
    assert!(
        result
            .players
            .iter()
            .all(|p| p.outcome == "NO_CONTEST" && p.reason == "RULES_MOD_FAULT: trap: unreachable")
    );
    let m = arena.get("m1").unwrap();
    assert!(m.is_completed());
    assert_eq!(m.pending_returns.len(), 2);
}

/// The callbacks and Nexori results of `events`, in order.
fn lifecycle(events: &[RuntimeEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Callback { callback, .. } => Some(callback.as_str()),
            RuntimeEvent::NexoriResult(_) => Some("result"),
            _ => None,
        })
        .collect()
}

#[test]
fn a_match_nobody_reached_closes_once_its_shortfall_result_is_recorded() {
    let mut arena = Arena::default();
    arena.create_match(launch("m1", &[p(1), p(2)]), T0).unwrap();
    arena.drain_events().for_each(drop);
    assert_eq!(arena.next_deadline(), Some(T0 + 60_000));
    arena.advance(T0 + 60_000);
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    assert_eq!(
        lifecycle(&events),
        [
            "onMatchCancellationRequested",
            "result",
            "onMatchCompleted",
            "onMatchRuntimeClosed"
        ]
    );
    // Nobody was there to tell or return.
    assert!(!events.iter().any(|e| matches!(e, RuntimeEvent::Command(_))));
    assert!(arena.get("m1").is_none());
    let closed = arena.get_any("m1").unwrap();
    assert_eq!(closed.result_submitted_at, T0 + 60_000);
    assert_eq!(arena.next_deadline(), None);
    assert_eq!(arena.players_tracked(), 0);
}

#[test]
fn a_launch_that_expects_nobody_expires_with_its_window() {
    let mut arena = Arena::default();
    let mut spec = launch("m1", &[]);
    spec.initial_placement_window_seconds = Some(5);
    arena.create_match(spec, T0).unwrap();
    arena.drain_events().for_each(drop);
    assert_eq!(arena.next_deadline(), Some(T0 + 5_000));
    arena.advance(T0 + 4_999);
    assert!(arena.get("m1").is_some());
    arena.advance(T0 + 5_000);
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    // No required player, so no result: the match completes with the reason recorded.
    assert_eq!(
        lifecycle(&events),
        [
            "onMatchCancellationRequested",
            "onMatchCompleted",
            "onMatchRuntimeClosed"
        ]
    );
    let m = arena.get_any("m1").unwrap();
    assert_eq!(m.completed_at, T0 + 5_000);
    assert_eq!(
        m.last_error,
        "Initial placement shortfall result validation failed: Match has no required players to resolve."
    );
    assert!(arena.get("m1").is_none());
    assert_eq!(arena.next_deadline(), None);
}

#[test]
fn a_faulted_or_finished_match_nobody_reached_closes_at_once() {
    let mut arena = Arena::default();
    arena.create_match(launch("m1", &[p(1)]), T0).unwrap();
    arena.drain_events().for_each(drop);
    arena.apply_fault_policy("m1", "trap: unreachable", T0 + 1);
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    assert_eq!(lifecycle(&events), ["result", "onMatchRuntimeClosed"]);
    assert!(arena.get("m1").is_none());

    // A mod's own result for a match nobody reached closes it the same way.
    arena.create_match(launch("m2", &[p(2)]), T0).unwrap();
    arena.drain_events().for_each(drop);
    arena.set_player_outcome("m2", Some(p(2)), Some(Outcome::NoContest), "");
    let Submission::Accepted(_) = arena.submit_final_match_result("m2", "void", None, T0 + 2)
    else {
        panic!("accepted")
    };
    let events: Vec<RuntimeEvent> = arena.drain_events().collect();
    assert_eq!(
        lifecycle(&events),
        ["onMatchCompleted", "onMatchRuntimeClosed"]
    );
    assert!(arena.get("m2").is_none());
    assert_eq!(arena.next_deadline(), None);
}

#[test]
fn players_of_closed_matches_who_left_are_forgotten() {
    // Players who played and left, players returned to the lobby, players who never came:
    // none is remembered once out of a live match.
    let mut arena = started(&[p(1), p(2)]);
    arena.create_match(launch("m2", &[p(3)]), T0).unwrap();
    arena.set_player_outcome("m1", Some(p(1)), Some(Outcome::Win), "");
    arena.set_player_outcome("m1", Some(p(2)), Some(Outcome::Loss), "");
    let Submission::Accepted(_) = arena.submit_final_match_result("m1", "done", None, T0 + 1)
    else {
        panic!("accepted")
    };
    arena.disconnect(p(2), "quit", T0 + 2).unwrap();
    assert_eq!(arena.players_tracked(), 1);
    arena.end_match("m1", "", T0 + 3).unwrap();
    assert!(arena.get("m1").is_none());
    // p1 was returned to the lobby (and is online); p2 left; p3 never came.
    assert_eq!(arena.players_tracked(), 0);
    assert!(arena.disconnect(p(1), "quit", T0 + 4).is_err());
    assert_eq!(arena.players_tracked(), 0);
    arena.advance(T0 + 60_000);
    assert!(arena.get("m2").is_none());
    assert_eq!(arena.players_tracked(), 0);
}

#[test]
fn a_player_is_found_by_the_launch_name_when_the_arrival_gave_none() {
    let arena = started(&[p(1), p(2)]);
    assert_eq!(arena.find_active_player_uuid("m1", "p1"), Some(p(2)));
    assert_eq!(arena.find_active_player_uuid("m1", " P0 "), Some(p(1)));
    assert_eq!(arena.find_active_player_uuid("m1", "P2"), None);
}
