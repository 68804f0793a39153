//! The three stacks under test.

pub mod floor;
pub mod h2grpc;
pub mod tonic;

pub use self::floor::Floor;
pub use self::h2grpc::H2grpc;
pub use self::tonic::Tonic;
