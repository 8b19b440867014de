#!/usr/bin/env python3
"""Independent check of a safetensors file written by clgan, in pure Python (json + struct +
zlib, no safetensors or numpy package needed).

Checks the format rules (8-byte little-endian header length, a JSON object header, known dtypes,
byte counts matching shapes, tensors covering the data buffer exactly with no gaps or overlaps,
unique names) and, when the clgan.crc32 metadata entry is present, recomputes clgan's content
checksum: CRC-32 over, for each tensor in name order, name NUL dtype NUL dims joined by ',' NUL
data bytes, then each metadata entry other than clgan.crc32 in key order, key NUL value NUL
(src/io/safetensors.c, canonical_crc).

usage: check_safetensors.py FILE [FILE ...]     exit 0 if every file passes, 1 otherwise.
"""
import json
import struct
import sys
import zlib

DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
    "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in the header: %r" % keys)
    return dict(pairs)


def check(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError("header length %d runs past the end" % n)
    text = raw[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with '{'")
    header = json.loads(text, object_pairs_hook=no_duplicates)
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise ValueError("metadata values must be strings")
    spans = []
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError("%s: keys %s" % (name, sorted(info)))
        size = DTYPE_SIZES[info["dtype"]]
        count = 1
        for d in info["shape"]:
            if not isinstance(d, int) or d < 0:
                raise ValueError("%s: bad shape %r" % (name, info["shape"]))
            count *= d
        begin, end = info["data_offsets"]
        if end - begin != count * size:
            raise ValueError("%s: %d bytes for shape %r" % (name, end - begin, info["shape"]))
        spans.append((begin, end, name))
    covered = 0
    for begin, end, name in sorted(spans):
        if begin != covered:
            raise ValueError("%s starts at %d, expected %d" % (name, begin, covered))
        covered = end
    if covered != len(data):
        raise ValueError("tensors cover %d of %d data bytes" % (covered, len(data)))
    notes = []
    if "clgan.crc32" in meta:
        crc = 0
        for name in sorted(header, key=lambda s: s.encode("utf-8")):
            info = header[name]
            begin, end = info["data_offsets"]
            dims = ",".join(str(d) for d in info["shape"])
            for part in (name.encode(), info["dtype"].encode(), dims.encode()):
                crc = zlib.crc32(part + b"\0", crc)
            crc = zlib.crc32(data[begin:end], crc)
        for key in sorted((k for k in meta if k != "clgan.crc32"), key=lambda s: s.encode()):
            crc = zlib.crc32(key.encode() + b"\0", crc)
            crc = zlib.crc32(meta[key].encode() + b"\0", crc)
        if "%08x" % crc != meta["clgan.crc32"]:
            raise ValueError("checksum %s, recomputed %08x" % (meta["clgan.crc32"], crc))
        notes.append("clgan.crc32 %s verified" % meta["clgan.crc32"])
    print("%s: OK, %d tensors, %d data bytes, header %d bytes%s" % (
        path, len(header), len(data), n, "; " + "; ".join(notes) if notes else ""))
    for begin, end, name in sorted(spans):
        info = header[name]
        print("  %-24s %-4s %-16s [%d, %d)" % (name, info["dtype"], info["shape"], begin, end))
    for key in meta:
        print("  meta %s = %r" % (key, meta[key]))


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        try:
            check(path)
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            print("%s: FAILED: %s" % (path, e))
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv))
