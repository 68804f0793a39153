//! The re-resolution task: resolves at once, then again when asked (a connection lost, an
//! attempt failed) and on a refresh timer, never sooner than the minimum interval after the
//! last resolution; a failed resolution is retried with connection backoff.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use super::backoff::Backoff;
use super::{first, Host, Resolver};

/// How long one resolution may take (grpc-go's `ResolvingTimeout`).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Settings {
    pub(crate) min_interval: Duration,
    pub(crate) refresh: Duration,
    pub(crate) resolve_now: Arc<Notify>,
    /// Closed when the channel is dropped.
    pub(crate) alive: watch::Receiver<()>,
}

pub(crate) async fn run<H: Host>(
    channel: Weak<H>,
    resolver: Arc<dyn Resolver>,
    mut settings: Settings,
) {
    let mut failures =
        Backoff::new(Duration::from_secs(1), settings.min_interval.max(Duration::from_secs(1)));
    loop {
        let result = tokio::time::timeout(RESOLVE_TIMEOUT, resolver.resolve()).await;
        let resolved_at = Instant::now();
        let Some(inner) = channel.upgrade() else { return };
        let ok = match result {
            Ok(Ok(addrs)) if !addrs.is_empty() => {
                inner.balancer().update_addresses(addrs, &channel);
                true
            }
            Ok(Ok(_)) => {
                inner.balancer().resolution_failed("the resolver returned no address".into());
                false
            }
            Ok(Err(err)) => {
                inner.balancer().resolution_failed(err.to_string());
                false
            }
            Err(_) => {
                let msg = format!("the resolver gave no answer within {RESOLVE_TIMEOUT:?}");
                inner.balancer().resolution_failed(msg);
                false
            }
        };
        drop(inner);
        let next = if ok {
            failures.reset();
            // Wait for a request or the refresh timer, then respect the minimum interval.
            let asked =
                first(settings.resolve_now.notified(), tokio::time::sleep(settings.refresh));
            if !first(asked, settings.alive.changed()).await {
                return;
            }
            resolved_at + settings.min_interval
        } else {
            resolved_at + failures.next_delay()
        };
        if !first(tokio::time::sleep_until(next.into()), settings.alive.changed()).await {
            return;
        }
    }
}
