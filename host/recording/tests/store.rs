//! `DirSink` and `RecordingStore` on real files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nexori_recording::format::{record_line, sha256_hex};
use nexori_recording::store::{ExportError, RecordingStore};
use nexori_recording::{
    DirSink, FORMAT, Header, LineKind, Log, ModIdentity, RecordKind, RecordSink, Retention,
    SealError, read_logs,
};
use serde_json::json;

fn header(match_id: &str, started_at: i64, sha256: &str) -> Vec<u8> {
    Header {
        format: FORMAT.into(),
        match_id: match_id.into(),
        recorded_by: "serve".into(),
        nexori_version: "0.1.0".into(),
        started_at,
        module: ModIdentity {
            name: "demo".into(),
            sha256: sha256.into(),
            wit: "0.1.0".into(),
        },
        random_seed: "00112233445566778899aabbccddeeff".into(),
        settings: json!({"limits": {"fuel": 1}}),
    }
    .to_line()
}

fn module(text: &str) -> (Arc<[u8]>, String) {
    let bytes: Arc<[u8]> = Arc::from(format!("\0asm fake mod {text}").into_bytes());
    let sha = sha256_hex(&bytes);
    (bytes, sha)
}

fn input(at: i64, n: u64) -> Vec<u8> {
    record_line(at, "in", &json!({"type": "player.join", "player": n}))
}

/// The tests' own compact form of [`input`]: `at` and the player number, 8 bytes each, and
/// `padding` spaces, which the line carries as `pad` (to make a line too big for the queue).
fn compact_input(out: &mut Vec<u8>, at: i64, n: u64, padding: usize) {
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.resize(out.len() + padding, b' ');
}

fn render_input(compact: &[u8], out: &mut Vec<u8>) {
    let at = i64::from_le_bytes(compact[..8].try_into().expect("8 bytes"));
    let n = u64::from_le_bytes(compact[8..16].try_into().expect("8 bytes"));
    let pad = &compact[16..];
    if pad.is_empty() {
        out.extend_from_slice(&input(at, n));
    } else {
        let pad = std::str::from_utf8(pad).expect("spaces");
        let line = record_line(
            at,
            "in",
            &json!({"type": "player.join", "player": n, "pad": pad}),
        );
        out.extend_from_slice(&line);
    }
}

/// Two lines from one compact entry: players `n` and `n + 1`.
fn render_two_inputs(compact: &[u8], out: &mut Vec<u8>) {
    let at = i64::from_le_bytes(compact[..8].try_into().expect("8 bytes"));
    let n = u64::from_le_bytes(compact[8..16].try_into().expect("8 bytes"));
    out.extend_from_slice(&input(at, n));
    out.push(b'\n');
    out.extend_from_slice(&input(at, n + 1));
}

/// The first log `store` finds for `match_id`, read back.
fn first_log(store: &RecordingStore, match_id: &str) -> Log {
    let found = store.find(match_id).expect("find");
    let mut logs = read_logs(&fs::read(&found[0]).expect("read")).expect("a log");
    logs.swap_remove(0)
}

