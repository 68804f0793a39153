//! The tonic interop peer for h2grpc's interop tests (`tests/peers/run`).
//!
//! The programs are the examples `tonic_interop_server` and `tonic_interop_client`; tonic is a
//! dev-dependency, so this library is empty and the crate is never published.
