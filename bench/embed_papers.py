"""Embed a papers file (JSON lines, gzipped: id, date, title, abstract) with the semantic model.

    python -m bench.embed_papers ../shared/data/matching/dev.jsonl.gz --out /work/cache/minilm/dev

writes ``dev.npy`` (float32, one row per paper, in file order) and ``dev_ids.json``. Papers of the
days whose ``date.toordinal() // 7`` is even come first, and the files are written once they are
done, so the bench can use that half of the days while the rest is still being encoded. Chunks are
kept beside the output, so a run that was stopped resumes where it was.
"""

import argparse
import datetime as dt
import gzip
import json
import os
import time
from pathlib import Path

import numpy as np

from newsletter import embeddings

CHUNK = 1024  # papers per saved chunk: a stopped run loses at most this much work


def read_papers(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def in_first_half(paper: dict) -> bool:
    return dt.date.fromisoformat(paper["date"]).toordinal() // 7 % 2 == 0


def _save_atomically(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


def write_output(out: Path, papers: list[dict], rows: dict[int, np.ndarray]) -> None:
    """Rows of the papers encoded so far, in file order, with their ids."""
    done = sorted(rows)
    matrix = np.stack([rows[i] for i in done]).astype(np.float32)
    _save_atomically(out.with_suffix(".npy"), lambda f: np.save(f, matrix))
    ids = json.dumps([papers[i]["id"] for i in done]).encode()
    _save_atomically(out.with_name(out.name + "_ids.json"), lambda f: f.write(ids))
    print(f"wrote {len(done)} rows to {out.with_suffix('.npy')}", flush=True)


def encode_chunks(papers: list[dict], order: list[int], parts: Path, rows: dict[int, np.ndarray]) -> None:
    """Encode ``order`` into ``rows`` chunk by chunk, reusing the chunks a stopped run saved."""
    for start in range(0, len(order), CHUNK):
        chunk = order[start : start + CHUNK]
        part = parts / f"{chunk[0]:06d}-{len(chunk)}.npy"
        if part.exists():
            matrix = np.load(part)
        else:
            began = time.perf_counter()
            texts = [embeddings.paper_text(papers[i]["title"], papers[i]["abstract"]) for i in chunk]
            matrix = embeddings.encode(texts)
            _save_atomically(part, lambda f, m=matrix: np.save(f, m))
            rate = len(chunk) / (time.perf_counter() - began)
            print(f"{start + len(chunk)}/{len(order)} papers, {rate:.1f} papers/s", flush=True)
        rows.update(zip(chunk, matrix, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("papers", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output stem, e.g. cache/dev")
    args = parser.parse_args()
    papers = read_papers(args.papers)
    first = [i for i, p in enumerate(papers) if in_first_half(p)]
    rest = [i for i, p in enumerate(papers) if not in_first_half(p)]
    parts = args.out.with_name(args.out.name + "_parts")
    parts.mkdir(parents=True, exist_ok=True)
    rows: dict[int, np.ndarray] = {}
    for half in (first, rest):
        encode_chunks(papers, half, parts, rows)
        write_output(args.out, papers, rows)


if __name__ == "__main__":
    main()
