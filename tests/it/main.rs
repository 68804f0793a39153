//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod broadcast;
mod calls;
mod cancel;
mod concurrency;
mod deadline;
mod errors;
mod harness;
mod health;
mod metadata;
mod peer;
mod raw;
mod reconnect;
mod shutdown;
mod sizes;
mod smoke;
mod socket;
mod support;
