#!/usr/bin/env python3
"""Writes small GGUF files with llama.cpp's own Python writer (gguf-py), plus expected.json, a
description of what was written, for tests/engine/gguf/test_gguf_llama_cpp_peer.cpp to compare
Scout's reader against.

    PYTHONPATH=<llama.cpp source>/gguf-py python3 make_gguf_with_gguf_py.py OUT_DIR

Values and shapes in expected.json come from what this script handed to the writer; tensor
offsets and the data section's start come from gguf-py's own reader (GGUFReader), so the test
checks Scout against both halves of the peer.
"""
import json
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import quantize

T = GGUFValueType


def metadata(alignment):
    """(key, type, value, element type) in writing order; general.architecture is first because
    GGUFWriter's constructor adds it."""
    items = [
        ("general.architecture", T.STRING, "llama", None),
        ("general.name", T.STRING, "peer test", None),
        ("test.u8", T.UINT8, 200, None),
        ("test.i8", T.INT8, -100, None),
        ("test.u16", T.UINT16, 60000, None),
        ("test.i16", T.INT16, -30000, None),
        ("test.u32", T.UINT32, 4000000000, None),
        ("test.i32", T.INT32, -2000000000, None),
        ("test.f32", T.FLOAT32, 0.15625, None),
        ("test.bool", T.BOOL, True, None),
        ("test.string", T.STRING, "h\u00e9llo w\u00f6rld \u2713", None),
        ("test.u64", T.UINT64, 2**63 + 5, None),
        ("test.i64", T.INT64, -(2**62), None),
        ("test.f64", T.FLOAT64, 3.141592653589793, None),
        ("test.arr_i32", T.ARRAY, [1, -2, 3], T.INT32),
        ("test.arr_u8", T.ARRAY, [1, 2, 255], T.UINT8),
        ("test.arr_f32", T.ARRAY, [0.5, -1.25, 1024.0], T.FLOAT32),
        ("test.arr_bool", T.ARRAY, [True, False], T.BOOL),
        ("test.arr_f64", T.ARRAY, [0.1, -2.0], T.FLOAT64),
        ("test.nested", T.ARRAY, [[1, 2], [3]], T.ARRAY),
        ("tokenizer.ggml.tokens", T.ARRAY, ["<s>", "hello", " w\u00f6rld", "\u4f60\u597d"], T.STRING),
    ]
    if alignment is not None:
        items.append(("general.alignment", T.UINT32, alignment, None))
    return items


def tensors():
    """(name, array given to the writer, raw ggml type or None, ggml type id, ggml shape)."""
    rng = np.random.default_rng(1234)
    f32 = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5
    f16 = np.linspace(-1, 1, 40, dtype=np.float32).astype(np.float16).reshape(5, 8)
    q8 = quantize(rng.standard_normal((3, 64)).astype(np.float32), GGMLQuantizationType.Q8_0)
    i32 = np.arange(-3, 4, dtype=np.int32)
    return [
        ("t.f32", f32, None, int(GGMLQuantizationType.F32), [4, 3, 2]),
        ("t.f16", f16, None, int(GGMLQuantizationType.F16), [8, 5]),
        ("t.q8_0", q8, GGMLQuantizationType.Q8_0, int(GGMLQuantizationType.Q8_0), [64, 3]),
        ("t.i32", i32, None, int(GGMLQuantizationType.I32), [7]),
    ]


def jsonable(vtype, value, sub_type):
    d = {"type": vtype.name.lower(), "value": value}
    if vtype == T.ARRAY:
        d["element_type"] = sub_type.name.lower()
        if sub_type == T.ARRAY:
            d["inner_element_type"] = "int32"  # gguf-py types Python ints in inner arrays as INT32
    return d


def write(path, alignment):
    w = GGUFWriter(str(path), arch="llama")
    for key, vtype, value, sub_type in metadata(alignment)[1:]:
        if key == "general.alignment":
            w.add_custom_alignment(value)
        else:
            w.add_key_value(key, value, vtype, sub_type)
    for name, array, raw_dtype, _, _ in tensors():
        w.add_tensor(name, array, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    reader = GGUFReader(str(path))
    peer_tensors = {t.name: t for t in reader.tensors}
    described_tensors = []
    for name, array, _, type_id, shape in tensors():
        t = peer_tensors[name]
        assert [int(d) for d in t.shape] == shape, (name, t.shape, shape)
        described_tensors.append({
            "name": name, "type": type_id, "shape": shape,
            "offset": int(t.data_offset) - int(reader.data_offset),
            "n_bytes": int(t.n_bytes), "data_hex": array.tobytes().hex(),
        })
    peer_keys = [k for k in reader.fields if not k.startswith("GGUF.")]
    return {
        "file": path.name,
        "alignment": alignment or 32,
        "data_offset": int(reader.data_offset),
        "file_size": path.stat().st_size,
        "keys_in_order": peer_keys,
        "metadata": [dict(key=k, **jsonable(t, v, s)) for k, t, v, s in metadata(alignment)],
        "tensors": described_tensors,
    }


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    files = [write(out / "peer-default-alignment.gguf", None), write(out / "peer-alignment-64.gguf", 64)]
    (out / "expected.json").write_text(json.dumps({"files": files}, indent=1))


if __name__ == "__main__":
    main()
