//! Glue between libFuzzer and `h2grpc::__fuzz`: [`Input`] reads a typed input from all of
//! the fuzzer's bytes with [`FuzzInput::from_bytes`], the same reading the stable corpus
//! replay uses, and shows it with the input's `Debug` (for a `Script`, the Rust builder calls
//! that rebuild it: `cargo fuzz fmt TARGET FILE` prints them).

use std::fmt;

use h2grpc::__fuzz::FuzzInput;
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};

/// A typed fuzz input made of every byte the fuzzer gave.
pub struct Input<T>(pub T);

impl<'a, T: FuzzInput> Arbitrary<'a> for Input<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let bytes = u.bytes(u.len())?;
        Ok(Input(T::from_bytes(bytes)))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Input(T::from_bytes(u.take_rest())))
    }
}

impl<T: fmt::Debug> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub mod rewriter_case;

/// Lets one known `h2` debug assertion through, for the connection targets: `Counts::drop`
/// asserts that no stream is left when h2's stream store is freed, which fails when the
/// connection is dropped before a call's last stream handle, a normal teardown when the
/// client leaves mid-call (h2 upstream calls it spurious: hyperium/h2#907, as #464 did for
/// the store's own assertion; release builds compile it out). `cargo fuzz` builds with debug
/// assertions, so without this every such input would be a crash of h2's, not ours; every
/// other panic still aborts; the corpus replay (`tests/fuzz_corpus.rs`) tolerates the same
/// one. Reproduced by `tests/fuzz_corpus/regressions.rs`
/// (`h2_counts_assertion_when_the_connection_goes_before_a_call`). The panic cuts the
/// call's teardown short, so an AddressSanitizer build with debug assertions also reports a
/// leak for such inputs: look for leaks in `-O` builds (no debug assertions), as
/// `FUZZ_LEAKS=1 scripts/fuzz-all` does.
pub fn tolerate_h2_counts_drop_assertion() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !h2grpc::__fuzz::is_h2_counts_panic(info) {
                abort_hook(info);
            }
        }));
    });
}
