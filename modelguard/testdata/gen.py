#!/usr/bin/env python3
"""Generate modelguard test fixtures with CPython's own pickle and zipfile.

Run from this directory: python3 gen.py. No torch or numpy needed: the
PyTorch-style archives and .npy files are built by hand in the same layout
torch.save and numpy.save write. Each fixture is small and committed.
"""
import io
import json
import os
import pickle
import struct
import zipfile
import zlib
import gzip
import collections

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name, data):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


class EvilEval:
    def __reduce__(self):
        return (eval, ("1+1",))


class Fake:
    """Pickles as a global reference to module.name without importing it."""

    def __init__(self, module, name):
        self.module, self.name = module, name


def global_ref(module, name):
    # Protocol 0 GLOBAL opcode written by hand.
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


plain = {"weights": [1.0, 2.5, -3.0], "name": "tiny", "layers": (1, 2, 3),
         "od": collections.OrderedDict(a=1), "s": {1, 2}, "b": b"\x00\x01"}

# Plain data, every protocol.
for proto in range(0, 6):
    out(f"plain_p{proto}.pkl", pickle.dumps(plain, protocol=proto))

# os.system via __reduce__, protocols 0..5 (0/1 use GLOBAL, 4/5 STACK_GLOBAL).
for proto in range(0, 6):
    out(f"evil_system_p{proto}.pkl", pickle.dumps(Evil(), protocol=proto))
out("evil_eval_p4.pkl", pickle.dumps(EvilEval(), protocol=4))

# STACK_GLOBAL with operands fetched from the memo (BINGET) after a DUP.
# \x80\x04 proto 4; push "os" memoize; push "system" memoize; pop both via
# gets; STACK_GLOBAL; args tuple; REDUCE; STOP.
memo_sg = (b"\x80\x04" + b"\x8c\x02os\x94" + b"\x8c\x06system\x94" + b"0" + b"0"
           + b"h\x00h\x01\x93" + b"\x8c\x02id\x85R.")
out("evil_memo_stackglobal.pkl", memo_sg)
# STACK_GLOBAL whose module is a bytes object: unresolvable.
out("evil_bytes_operand.pkl", b"\x80\x04C\x02os\x8c\x06system\x93\x8c\x02id\x85R.")
# INST (protocol 0): imports and calls os.system in one opcode.
out("evil_inst.pkl", b"(S'id'\nios\nsystem\n.")
# EXT1: extension registry code 1.
out("evil_ext.pkl", b"\x80\x02\x82\x01)R.")
# Truncated plain pickle: invalid.
out("truncated.pkl", pickle.dumps(plain, protocol=4)[:-5])


_real_writestr = zipfile.ZipFile.writestr


def _fixed_writestr(self, name, data, compress_type=None, compresslevel=None):
    """writestr with a fixed timestamp, so fixtures are reproducible."""
    if isinstance(name, str):
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = self.compression if compress_type is None else compress_type
        info.external_attr = 0o644 << 16
        name = info
    return _real_writestr(self, name, data, compress_type, compresslevel)


zipfile.ZipFile.writestr = _fixed_writestr


