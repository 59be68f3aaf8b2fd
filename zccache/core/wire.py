"""Frames on the daemon socket: a 4-byte big-endian length, then one msgpack map.

The client's whole cost is its start-up, and ``import msgpack`` alone pulls in
``datetime`` (about 3 ms, a third of the interpreter's own start-up). So the client
speaks through this minimal codec for the msgpack subset the protocol uses: nil,
bool, int, float, str, bin, array, map. The daemon decodes with msgpack itself; the
tests check that both agree.
"""

MAX_FRAME = 256 * 1024 * 1024


class WireError(ValueError):
    pass


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def pack(obj) -> bytes:
    out: list[bytes] = []
    _pack(obj, out)
    return b"".join(out)


def _pack(obj, out: list[bytes]) -> None:
    if obj is None:
        out.append(b"\xc0")
    elif obj is True:
        out.append(b"\xc3")
    elif obj is False:
        out.append(b"\xc2")
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(bytes((obj,)))
        elif -32 <= obj < 0:
            out.append((obj & 0xFF).to_bytes(1, "big"))
        elif 0 <= obj < 1 << 64:
            out.append(b"\xcf" + obj.to_bytes(8, "big"))
        elif -(1 << 63) <= obj < 0:
            out.append(b"\xd3" + obj.to_bytes(8, "big", signed=True))
        else:
            raise WireError("integer out of range")
    elif isinstance(obj, float):
        import struct

        out.append(b"\xcb" + struct.pack(">d", obj))
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogateescape")
        n = len(data)
        if n < 32:
            out.append(bytes((0xA0 | n,)))
        else:
            out.append(b"\xdb" + n.to_bytes(4, "big"))
        out.append(data)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        out.append(b"\xc6" + len(data).to_bytes(4, "big"))
        out.append(data)
    elif isinstance(obj, (list, tuple)):
        out.append(b"\xdd" + len(obj).to_bytes(4, "big"))
        for item in obj:
            _pack(item, out)
    elif isinstance(obj, dict):
        out.append(b"\xdf" + len(obj).to_bytes(4, "big"))
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    else:
        raise WireError(f"cannot encode {type(obj).__name__}")


def unpack(data: bytes):
    value, end = _unpack(data, 0)
    if end != len(data):
        raise WireError("trailing bytes")
    return value


def _unpack(b: bytes, i: int):
    if i >= len(b):
        raise WireError("truncated")
    t = b[i]
    i += 1
    if t < 0x80:
        return t, i
    if t >= 0xE0:
        return t - 0x100, i
    if 0xA0 <= t <= 0xBF:
        return _str(b, i, t & 0x1F)
    if 0x90 <= t <= 0x9F:
        return _array(b, i, t & 0x0F)
    if 0x80 <= t <= 0x8F:
        return _map(b, i, t & 0x0F)
    if t == 0xC0:
        return None, i
    if t == 0xC2:
        return False, i
    if t == 0xC3:
        return True, i
    sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    if t in sizes:
        n = sizes[t]
        return int.from_bytes(_take(b, i, n), "big"), i + n
    signed = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
    if t in signed:
        n = signed[t]
        return int.from_bytes(_take(b, i, n), "big", signed=True), i + n
    if t in (0xCA, 0xCB):
        import struct

        n = 4 if t == 0xCA else 8
        return struct.unpack(">f" if n == 4 else ">d", _take(b, i, n))[0], i + n
    lengths = {0xD9: 1, 0xDA: 2, 0xDB: 4, 0xC4: 1, 0xC5: 2, 0xC6: 4, 0xDC: 2, 0xDD: 4, 0xDE: 2, 0xDF: 4}
    if t in lengths:
        n = lengths[t]
        count = int.from_bytes(_take(b, i, n), "big")
        i += n
        if t in (0xD9, 0xDA, 0xDB):
            return _str(b, i, count)
        if t in (0xC4, 0xC5, 0xC6):
            return _take(b, i, count), i + count
        if t in (0xDC, 0xDD):
            return _array(b, i, count)
        return _map(b, i, count)
    raise WireError(f"unsupported type byte 0x{t:02x}")


def _take(b: bytes, i: int, n: int) -> bytes:
    if i + n > len(b):
        raise WireError("truncated")
    return b[i : i + n]


def _str(b: bytes, i: int, n: int):
    return _take(b, i, n).decode("utf-8", "surrogateescape"), i + n


def _array(b: bytes, i: int, n: int):
    items = []
    for _ in range(n):
        value, i = _unpack(b, i)
        items.append(value)
    return items, i


def _map(b: bytes, i: int, n: int):
    out = {}
    for _ in range(n):
        key, i = _unpack(b, i)
        value, i = _unpack(b, i)
        out[key] = value
    return out, i


def recv_frame(sock, limit: int = MAX_FRAME) -> bytes | None:
    """One frame's payload; None when the peer closed before a whole frame."""
    header = _recv_exact(sock, 4)
    if header is None:
        return None
    n = int.from_bytes(header, "big")
    if n > limit:
        raise WireError(f"frame of {n} bytes is over the limit")
    return _recv_exact(sock, n)


def _recv_exact(sock, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)
