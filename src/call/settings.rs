//! [`H2Settings`]: the HTTP/2 settings both sides configure, held by the server's builder and
//! the channel's builder alike, and the one set of documented setters both builders expose
//! ([`shared_setters!`]), so that a setting, its default and its docs are written once.

use super::defaults;
use crate::codec::compression::Encoding;
use crate::codec::DEFAULT_MAX_RECV_MESSAGE_LEN;
use crate::trace::Trace;

/// The HTTP/2 settings of one side's connections, each with the default its setter documents.
#[derive(Clone, Debug)]
pub(crate) struct H2Settings {
    /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window.
    pub(crate) initial_stream_window_size: u32,
    /// The connection's receive window (a WINDOW_UPDATE on stream 0 after the preface).
    pub(crate) initial_connection_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame the peer may send.
    pub(crate) max_frame_size: u32,
    /// The largest header list accepted from the peer, as HTTP/2 counts it.
    pub(crate) max_header_list_size: u32,
    /// Bytes `h2` may hold per stream before a sender waits.
    pub(crate) max_send_buffer_size: usize,
}

impl Default for H2Settings {
    fn default() -> H2Settings {
        H2Settings {
            initial_stream_window_size: defaults::STREAM_WINDOW,
            initial_connection_window_size: defaults::CONNECTION_WINDOW,
            max_frame_size: defaults::MAX_FRAME_SIZE,
            max_header_list_size: defaults::MAX_HEADER_LIST_SIZE,
            max_send_buffer_size: defaults::MAX_SEND_BUFFER_SIZE,
        }
    }
}

/// Hands `settings` to an `h2` builder (`h2::client::Builder` and `h2::server::Builder` have the
/// same setters but no common trait), advertising `header_list_size` as
/// SETTINGS_MAX_HEADER_LIST_SIZE.
macro_rules! apply {
    ($builder:expr, $settings:expr, $header_list_size:expr) => {
        $builder
            .initial_window_size($settings.initial_stream_window_size)
            .initial_connection_window_size($settings.initial_connection_window_size)
            .max_frame_size($settings.max_frame_size)
            .max_header_list_size($header_list_size)
            .max_send_buffer_size($settings.max_send_buffer_size)
    };
}

impl H2Settings {
    /// What a server tells `h2` for SETTINGS_MAX_HEADER_LIST_SIZE: 8 times
    /// `max_header_list_size`, so that a request over our limit still reaches us and ends
    /// RESOURCE_EXHAUSTED, where `h2` would answer HTTP 431 (which clients show as UNKNOWN).
    /// See the `max_header_list_size` setter's docs.
    pub(crate) fn server_header_list_size(&self) -> u32 {
        self.max_header_list_size.saturating_mul(8)
    }

    /// An `h2` server builder with these settings.
    pub(crate) fn server_builder(&self) -> h2::server::Builder {
        let mut builder = h2::server::Builder::new();
        apply!(builder, self, self.server_header_list_size());
        builder
    }

    /// An `h2` client builder with these settings, server push off.
    pub(crate) fn client_builder(&self) -> h2::client::Builder {
        let mut builder = h2::client::Builder::new();
        apply!(builder, self, self.max_header_list_size).enable_push(false);
        builder
    }
}

/// What every call of one side reads from its builder's configuration: message size limits,
/// the encoding of what it sends, and the trace; held by both sides' configurations beside
/// [`H2Settings`], each with the default its setter documents.
#[derive(Clone, Debug)]
pub(crate) struct CallSettings {
    pub(crate) max_recv_message_len: usize,
    pub(crate) max_send_message_len: usize,
    pub(crate) send_compression: Encoding,
    pub(crate) trace: Trace,
}

impl Default for CallSettings {
    fn default() -> CallSettings {
        CallSettings {
            max_recv_message_len: DEFAULT_MAX_RECV_MESSAGE_LEN,
            max_send_message_len: usize::MAX,
            send_compression: Encoding::Identity,
            trace: Trace::off(),
        }
    }
}