fn files(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir.join(sub))
        .map(|entries| entries.map(|e| e.expect("entry").path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn set_age(path: &Path, age: Duration) {
    let file = fs::File::options().write(true).open(path).expect("open");
    file.set_modified(SystemTime::now() - age)
        .expect("set mtime");
}

#[test]
fn a_log_is_written_sealed_and_archived_with_its_mod() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("a");
    let mut sink = DirSink::start(dir.clone(), Retention::default()).expect("start");
    let log = sink.open(&header("Match-A", 1000, &sha), &sha, &wasm);

    let mut lines = Vec::new();
    let push = |sink: &mut DirSink, lines: &mut Vec<Vec<u8>>, kind: LineKind, line: Vec<u8>| {
        sink.append(log, kind, &line);
        lines.push(line);
    };
    push(&mut sink, &mut lines, LineKind::Input, input(1001, 1));
    push(
        &mut sink,
        &mut lines,
        LineKind::Input,
        record_line(1002, "advance", &json!(true)),
    );
    push(
        &mut sink,
        &mut lines,
        LineKind::Output,
        record_line(1002, "out", &json!({"cmd": "say"})),
    );
    sink.end_turn();
    push(&mut sink, &mut lines, LineKind::Input, input(1003, 2));
    // Written into the sink's buffer, and written compact for the worker to render.
    sink.append_with(log, LineKind::Input, &mut |out| {
        out.extend_from_slice(&input(1003, 20));
    });
    lines.push(input(1003, 20));
    sink.append_compact(log, LineKind::Input, render_input, &mut |out| {
        compact_input(out, 1003, 21, 0);
    });
    lines.push(input(1003, 21));
    sink.append_compact(log, LineKind::Input, render_two_inputs, &mut |out| {
        compact_input(out, 1003, 22, 0);
    });
    lines.extend([input(1003, 22), input(1003, 23)]);
    sink.end_turn();
    // Mid-turn: this line is still in the host's buffer when seal is called.
    push(&mut sink, &mut lines, LineKind::Input, input(1004, 3));
    let before_seal = lines.len();
    let sealed = sink.seal(log).expect("seal");
    push(
        &mut sink,
        &mut lines,
        LineKind::Output,
        record_line(1004, "result", &json!({"resultId": "r1"})),
    );
    push(&mut sink, &mut lines, LineKind::Input, input(1005, 4));
    push(
        &mut sink,
        &mut lines,
        LineKind::Output,
        record_line(1006, "closed", &json!(true)),
    );
    sink.end_turn();
    sink.close(log);
    drop(sink);

    assert!(files(&dir, "active").is_empty(), "the active file is gone");
    let archives = files(&dir, "logs");
    assert_eq!(archives.len(), 1);
    let name = archives[0]
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name");
    assert_eq!(name, format!("match-a~1000~{}.nxlog", &sha[..12]));
    let bytes = fs::read(&archives[0]).expect("read");
    assert!(bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]), "compressed");
    let logs = read_logs(&bytes).expect("a log");
    assert_eq!(logs.len(), 1);
    let read = &logs[0];
    assert_eq!(read.header.match_id, "Match-A");
    let read_lines: Vec<&[u8]> = read.records.iter().map(|r| r.line.as_bytes()).collect();
    let written: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    assert_eq!(read_lines, written);
    assert!(read.is_complete());
    // Line 1 is the header.
    let hash = read.input_hash_until(|r| r.line_number > before_seal + 1);
    assert_eq!(sealed, hash);
    assert_ne!(
        sealed,
        read.input_hash_until(|_| false),
        "later inputs change it"
    );

    let kept = dir.join("mods").join(format!("{sha}.wasm"));
    assert_eq!(fs::read(kept).expect("the mod is kept"), wasm.to_vec());
}

#[test]
fn a_stopped_host_leaves_active_logs_that_the_next_start_archives() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("b");
    let mut sink = DirSink::start(dir.clone(), Retention::default()).expect("start");
    let log = sink.open(&header("m1", 5, &sha), &sha, &wasm);
    sink.append(log, LineKind::Input, &input(6, 1));
    sink.end_turn();
    sink.append(log, LineKind::Input, &input(7, 2));
    // Not closed, not even end_turn: dropping flushes it to the active file.
    drop(sink);
    let active = files(&dir, "active");
    assert_eq!(active.len(), 1, "not archived on stop");
    assert!(files(&dir, "logs").is_empty());
    let text = fs::read_to_string(&active[0]).expect("read");
    assert_eq!(text.lines().count(), 3);

    drop(DirSink::start(dir.clone(), Retention::default()).expect("restart"));
    assert!(files(&dir, "active").is_empty());
    let archives = files(&dir, "logs");
    assert_eq!(archives.len(), 1);
    let logs = read_logs(&fs::read(&archives[0]).expect("read")).expect("a log");
    assert_eq!(logs[0].records.len(), 2);
    assert!(!logs[0].is_complete());
}

