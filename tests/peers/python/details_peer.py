"""Rich error details interop with grpcio-status, over a Unix socket.

  details_peer.py client SOCKET   calls /details.Test/Fail on an h2grpc server and prints, one
                                  line each, what rpc_status.from_call reads from the error.
  details_peer.py server SOCKET   serves /details.Test/Fail, which aborts with
                                  rpc_status.to_status(...) carrying every standard detail;
                                  prints "ready" once listening, stops when stdin closes.

Run by tests/details_python.rs.
"""

import sys
from concurrent import futures

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

KINDS = [
    error_details_pb2.ErrorInfo,
    error_details_pb2.RetryInfo,
    error_details_pb2.DebugInfo,
    error_details_pb2.QuotaFailure,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.BadRequest,
    error_details_pb2.RequestInfo,
    error_details_pb2.ResourceInfo,
    error_details_pb2.Help,
    error_details_pb2.LocalizedMessage,
]


def describe(message):
    """One line: the type's name and its fields in text format, on one line."""
    from google.protobuf import text_format

    text = text_format.MessageToString(message, as_one_line=True)
    return f"{type(message).DESCRIPTOR.name} {text}"


def client(socket):
    channel = grpc.insecure_channel(f"unix:{socket}")
    fail = channel.unary_unary("/details.Test/Fail")
    try:
        fail(b"", timeout=30)
        print("error: the call succeeded")
        return 1
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)
        if status is None:
            print("error: no grpc-status-details-bin")
            return 1
        print(f"status {code_pb2.Code.Name(status.code)} {status.message}")
        for detail in status.details:
            for kind in KINDS:
                if detail.Is(kind.DESCRIPTOR):
                    message = kind()
                    detail.Unpack(message)
                    print(describe(message))
                    break
            else:
                print(f"unknown {detail.type_url}")
    return 0


def pack(message):
    detail = any_pb2.Any()
    detail.Pack(message)
    return detail


def fail(request, context):
    violation = error_details_pb2.BadRequest.FieldViolation(
        field="name", description="must not be empty", reason="EMPTY"
    )
    status = status_pb2.Status(
        code=code_pb2.RESOURCE_EXHAUSTED,
        message="slow down, from python",
        details=[
            pack(error_details_pb2.ErrorInfo(reason="QUOTA", domain="py.example", metadata={"k": "v"})),
            pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=500000000))),
            pack(error_details_pb2.DebugInfo(stack_entries=["fail()", "main()"], detail="traceback")),
            pack(error_details_pb2.QuotaFailure(violations=[
                error_details_pb2.QuotaFailure.Violation(subject="project:7", description="daily limit")
            ])),
            pack(error_details_pb2.PreconditionFailure(violations=[
                error_details_pb2.PreconditionFailure.Violation(type="TOS", subject="user", description="not accepted")
            ])),
            pack(error_details_pb2.BadRequest(field_violations=[violation])),
            pack(error_details_pb2.RequestInfo(request_id="req-1", serving_data="py")),
            pack(error_details_pb2.ResourceInfo(resource_type="book", resource_name="b1", owner="o", description="d")),
            pack(error_details_pb2.Help(links=[error_details_pb2.Help.Link(description="docs", url="https://example.com")])),
            pack(error_details_pb2.LocalizedMessage(locale="fr-CH", message="doucement")),
        ],
    )
    context.abort_with_status(rpc_status.to_status(status))


def server(socket):
    handler = grpc.method_handlers_generic_handler(
        "details.Test", {"Fail": grpc.unary_unary_rpc_method_handler(fail)}
    )
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    srv.add_generic_rpc_handlers((handler,))
    srv.add_insecure_port(f"unix:{socket}")
    srv.start()
    print("ready", flush=True)
    sys.stdin.read()
    srv.stop(0)
    return 0


if __name__ == "__main__":
    mode, socket = sys.argv[1], sys.argv[2]
    sys.exit(client(socket) if mode == "client" else server(socket))
