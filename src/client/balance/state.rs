//! [`ConnectivityState`]: the five channel states of grpc `doc/connectivity-semantics-and-api.md`.

use std::fmt;

/// The state of a [`Channel`](crate::Channel) (or of one of its connections), as gRPC defines
/// it. Read it with [`Channel::state`](crate::Channel::state) and wait for a change with
/// [`Channel::state_changed`](crate::Channel::state_changed).
///
/// A notification only says that something changed: a failed reconnection passes through
/// CONNECTING and TRANSIENT_FAILURE again, which may look like no change at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectivityState {
    /// Not connecting, because no call needed a connection yet (or pick_first's connection
    /// was lost and no call has come since).
    Idle,
    /// Resolving the name or connecting; calls wait.
    Connecting,
    /// At least one connection is up; calls are sent.
    Ready,
    /// Every address failed; the channel keeps trying with backoff. Calls fail at once with
    /// UNAVAILABLE unless they [wait for ready](crate::CallOptions::wait_for_ready).
    TransientFailure,
    /// [`Channel::shutdown`](crate::Channel::shutdown) was called; calls fail with
    /// UNAVAILABLE. Final.
    Shutdown,
}

impl fmt::Display for ConnectivityState {
    /// The gRPC name: `IDLE`, `CONNECTING`, `READY`, `TRANSIENT_FAILURE`, `SHUTDOWN`.
    ///
    /// ```
    /// assert_eq!(h2grpc::client::ConnectivityState::TransientFailure.to_string(), "TRANSIENT_FAILURE");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectivityState::Idle => "IDLE",
            ConnectivityState::Connecting => "CONNECTING",
            ConnectivityState::Ready => "READY",
            ConnectivityState::TransientFailure => "TRANSIENT_FAILURE",
            ConnectivityState::Shutdown => "SHUTDOWN",
        })
    }
}

/// The channel state from its subchannels' (load-balancing.md, round_robin's rule).
pub(crate) fn aggregate(states: &[ConnectivityState]) -> ConnectivityState {
    use ConnectivityState::*;
    for want in [Ready, Connecting, Idle] {
        if states.contains(&want) {
            return want;
        }
    }
    TransientFailure
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnectivityState::*;

    #[test]
    fn channel_state_is_ready_if_any_then_connecting_then_idle_else_failure() {
        assert_eq!(aggregate(&[TransientFailure, Ready, Connecting]), Ready);
        assert_eq!(aggregate(&[TransientFailure, Connecting, Idle]), Connecting);
        assert_eq!(aggregate(&[TransientFailure, Idle]), Idle);
        assert_eq!(aggregate(&[TransientFailure, TransientFailure]), TransientFailure);
        assert_eq!(aggregate(&[]), TransientFailure);
    }
}
