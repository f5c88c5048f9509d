"""A local stand-in for Postmark's send API, for benchmarks: `POST /email` answered the way
Postmark answers (https://postmarkapp.com/developer/api/email-api), after a fixed latency, with
optional rates of 429 and 503 answers. `GET /stats` tells how many messages it accepted for each
recipient, so a benchmark can check that every reader got exactly one.

    python bench/esp_server.py --port 18310 --latency-ms 100 [--rate-limited 0.025 --unavailable 0.025]
"""

import argparse
import asyncio
import random
import uuid
from collections import Counter
from datetime import UTC, datetime

from aiohttp import web

TOKEN_HEADER = "X-Postmark-Server-Token"


class FakePostmark:
    """Answers like Postmark; counts what it accepted per recipient."""

    def __init__(self, latency: float, rate_limited: float, unavailable: float, seed: int = 1):
        self.latency, self.rate_limited, self.unavailable = latency, rate_limited, unavailable
        self.rng = random.Random(seed)
        self.accepted: Counter = Counter()
        self.answers: Counter = Counter()
        self.accepted_at: list[float] = []  # loop time of the first and the latest acceptance

    async def send_email(self, request: web.Request) -> web.Response:
        if not request.headers.get(TOKEN_HEADER):
            message = "No Account or Server API tokens were supplied in the HTTP headers."
            return web.json_response({"ErrorCode": 10, "Message": message}, status=401)
        body = await request.json()
        await asyncio.sleep(self.latency)
        roll = self.rng.random()
        if roll < self.rate_limited:
            self.answers[429] += 1
            return web.json_response({"ErrorCode": 429, "Message": "Rate limit exceeded."}, status=429)
        if roll < self.rate_limited + self.unavailable:
            self.answers[503] += 1
            return web.Response(status=503, text="Service Unavailable")
        self.accept(body["To"])
        submitted = datetime.now(UTC).isoformat()
        return web.json_response(
            {
                "To": body["To"],
                "SubmittedAt": submitted,
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        )

    def accept(self, recipient: str) -> None:
        self.accepted[recipient] += 1
        self.answers[200] += 1
        now = asyncio.get_running_loop().time()
        self.accepted_at = [self.accepted_at[0] if self.accepted_at else now, now]

    async def stats(self, request: web.Request) -> web.Response:
        seconds = self.accepted_at[1] - self.accepted_at[0] if self.accepted_at else 0
        per_recipient = Counter(self.accepted.values())
        return web.json_response(
            {
                # Accepted messages per second from the first to the last: the sending rate
                # without the workers' start-up and index building.
                "accepted_per_second": round((self.answers[200] - 1) / seconds, 1) if seconds else None,
                "answers": {str(k): v for k, v in self.answers.items()},
                "recipients": len(self.accepted),
                "messages_per_recipient": {str(k): v for k, v in sorted(per_recipient.items())},
            }
        )

    def app(self) -> web.Application:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.add_routes([web.post("/email", self.send_email), web.get("/stats", self.stats)])
        return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--rate-limited", type=float, default=0.0, help="share of 429 answers")
    parser.add_argument("--unavailable", type=float, default=0.0, help="share of 503 answers")
    args = parser.parse_args()
    app = FakePostmark(args.latency_ms / 1000, args.rate_limited, args.unavailable).app()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=1024)


if __name__ == "__main__":
    main()
