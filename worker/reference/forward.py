#!/usr/bin/env python3
"""Independent NumPy reference of the decoder forward pass.

Written from the Hugging Face transformers modeling definitions (Llama,
Mistral, Qwen2, Phi3), not from the Go engine, so the two can check each
other: RMSNorm, rotate_half RoPE (with partial rotary), grouped-query
attention with a causal (and optionally sliding-window) mask, SwiGLU MLP,
Qwen2 q/k/v biases, Phi-3 fused qkv_proj / gate_up_proj, tied embeddings.
Everything is computed in float64 from the stored F32/F16/BF16 weights.

Usage: forward.py --model DIR --tokens 1,2,3 [--all-positions | --positions 0,2]
Prints JSON {"logits": [...]} (last position), or {"positions": [...],
"logits": [[...], ...]} with one row per position.
"""
import argparse
import json
import os
import sys

import numpy as np

DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


def read_safetensors(path):
    """Parse one .safetensors file: 8-byte LE header length, JSON header, data."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in DTYPES:
            raise SystemExit(f"error: {path}: tensor {name}: dtype {dt} not supported by the reference")
        np_dt, size = DTYPES[dt]
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * size:
            raise SystemExit(f"error: {path}: tensor {name}: size mismatch")
        arr = np.frombuffer(data[begin:end], dtype=np_dt, count=count)
        if dt == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr.astype(np.float64).reshape(shape)
    return out


def load_weights(model_dir):
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(model_dir, "model.safetensors.index.json")) as f:
        index = json.load(f)
    weights = {}
    for shard in sorted(set(index["weight_map"].values())):
        for name, arr in read_safetensors(os.path.join(model_dir, shard)).items():
            if name in weights:
                raise SystemExit(f"error: tensor {name} in more than one shard")
            weights[name] = arr
    return weights


def rms_norm(x, weight, eps):
    # LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), then scaled by weight
    var = np.mean(x * x, axis=-1, keepdims=True)
    return weight * (x / np.sqrt(var + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rope(x, positions, theta, rotary_dim):
    """Apply rotary embeddings to the first rotary_dim dims of x [T, H, D]."""
    inv_freq = 1.0 / (theta ** (np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim))
    freqs = np.outer(positions.astype(np.float64), inv_freq)      # [T, rd/2]
    emb = np.concatenate([freqs, freqs], axis=-1)                 # [T, rd]
    cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]   # broadcast over heads
    rot, passthrough = x[..., :rotary_dim], x[..., rotary_dim:]
    rot = rot * cos + rotate_half(rot) * sin
    return np.concatenate([rot, passthrough], axis=-1)


def silu(x):
    return x / (1.0 + np.exp(-x))


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def layer_window(cfg, arch, layer):
    """Sliding window of a layer (None = full causal attention)."""
    sw = cfg.get("sliding_window")
    if not sw:
        return None
    if arch == "Qwen2ForCausalLM":
        # Qwen2: only with use_sliding_window, and only layers >= max_window_layers
        if not cfg.get("use_sliding_window", False):
            return None
        if layer < cfg.get("max_window_layers", 0):
            return None
        return sw
    if arch in ("MistralForCausalLM", "Phi3ForCausalLM"):
        return sw
    return None  # Llama has no sliding window


def forward(model_dir, tokens):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    arch = cfg["architectures"][0]
    if arch not in ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Phi3ForCausalLM"):
        raise SystemExit(f"error: architecture {arch} not supported by the reference")
    if cfg.get("rope_scaling"):
        raise SystemExit("error: rope_scaling is not supported by the reference")
    w = load_weights(model_dir)
    hidden = cfg["hidden_size"]
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    head_dim = cfg.get("head_dim") or hidden // n_heads
    rotary_dim = int(head_dim * cfg.get("partial_rotary_factor", 1.0))
    eps = cfg["rms_norm_eps"]
    theta = cfg.get("rope_theta", 10000.0)
    group = n_heads // n_kv
    tokens = np.asarray(tokens, dtype=np.int64)
    T = len(tokens)
    positions = np.arange(T)

    h = w["model.embed_tokens.weight"][tokens]  # [T, hidden]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        if arch == "Phi3ForCausalLM":
            qkv = linear(x, w[p + "self_attn.qkv_proj.weight"])
            q_end = n_heads * head_dim
            k_end = q_end + n_kv * head_dim
            q, k, v = qkv[:, :q_end], qkv[:, q_end:k_end], qkv[:, k_end:]
        else:
            q = linear(x, w[p + "self_attn.q_proj.weight"], w.get(p + "self_attn.q_proj.bias"))
            k = linear(x, w[p + "self_attn.k_proj.weight"], w.get(p + "self_attn.k_proj.bias"))
            v = linear(x, w[p + "self_attn.v_proj.weight"], w.get(p + "self_attn.v_proj.bias"))
        q = rope(q.reshape(T, n_heads, head_dim), positions, theta, rotary_dim)
        k = rope(k.reshape(T, n_kv, head_dim), positions, theta, rotary_dim)
        v = v.reshape(T, n_kv, head_dim)
        # repeat_kv: query head j reads kv head j // group
        k = np.repeat(k, group, axis=1)
        v = np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(head_dim)
        qi, ki = np.arange(T)[:, None], np.arange(T)[None, :]
        allowed = ki <= qi
        window = layer_window(cfg, arch, i)
        if window:
            allowed &= ki > qi - window  # the last `window` positions, self included
        scores = np.where(allowed[None], scores, -np.inf)
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        attn = np.einsum("hqk,khd->qhd", probs, v).reshape(T, n_heads * head_dim)
        h = h + linear(attn, w[p + "self_attn.o_proj.weight"], w.get(p + "self_attn.o_proj.bias"))

        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        if arch == "Phi3ForCausalLM":
            gate_up = linear(x, w[p + "mlp.gate_up_proj.weight"])
            inter = gate_up.shape[-1] // 2
            gate, up = gate_up[:, :inter], gate_up[:, inter:]
        else:
            gate = linear(x, w[p + "mlp.gate_proj.weight"])
            up = linear(x, w[p + "mlp.up_proj.weight"])
        h = h + linear(silu(gate) * up, w[p + "mlp.down_proj.weight"])

    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight")
    if head is None or cfg.get("tie_word_embeddings", False):
        head = w["model.embed_tokens.weight"]
    return h @ head.T  # [T, vocab]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="model folder (config.json + safetensors)")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--all-positions", action="store_true", help="print logits of every position")
    ap.add_argument("--positions", help="comma-separated positions to print (0-based)")
    args = ap.parse_args()
    try:
        tokens = [int(t) for t in args.tokens.split(",") if t.strip()]
        positions = [int(p) for p in args.positions.split(",") if p.strip()] if args.positions else None
    except ValueError:
        print("error: --tokens and --positions must be comma-separated integers", file=sys.stderr)
        return 2
    if not tokens:
        print("error: --tokens is empty", file=sys.stderr)
        return 2
    if positions is not None and any(p < 0 or p >= len(tokens) for p in positions):
        print(f"error: --positions must lie in [0, {len(tokens)})", file=sys.stderr)
        return 2
    logits = forward(args.model, tokens)
    if args.all_positions:
        positions = list(range(len(tokens)))
    if positions is None:
        json.dump({"logits": logits[-1].tolist()}, sys.stdout)
    else:
        json.dump({"positions": positions, "logits": logits[positions].tolist()}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