#[test]
fn a_killed_host_leaves_a_cut_line_that_recovery_drops() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("c");
    let mut sink = DirSink::start(dir.clone(), Retention::default()).expect("start");
    let log = sink.open(&header("killed", 10, &sha), &sha, &wasm);
    sink.append(log, LineKind::Input, &input(11, 1));
    sink.append(log, LineKind::Input, &input(12, 2));
    sink.seal(log).expect("seal");
    // Killed: no shutdown.
    std::mem::forget(sink);
    let active = files(&dir, "active");
    assert_eq!(active.len(), 1);
    let mut file = fs::File::options()
        .append(true)
        .open(&active[0])
        .expect("open");
    std::io::Write::write_all(&mut file, br#"{"at":13,"in":{"type":"pla"#).expect("write");
    drop(file);

    // And one written by hand, cut in the middle of its second record.
    let (_, other_sha) = module("d");
    let mut by_hand = header("by-hand", 20, &other_sha);
    by_hand.push(b'\n');
    by_hand.extend_from_slice(&input(21, 1));
    by_hand.push(b'\n');
    by_hand.extend_from_slice(br#"{"at":22,"in":"#);
    fs::write(dir.join("active").join("by-hand~20~x.jsonl"), by_hand).expect("write");
    // And one with nothing complete in it.
    fs::write(dir.join("active").join("empty~0~y.jsonl"), b"{\"form").expect("write");

    drop(DirSink::start(dir.clone(), Retention::default()).expect("restart"));
    assert!(files(&dir, "active").is_empty());
    let store = RecordingStore::new(&dir);
    let killed = store.find("killed").expect("find");
    assert_eq!(killed.len(), 1);
    let logs = read_logs(&fs::read(&killed[0]).expect("read")).expect("a log");
    assert_eq!(logs[0].records.len(), 2);
    // The decompressed text ends with a complete line.
    let text = zstd::decode_all(fs::read(&killed[0]).expect("read").as_slice()).expect("zstd");
    assert_eq!(text.last(), Some(&b'\n'));
    assert!(!String::from_utf8_lossy(&text).contains("\"at\":13"));

    let by_hand = store.find("BY-HAND").expect("find");
    assert_eq!(by_hand.len(), 1);
    let logs = read_logs(&fs::read(&by_hand[0]).expect("read")).expect("a log");
    assert_eq!(logs[0].records.len(), 1);
    assert_eq!(
        files(&dir, "logs").len(),
        2,
        "the empty one is not archived"
    );
}

/// Three closed logs, the first two served by mod `a`, the third by mod `b`, aged 3, 2 and 1
/// hours. Returns the archives, oldest first, and the two mods' SHA-256.
fn three_old_logs(dir: &Path) -> (Vec<PathBuf>, String, String) {
    let (wasm_a, sha_a) = module("retention a");
    let (wasm_b, sha_b) = module("retention b");
    let mut sink = DirSink::start(dir.to_path_buf(), Retention::default()).expect("start");
    for (i, (wasm, sha)) in [(&wasm_a, &sha_a), (&wasm_a, &sha_a), (&wasm_b, &sha_b)]
        .into_iter()
        .enumerate()
    {
        let log = sink.open(&header(&format!("old-{i}"), i as i64, sha), sha, wasm);
        for n in 0..50 {
            sink.append(log, LineKind::Input, &input(i as i64, n));
        }
        sink.close(log);
    }
    drop(sink);
    let store = RecordingStore::new(dir);
    let archives: Vec<PathBuf> = (0..3)
        .map(|i| {
            let found = store.find(&format!("old-{i}")).expect("find");
            assert_eq!(found.len(), 1);
            found[0].clone()
        })
        .collect();
    for (i, path) in archives.iter().enumerate() {
        set_age(path, Duration::from_secs(3600 * (3 - i as u64)));
    }
    (archives, sha_a, sha_b)
}

fn mods(dir: &Path) -> Vec<String> {
    files(dir, "mods")
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect()
}

#[test]
fn retention_by_size_deletes_the_oldest_logs_and_their_mods() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (archives, sha_a, sha_b) = three_old_logs(dir);
    assert_eq!(mods(dir).len(), 2);
    let size = |p: &Path| fs::metadata(p).expect("metadata").len();
    // Room for the two newest only: the oldest goes, mod a stays.
    let retention = Retention {
        max_total_bytes: size(&archives[1]) + size(&archives[2]),
        ..Retention::default()
    };
    drop(DirSink::start(dir.to_path_buf(), retention).expect("start"));
    assert_eq!(files(dir, "logs"), archives[1..].to_vec());
    assert_eq!(mods(dir).len(), 2);
    // Room for the newest only: mod a goes.
    let retention = Retention {
        max_total_bytes: size(&archives[2]),
        ..Retention::default()
    };
    drop(DirSink::start(dir.to_path_buf(), retention).expect("start"));
    assert_eq!(files(dir, "logs"), archives[2..].to_vec());
    assert_eq!(mods(dir), vec![sha_b]);
    assert!(!mods(dir).contains(&sha_a));
}

