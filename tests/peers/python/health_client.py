#!/usr/bin/env python3
"""Python's standard health client (grpcio-health-checking) against a server's grpc.health.v1.

    health_client.py --addr unix:/path/to.sock --test_case health_check|health_watch|all

The server is expected to report grpc.testing.TestService SERVING and to flip
h2grpc.test.Toggling between SERVING and NOT_SERVING (as examples/interop_server.rs does).
Prints "NAME: PASS" or "NAME: FAIL what was seen" per case; exits non-zero on any failure.
"""

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

STATUS = health_pb2.HealthCheckResponse


def expect(what, got, want):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def health_check(stub):
    expect("Check('')", stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status, STATUS.SERVING)
    request = health_pb2.HealthCheckRequest(service="grpc.testing.TestService")
    expect("Check(TestService)", stub.Check(request, timeout=10).status, STATUS.SERVING)
    try:
        stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        raise AssertionError("Check(unknown) succeeded, want NOT_FOUND")
    except grpc.RpcError as err:
        expect("Check(unknown) code", err.code(), grpc.StatusCode.NOT_FOUND)


def health_watch(stub):
    # An unknown service: SERVICE_UNKNOWN at once, and the call stays open.
    unknown = stub.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    expect("Watch(unknown) first", next(unknown).status, STATUS.SERVICE_UNKNOWN)
    unknown.cancel()
    # A service that flips: the current status, then every change.
    toggling = stub.Watch(health_pb2.HealthCheckRequest(service="h2grpc.test.Toggling"), timeout=10)
    seen = [next(toggling).status for _ in range(4)]
    toggling.cancel()
    for status in seen:
        if status not in (STATUS.SERVING, STATUS.NOT_SERVING):
            raise AssertionError(f"Watch(Toggling) sent {status!r}")
    for a, b in zip(seen, seen[1:]):
        if a == b:
            raise AssertionError(f"Watch(Toggling) sent an unchanged status: {seen!r}")


CASES = {"health_check": health_check, "health_watch": health_watch}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--addr", required=True)
    parser.add_argument("--test_case", required=True)
    args = parser.parse_args()
    names = list(CASES) if args.test_case == "all" else [args.test_case]
    failed = False
    with grpc.insecure_channel(args.addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in names:
            try:
                CASES[name](stub)
                print(f"{name}: PASS", flush=True)
            except Exception as err:  # noqa: BLE001 - report every failure the same way
                failed = True
                print(f"{name}: FAIL {type(err).__name__}: {err}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
