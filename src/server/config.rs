//! [`ServerConfig`]: what a server's [`Builder`](super::Builder) sets, read by its connections
//! and calls.

use std::time::Duration;

use super::lifetime;
use crate::call::settings::{CallSettings, H2Settings};

/// Limits and HTTP/2 settings, each with the default its setter documents.
#[derive(Clone, Debug)]
pub(crate) struct ServerConfig {
    pub(super) max_concurrent_streams: u32,
    /// What each call reads: message limits, the encoding it sends, the trace.
    pub(super) calls: CallSettings,
    /// The HTTP/2 settings the channel's builder has too.
    pub(super) h2: H2Settings,
    pub(super) handshake_timeout: Duration,
    pub(super) shutdown_grace: Duration,
    pub(super) socket_mode: Option<u32>,
    pub(super) socket_group: Option<u32>,
    pub(super) limits: lifetime::Limits,
    /// TLS on every accepted connection (see [`Builder::tls`](super::Builder::tls)).
    #[cfg(feature = "tls")]
    pub(super) tls: Option<crate::transport::tls::ServerTls>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            calls: CallSettings::default(),
            max_concurrent_streams: 1024,
            h2: H2Settings::default(),
            handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            socket_mode: None,
            socket_group: None,
            limits: lifetime::Limits::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerConfig {
    /// What `h2` is told for SETTINGS_MAX_HEADER_LIST_SIZE (see
    /// [`H2Settings::server_header_list_size`]).
    pub(crate) fn h2_header_list_size(&self) -> u32 {
        self.h2.server_header_list_size()
    }

    pub(crate) fn h2_builder(&self) -> h2::server::Builder {
        let mut builder = self.h2.server_builder();
        // h2 counts the streams it resets itself (REFUSED_STREAM past max_concurrent_streams,
        // malformed requests) over a connection's life and ends the connection with
        // GOAWAY(ENHANCE_YOUR_CALM "too_many_internal_resets") at this cap, its defence against
        // peers that make a server reset streams while their work goes on ("MadeYouReset").
        // h2's own cap is 1,024, so a client that opened 5,000 streams at once lost the 1,024
        // it had been admitted. 64 per admitted stream keeps the defence and the admitted calls.
        let resets = (self.max_concurrent_streams as usize).saturating_mul(64).max(1024);
        builder
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_local_error_reset_streams(Some(resets));
        builder
    }
}
