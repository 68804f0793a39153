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