def torch_like_zip(name, data_pkl, extra=None, pkl_name="archive/data.pkl"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(pkl_name, data_pkl)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/data/0", struct.pack("<4f", 1, 2, 3, 4))
        z.writestr("archive/version", b"3\n")
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    out(name, buf.getvalue())


def torch_state_dict_pickle():
    """What torch.save({'w': tensor}) writes in data.pkl, built by hand."""
    b = io.BytesIO()
    b.write(b"\x80\x02")
    b.write(global_ref("collections", "OrderedDict"))
    b.write(b")R")  # OrderedDict()
    b.write(b"q\x00(X\x01\x00\x00\x00w")  # memo, MARK, key
    b.write(global_ref("torch._utils", "_rebuild_tensor_v2"))
    # (storage persistent id, offset, size, stride, requires_grad, hooks)
    b.write(b"((X\x07\x00\x00\x00storage")
    b.write(global_ref("torch", "FloatStorage"))
    b.write(b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ")
    b.write(b"K\x00K\x04\x85K\x01\x85\x89")
    b.write(global_ref("collections", "OrderedDict"))
    b.write(b")RtR")
    b.write(b"u.")
    return b.getvalue()


torch_like_zip("torch_clean.pt", torch_state_dict_pickle())
torch_like_zip("torch_evil.pt", pickle.dumps(Evil(), protocol=2))
# Malicious pickle hidden in a member with an innocent extension.
torch_like_zip("torch_hidden.pt", torch_state_dict_pickle(),
               extra={"archive/data/1.txt": pickle.dumps(Evil(), protocol=4)})
# Path traversal member name.
torch_like_zip("zip_traversal.pt", torch_state_dict_pickle(), extra={"../../etc/evil": b"x"})

# Duplicate member names (zipfile warns but writes it).
import warnings
warnings.simplefilter("ignore")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("archive/data.pkl", torch_state_dict_pickle())
    z.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
out("zip_duplicate.pt", buf.getvalue())

# Zip bomb: 64 MiB of zeros deflated.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02" + b"N0" * (32 << 20) + b"N.")
out("zip_bomb.pt", buf.getvalue())

# Local header disagrees with central directory: patch the local name.
good = io.BytesIO()
with zipfile.ZipFile(good, "w") as z:
    z.writestr("archive/data.pkl", torch_state_dict_pickle())
b = bytearray(good.getvalue())
i = b.index(b"archive/data.pkl")  # first occurrence: local header
b[i:i + 16] = b"archive/data.pkX"
out("zip_local_mismatch.pt", bytes(b))


def npy(descr, shape, body):
    header = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + body


out("array_f4.npy", npy("<f4", (2,), struct.pack("<2f", 1, 2)))
out("array_object_evil.npy", npy("|O", (1,), pickle.dumps([Evil()], protocol=3)))
out("array_object_plain.npy", npy("|O", (2,), pickle.dumps(["a", 1], protocol=3)))

# joblib-style zlib-compressed pickles.
out("model_evil.joblib", zlib.compress(pickle.dumps(Evil(), protocol=4)))
out("model_plain.joblib", zlib.compress(pickle.dumps(plain, protocol=4)))
out("model_plain_gz.pkl", gzip.compress(pickle.dumps(plain, protocol=4), mtime=0))


def safetensors(tensors, data, metadata=None, raw_header=None):
    hdr = {}
    if metadata is not None:
        hdr["__metadata__"] = metadata
    hdr.update(tensors or {})
    h = raw_header if raw_header is not None else json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


st_ok = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]}}
out("ok.safetensors", safetensors(st_ok, bytes(22), {"format": "pt"}))
st_bad = {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]},
          "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]}}
