//! `grpc.testing` messages (proto/grpc/testing/{empty,messages}.proto), written by hand with
//! `prost` derives until h2grpc's code generation lands; then this module becomes
//! `h2grpc::include_proto!("grpc.testing")` and nothing else in the interop programs changes.
//!
//! Field numbers and types are those of the .proto files; the xDS / ORCA fields the interop cases
//! never set are left out (prost skips unknown fields when decoding).

#![allow(dead_code, unreachable_pub, missing_docs)]

/// `grpc.testing.TestService`'s method paths.
pub mod paths {
    pub const EMPTY_CALL: &str = "/grpc.testing.TestService/EmptyCall";
    pub const UNARY_CALL: &str = "/grpc.testing.TestService/UnaryCall";
    pub const STREAMING_OUTPUT_CALL: &str = "/grpc.testing.TestService/StreamingOutputCall";
    pub const STREAMING_INPUT_CALL: &str = "/grpc.testing.TestService/StreamingInputCall";
    pub const FULL_DUPLEX_CALL: &str = "/grpc.testing.TestService/FullDuplexCall";
    pub const UNIMPLEMENTED_CALL: &str = "/grpc.testing.TestService/UnimplementedCall";
    pub const UNIMPLEMENTED_SERVICE_CALL: &str =
        "/grpc.testing.UnimplementedService/UnimplementedCall";
}

/// `PayloadType.COMPRESSABLE`, the only payload type.
pub const COMPRESSABLE: i32 = 0;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

#[derive(Clone, PartialEq, prost::Message)]
pub struct BoolValue {
    #[prost(bool, tag = "1")]
    pub value: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(bytes = "vec", tag = "2")]
    pub body: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SimpleRequest {
    #[prost(int32, tag = "1")]
    pub response_type: i32,
    #[prost(int32, tag = "2")]
    pub response_size: i32,
    #[prost(message, optional, tag = "3")]
    pub payload: Option<Payload>,
    #[prost(bool, tag = "4")]
    pub fill_username: bool,
    #[prost(bool, tag = "5")]
    pub fill_oauth_scope: bool,
    #[prost(message, optional, tag = "6")]
    pub response_compressed: Option<BoolValue>,
    #[prost(message, optional, tag = "7")]
    pub response_status: Option<EchoStatus>,
    #[prost(message, optional, tag = "8")]
    pub expect_compressed: Option<BoolValue>,
    #[prost(bool, tag = "9")]
    pub fill_server_id: bool,
    #[prost(bool, tag = "10")]
    pub fill_grpclb_route_type: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SimpleResponse {
    #[prost(message, optional, tag = "1")]
    pub payload: Option<Payload>,
    #[prost(string, tag = "2")]
    pub username: String,
    #[prost(string, tag = "3")]
    pub oauth_scope: String,
    #[prost(string, tag = "4")]
    pub server_id: String,
    #[prost(int32, tag = "5")]
    pub grpclb_route_type: i32,
    #[prost(string, tag = "6")]
    pub hostname: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamingInputCallRequest {
    #[prost(message, optional, tag = "1")]
    pub payload: Option<Payload>,
    #[prost(message, optional, tag = "2")]
    pub expect_compressed: Option<BoolValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamingInputCallResponse {
    #[prost(int32, tag = "1")]
    pub aggregated_payload_size: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ResponseParameters {
    #[prost(int32, tag = "1")]
    pub size: i32,
    #[prost(int32, tag = "2")]
    pub interval_us: i32,
    #[prost(message, optional, tag = "3")]
    pub compressed: Option<BoolValue>,
    #[prost(message, optional, tag = "4")]
    pub fill_peer_socket_address: Option<BoolValue>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamingOutputCallRequest {
    #[prost(int32, tag = "1")]
    pub response_type: i32,
    #[prost(message, repeated, tag = "2")]
    pub response_parameters: Vec<ResponseParameters>,
    #[prost(message, optional, tag = "3")]
    pub payload: Option<Payload>,
    #[prost(message, optional, tag = "7")]
    pub response_status: Option<EchoStatus>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamingOutputCallResponse {
    #[prost(message, optional, tag = "1")]
    pub payload: Option<Payload>,
    #[prost(string, tag = "2")]
    pub peer_socket_address: String,
}
