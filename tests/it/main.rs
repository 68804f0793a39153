//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod broadcast;
mod calls;
mod cancel;
mod concurrency;
mod deadline;
mod errors;
mod faults;
mod harness;
mod health;
mod hostile;
mod metadata;
mod peer;
mod raw;
mod reconnect;
mod shutdown;
mod sizes;
mod smoke;
mod socket;
mod support;
