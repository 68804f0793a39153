//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod cancel;
mod concurrency;
mod deadline;
mod harness;
mod peer;
mod reconnect;
mod shutdown;
mod smoke;
mod socket;
mod support;
