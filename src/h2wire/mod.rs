//! HTTP/2's wire pieces that `h2` keeps private, for the code that must read or write frames
//! next to it: the `:authority` rewriter ([`crate::h2fix`]), the trace's frame decoder
//! ([`crate::trace::FrameReader`]) and the fuzz targets' hostile peers.
//!
//! ```text
//! head.rs     the 9-byte frame head (RFC 9113 §4.1), frame types and flags, the preface
//! hpack.rs    HPACK (RFC 7541): integers, strings, the static table, a decoder, an encoder
//! huffman.rs  HPACK's Huffman code (RFC 7541 Appendix B)
//! wrap.rs     for wrappers around a connection's byte stream: `forward_write!`, `watch_reads!`
//! ```
//!
//! `h2` does the real work on every connection; nothing here is on a call's path unless the
//! rewriter or a trace tap is in use.

mod head;
pub(crate) mod hpack;
mod huffman;
mod wrap;

pub(crate) use head::*;
pub(crate) use wrap::{forward_write, read_more, watch_reads};
