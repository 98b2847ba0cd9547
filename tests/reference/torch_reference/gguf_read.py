"""A small, self-contained GGUF v3 reader (numpy only).

Reads the metadata (all 13 value types, arrays included), the tensor table and the tensor data
of a GGUF file, and dequantizes the tensor types F32, F16, BF16 and Q8_0 to numpy arrays.

Shapes: GGUF stores ggml's ne[] order (ne0, the contiguous dimension, first). Arrays returned by
`GGUFFile.tensor()` have the shape reversed, i.e. row-major: a matrix with ne = [n_in, n_out]
becomes array[n_out, n_in], a 3-D expert tensor ne = [n_in, n_out, n_expert] becomes
array[n_expert, n_out, n_in].

Independent of llama.cpp's gguf-py on purpose: the reference must not share code with the
peers it is compared against.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, \
    T_UINT64, T_INT64, T_FLOAT64 = range(13)

_SCALAR_FORMATS = {
    T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
    T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d",
}
_SCALAR_DTYPES = {
    T_UINT8: "<u1", T_INT8: "<i1", T_UINT16: "<u2", T_INT16: "<i2", T_UINT32: "<u4", T_INT32: "<i4",
    T_FLOAT32: "<f4", T_BOOL: "<u1", T_UINT64: "<u8", T_INT64: "<i8", T_FLOAT64: "<f8",
}
VALUE_TYPE_NAMES = {
    T_UINT8: "uint8", T_INT8: "int8", T_UINT16: "uint16", T_INT16: "int16", T_UINT32: "uint32",
    T_INT32: "int32", T_FLOAT32: "float32", T_BOOL: "bool", T_STRING: "string", T_ARRAY: "array",
    T_UINT64: "uint64", T_INT64: "int64", T_FLOAT64: "float64",
}

# ggml tensor types this reader dequantizes: id -> (name, block size in elements, block bytes).
GGML_F32, GGML_F16, GGML_Q8_0, GGML_BF16 = 0, 1, 8, 30
_TENSOR_TYPES = {
    GGML_F32: ("f32", 1, 4),
    GGML_F16: ("f16", 1, 2),
    GGML_Q8_0: ("q8_0", 32, 34),
    GGML_BF16: ("bf16", 1, 2),
}
# Other ggml types, only so that the tensor table of any file can be listed by name.
_OTHER_TYPE_NAMES = {
    2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 9: "q8_1", 10: "q2_K", 11: "q3_K", 12: "q4_K",
    13: "q5_K", 14: "q6_K", 15: "q8_K", 24: "i8", 25: "i16", 26: "i32", 27: "i64", 28: "f64",
}


class GGUFError(Exception):
    pass


@dataclass
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # ggml order: ne0 (contiguous) first
    type: int
    offset: int             # relative to the start of the tensor data section

    @property
    def type_name(self) -> str:
        if self.type in _TENSOR_TYPES:
            return _TENSOR_TYPES[self.type][0]
        return _OTHER_TYPE_NAMES.get(self.type, f"type{self.type}")

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


class _Cursor:
    def __init__(self, buf, path: str):
        self.buf = buf
        self.pos = 0
        self.path = path

    def need(self, n: int, what: str) -> None:
        if self.pos + n > len(self.buf):
            raise GGUFError(f"{self.path}: truncated at byte {self.pos} while reading {what}")

    def scalar(self, vtype: int, what: str):
        fmt = _SCALAR_FORMATS[vtype]
        size = struct.calcsize(fmt)
        self.need(size, what)
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return v

    def u32(self, what: str) -> int:
        return self.scalar(T_UINT32, what)

    def u64(self, what: str) -> int:
        return self.scalar(T_UINT64, what)

    def string(self, what: str) -> str:
        n = self.u64(what + " length")
        self.need(n, what)
        raw = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="surrogateescape")

    def value(self, vtype: int, what: str) -> Any:
        if vtype == T_STRING:
            return self.string(what)
        if vtype == T_ARRAY:
            etype = self.u32(what + " element type")
            count = self.u64(what + " element count")
            if etype == T_STRING:
                return [self.string(what) for _ in range(count)]
            if etype == T_ARRAY:
                return [self.value(T_ARRAY, what) for _ in range(count)]
            if etype not in _SCALAR_DTYPES:
                raise GGUFError(f"{self.path}: byte {self.pos}: unknown array element type {etype} in {what}")
            dtype = np.dtype(_SCALAR_DTYPES[etype])
            self.need(count * dtype.itemsize, what)
            arr = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos).copy()
            self.pos += count * dtype.itemsize
            if etype == T_BOOL:
                arr = arr.astype(bool)
            return arr.tolist()
        if vtype not in _SCALAR_FORMATS:
            raise GGUFError(f"{self.path}: byte {self.pos}: unknown value type {vtype} in {what}")
        return self.scalar(vtype, what)


class GGUFFile:
    """An opened GGUF file: `metadata` (key -> value), `value_types` (key -> GGUF type id),
    `tensors` (name -> TensorInfo, in file order), `alignment`, `data_offset` (absolute offset of
    the tensor data section), `kv_end_offset` and `tensor_infos_end_offset` (where the metadata
    and the tensor infos end)."""

    def __init__(self, path: str):
        self.path = str(path)
        self._mm = np.memmap(self.path, dtype=np.uint8, mode="r")
        buf = memoryview(self._mm)
        cur = _Cursor(buf, self.path)
        cur.need(4, "magic")
        if bytes(buf[0:4]) != GGUF_MAGIC:
            raise GGUFError(f"{self.path}: not a GGUF file (magic {bytes(buf[0:4])!r})")
        cur.pos = 4
        self.version = cur.u32("version")
        if self.version != 3:
            raise GGUFError(f"{self.path}: GGUF version {self.version}, only version 3 is supported")
        n_tensors = cur.u64("tensor count")
        n_kv = cur.u64("metadata count")

        self.metadata: dict[str, Any] = {}
        self.value_types: dict[str, int] = {}
        for _ in range(n_kv):
            key = cur.string("metadata key")
            vtype = cur.u32(f"type of {key}")
            self.metadata[key] = cur.value(vtype, key)
            self.value_types[key] = vtype
        self.kv_end_offset = cur.pos  # where the tensor infos begin

        self.tensors: dict[str, TensorInfo] = {}
        for _ in range(n_tensors):
            name = cur.string("tensor name")
            n_dims = cur.u32(f"n_dims of {name}")
            shape = tuple(cur.u64(f"shape of {name}") for _ in range(n_dims))
            ttype = cur.u32(f"type of {name}")
            offset = cur.u64(f"offset of {name}")
            if name in self.tensors:
                raise GGUFError(f"{self.path}: duplicate tensor {name}")
            self.tensors[name] = TensorInfo(name, shape, ttype, offset)

        self.tensor_infos_end_offset = cur.pos
        self.alignment = int(self.metadata.get("general.alignment", DEFAULT_ALIGNMENT))
        if self.alignment <= 0 or self.alignment & (self.alignment - 1):
            raise GGUFError(f"{self.path}: general.alignment {self.alignment} is not a power of two")
        self.data_offset = (cur.pos + self.alignment - 1) // self.alignment * self.alignment

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    def tensor_nbytes(self, info: TensorInfo) -> int:
        if info.type not in _TENSOR_TYPES:
            raise GGUFError(f"{self.path}: tensor {info.name}: type {info.type_name} is not supported by this reader")
        _, block, block_bytes = _TENSOR_TYPES[info.type]
        if info.shape and info.shape[0] % block != 0:
            raise GGUFError(f"{self.path}: tensor {info.name}: ne0 {info.shape[0]} is not a multiple of {block}")
        return info.n_elements // block * block_bytes

    def tensor(self, name: str) -> np.ndarray:
        """The tensor dequantized to float32, shape reversed (row-major)."""
        info = self.tensors[name]
        nbytes = self.tensor_nbytes(info)
        start = self.data_offset + info.offset
        if start + nbytes > len(self._mm):
            raise GGUFError(f"{self.path}: tensor {name} (bytes {start}..{start + nbytes}) runs past the end of the file")
        raw = np.asarray(self._mm[start:start + nbytes])
        n = info.n_elements
        if info.type == GGML_F32:
            out = raw.view("<f4").astype(np.float32)
        elif info.type == GGML_F16:
            out = raw.view("<f2").astype(np.float32)
        elif info.type == GGML_BF16:
            out = (raw.view("<u2").astype(np.uint32) << 16).view(np.float32)
        elif info.type == GGML_Q8_0:
            blocks = raw.reshape(n // 32, 34)
            d = blocks[:, 0:2].copy().view("<f2").astype(np.float32)        # [n_blocks, 1]
            q = blocks[:, 2:34].copy().view(np.int8).astype(np.float32)      # [n_blocks, 32]
            out = (d * q).reshape(n)
        else:  # unreachable: tensor_nbytes refused it
            raise GGUFError(f"{self.path}: tensor {name}: unsupported type {info.type_name}")
        return out.reshape(tuple(reversed(info.shape)) if info.shape else ())


def open_gguf(path: str) -> GGUFFile:
    return GGUFFile(path)


if __name__ == "__main__":
    import sys

    g = GGUFFile(sys.argv[1])
    print(f"GGUF v{g.version}, alignment {g.alignment}, data at {g.data_offset}")
    for k, v in g.metadata.items():
        s = repr(v)
        print(f"  {k} ({VALUE_TYPE_NAMES[g.value_types[k]]}): {s[:100]}{'...' if len(s) > 100 else ''}")
    for t in g.tensors.values():
        print(f"  {t.name:32s} {t.type_name:6s} {list(t.shape)} @ {t.offset}")
