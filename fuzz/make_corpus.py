#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<harness>/ (Python standard library only).

Each seed is a small valid file or a near miss that reaches deep into a parser: libFuzzer
mutates from these, so a valid gzip IDX, a safetensors file with a correct clgan.crc32 and a
spec of every layer kind let it start past the first checks. Rerun after changing a format;
the files are committed, so CI does not run this."""
import gzip
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(harness, name, data):
    d = os.path.join(ROOT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def idx(dims, payload=None):
    head = bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    n = 1
    for d in dims:
        n *= d
    return head + (payload if payload is not None else bytes(i % 256 for i in range(n)))


def npy(header, data, major=1):
    h = header.encode("latin1")
    pre = 10 if major == 1 else 12
    pad = (64 - (pre + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    size = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + size + h + data


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def safetensors(tensors, meta=None, crc=False, pad=True):
    """tensors: list of (name, dtype, shape, bytes), laid out in order."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    meta = dict(meta or {})
    if crc:
        c = 0
        for name, dtype, shape, raw in sorted(tensors, key=lambda t: t[0].encode()):
            c = zlib.crc32(name.encode() + b"\0", c)
            c = zlib.crc32(dtype.encode() + b"\0", c)
            c = zlib.crc32(",".join(str(s) for s in shape).encode() + b"\0", c)
            c = zlib.crc32(raw, c)
        for k in sorted(meta, key=lambda k: k.encode()):
            c = zlib.crc32(k.encode() + b"\0" + meta[k].encode() + b"\0", c)
        meta["clgan.crc32"] = "%08x" % c
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


# IDX: images, labels, 2-D, gzip, and near misses (truncated, trailing, wrong type).
put("fuzz_idx", "images_2x3x4", idx([2, 3, 4]))
put("fuzz_idx", "labels_5", idx([5], bytes([0, 1, 2, 9, 3])))
put("fuzz_idx", "matrix_3x2", idx([3, 2]))
put("fuzz_idx", "images_4x5x5.gz", gzip.compress(idx([4, 5, 5]), mtime=0))
put("fuzz_idx", "labels_3.gz", gzip.compress(idx([3], b"\x01\x02\x03"), mtime=0))
put("fuzz_idx", "truncated", idx([2, 3, 4])[:-5])
put("fuzz_idx", "trailing", idx([2, 2]) + b"xx")
put("fuzz_idx", "int32_type", bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 0, 7]))
put("fuzz_idx", "gz_no_trailer", gzip.compress(idx([2, 2, 2]), mtime=0)[:-8])

