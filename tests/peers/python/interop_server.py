#!/usr/bin/env python3
"""Python (grpcio, gRPC C-core) interop server: grpc.testing.TestService as described in the
"Server" section of interop-test-descriptions.md.

    interop_server.py --addr unix:/path/to.sock | host:port [--tls_dir DIR [--mtls]]

Prints "listening on ADDR" once it accepts connections; serves until SIGTERM or SIGINT.

Compression: requests reach the handlers as they were on the wire (see compressed.py), so
that CompressedRequest can check each message's Compressed-Flag; responses are compressed
with gzip when asked, per call (`response_compressed`) or per message (`compressed`).
"""

import argparse
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

import compressed
from interop_stubs import empty_pb2, messages_pb2

ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"


def echo_metadata(context):
    """Echo Metadata: the initial value back as a header, the -bin value back as a trailer."""
    initial, trailing = [], []
    for key, value in context.invocation_metadata():
        if key == ECHO_INITIAL:
            initial.append((key, value))
        elif key == ECHO_TRAILING:
            trailing.append((key, value))
    if initial:
        context.send_initial_metadata(initial)
    if trailing:
        context.set_trailing_metadata(trailing)


def payload(size):
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=b"\0" * size)


def check_type(response_type, context):
    if response_type != messages_pb2.COMPRESSABLE:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unsupported response_type {response_type}")


def echo_status(request, context):
    if request.HasField("response_status") and request.response_status.code != 0:
        code = status_code(request.response_status.code)
        context.abort(code, request.response_status.message)


def status_code(number):
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN


def check_compressed(expected, was_compressed, context):
    """CompressedRequest: expect_compressed and a flag-0 message is INVALID_ARGUMENT."""
    if expected.value and not was_compressed:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected a compressed request; it was not")


def stream_responses(request, context):
    check_type(request.response_type, context)
    if any(p.compressed.value for p in request.response_parameters):
        context.set_compression(grpc.Compression.Gzip)
    for params in request.response_parameters:
        if params.interval_us:
            time.sleep(params.interval_us / 1e6)
        if not params.compressed.value:
            context.disable_next_message_compression()
        yield messages_pb2.StreamingOutputCallResponse(payload=payload(params.size))


class TestService:
    """Each request arrives as (message, compressed): see compressed.deserializer."""

    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        request, was_compressed = request
        echo_metadata(context)
        echo_status(request, context)
        check_type(request.response_type, context)
        check_compressed(request.expect_compressed, was_compressed, context)
        if request.response_compressed.value:
            context.set_compression(grpc.Compression.Gzip)
        else:
            context.set_compression(grpc.Compression.NoCompression)
        return messages_pb2.SimpleResponse(payload=payload(request.response_size))

    def CacheableUnaryCall(self, request, context):
        return self.UnaryCall(request, context)

    def StreamingOutputCall(self, request, context):
        request, _ = request
        echo_metadata(context)
        echo_status(request, context)
        yield from stream_responses(request, context)

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        total = 0
        for request, was_compressed in request_iterator:
            check_compressed(request.expect_compressed, was_compressed, context)
            total += len(request.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for request, _ in request_iterator:
            echo_status(request, context)
            yield from stream_responses(request, context)

    def HalfDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        requests = [request for request, _ in request_iterator]
        for request in requests:
            echo_status(request, context)
            yield from stream_responses(request, context)


def handlers(servicer):
    """grpc.testing.TestService, UnimplementedCall left out (grpcio answers UNIMPLEMENTED)."""
    m = messages_pb2
    kinds = {
        "EmptyCall": (grpc.unary_unary_rpc_method_handler, empty_pb2.Empty, empty_pb2.Empty),
        "UnaryCall": (grpc.unary_unary_rpc_method_handler, m.SimpleRequest, m.SimpleResponse),
        "CacheableUnaryCall": (grpc.unary_unary_rpc_method_handler, m.SimpleRequest, m.SimpleResponse),
        "StreamingOutputCall": (
            grpc.unary_stream_rpc_method_handler, m.StreamingOutputCallRequest, m.StreamingOutputCallResponse),
        "StreamingInputCall": (
            grpc.stream_unary_rpc_method_handler, m.StreamingInputCallRequest, m.StreamingInputCallResponse),
        "FullDuplexCall": (
            grpc.stream_stream_rpc_method_handler, m.StreamingOutputCallRequest, m.StreamingOutputCallResponse),
        "HalfDuplexCall": (
            grpc.stream_stream_rpc_method_handler, m.StreamingOutputCallRequest, m.StreamingOutputCallResponse),
    }
    return grpc.method_handlers_generic_handler("grpc.testing.TestService", {
        name: kind(
            getattr(servicer, name),
            request_deserializer=compressed.deserializer(request),
            response_serializer=response.SerializeToString,
        )
        for name, (kind, request, response) in kinds.items()
    })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="unix:/path/to.sock or host:port")
    parser.add_argument("--tls_dir", help="TLS with DIR/server.pem and DIR/server.key")
    parser.add_argument("--mtls", action="store_true", help="TLS: require a client certificate from DIR/ca.pem")
    parser.add_argument("--reflection", action="store_true",
                        help="serve reflection too (needs grpcio-reflection)")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=compressed.NO_DECOMPRESSION)
    server.add_generic_rpc_handlers((handlers(TestService()),))
    if args.reflection:
        from grpc.testing import test_pb2  # noqa: F401 (puts the service in the descriptor pool)
        from grpc_reflection.v1alpha import reflection

        reflection.enable_server_reflection(["grpc.testing.TestService", reflection.SERVICE_NAME], server)
    addr = args.addr
    if args.tls_dir:
        def read(name):
            with open(f"{args.tls_dir}/{name}", "rb") as f:
                return f.read()
        creds = grpc.ssl_server_credentials(
            [(read("server.key"), read("server.pem"))],
            root_certificates=read("ca.pem") if args.mtls else None,
            require_client_auth=args.mtls,
        )
        port = server.add_secure_port(addr, creds)
    else:
        port = server.add_insecure_port(addr)
    if port == 0:
        sys.exit(f"cannot listen on {addr}")
    if not addr.startswith("unix") and addr.endswith(":0"):
        addr = f"{addr[:-2]}:{port}"  # the port the system chose
    server.start()
    print(f"listening on {addr}", flush=True)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop(grace=None)


if __name__ == "__main__":
    main()
