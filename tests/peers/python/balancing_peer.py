"""grpcio on both sides of round_robin, for tests/balancing_peers.rs.

    python balancing_peer.py serve            three servers on 127.0.0.1, port 0; prints the
                                              ports on one line, serves until stdin closes
    python balancing_peer.py client TARGET N  a round_robin channel to TARGET (an ipv4: list):
                                              calls until every backend answered once, then N
                                              calls; prints "ANSWER COUNT" per backend

Method /lb.v1.Replica/Who takes and returns a protobuf StringValue-shaped message (field 1,
a string) as raw bytes: the answer is the serving port.
"""

import sys
from collections import Counter
from concurrent import futures

import grpc


def string_message(text):
    data = text.encode()
    return b"\x0a" + bytes([len(data)]) + data


def serve():
    servers, ports = [], []
    for _ in range(3):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        port = server.add_insecure_port("127.0.0.1:0")
        answer = string_message(str(port))
        handler = grpc.unary_unary_rpc_method_handler(lambda req, ctx, a=answer: a)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("lb.v1.Replica", {"Who": handler}),)
        )
        server.start()
        servers.append(server)
        ports.append(str(port))
    print(" ".join(ports), flush=True)
    sys.stdin.read()
    for server in servers:
        server.stop(None)


def client(target, n):
    channel = grpc.insecure_channel(target, options=[("grpc.lb_policy_name", "round_robin")])
    who = channel.unary_unary("/lb.v1.Replica/Who")
    backends = target.split(":", 1)[1].count(",") + 1
    seen = set()
    for _ in range(1000):
        seen.add(who(b"", timeout=10)[2:].decode())
        if len(seen) == backends:
            break
    counts = Counter(who(b"", timeout=10)[2:].decode() for _ in range(n))
    for answer, count in sorted(counts.items()):
        print(answer, count, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    else:
        client(sys.argv[2], int(sys.argv[3]))
