//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod calls;
mod sizes;
mod smoke;
mod support;
