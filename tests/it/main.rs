//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod broadcast;
mod calls;
mod errors;
mod metadata;
mod raw;
mod sizes;
mod smoke;
mod support;
