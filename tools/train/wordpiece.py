"""The BERT uncased tokenizer as Warden's Swift side runs it (Sources/WardenDetect/WordPiece.swift):
lower-case, accents stripped, split on whitespace and punctuation, CJK characters alone, then
greedy longest-match WordPiece. Each token keeps the scalar offsets of the text it came from."""
import unicodedata

def is_punct(c):
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")

def is_cjk(o):
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or 0x2A700 <= o <= 0x2B73F
            or 0x2B740 <= o <= 0x2B81F or 0x2B820 <= o <= 0x2CEAF or 0xF900 <= o <= 0xFAFF or 0x2F800 <= o <= 0x2FA1F)

def words(text):
    """(normalised word, start, end) in scalar offsets of `text`."""
    out, cur, start = [], [], 0
    def flush(end):
        if cur:
            out.append(("".join(cur), start, end))
            cur.clear()
    for i, ch in enumerate(text):
        o = ord(ch)
        if o == 0 or o == 0xFFFD or (unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r"):
            continue
        if ch.isspace() or ch in "\t\n\r":
            flush(i); continue
        if is_cjk(o) or is_punct(ch):
            flush(i); out.append((ch.lower(), i, i + 1)); continue
        norm = "".join(c for c in unicodedata.normalize("NFD", ch.lower()) if unicodedata.category(c) != "Mn")
        if not norm:
            continue
        if not cur:
            start = i
        cur.append(norm)
    flush(len(text))
    return out

class WordPiece:
    def __init__(self, vocab_path):
        self.vocab = [l.rstrip("\n") for l in open(vocab_path, encoding="utf-8")]
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.unk = self.ids["[UNK]"]

    def tokenize(self, text):
        """[(id, start, end)]"""
        out = []
        for w, s, e in words(text):
            if len(w) > 100:
                out.append((self.unk, s, e)); continue
            pieces, i, bad = [], 0, False
            while i < len(w):
                j = len(w)
                found = None
                while j > i:
                    sub = w[i:j] if i == 0 else "##" + w[i:j]
                    if sub in self.ids:
                        found = self.ids[sub]; break
                    j -= 1
                if found is None:
                    bad = True; break
                pieces.append(found); i = j
            if bad:
                out.append((self.unk, s, e))
            else:
                out.extend((p, s, e) for p in pieces)
        return out
