"""Give the demo papers the rest of what a Hugging Face card shows, so the demo looks like the
real site:

    python demo/enrich_papers.py demo/papers.json ../shared/data/matching/dev.jsonl.gz > new.json

- A paper whose exact title is in the arXiv data set (JSON lines with "id" and "title") gets its
  real arXiv id, and with it arXiv and PDF links and its Hugging Face thumbnail. No id is ever
  made up: the other papers keep their derived ids and have no such links.
- Author names (as many as the page counted), comment counts and GitHub stars are illustrative,
  drawn from a fixed seed per paper so that a rebuild gives the same file.
"""

import gzip
import json
import random
import sys

GIVEN = ["Wei", "Anna", "Rahul", "Sofia", "Jun", "Lukas", "Mei", "Omar", "Elena", "Kenji", "Maria",
         "Tom", "Yuki", "Chen", "Amara", "Pavel", "Lea", "Diego", "Hana", "Ibrahim"]  # fmt: skip
FAMILY = ["Zhang", "Müller", "Gupta", "Rossi", "Kim", "Novak", "Chen", "Haddad", "Ivanova", "Sato",
          "Okafor", "Silva", "Nguyen", "Larsen", "Kowalski", "Wang", "Dubois", "Tanaka"]  # fmt: skip
THUMBNAIL = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{}.png"


def arxiv_ids(path: str) -> dict[str, str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return {" ".join(r["title"].lower().split()): r["id"] for r in map(json.loads, lines)}


def enrich(item: dict, known: dict[str, str]) -> dict:
    paper = item["paper"]
    rng = random.Random(paper["id"])
    real_id = known.get(" ".join(paper["title"].lower().split()))
    if real_id:
        paper["id"] = real_id
        item["thumbnail"] = THUMBNAIL.format(real_id)
    count = paper.pop("numAuthors", 0) or len(paper["authors"]) or rng.randint(2, 9)
    paper["authors"] = [{"name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"} for _ in range(count)]
    item["numComments"] = rng.choice([0, 0, 1, 2, 3, 5, 8])
    if paper.get("githubRepo"):
        paper["githubStars"] = int(rng.lognormvariate(5, 1.5))
    return item


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as demo:
        items = json.load(demo)
    known = arxiv_ids(sys.argv[2])
    json.dump([enrich(item, known) for item in items], sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
