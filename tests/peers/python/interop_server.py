#!/usr/bin/env python3
"""Python (grpcio, gRPC C-core) interop server: grpc.testing.TestService as described in the
"Server" section of interop-test-descriptions.md.

    interop_server.py --addr unix:/path/to.sock | host:port

Prints "listening on ADDR" once it accepts connections; serves until SIGTERM or SIGINT.
"""

import argparse
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

from interop_stubs import empty_pb2, messages_pb2, test_pb2_grpc

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


def stream_responses(request, context):
    check_type(request.response_type, context)
    for params in request.response_parameters:
        if params.interval_us:
            time.sleep(params.interval_us / 1e6)
        yield messages_pb2.StreamingOutputCallResponse(payload=payload(params.size))


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        echo_metadata(context)
        echo_status(request, context)
        check_type(request.response_type, context)
        if request.expect_compressed.value:
            # grpcio does not show the request's Compressed-Flag to the handler.
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "compressed requests are not checked")
        return messages_pb2.SimpleResponse(payload=payload(request.response_size))

    def CacheableUnaryCall(self, request, context):
        return self.UnaryCall(request, context)

    def StreamingOutputCall(self, request, context):
        echo_metadata(context)
        echo_status(request, context)
        yield from stream_responses(request, context)

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        total = sum(len(r.payload.body) for r in request_iterator)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for request in request_iterator:
            echo_status(request, context)
            yield from stream_responses(request, context)

    def HalfDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        requests = list(request_iterator)
        for request in requests:
            echo_status(request, context)
            yield from stream_responses(request, context)

    # UnimplementedCall is deliberately not overridden: the generated servicer answers
    # UNIMPLEMENTED.


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="unix:/path/to.sock or host:port")
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
    if server.add_insecure_port(args.addr) == 0:
        sys.exit(f"cannot listen on {args.addr}")
    server.start()
    print(f"listening on {args.addr}", flush=True)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop(grace=None)


if __name__ == "__main__":
    main()
