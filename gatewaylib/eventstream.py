"""AWS's event-stream framing (``application/vnd.amazon.eventstream``), which Bedrock Runtime streams in.

Each message is length-prefixed: a 12-byte prelude (total length, headers
length, the prelude's CRC32), typed headers (``:event-type``,
``:message-type``, ...), the payload and the message's CRC32. botocore can
read these but not write them, and the direct path needs both: it splits the
provider's stream into messages to read their usage, rewrites an exception
whose message quotes a credential, and writes its own exception when the
provider breaks off. Only string headers are written; the reader skips the
other header types by their sizes. Hand-written because the format is a page
long and the one library that writes it (awscrt) is a native extension the
gateway does not otherwise need.
"""

from __future__ import annotations

import struct
from binascii import crc32
from dataclasses import dataclass

PRELUDE = struct.Struct(">III")
STRING = 7
# Header value sizes by type (0/1 booleans carry none; 6 bytes and 7 strings carry a 2-byte length).
_FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


class MalformedMessage(ValueError):
    """Not an event-stream message (or one cut short)."""


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, str]
    payload: bytes

    @property
    def event_type(self) -> str:
        return self.headers.get(":event-type", "")

    @property
    def is_exception(self) -> bool:
        return self.headers.get(":message-type") in {"exception", "error"}


def encode(headers: dict[str, str], payload: bytes) -> bytes:
    """One message with string headers."""
    encoded = b"".join(
        struct.pack(">B", len(name := key.encode()))
        + name
        + struct.pack(">BH", STRING, len(value := val.encode()))
        + value
        for key, val in headers.items()
    )
    total = PRELUDE.size + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", crc32(message))


def event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    return encode({":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload)


def exception(exception_type: str, payload: bytes) -> bytes:
    """An error inside a stream that has started (botocore raises it as ``EventStreamError``)."""
    headers = {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}
    return encode(headers, payload)


def message_end(buffer: bytes | bytearray) -> int:
    """Index just past the first complete message in ``buffer`` (-1 if none yet)."""
    if len(buffer) < PRELUDE.size:
        return -1
    total = int.from_bytes(buffer[:4], "big")
    if total < PRELUDE.size + 4:
        raise MalformedMessage("an event-stream message shorter than its prelude")
    return total if len(buffer) >= total else -1


def decode(message: bytes) -> Message:
    """The headers (strings only; others are skipped) and payload of one complete message."""
    try:
        total, headers_length, _ = PRELUDE.unpack_from(message)
    except struct.error:
        raise MalformedMessage("an event-stream message cut short") from None
    if total != len(message) or PRELUDE.size + headers_length + 4 > total:
        raise MalformedMessage("an event-stream message whose lengths do not add up")
    headers, at, end = {}, PRELUDE.size, PRELUDE.size + headers_length
    try:
        while at < end:
            size = message[at]
            name = message[at + 1 : at + 1 + size].decode()
            kind, at = message[at + 1 + size], at + 2 + size
            if kind in (6, STRING):
                length = int.from_bytes(message[at : at + 2], "big")
                value, at = message[at + 2 : at + 2 + length], at + 2 + length
                if kind == STRING:
                    headers[name] = value.decode()
            elif kind in _FIXED_SIZES:
                at += _FIXED_SIZES[kind]
            else:
                raise MalformedMessage(f"an event-stream header of unknown type {kind}")
    except (IndexError, UnicodeDecodeError):
        raise MalformedMessage("an event-stream header cut short") from None
    return Message(headers, bytes(message[end : total - 4]))
