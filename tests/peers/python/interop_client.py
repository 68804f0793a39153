#!/usr/bin/env python3
"""Python (grpcio, gRPC C-core) interop client: the interop-test-descriptions.md cases.

    interop_client.py --addr unix:/path/to.sock | host:port --test_case NAME|all
                      [--tls_dir DIR [--server_name NAME] [--mtls]]

TLS: --tls_dir trusts DIR/ca.pem (grpc.ssl_channel_credentials), --server_name verifies that
name (grpc.ssl_target_name_override), --mtls presents DIR/client.pem and DIR/client.key.

Prints one line per case, "NAME: PASS" or "NAME: FAIL what was seen", and exits non-zero if
any case failed.

Compression: grpcio compresses a call's requests all or nothing (it has no per-message switch
for a client), so client_compressed_streaming sends both of its messages compressed; the
server_compressed_* cases read the responses as they were on the wire (see compressed.py) to
check each Compressed-Flag.
"""

import argparse
import queue
import sys

import grpc

import compressed
from interop_stubs import empty_pb2, messages_pb2, test_pb2_grpc

CASES = [
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_streaming",
    "client_compressed_streaming",
    "server_streaming",
    "server_compressed_streaming",
    "ping_pong",
    "empty_stream",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
]

ECHO_INITIAL = ("x-grpc-test-echo-initial", "test_initial_metadata_value")
ECHO_TRAILING = ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab")
SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
CALL_TIMEOUT = 20
ARGS = None  # the command line, for cases that open channels of their own


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def zeros(n):
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=b"\0" * n)


def duplex_request(size, body):
    return messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=size)],
        payload=zeros(body),
    )