/// Writes builder setters `name(&mut self, value) -> &mut Self`, each ended by `;`, that
/// store `value` at `self.path` (or `Some(value)`, for `=> Some(path)`), with the docs given
/// (which state the default).
macro_rules! setter {
    () => {};
    ($(#[$doc:meta])* $name:ident: $ty:ty => Some($($path:ident).+); $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(&mut self, value: $ty) -> &mut Self {
            self.$($path).+ = Some(value);
            self
        }
        $crate::call::settings::setter! { $($rest)* }
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty => $($path:ident).+; $($rest:tt)*) => {
        $(#[$doc])*
        pub fn $name(&mut self, value: $ty) -> &mut Self {
            self.$($path).+ = value;
            self
        }
        $crate::call::settings::setter! { $($rest)* }
    };
}
pub(crate) use setter;

/// The setters the server's `Builder` and the client's `ChannelBuilder` share, written once:
/// both hold an [`H2Settings`] at `config.h2` and the other fields named here at `config`.
macro_rules! shared_setters {
    () => {
        $crate::call::settings::setter! {
            /// Largest message accepted from the peer (a request on a server, a response on a
            /// channel), in bytes. Default 4 MiB (4,194,304), as every gRPC implementation; a
            /// larger message fails the call with RESOURCE_EXHAUSTED.
            ///
            /// ```
            /// h2grpc::Server::builder().max_recv_message_len(16 << 20);
            /// h2grpc::Channel::builder("unix:/run/app.sock")?.max_recv_message_len(16 << 20);
            /// # Ok::<(), h2grpc::Error>(())
            /// ```
            max_recv_message_len: usize => config.calls.max_recv_message_len;

            /// Largest message this side may send (a response on a server, a request on a
            /// channel). Default: unlimited (up to 4 GiB, the framing's limit); a larger message
            /// fails the send with RESOURCE_EXHAUSTED.
            max_send_message_len: usize => config.calls.max_send_message_len;

            /// Each stream's HTTP/2 receive window (SETTINGS_INITIAL_WINDOW_SIZE). Default 1 MiB
            /// (HTTP/2's own default is 64 KiB, too small to keep a local socket busy).
            ///
            /// ```
            /// h2grpc::Server::builder().initial_stream_window_size(2 << 20);
            /// h2grpc::Channel::builder("unix:/run/app.sock")?.initial_stream_window_size(2 << 20);
            /// # Ok::<(), h2grpc::Error>(())
            /// ```
            initial_stream_window_size: u32 => config.h2.initial_stream_window_size;

            /// The connection's HTTP/2 receive window, shared by its streams. Default 4 MiB.
            initial_connection_window_size: u32 => config.h2.initial_connection_window_size;

            /// SETTINGS_MAX_FRAME_SIZE: the largest frame the peer may send us. Default 256 KiB
            /// (HTTP/2's own is 16 KiB, the least allowed), so a batch of messages can arrive as
            /// one frame; at most 16 MiB - 1.
            max_frame_size: u32 => config.h2.max_frame_size;

            /// The largest header list accepted from the peer (request headers on a server,
            /// response headers and trailers on a channel), counted as HTTP/2 does: name +
            /// value + 32 per entry. Default 16 KiB, as C-core's hard limit.
            ///
            /// On a server, a request over it ends that call alone with RESOURCE_EXHAUSTED,
            /// naming the limit; the connection and its other calls go on. Past that, `h2`
            /// decides, so the wire has three bands (`n` is this limit; a server advertises `8n`
            /// in SETTINGS_MAX_HEADER_LIST_SIZE so that `h2` lets the first band through):
            ///
            /// | header list | outcome |
            /// |---|---|
            /// | up to `n` | the call runs |
            /// | over `n`, up to `8n` (128 KiB) | RESOURCE_EXHAUSTED for that call |
            /// | over `8n`, under `32n` (512 KiB) | `h2` answers HTTP 431 for that call (clients show UNKNOWN or INTERNAL) |
            /// | `32n` or more | `h2` ends the connection: GOAWAY(ENHANCE_YOUR_CALM, "header_list_way_too_large"); calls in flight on it fail UNAVAILABLE and the client reconnects |
            ///
            /// The last band is `h2`'s defence against header blocks built to exhaust memory,
            /// four times the advertised size; it cannot be configured apart from the advertised
            /// size. `h2` also ends a connection whose header block comes in more than
            /// `max(5, 1.25 * 8n / max_frame_size)` CONTINUATION frames
            /// ("too_many_continuations"): with the default 256 KiB frames, a client that cuts
            /// its headers into 16 KiB frames meets that at 96 KiB. Python (`grpcio`, 8 KiB to
            /// 1 MiB) and Node (`grpc-js`) keep their channel through all of it
            /// (`tests/metadata_peers.rs`).
            ///
            /// ```
            /// h2grpc::Server::builder().max_header_list_size(64 << 10);
            /// h2grpc::Channel::builder("unix:/run/app.sock")?.max_header_list_size(64 << 10);
            /// # Ok::<(), h2grpc::Error>(())
            /// ```
            max_header_list_size: u32 => config.h2.max_header_list_size;

            /// Bytes `h2` may hold per stream before a `send` (a handler's, or a request
            /// stream's) waits for the peer to take them. Default 256 KiB: a peer that stops
            /// reading costs up to this much per stream.
            max_send_buffer_size: usize => config.h2.max_send_buffer_size;
        }

        /// The wire trace: each call's request headers, messages, response headers, trailers
        /// and resets, and the connection's GOAWAY, as this side sees them (see
        /// [`trace`](crate::trace)). Default: off, at no cost.
        ///
        /// ```
        /// use h2grpc::trace::Trace;
        /// // H2GRPC_TRACE=1 writes the trace to stderr
        /// h2grpc::Server::builder().trace(Trace::from_env());
        /// h2grpc::Channel::builder("unix:/run/app.sock")?.trace(Trace::from_env());
        /// # Ok::<(), h2grpc::Error>(())
        /// ```
        pub fn trace(&mut self, trace: $crate::trace::Trace) -> &mut Self {
            self.config.calls.trace = trace;
            self
        }
    };
}
pub(crate) use shared_setters;