out("shape_mismatch.safetensors", safetensors(st_bad, bytes(22)))
out("gap.safetensors", safetensors(
    {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
     "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}, bytes(16)))
out("trailing.safetensors", safetensors(st_ok, bytes(30)))
out("dup_key.safetensors", safetensors(None, bytes(8), raw_header=(
    b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
    b'"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')))
out("bad_dtype.safetensors", safetensors(
    {"a": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, bytes(16)))


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kvs, tensors, data_len):
    b = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, (t, v) in kvs.items():
        b += gguf_string(k) + struct.pack("<I", t)
        if t == 8:
            b += gguf_string(v)
        elif t == 4:
            b += struct.pack("<I", v)
        elif t == 9:
            b += struct.pack("<IQ", 8, len(v)) + b"".join(gguf_string(x) for x in v)
    for name, dims, typ, off in tensors:
        b += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        b += struct.pack("<IQ", typ, off)
    b += bytes((32 - len(b) % 32) % 32)
    return b + bytes(data_len)


TEMPLATE = "{% for m in messages %}{{ m.content }}{% endfor %}"
out("tiny.gguf", gguf({"general.architecture": (8, "llama"),
                       "tokenizer.ggml.tokens": (9, ["a", "b"]),
                       "tokenizer.chat_template": (8, TEMPLATE)},
                      [("w", [4, 2], 0, 0)], 32))
out("tensor_oob.gguf", gguf({"general.architecture": (8, "llama")}, [("w", [4, 2], 0, 0)], 8))

# Keras v3 archive with a Lambda layer.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Lambda", "config": {"function": "base64bytecode"}}]}}))
    z.writestr("metadata.json", "{}")
out("lambda.keras", buf.getvalue())



def varint(n):
    b = b""
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            b += bytes([c | 0x80])
        else:
            return b + bytes([c])


def pb_bytes(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def onnx_with_location(loc):
    entry = pb_bytes(1, b"location") + pb_bytes(2, loc.encode())
    tensor = pb_bytes(8, b"w") + pb_bytes(13, entry) + varint(14 << 3) + varint(1)
    graph = pb_bytes(5, tensor) + pb_bytes(2, b"g")
    return varint(1 << 3) + varint(8) + pb_bytes(7, graph)


out("external_ok.onnx", onnx_with_location("weights.bin"))
out("external_traversal.onnx", onnx_with_location("../../etc/passwd"))
out("lambda.h5", b"\x89HDF\r\n\x1a\n" + bytes(200) +
    b'{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {}}]}}' + bytes(100))
out("archive.7z.pt", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24))

# Legacy (non-zip) torch.save format: five pickles back to back, then raw
# storage bytes (an 8-byte element count and the data).
legacy_head = (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
               + pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2))
legacy_tail = pickle.dumps(["0"], protocol=2) + struct.pack("<Q", 4) + struct.pack("<4f", 1, 2, 3, 4)
out("legacy_clean.pt", legacy_head + torch_state_dict_pickle() + legacy_tail)
out("legacy_evil.pt", legacy_head + pickle.dumps(Evil(), protocol=2) + legacy_tail)

# .npz: a zip of .npy members, one with an object array holding a pickle.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("a.npy", npy("<f4", (2,), struct.pack("<2f", 1, 2)))
    z.writestr("b.npy", npy("|O", (1,), pickle.dumps([Evil()], protocol=3)))
out("evil.npz", buf.getvalue())

# Zip64 records (as torch.save writes for archives over 4 GiB), small.
# Lowering the entry-count limit makes zipfile write the zip64 end records.
_limit, zipfile.ZIP_FILECOUNT_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT, 1
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    with z.open(zipfile.ZipInfo("archive/data.pkl", date_time=(2024, 1, 1, 0, 0, 0)), "w", force_zip64=True) as w:
        w.write(torch_state_dict_pickle())
    with z.open(zipfile.ZipInfo("archive/data/0", date_time=(2024, 1, 1, 0, 0, 0)), "w", force_zip64=True) as w:
        w.write(struct.pack("<4f", 1, 2, 3, 4))
zipfile.ZIP_FILECOUNT_LIMIT = _limit
out("zip64_clean.pt", buf.getvalue())

# Data descriptors (flag bit 3), as zipfile writes to an unseekable stream.
class Unseekable(io.RawIOBase):
    def __init__(self):
        self.buf = io.BytesIO()

    def writable(self):
        return True

    def write(self, b):
        return self.buf.write(b)


u = Unseekable()
with zipfile.ZipFile(u, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("archive/data.pkl", torch_state_dict_pickle())
    z.writestr("archive/data/0", struct.pack("<4f", 1, 2, 3, 4))
out("zip_descriptor_clean.pt", u.buf.getvalue())

# A protocol 0 pickle without an extension, and a text file that starts
# like one.
out("noext_evil_p0", pickle.dumps(Evil(), protocol=0))
out("readme_like.txt", b"copyright\nnotice\nMore text here.\n")

print("fixtures written")
