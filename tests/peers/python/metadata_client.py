"""One channel to an h2grpc interop_server: for each size (KiB), a call carrying that much
metadata, then three plain calls on the same channel. Prints `SIZE CODE after CODE CODE CODE`.

    python metadata_client.py SOCKET SIZE_KIB...

No stubs: EmptyCall's request and response are empty messages, sent as raw bytes.
"""

import os
import sys

import grpc

sock, sizes = sys.argv[1], [float(s) for s in sys.argv[2:]]
channel = grpc.insecure_channel("unix:" + sock)
empty_call = channel.unary_unary("/grpc.testing.TestService/EmptyCall")


def call(metadata=None):
    try:
        empty_call(b"", metadata=metadata, timeout=20)
        return "OK"
    except grpc.RpcError as err:
        return err.code().name


print("first", call(), flush=True)
for kib in sizes:
    value = os.urandom(int(kib * 1024) // 2).hex()
    big = call([("x-big", value)])
    print(f"{kib:g} {big} after {call()} {call()} {call()}", flush=True)