class Pipe:
    """A request iterator fed one message at a time (for ping-pong style calls)."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def add(self, message):
        self._queue.put(message)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            raise StopIteration
        return item


def expect_error(call, code, message=None):
    try:
        result = call()
    except grpc.RpcError as err:
        check(err.code() == code, f"expected {code.name}, got {err.code().name} {err.details()!r}")
        if message is not None:
            check(err.details() == message, f"expected message {message!r}, got {err.details()!r}")
        return
    raise Failure(f"expected {code.name}, the call succeeded with {result!r}")


def empty_unary(stub, channel):
    response = stub.EmptyCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT)
    check(isinstance(response, empty_pb2.Empty), f"response {response!r}")


def large_unary(stub, channel):
    request = messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE, response_size=314159, payload=zeros(271828)
    )
    response = stub.UnaryCall(request, timeout=CALL_TIMEOUT)
    body = response.payload.body
    check(body == b"\0" * 314159, f"response body of {len(body)} bytes, expected 314159 zero bytes")


def large_request(**fields):
    return messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE, response_size=314159, payload=zeros(271828), **fields
    )


def check_large_body(where, response):
    got = len(response.payload.body)
    check(got == 314159, f"{where}: response body of {got} bytes, expected 314159")


def client_compressed_unary(stub, channel):
    flag = messages_pb2.BoolValue
    # The feature probe: sent uncompressed, it must be refused.
    probe = large_request(expect_compressed=flag(value=True))
    expect_error(lambda: stub.UnaryCall(probe, timeout=CALL_TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT)
    response = stub.UnaryCall(probe, timeout=CALL_TIMEOUT, compression=grpc.Compression.Gzip)
    check_large_body("compressed", response)
    plain = large_request(expect_compressed=flag(value=False))
    check_large_body("uncompressed", stub.UnaryCall(plain, timeout=CALL_TIMEOUT))


def server_compressed_unary(stub, channel):
    with make_channel(compressed.NO_DECOMPRESSION) as raw:
        call = raw.unary_unary(
            "/grpc.testing.TestService/UnaryCall",
            request_serializer=messages_pb2.SimpleRequest.SerializeToString,
            response_deserializer=compressed.deserializer(messages_pb2.SimpleResponse),
        )
        for wanted in (True, False):
            request = large_request(response_compressed=messages_pb2.BoolValue(value=wanted))
            response, was_compressed = call(request, timeout=CALL_TIMEOUT)
            check(was_compressed == wanted,
                  f"response_compressed {wanted}: the response's Compressed-Flag is {int(was_compressed)}")
            check_large_body(f"response_compressed {wanted}", response)


def client_compressed_streaming(stub, channel):
    def request(expect, size):
        return messages_pb2.StreamingInputCallRequest(
            payload=zeros(size), expect_compressed=messages_pb2.BoolValue(value=expect)
        )

    # The feature probe: an uncompressed message that expects compression must be refused.
    expect_error(
        lambda: stub.StreamingInputCall(iter([request(True, 27182)]), timeout=CALL_TIMEOUT),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    # Both messages go compressed: grpcio cannot leave out one message of a call.
    requests = iter([request(True, 27182), request(False, 45904)])
    response = stub.StreamingInputCall(requests, timeout=CALL_TIMEOUT, compression=grpc.Compression.Gzip)
    got = response.aggregated_payload_size
    check(got == 73086, f"aggregated_payload_size {got}, expected 73086")


def server_compressed_streaming(stub, channel):
    wanted = [(True, 31415), (False, 92653)]
    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[
            messages_pb2.ResponseParameters(size=size, compressed=messages_pb2.BoolValue(value=flag))
            for flag, size in wanted
        ],
    )
    with make_channel(compressed.NO_DECOMPRESSION) as raw:
        call = raw.unary_stream(
            "/grpc.testing.TestService/StreamingOutputCall",
            request_serializer=messages_pb2.StreamingOutputCallRequest.SerializeToString,
            response_deserializer=compressed.deserializer(messages_pb2.StreamingOutputCallResponse),
        )
        got = [(flag, len(r.payload.body)) for r, flag in call(request, timeout=CALL_TIMEOUT)]
    check(got == wanted, f"(compressed, size) of the responses {got}, expected {wanted}")


def client_streaming(stub, channel):
    requests = (messages_pb2.StreamingInputCallRequest(payload=zeros(n)) for n in (27182, 8, 1828, 45904))
    response = stub.StreamingInputCall(requests, timeout=CALL_TIMEOUT)
    got = response.aggregated_payload_size
    check(got == 74922, f"aggregated_payload_size {got}, expected 74922")


def server_streaming(stub, channel):
    sizes = [31415, 9, 2653, 58979]
    request = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=s) for s in sizes],
    )
    got = [len(r.payload.body) for r in stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT)]
    check(got == sizes, f"response sizes {got}, expected {sizes}")


def ping_pong(stub, channel):
    pairs = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT)
    try:
        for i, (size, body) in enumerate(pairs):
            pipe.add(duplex_request(size, body))
            got = len(next(responses).payload.body)
            check(got == size, f"response {i} has {got} bytes, expected {size}")
    finally:
        pipe.close()
    rest = list(responses)
    check(not rest, f"{len(rest)} extra responses")


def empty_stream(stub, channel):
    got = list(stub.FullDuplexCall(iter([]), timeout=CALL_TIMEOUT))
    check(not got, f"{len(got)} responses on an empty stream")


def check_echo(where, initial, trailing):
    initial, trailing = dict(initial or ()), dict(trailing or ())
    got = initial.get(ECHO_INITIAL[0])
    check(got == ECHO_INITIAL[1], f"{where}: response headers carry {ECHO_INITIAL[0]} = {got!r}")
    got = trailing.get(ECHO_TRAILING[0])
    check(got == ECHO_TRAILING[1], f"{where}: trailers carry {ECHO_TRAILING[0]} = {got!r}")


def custom_metadata(stub, channel):
    metadata = (ECHO_INITIAL, ECHO_TRAILING)
    request = messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE, response_size=314159, payload=zeros(271828)
    )
    _, call = stub.UnaryCall.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT)
    check_echo("unary", call.initial_metadata(), call.trailing_metadata())

    responses = stub.FullDuplexCall(iter([duplex_request(314159, 271828)]), metadata=metadata, timeout=CALL_TIMEOUT)
    initial = responses.initial_metadata()
    got = [len(r.payload.body) for r in responses]
    check(got == [314159], f"full duplex: response sizes {got}, expected [314159]")
    check_echo("full duplex", initial, responses.trailing_metadata())


def status_with(stub, message):
    status = messages_pb2.EchoStatus(code=2, message=message)
    request = messages_pb2.SimpleRequest(response_status=status)
    expect_error(lambda: stub.UnaryCall(request, timeout=CALL_TIMEOUT), grpc.StatusCode.UNKNOWN, message)
    request = messages_pb2.StreamingOutputCallRequest(response_status=status)
    expect_error(
        lambda: list(stub.FullDuplexCall(iter([request]), timeout=CALL_TIMEOUT)),
        grpc.StatusCode.UNKNOWN,
        message,
    )


def status_code_and_message(stub, channel):
    status_with(stub, "test status message")


def special_status_message(stub, channel):
    status = messages_pb2.EchoStatus(code=2, message=SPECIAL_MESSAGE)
    request = messages_pb2.SimpleRequest(response_status=status)
    expect_error(lambda: stub.UnaryCall(request, timeout=CALL_TIMEOUT), grpc.StatusCode.UNKNOWN, SPECIAL_MESSAGE)


def unimplemented_method(stub, channel):
    expect_error(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT), grpc.StatusCode.UNIMPLEMENTED)


def unimplemented_service(stub, channel):
    other = test_pb2_grpc.UnimplementedServiceStub(channel)
    expect_error(lambda: other.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT), grpc.StatusCode.UNIMPLEMENTED)


def cancel_after_begin(stub, channel):
    pipe = Pipe()
    future = stub.StreamingInputCall.future(pipe, timeout=CALL_TIMEOUT)
    future.cancel()
    pipe.close()
    check(future.cancelled(), "the call is not cancelled")
    check(future.code() == grpc.StatusCode.CANCELLED, f"status {future.code()}, expected CANCELLED")


def cancel_after_first_response(stub, channel):
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe, timeout=CALL_TIMEOUT)
    pipe.add(duplex_request(31415, 27182))
    got = len(next(responses).payload.body)
    check(got == 31415, f"first response has {got} bytes, expected 31415")
    responses.cancel()
    pipe.close()
    expect_error(lambda: next(responses), grpc.StatusCode.CANCELLED)


def timeout_on_sleeping_server(stub, channel):
    pipe = Pipe()
    responses = stub.FullDuplexCall(pipe, timeout=0.001)
    pipe.add(messages_pb2.StreamingOutputCallRequest(payload=zeros(27182)))
    try:
        expect_error(lambda: next(responses), grpc.StatusCode.DEADLINE_EXCEEDED)
    finally:
        pipe.close()


def make_channel(options=()):
    """A channel to --addr: cleartext, or TLS with --tls_dir."""
    options = list(options)
    if not ARGS.tls_dir:
        return grpc.insecure_channel(ARGS.addr, options=options)
    def read(name):
        with open(f"{ARGS.tls_dir}/{name}", "rb") as f:
            return f.read()
    key, chain = (read("client.key"), read("client.pem")) if ARGS.mtls else (None, None)
    creds = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"), private_key=key, certificate_chain=chain
    )
    if ARGS.server_name:
        options.append(("grpc.ssl_target_name_override", ARGS.server_name))
    return grpc.secure_channel(ARGS.addr, creds, options=options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="unix:/path/to.sock or host:port")
    parser.add_argument("--test_case", required=True, help="a case name, or all")
    parser.add_argument("--tls_dir", help="TLS: trust DIR/ca.pem")
    parser.add_argument("--server_name", help="TLS: verify this name instead of the host")
    parser.add_argument("--mtls", action="store_true", help="TLS: present DIR/client.pem")
    global ARGS
    ARGS = args = parser.parse_args()

    names = CASES if args.test_case == "all" else [args.test_case]
    failed = False
    with make_channel() as channel:
        stub = test_pb2_grpc.TestServiceStub(channel)
        for name in names:
            case = globals().get(name) if name in CASES else None
            try:
                if case is None:
                    raise Failure(f"unknown test case {name!r}")
                case(stub, channel)
                print(f"{name}: PASS", flush=True)
            except (Failure, grpc.RpcError, StopIteration) as err:
                failed = True
                if isinstance(err, grpc.RpcError):
                    seen = f"status {err.code().name} {err.details()!r}"
                else:
                    seen = str(err) or type(err).__name__
                # One line per case: escape newlines and the like.
                print(f"{name}: FAIL {seen.encode('unicode_escape').decode('ascii')}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
