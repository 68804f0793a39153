//! grpc-timeout (being written).