#[test]
fn retention_by_age_deletes_the_old_logs_and_their_mods() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (archives, _, sha_b) = three_old_logs(dir);
    let retention = Retention {
        max_age_ms: 90 * 60 * 1000,
        ..Retention::default()
    };
    drop(DirSink::start(dir.to_path_buf(), retention).expect("start"));
    assert_eq!(files(dir, "logs"), archives[2..].to_vec());
    assert_eq!(mods(dir), vec![sha_b]);
}

#[test]
fn retention_after_a_close_keeps_the_mods_of_live_matches() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm_a, sha_a) = module("close a");
    let (wasm_b, sha_b) = module("close b");
    let retention = Retention {
        max_total_bytes: 1,
        ..Retention::default()
    };
    let mut sink = DirSink::start(dir.clone(), retention).expect("start");
    let a = sink.open(&header("a", 1, &sha_a), &sha_a, &wasm_a);
    let b = sink.open(&header("b", 1, &sha_b), &sha_b, &wasm_b);
    sink.append(a, LineKind::Input, &input(2, 1));
    sink.append(b, LineKind::Input, &input(2, 1));
    sink.close(a);
    // The seal is answered after the close was handled.
    sink.seal(b).expect("seal");
    assert!(
        files(&dir, "logs").is_empty(),
        "over the size limit at once"
    );
    assert_eq!(mods(&dir), vec![sha_b.clone()], "b is live");
    drop(sink);
    assert_eq!(files(&dir, "active").len(), 1);
    assert_eq!(mods(&dir), vec![sha_b]);
}

#[test]
fn a_writer_that_falls_behind_leaves_a_gap_and_the_log_cannot_be_sealed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("gap");
    let mut sink =
        DirSink::start_with_limits(dir.clone(), Retention::default(), 2048).expect("start");
    let log = sink.open(&header("gap", 1, &sha), &sha, &wasm);
    let other = sink.open(&header("no-gap", 1, &sha), &sha, &wasm);
    sink.append(log, LineKind::Input, &input(2, 1));
    sink.append(other, LineKind::Input, &input(2, 1));
    sink.end_turn();
    // Bigger than the whole queue (whose limit counts the headers too, which are never
    // dropped): it can never be handed over.
    let big = record_line(3, "in", &json!({"type": "chat", "text": "x".repeat(3000)}));
    sink.append(log, LineKind::Input, &big);
    sink.append(log, LineKind::Input, &input(4, 2));
    // So is a compact line: it is rendered to learn when it was (the gap's `at`) and lost.
    sink.append_compact(other, LineKind::Input, render_input, &mut |out| {
        compact_input(out, 4, 7, 3000);
    });
    sink.end_turn();
    assert!(matches!(sink.seal(log), Err(SealError::Broken(_))));
    assert!(matches!(sink.seal(other), Err(SealError::Broken(_))));
    sink.append(log, LineKind::Input, &input(5, 3));
    sink.close(log);
    sink.close(other);
    drop(sink);

    let store = RecordingStore::new(&dir);
    let read = first_log(&store, "gap");
    let kinds: Vec<&RecordKind> = read.records.iter().map(|r| &r.kind).collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let gap = read.gap().expect("a gap");
    assert_eq!(gap.at, 3);
    assert_eq!(
        gap.kind,
        RecordKind::Gap("the recording writer fell behind; 1 line lost".into())
    );
    assert_eq!(gap.line_number, 3, "after the line before it");
    assert_eq!(read.records.last().map(|r| r.at), Some(5));
    let read = first_log(&store, "no-gap");
    let gap = read.gap().expect("a gap");
    assert_eq!(gap.at, 4);
    assert_eq!(
        gap.kind,
        RecordKind::Gap("the recording writer fell behind; 1 line lost".into())
    );
}

