//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod broadcast;
mod calls;
mod cancel;
mod compression;
mod concurrency;
mod connection_limits;
mod deadline;
mod errors;
mod faults;
mod frames;
mod harness;
mod health;
mod hostile;
mod intercept;
mod keepalive;
mod metadata;
mod peer;
mod raw;
mod reconnect;
mod reflection;
mod shutdown;
mod sizes;
mod smoke;
mod socket;
mod support;
mod trace;
