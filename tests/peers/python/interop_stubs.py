"""Python stubs for proto/grpc/testing, generated at import time with grpcio-tools' protoc.

The generated modules are named grpc.testing.*_pb2 (after the proto paths), inside grpcio's own
`grpc` package. They are written to a temporary directory that is added to `grpc.__path__`, so
nothing generated is ever committed and the shared .proto files stay the single source.
"""

import atexit
import os
import shutil
import sys
import tempfile

import grpc
from grpc_tools import protoc

PROTO_ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "proto")
)
FILES = ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"]


def _generate():
    out = tempfile.mkdtemp(prefix="h2grpc-interop-py-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    args = ["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"--python_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(args + FILES) != 0:
        sys.exit(f"protoc failed on {PROTO_ROOT}")
    grpc.__path__.append(os.path.join(out, "grpc"))


_generate()

from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc  # noqa: E402

__all__ = ["empty_pb2", "messages_pb2", "test_pb2_grpc"]
