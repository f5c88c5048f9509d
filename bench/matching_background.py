"""Build the background document frequencies matching uses for IDF (text only, no labels).

    python bench/matching_background.py [--data PATH] [--split even|odd] [--min-df N] [--out PATH]

None is committed (it showed no gain, see newsletter/textmodel.py); to measure one again, build it
with `--split even --out PATH` and compare `bench/matching_quality.py --split odd --background PATH`
with `--background none`.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.matching_quality import DEFAULT_DATA, in_split, load_papers  # noqa: E402
from newsletter.textmodel import BACKGROUND_PATH, Background  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=["all", "even", "odd"], default="all", help="days by parity")
    parser.add_argument("--min-df", type=int, default=5)
    parser.add_argument("--out", type=Path, default=BACKGROUND_PATH)
    args = parser.parse_args()
    rows = [r for r in load_papers(args.data) if in_split(r, args.split)]
    background = Background.fit((f"{r['title']}\n{r['abstract']}" for r in rows), min_df=args.min_df)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    background.save(args.out)
    size = args.out.stat().st_size
    print(f"{background.n_docs} papers, {len(background.df)} terms, {size / 1e6:.1f} MB -> {args.out}")


if __name__ == "__main__":
    main()
