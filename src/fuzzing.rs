//! Fuzz targets, compiled, linted and tested with every build (rustls's hidden `internal`
//! module): each `fuzz/fuzz_targets/*.rs` is a three-line shim over one function of
//! [`__fuzz`], and `tests/fuzz_corpus.rs` replays the committed corpus through the same
//! functions on stable.
//!
//! Every target checks an oracle stronger than "does not panic":
//!
//! ```text
//! decode_messages  arbitrary bytes, arbitrary chunking  == decode_all (one-shot); limits kept
//! status_trailers  any header map parses; parse(render(s)) == s; parse is stable
//! grpc_timeout     parse accepts exactly the grammar; parse(encode(parse(v))) == parse(v)
//! metadata         -bin and ASCII values: insert/get and headers round trips; joined -bin splits
//! server_conn      a Script (raw bytes, HTTP/2 frames, chunk sizes) from a client: no panic,
//!                  the server and every call end once the client leaves (no hang, no leak)
//! client_conn      a Script from a hostile server against a Channel's calls: every call ends
//! authority_rewriter  header lists a real HPACK encoder wrote, through the :authority rewriter
//!                  into h2: each arrives as sent, or h2 refuses it, or the connection ends
//! server_conn_grpc server_conn, the bytes read as gRPC calls (methods, deadlines, encodings,
//!                  messages, cancellation) with now and then a generic script action
//! frames_h2        valid client frame sequences, some damaged at the frame layer: the trace
//!                  tap's decoder finds a malformed frame exactly when h2's server refuses them
//! ```
//!
//! Inputs are plain bytes, read with a [`Cursor`](input::Cursor) that never fails: every byte
//! string is some input, so the corpus replays on stable without the `arbitrary` crate and the
//! library's dependencies stay as they are. A [`Script`]'s `Debug` prints the Rust builder
//! calls that rebuild it, and [`Script::to_bytes`] writes the bytes it was read from.

mod authority;
mod client;
mod frames;
mod frames_h2;
mod grpc_script;
mod input;
mod player;
mod pure;
mod script;
mod server;

thread_local! {
    /// The connection targets' runtime, built once per thread and reused by every input.
    /// Timers only: the connections are in-memory duplexes, and without an I/O driver a task's
    /// yield costs no `epoll_wait` (it was a third of `server_conn`'s time).
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
}

/// The fuzz targets' entry points (hidden: not part of the public API).
pub mod __fuzz {
    pub use super::authority::{
        authority_rewriter, header_list_size, HeaderList, END_PING, REWRITER_LIMIT,
    };
    pub use super::client::client_conn;
    pub use super::frames::FieldMode;
    pub use super::frames_h2::frames_h2;
    pub use super::grpc_script::{grpc_script, server_conn_grpc, GrpcCalls};
    pub use super::input::FuzzInput;
    pub use super::pure::{decode_messages, grpc_timeout, metadata, status_trailers};
    pub use super::script::{Action, Script};
    pub use super::server::{is_h2_counts_panic, server_conn, service, METHODS};
}
