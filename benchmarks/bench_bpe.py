"""Byte-level BPE on tiny Shakespeare: seconds to train a 1,000-token vocabulary, then to encode and
decode the whole 1.1 MB text. Prints seconds (single-threaded pure Python; not a comparison).

Run: python benchmarks/bench_bpe.py [--root FOLDER] [--vocab-size 1000]
The text is found like every glassnet data set (root, $GLASSNET_DATA, the cache, then a download).
"""
import argparse
import time

from glassnet.datasets import TinyShakespeare
from glassnet.text import BPETokenizer, CharTokenizer


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder holding tinyshakespeare/input.txt")
    parser.add_argument("--vocab-size", type=int, default=1000)
    args = parser.parse_args()

    text = TinyShakespeare(root=args.root, split="all").text
    print(f"\nBPE on tiny Shakespeare ({len(text):,} characters), vocab_size={args.vocab_size}")
    tok, t_train = timed(lambda: BPETokenizer().train(text, vocab_size=args.vocab_size))
    ids, t_encode_cold = timed(lambda: tok.encode(text))  # the chunk cache starts empty
    _, t_encode = timed(lambda: tok.encode(text))
    decoded, t_decode = timed(lambda: tok.decode(ids))
    assert decoded == text, "BPE round trip failed"
    chars = CharTokenizer(text)
    _, t_char = timed(lambda: chars.encode_array(text))
    print("| step | seconds |")
    print("| --- | ---: |")
    print(f"| train {len(tok.merges)} merges | {t_train:.2f} |")
    print(f"| encode (cold chunk cache) | {t_encode_cold:.2f} |")
    print(f"| encode (warm chunk cache) | {t_encode:.2f} |")
    print(f"| decode | {t_decode:.2f} |")
    print(f"| char tokenizer encode | {t_char:.3f} |")
    print(f"{len(ids):,} tokens, {len(text) / len(ids):.2f} characters per token; "
          f"longest token {max(tok.vocab, key=len)!r}")


if __name__ == "__main__":
    main()
