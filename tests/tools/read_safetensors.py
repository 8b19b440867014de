#!/usr/bin/env python3
# A small pure-Python reader for safetensors files, with no torch, numpy or safetensors package:
# enough to inspect clgan checkpoints and the parity fixtures in tests/data/ and to check that a
# file is well formed (header length, JSON header, dtypes, shapes and offsets that tile the data
# area exactly, as the reference implementation demands).
#
#   python3 tests/tools/read_safetensors.py FILE            # metadata and tensor table
#   python3 tests/tools/read_safetensors.py FILE NAME...    # also the first values of NAMEs
#
# As a module: st = read(path); st.metadata (dict), st.names (file order), st.info[name]
# (dtype, shape, (begin, end)), st.raw(name) (bytes), st.values(name) (flat list of numbers).

import array
import json
import struct
import sys

# dtype -> (bytes per element, array typecode or None where array has no match)
DTYPES = {
    "F64": (8, "d"), "F32": (4, "f"), "F16": (2, None), "BF16": (2, None),
    "I64": (8, "q"), "I32": (4, "i"), "I16": (2, "h"), "I8": (1, "b"),
    "U64": (8, "Q"), "U32": (4, "I"), "U16": (2, "H"), "U8": (1, "B"), "BOOL": (1, "B"),
}
MAX_HEADER = 100 * 1000 * 1000


class SafetensorsError(ValueError):
    pass


class Safetensors:
    def __init__(self, metadata, info, names, data):
        self.metadata = metadata
        self.info = info
        self.names = names
        self._data = data

    def raw(self, name):
        begin, end = self.info[name][2]
        return self._data[begin:end]

    def values(self, name):
        dtype = self.info[name][0]
        code = DTYPES[dtype][1]
        if code is None:
            raise SafetensorsError(f"{name}: no plain-Python decoding for {dtype}")
        out = array.array(code)
        out.frombytes(self.raw(name))
        if sys.byteorder != "little":
            out.byteswap()
        return out.tolist()


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def parse(blob, what="<bytes>"):
    if len(blob) < 8:
        raise SafetensorsError(f"{what}: {len(blob)} bytes, too short for a header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise SafetensorsError(f"{what}: header length {n} does not fit a {len(blob)}-byte file")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{what}: header is not UTF-8 JSON ({e})") from e
    if not isinstance(header, dict):
        raise SafetensorsError(f"{what}: header is not a JSON object")
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError(f"{what}: __metadata__ must map strings to strings")
    info, spans = {}, []
    for name, entry in header.items():
        try:
            dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        except (KeyError, TypeError, ValueError) as e:
            raise SafetensorsError(f"{what}: {name}: malformed entry {entry!r}") from e
        if dtype not in DTYPES:
            raise SafetensorsError(f"{what}: {name}: unknown dtype {dtype}")
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorsError(f"{what}: {name}: bad shape {shape}")
        if not 0 <= begin <= end or end - begin != numel(shape) * DTYPES[dtype][0]:
            raise SafetensorsError(f"{what}: {name}: offsets [{begin}, {end}] do not hold "
                                   f"{dtype} {shape}")
        info[name] = (dtype, list(shape), (begin, end))
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise SafetensorsError(f"{what}: {name}: starts at {begin}, expected {position} "
                                   "(gap or overlap)")
        position = end
    if position != len(data):
        raise SafetensorsError(f"{what}: tensors cover {position} bytes of a {len(data)}-byte "
                               "data area")
    return Safetensors(metadata, info, [name for _, _, name in sorted(spans)], data)


def read(path):
    with open(path, "rb") as f:
        return parse(f.read(), path)


def main(argv):
    if len(argv) < 2:
        print("usage: read_safetensors.py FILE [NAME...]", file=sys.stderr)
        return 2
    try:
        st = read(argv[1])
    except (OSError, SafetensorsError) as e:
        print(f"read_safetensors: {e}", file=sys.stderr)
        return 1
    for key, value in sorted(st.metadata.items()):
        print(f"# {key}: {value}")
    total = 0
    for name in st.names:
        dtype, shape, (begin, end) = st.info[name]
        total += end - begin
        print(f"{name}\t{dtype}\t{shape}\t{end - begin}")
    print(f"# {len(st.names)} tensors, {total} data bytes")
    for name in argv[2:]:
        if name not in st.info:
            print(f"read_safetensors: no tensor {name}", file=sys.stderr)
            return 1
        vals = st.values(name)
        print(f"{name}: {vals[:8]}{' ...' if len(vals) > 8 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
