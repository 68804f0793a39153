//! End-to-end tests over real Unix sockets (and TCP where it applies).

mod faults;
mod hostile;
mod smoke;
mod support;
