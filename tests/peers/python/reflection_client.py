"""Python's grpcio-reflection client against an h2grpc server with reflection on.

Usage: reflection_client.py SOCKET_PATH

Connects over the Unix socket, lists the services, looks up a service, a method, a message,
a file by name and a symbol that does not exist, then calls helloworld.Greeter/SayHello with
message classes built from the reflected descriptors alone (no .proto, no generated code).
Prints one line per check; tests/reflection_python.rs reads them.
"""

import sys

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def main() -> None:
    socket = sys.argv[1]
    # No options: since gRPC C-core 1.57 the :authority of a unix: target is the %-encoded socket
    # path, which h2grpc's server accepts (see src/server/authority).
    with grpc.insecure_channel(f"unix:{socket}") as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        print("services:", " ".join(sorted(database.get_services())))

        pool = descriptor_pool.DescriptorPool(database)
        greeter = pool.FindServiceByName("helloworld.Greeter")
        method = greeter.FindMethodByName("SayHello")
        print(
            f"method: {method.full_name}({method.input_type.full_name})"
            f" returns ({method.output_type.full_name})"
        )
        by_name = pool.FindMethodByName("helloworld.Greeter.SayHello")
        print("method by name:", by_name.full_name)
        request = pool.FindMessageTypeByName("helloworld.HelloRequest")
        print("message:", request.full_name, "fields:", ",".join(f.name for f in request.fields))
        proto = pool.FindFileByName("helloworld.proto")
        print("file:", proto.name, "package:", proto.package)
        health = pool.FindServiceByName("grpc.health.v1.Health")
        print("health methods:", ",".join(sorted(m.name for m in health.methods)))
        try:
            database.FindFileContainingSymbol("helloworld.Nope")
            print("miss: found")
        except KeyError:
            print("miss: NOT_FOUND")

        # A call made from the reflected descriptors alone.
        request_class = message_factory.GetMessageClass(method.input_type)
        reply_class = message_factory.GetMessageClass(method.output_type)
        say_hello = channel.unary_unary(
            "/helloworld.Greeter/SayHello",
            request_serializer=request_class.SerializeToString,
            response_deserializer=reply_class.FromString,
        )
        reply = say_hello(request_class(name="python"), timeout=10)
        print("reply:", reply.message)


if __name__ == "__main__":
    main()