# .npy: 2-D, 1-D, version 2.0 and 3.0, empty, and refusals with hints.
put("fuzz_npy", "f4_2x3.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32(range(6))))
put("fuzz_npy", "f4_4.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f32([1, -2, 3.5, 0])))
put("fuzz_npy", "f4_v2.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", f32([1, 2]), 2))
put("fuzz_npy", "f4_v3.npy", npy('{"descr": "<f4", "fortran_order": True, "shape": (2, 1), }', f32([1, 2]), 3))
put("fuzz_npy", "f4_0x5.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", b""))
put("fuzz_npy", "f8_2.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16))
put("fuzz_npy", "scalar.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32([7])))

# safetensors: clgan-style (padded, with version and a correct CRC), plain, empty, every dtype.
w = f32([0.5, -1, 2, 3, 4, 5])
put("fuzz_safetensors", "clgan_crc.safetensors", safetensors(
    [("g.0.weight", "F32", [2, 3], w), ("g.0.bias", "F32", [2], f32([1, 2])), ("step", "I64", [], struct.pack("<q", 7))],
    {"clgan.version": "0.1.0", "spec": "linear:2,tanh", "lr": "0.0002"}, crc=True))
put("fuzz_safetensors", "plain.safetensors", safetensors([("x", "F32", [3], f32([1, 2, 3]))], pad=False))
put("fuzz_safetensors", "empty.safetensors", safetensors([], {}, pad=False))
put("fuzz_safetensors", "meta_only.safetensors", safetensors([], {"k": "v\u00e9\\\"\n"}))
dtypes = [("BOOL", 1), ("U8", 1), ("I8", 1), ("F8_E5M2", 1), ("F8_E4M3", 1), ("I16", 2), ("U16", 2), ("F16", 2),
          ("BF16", 2), ("I32", 4), ("U32", 4), ("F32", 4), ("I64", 8), ("U64", 8), ("F64", 8)]
put("fuzz_safetensors", "all_dtypes.safetensors", safetensors(
    [("t%02d_%s" % (i, d), d, [1, 2], b"\x01" * (2 * s)) for i, (d, s) in enumerate(dtypes)], crc=True))
put("fuzz_safetensors", "zero_size.safetensors", safetensors([("z", "F32", [0, 4], b""), ("a", "U8", [1], b"\x05")]))
escaped = b'{"\\ud83d\\ude00\\u00e9\\n":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}'
put("fuzz_safetensors", "escapes.safetensors", struct.pack("<Q", len(escaped)) + escaped + b"\x2a")

# The spec language: every preset and every layer kind, and near misses.
for i, s in enumerate([
        "linear:128,relu,linear:256,relu,linear:784,tanh",
        "linear:256,lrelu:0.2,linear:128,lrelu:0.2,linear:1,sigmoid",
        "linear:256,lrelu:0.01,bn:0.8:0.001,linear:512,lrelu:0.01,bn:0.8:0.001,linear:1024,lrelu:0.01,bn:0.8:0.001,linear:784,tanh",
        "linear:128,bn,relu,linear:12544,bn,relu,reshape:256x7x7,convT:64:4:2:1,bn2d,relu,convT:1:4:2:1,tanh",
        "conv:32:4:2:1,bn2d,lrelu:0.2,conv:64:4:2:1,bn2d,lrelu:0.2,flatten,linear:1",
        " Dense:10 , LeakyReLU , batchnorm:0.5 , conv:3:3 , convt:2:2:2 ",
        "linear:8,,tanh",
        "linaer:784",
        "bn2d:0.99:1e-5,linear:1,lrelu:0",
        "conv:1:64:64:64,reshape:1x4096x4096"]):
    put("fuzz_spec", "spec%02d" % i, s)

# The tuning cache: one device's three kernels, another device, comments, and bad lines.
key = "pthread-cpu | 6.0+debian | Portable Computing Language"
put("fuzz_tuning", "cache.txt",
    "# clgan CLBlast tuning cache: written by `clgan tune`, read by every run.\n"
    f"{key}\tXgemmDirect\t24.1\tWGD=64,MDIMCD=16,NDIMCD=8,MDIMAD=32,NDIMBD=8,KWID=8,VWMD=2,VWND=1,PADA=1,PADB=1\n"
    f"{key}\tXgemm\t66.7\tGEMMK=0,MWG=64,NWG=128,KWG=16,MDIMC=8,NDIMC=8,MDIMA=8,NDIMB=16,KWI=2,VWM=8,VWN=8,STRM=1,STRN=1,SA=0,SB=0,KREG=1\n"
    f"{key}\tGemmRoutine\t37.2\tXGEMM_MIN_INDIRECT_SIZE=1\n"
    "other | 1.0 | Other\tXgemm\t1.0\tMWG=32\n")
put("fuzz_tuning", "bad_lines.txt",
    f"{key}\tXgemm\tnan\tMWG=32\n{key}\tXgemm\t1\tMWG=99999\n{key}\t\t1\tA=1\n{key}\tXgemm\t1\tlower=1\n"
    f"{key}\tXgemm\t1\tMWG=1,,NWG=2\n\n#\n{key}\tXgemm\t2.5\tMWG=16\r\n{key}\tXgemm\t1\tMWG=8")
put("fuzz_tuning", "replaced.txt", f"{key}\tXgemm\t1\tMWG=8\n{key}\tXgemm\t2\tMWG=16\n{key}\tXgemmDirect\t1\tWGD=8\n")

# The metrics CSV: clgan's own log, CRLF, empty cells, nan/inf, and near misses.
put("fuzz_csv", "metrics.csv", "step,d_loss,g_loss,d_real,d_fake,lr\n0,1.38629436,0.693147182,0.5,0.5,0.0002\n"
    "100,1.2,0.8,0.61,0.39,0.0002\n200,nan,inf,-inf,0.5,2e-4\n")
put("fuzz_csv", "crlf.csv", "a,b\r\n1,2\r\n\r\n3,\r\n")
put("fuzz_csv", "one_column.csv", "x\n1\n2\n3")
put("fuzz_csv", "short_row.csv", "a,b,c\n1,2\n")
put("fuzz_csv", "long_row.csv", "a,b\n1,2,3\n")
put("fuzz_csv", "not_number.csv", "a,b\n1,zz\n")
put("fuzz_csv", "header_only.csv", "step,fid\n")

# uint8 image arrays and label arrays (issue 13's .npy data sets), for the same harness.
put("fuzz_npy", "u1_2x3x4.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 4), }", bytes(range(24))))
put("fuzz_npy", "u1_1x2x2x3.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 2, 3), }", bytes(range(12))))
put("fuzz_npy", "i8_labels.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", struct.pack("<3q", 0, 9, 255)))
put("fuzz_npy", "i4_labels.npy", npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", struct.pack("<2i", 1, -1)))


# CIFAR-10 batches: 3,073-byte records, a label byte then 3x32x32 pixels.
def cifar_record(label, seed):
    return bytes([label]) + bytes((i * 7 + seed) % 256 for i in range(3072))


put("fuzz_cifar", "one_record.bin", cifar_record(3, 1))
put("fuzz_cifar", "two_records.bin", cifar_record(0, 2) + cifar_record(9, 3))
put("fuzz_cifar", "cut.bin", cifar_record(1, 4)[:2000])
put("fuzz_cifar", "label_12.bin", cifar_record(12, 5))


# Images for the folder decoders: the first byte picks the decoder (odd: JPEG, even: PNG), the
# rest is the file. PNGs of each colour type here; the JPEG seeds (rgb, gray, progressive) were
# written once by libjpeg and are committed as they are (the standard library has no encoder).
def png(w, h, color_type, depth, rows, plte=None):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 0))
    if plte:
        out += chunk(b"PLTE", plte)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


put("fuzz_image", "png_gray8", b"\x00" + png(3, 2, 0, 8, [b"\x00\x80\xff", b"\x10\x20\x30"]))
put("fuzz_image", "png_rgb16", b"\x00" + png(2, 2, 2, 16, [bytes(range(12)), bytes(range(12, 24))]))
put("fuzz_image", "png_palette", b"\x00" + png(2, 2, 3, 8, [b"\x00\x01", b"\x01\x00"], b"\xff\x00\x00\x00\x00\xff"))
put("fuzz_image", "png_rgba", b"\x00" + png(1, 2, 6, 8, [b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"]))
put("fuzz_image", "png_cut", b"\x00" + png(4, 4, 2, 8, [bytes(12)] * 4)[:50])
