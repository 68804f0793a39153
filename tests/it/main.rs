//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod broadcast;
mod smoke;
mod support;
