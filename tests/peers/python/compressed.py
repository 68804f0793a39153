"""Seeing a message's Compressed-Flag from Python.

grpcio has no API for it: it decompresses before the application sees a message. With the
channel or server option `grpc.per_message_decompression` set to 0 it does not, and hands
over the body as it was on the wire; then a body is compressed (flag 1) exactly when it is a
complete gzip or zlib stream. A serialized interop message never is one: its first byte is
a protobuf field tag, and gzip's `1f 8b` starts with a tag of wire type 7 (invalid), while a
zlib header that happens to match would not also inflate to the end with a valid checksum.
"""

import zlib

# Give handlers the body as it was on the wire (see `inflate`).
NO_DECOMPRESSION = [("grpc.per_message_decompression", 0)]


def inflate(data):
    """(body, compressed): `data` decompressed if it is a whole gzip or zlib stream."""
    if len(data) >= 2:
        inflater = zlib.decompressobj(wbits=47)  # 32 + 15: a gzip or a zlib header
        try:
            body = inflater.decompress(data)
        except zlib.error:
            return data, False
        if inflater.eof and not inflater.unused_data:
            return body, True
    return data, False


def deserializer(message_class):
    """A request/response deserializer that yields (message, compressed)."""

    def parse(data):
        body, compressed = inflate(data)
        return message_class.FromString(body), compressed

    return parse