#[test]
fn a_log_stops_at_its_size_limit_with_a_gap_and_cannot_be_sealed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("long");
    let head = header("long", 1, &sha);
    let line = input(2, 1);
    // Room for the header and three lines.
    let max = (head.len() + 1 + 3 * (line.len() + 1)) as u64;
    let retention = Retention {
        max_log_bytes: max,
        ..Retention::default()
    };
    let mut sink = DirSink::start(dir.clone(), retention).expect("start");
    let long = sink.open(&head, &sha, &wasm);
    let short = sink.open(&header("short", 1, &sha), &sha, &wasm);
    for n in 0..5 {
        sink.append(long, LineKind::Input, &input(2 + n, 1));
    }
    sink.append(short, LineKind::Input, &input(2, 1));
    sink.end_turn();
    assert_eq!(
        sink.seal(long),
        Err(SealError::Broken(format!(
            "the log reached recording.maxLogBytes ({max} bytes)"
        )))
    );
    assert!(sink.seal(short).is_ok(), "the other log is not affected");
    sink.append(
        long,
        LineKind::Output,
        &record_line(9, "closed", &json!(true)),
    );
    sink.close(long);
    sink.close(short);
    drop(sink);

    let store = RecordingStore::new(&dir);
    let read = first_log(&store, "long");
    let ats: Vec<i64> = read.records.iter().map(|r| r.at).collect();
    assert_eq!(
        ats,
        [2, 3, 4, 5],
        "three lines, then the gap at the fourth's time"
    );
    let gap = read.gap().expect("a gap");
    assert_eq!(
        gap.kind,
        RecordKind::Gap(format!(
            "the log reached its size limit of {max} bytes; the rest of the match is not recorded"
        ))
    );
    assert!(!read.is_complete(), "no closed record: it was dropped");
}

#[test]
fn many_live_matches_share_a_few_open_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("many");
    let mut sink = DirSink::start(dir.clone(), Retention::default()).expect("start");
    let logs: Vec<_> = (0..150)
        .map(|i| sink.open(&header(&format!("many-{i}"), i, &sha), &sha, &wasm))
        .collect();
    for turn in 0..5 {
        for log in &logs {
            sink.append(*log, LineKind::Input, &input(turn, log.0));
        }
        sink.end_turn();
    }
    for log in &logs {
        sink.seal(*log).expect("seal");
    }
    for log in logs.iter().step_by(2) {
        sink.close(*log);
    }
    drop(sink);
    assert_eq!(files(&dir, "logs").len(), 75);
    assert_eq!(files(&dir, "active").len(), 75);
    let store = RecordingStore::new(&dir);
    for i in [0, 1, 77, 149] {
        let found = store.find(&format!("many-{i}")).expect("find");
        assert_eq!(found.len(), 1);
        let logs = read_logs(&fs::read(&found[0]).expect("read")).expect("a log");
        let ats: Vec<i64> = logs[0].records.iter().map(|r| r.at).collect();
        assert_eq!(ats, vec![0, 1, 2, 3, 4]);
    }
}

#[test]
fn find_and_export() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let (wasm, sha) = module("find");
    let mut sink = DirSink::start(dir.clone(), Retention::default()).expect("start");
    let first = sink.open(&header("Match-X", 1000, &sha), &sha, &wasm);
    sink.append(first, LineKind::Input, &input(1001, 1));
    sink.close(first);
    let second = sink.open(&header(" match-x ", 2000, &sha), &sha, &wasm);
    sink.append(second, LineKind::Input, &input(2001, 1));
    let other = sink.open(&header("match-xy", 3000, &sha), &sha, &wasm);
    sink.append(other, LineKind::Input, &input(3001, 1));
    sink.seal(second).expect("seal");
    sink.seal(other).expect("seal");

    let store = sink.store();
    let found = store.find("MATCH-X").expect("find");
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        found[0].parent().and_then(Path::file_name),
        Some("active".as_ref()),
        "the newest, live"
    );
    assert_eq!(found[1].extension(), Some("nxlog".as_ref()));
    assert_eq!(store.find("match-xy").expect("find").len(), 1);
    assert!(store.find("nobody").expect("find").is_empty());

    assert_eq!(store.mod_bytes(&sha).expect("read"), Some(wasm.to_vec()));
    assert_eq!(store.mod_bytes(&"0".repeat(64)).expect("read"), None);
    assert_eq!(store.mod_bytes("../../etc").expect("read"), None);

    for path in &found {
        let exported = store.export(path, true).expect("export");
        let logs = read_logs(&exported).expect("a log");
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].wasm.as_deref(), Some(&wasm[..]));
        assert_eq!(logs[0].records.len(), 1);
        assert_eq!(logs[0].header.module.sha256, sha);
    }
    drop(sink);

    fs::remove_file(dir.join("mods").join(format!("{sha}.wasm"))).expect("remove");
    let err = store.export(&found[1], true).expect_err("the mod is gone");
    assert!(matches!(err, ExportError::ModMissing { .. }));
    assert!(err.to_string().contains("pass it with --mod"), "{err}");
    let exported = store
        .export(&found[1], false)
        .expect("export without the mod");
    let logs = read_logs(&exported).expect("a log");
    assert_eq!(logs[0].wasm, None);
    assert_eq!(logs[0].records.len(), 1);
}
