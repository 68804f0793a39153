//! The fuzz corpus, replayed on stable: every file under `fuzz/corpus/<target>/` goes through
//! the same `h2grpc::__fuzz` function the libFuzzer target calls. Also: the hand-made seeds
//! must match the committed files, and `write_seeds` (ignored) rewrites them, with real
//! exchanges captured from an h2grpc client and server.
//!
//! A panic in a task the server spawned does not reach the test thread, so a panic hook
//! counts every panic and each replay checks the count did not move. The replay lets one
//! panic through, as the fuzz shims do: h2's `Counts::drop` debug assertion
//! (`__fuzz::is_h2_counts_panic`, hyperium/h2#907), counted apart so that `check` still
//! fails on it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use h2grpc::__fuzz::{self, FieldMode, FuzzInput, Script};

#[path = "fuzz_corpus/seeds.rs"]
mod seeds;

#[path = "fuzz_corpus/regressions.rs"]
mod regressions;

/// The fuzz crate's input reader for `authority_rewriter`, with its HPACK encoder.
#[path = "../fuzz/src/rewriter_case.rs"]
#[allow(unreachable_pub)] // pub in the fuzz crate
mod rewriter_case;

/// Panics seen so far, other than h2's known assertion.
static PANICS: AtomicUsize = AtomicUsize::new(0);
/// h2's `Counts::drop` assertions seen so far (`__fuzz::is_h2_counts_panic`).
static H2_COUNTS_PANICS: AtomicUsize = AtomicUsize::new(0);
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if __fuzz::is_h2_counts_panic(info) {
                H2_COUNTS_PANICS.fetch_add(1, Ordering::SeqCst);
            } else {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// Runs `input` through `target`, failing with the input's name if anything panicked,
/// including tasks spawned on the way.
pub(crate) fn check(name: &str, input: &[u8], target: fn(&[u8])) {
    check_with(name, input, target, false);
}

/// [`check`], letting h2's `Counts::drop` assertion through when `tolerate_h2` is set.
fn check_with(name: &str, input: &[u8], target: fn(&[u8]), tolerate_h2: bool) {
    count_panics();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let before = (PANICS.load(Ordering::SeqCst), H2_COUNTS_PANICS.load(Ordering::SeqCst));
    let result = std::panic::catch_unwind(|| target(input));
    let mut panics = PANICS.load(Ordering::SeqCst) - before.0;
    if !tolerate_h2 {
        panics += H2_COUNTS_PANICS.load(Ordering::SeqCst) - before.1;
    }
    assert!(result.is_ok() && panics == 0, "{name}: {panics} panic(s); input {input:?}");
}

pub(crate) fn server_conn(bytes: &[u8]) {
    __fuzz::server_conn(&Script::from_bytes(bytes));
}

pub(crate) fn client_conn(bytes: &[u8]) {
    __fuzz::client_conn(&Script::from_bytes(bytes));
}

pub(crate) fn authority_rewriter(bytes: &[u8]) {
    let case = rewriter_case::RewriterCase::from_bytes(bytes);
    __fuzz::authority_rewriter(&case.bytes, &case.sent, case.read_size);
}

pub(crate) fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target)
}

fn replay(target: &str, run: fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    for file in files {
        let bytes = std::fs::read(&file).expect("a corpus file");
        check_with(&file.display().to_string(), &bytes, run, true);
    }
}

#[test]
fn replay_authority_rewriter_corpus() {
    replay("authority_rewriter", authority_rewriter);
}

#[test]
fn replay_decode_messages_corpus() {
    replay("decode_messages", __fuzz::decode_messages);
}

#[test]
fn replay_status_trailers_corpus() {
    replay("status_trailers", __fuzz::status_trailers);
}

#[test]
fn replay_grpc_timeout_corpus() {
    replay("grpc_timeout", __fuzz::grpc_timeout);
}

#[test]
fn replay_metadata_corpus() {
    replay("metadata", __fuzz::metadata);
}

#[test]
fn replay_server_conn_corpus() {
    replay("server_conn", server_conn);
}

#[test]
fn replay_client_conn_corpus() {
    replay("client_conn", client_conn);
}

#[test]
fn replay_server_conn_grpc_corpus() {
    replay("server_conn_grpc", __fuzz::server_conn_grpc);
}

#[test]
fn replay_frames_h2_corpus() {
    replay("frames_h2", __fuzz::frames_h2);
}

#[test]
fn committed_seeds_match_the_seed_definitions() {
    for (target, name, bytes) in seeds::hand_made() {
        let path = corpus_dir(target).join(format!("seed-{name}"));
        let committed = std::fs::read(&path)
            .unwrap_or_else(|err| panic!("{}: {err}; run write_seeds", path.display()));
        assert_eq!(committed, bytes, "{}: stale; run write_seeds", path.display());
    }
}

/// `cargo test --test fuzz_corpus -- --ignored write_seeds` rewrites every seed file.
#[test]
#[ignore = "writes fuzz/corpus; run by hand after changing the seeds"]
fn write_seeds() {
    let mut all = seeds::hand_made();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    all.extend(runtime.block_on(seeds::captured()));
    for (target, name, bytes) in all {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write a seed");
    }
}

#[test]
fn every_hand_made_seed_passes_its_target() {
    for (target, name, bytes) in seeds::hand_made() {
        let run: fn(&[u8]) = match target {
            "decode_messages" => __fuzz::decode_messages,
            "status_trailers" => __fuzz::status_trailers,
            "grpc_timeout" => __fuzz::grpc_timeout,
            "metadata" => __fuzz::metadata,
            "server_conn" => server_conn,
            "client_conn" => client_conn,
            "authority_rewriter" => authority_rewriter,
            "frames_h2" => __fuzz::frames_h2,
            "server_conn_grpc" => __fuzz::server_conn_grpc,
            other => panic!("unknown target {other}"),
        };
        check(&format!("{target}/{name}"), &bytes, run);
    }
}

/// The `Script` Debug output is a Rust repro: this is one, pasted back.
#[test]
fn a_printed_script_is_rust_that_rebuilds_it() {
    let script = Script::new()
        .preface()
        .headers_with(1, 0x01, 3, &[(FieldMode::Indexed, &b"x-a"[..], &b"\xff"[..])])
        .grpc_with(1, true, &[(1, Some(9), &b""[..])]);
    let printed = format!("{script:?}");
    assert_eq!(
        printed,
        "Script::new()\n    .preface()\n    \
         .headers_with(1, 0x01, 3, &[(FieldMode::Indexed, &b\"x-a\"[..], &b\"\\xff\"[..])])\n    \
         .grpc_with(1, true, &[(1, Some(9), &b\"\"[..])])"
    );
}
