//! The standard health service, `grpc.health.v1.Health` (grpc/grpc `doc/health-checking.md`):
//! a [`HealthReporter`] the application sets each service's status on, served to any health
//! client — `grpc_health_probe`, Kubernetes, `grpcio-health-checking`, or [`HealthClient`].
//!
//! - **Check**: the status of a service the reporter knows; NOT_FOUND for one it does not. The
//!   empty name is the server as a whole, SERVING from the start.
//! - **Watch**: the current status at once, then every change. For an unknown service,
//!   SERVICE_UNKNOWN, and the call stays open until the service appears or the client leaves.
//!   Built on the [`Broadcast`] helper, one per service.
//! - **List**: every known service's status.
//!
//! ```no_run
//! use h2grpc::health::{HealthReporter, ServingStatus};
//! use h2grpc::Server;
//!
//! # fn main() -> Result<(), h2grpc::Error> {
//! let health = HealthReporter::new();
//! health.set_status("helloworld.Greeter", ServingStatus::Serving);
//! let server = Server::builder().add_service(health.service()).bind_unix("/tmp/app.sock")?;
//! // later, when a dependency goes away:
//! health.set_status("helloworld.Greeter", ServingStatus::NotServing);
//! # drop(server); Ok(()) }
//! ```

// Generated from proto/grpc/health/v1/health.proto; tests/generated.rs keeps it current.
// Not rustfmt's to reformat: the test compares it byte for byte with the generator's output.
#[allow(clippy::all, unreachable_pub)]
#[rustfmt::skip]
mod generated;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use self::generated::health_check_response::ServingStatus;
pub use self::generated::health_client::HealthClient;
pub use self::generated::{
    health_server, HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use crate::server::{Broadcast, CallContext, ResponseSink, Service, SlowSubscriber};
use crate::status::Status;

/// Changes a watcher may fall behind by before it skips to the newest (it only ever needs the
/// latest status).
const WATCH_BACKLOG: usize = 8;

/// Sets and serves the health of each service. Cheap to clone; clones share the statuses.
#[derive(Clone)]
pub struct HealthReporter {
    services: Arc<Mutex<HashMap<String, Entry>>>,
}

struct Entry {
    /// `None`: not registered (watched before it was set, or cleared).
    status: Option<ServingStatus>,
    changes: Broadcast<HealthCheckResponse>,
}

impl Entry {
    fn new(status: Option<ServingStatus>) -> Entry {
        Entry { status, changes: Broadcast::new(WATCH_BACKLOG, SlowSubscriber::SkipAhead) }
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse { status: status as i32 }
}

impl std::fmt::Debug for HealthReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let services = self.lock();
        let mut map = f.debug_map();
        for (name, entry) in services.iter() {
            if let Some(status) = entry.status {
                map.entry(name, &status);
            }
        }
        map.finish()
    }
}

impl Default for HealthReporter {
    fn default() -> Self {
        HealthReporter::new()
    }
}

impl HealthReporter {
    /// A reporter that knows only the server as a whole (`""`), SERVING.
    pub fn new() -> HealthReporter {
        let mut services = HashMap::new();
        services.insert(String::new(), Entry::new(Some(ServingStatus::Serving)));
        HealthReporter { services: Arc::new(Mutex::new(services)) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.services.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets `service`'s status (registering it if new); watchers see the change if it is one.
    ///
    /// ```
    /// # use h2grpc::health::{HealthReporter, ServingStatus};
    /// let health = HealthReporter::new();
    /// health.set_status("pkg.Svc", ServingStatus::NotServing);
    /// assert_eq!(health.status("pkg.Svc"), Some(ServingStatus::NotServing));
    /// ```
    pub fn set_status(&self, service: &str, status: ServingStatus) {
        let mut services = self.lock();
        let entry = services.entry(service.to_owned()).or_insert_with(|| Entry::new(None));
        if entry.status != Some(status) {
            entry.status = Some(status);
            entry.changes.publish(response(status));
        }
    }

    /// Forgets `service`: Check answers NOT_FOUND again and watchers see SERVICE_UNKNOWN.
    pub fn clear(&self, service: &str) {
        let mut services = self.lock();
        if let Some(entry) = services.get_mut(service) {
            if entry.status.take().is_some() {
                entry.changes.publish(response(ServingStatus::ServiceUnknown));
            }
            if entry.changes.subscribers() == 0 {
                services.remove(service);
            }
        }
    }

    /// Sets every known service NOT_SERVING, as a server about to shut down does (grpc-go's
    /// `Shutdown`), so that load balancers stop sending calls.
    pub fn set_all_not_serving(&self) {
        let mut services = self.lock();
        for entry in services.values_mut() {
            if entry.status.is_some() && entry.status != Some(ServingStatus::NotServing) {
                entry.status = Some(ServingStatus::NotServing);
                entry.changes.publish(response(ServingStatus::NotServing));
            }
        }
    }

    /// `service`'s status, or `None` if it is not registered.
    pub fn status(&self, service: &str) -> Option<ServingStatus> {
        self.lock().get(service).and_then(|entry| entry.status)
    }

    /// The `grpc.health.v1.Health` service, for `Server::builder().add_service(..)`.
    pub fn service(&self) -> Service {
        health_server::service(self.clone())
    }
}

impl health_server::Health for HealthReporter {
    async fn check(
        &self,
        _ctx: CallContext,
        request: HealthCheckRequest,
    ) -> Result<HealthCheckResponse, Status> {
        match self.status(&request.service) {
            Some(status) => Ok(response(status)),
            None => Err(Status::not_found(format!("unknown service {:?}", request.service))),
        }
    }

    async fn list(
        &self,
        _ctx: CallContext,
        _request: HealthListRequest,
    ) -> Result<HealthListResponse, Status> {
        let services = self.lock();
        let statuses = services
            .iter()
            .filter_map(|(name, entry)| entry.status.map(|s| (name.clone(), response(s))))
            .collect();
        Ok(HealthListResponse { statuses })
    }

    async fn watch(
        &self,
        ctx: CallContext,
        request: HealthCheckRequest,
        mut sink: ResponseSink<HealthCheckResponse>,
    ) -> Result<(), Status> {
        // Subscribe and read the status under one lock, so no change falls in between.
        let (current, subscription) = {
            let mut services = self.lock();
            let entry = services.entry(request.service.clone()).or_insert_with(|| Entry::new(None));
            (entry.status, entry.changes.subscribe())
        };
        let result = async {
            sink.send(response(current.unwrap_or(ServingStatus::ServiceUnknown))).await?;
            subscription.forward(&ctx, &mut sink, |_missed| None).await
        }
        .await;
        // A watch of a service nobody registered leaves no entry behind.
        let mut services = self.lock();
        if let Some(entry) = services.get(&request.service) {
            if entry.status.is_none() && entry.changes.subscribers() == 0 {
                services.remove(&request.service);
            }
        }
        result
    }
}
