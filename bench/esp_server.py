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


def make_app(latency: float, rate_limited: float, unavailable: float, seed: int = 1) -> web.Application:
    accepted: Counter = Counter()
    answers: Counter = Counter()
    accepted_at: list[float] = []  # loop time of the first and the latest accepted message
    rng = random.Random(seed)

    async def send_email(request: web.Request) -> web.Response:
        if not request.headers.get(TOKEN_HEADER):
            return web.json_response(
                {
                    "ErrorCode": 10,
                    "Message": "No Account or Server API tokens were supplied in the HTTP headers.",
                },
                status=401,
            )
        body = await request.json()
        await asyncio.sleep(latency)
        roll = rng.random()
        if roll < rate_limited:
            answers[429] += 1
            return web.json_response({"ErrorCode": 429, "Message": "Rate limit exceeded."}, status=429)
        if roll < rate_limited + unavailable:
            answers[503] += 1
            return web.Response(status=503, text="Service Unavailable")
        accepted[body["To"]] += 1
        answers[200] += 1
        accepted_at[1:] = [asyncio.get_running_loop().time()]
        if len(accepted_at) == 1:
            accepted_at.insert(0, accepted_at[0])
        return web.json_response(
            {
                "To": body["To"],
                "SubmittedAt": datetime.now(UTC).isoformat(),
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }
        )

    async def stats(request: web.Request) -> web.Response:
        per_recipient = Counter(accepted.values())
        seconds = accepted_at[1] - accepted_at[0] if accepted_at else 0
        return web.json_response(
            {
                # Accepted messages per second from the first to the last: the sending rate
                # without the workers' start-up and index building.
                "accepted_per_second": round((answers[200] - 1) / seconds, 1) if seconds else None,
                "answers": {str(k): v for k, v in answers.items()},
                "recipients": len(accepted),
                "messages_per_recipient": {str(k): v for k, v in sorted(per_recipient.items())},
            }
        )

    app = web.Application(client_max_size=10 * 1024 * 1024)
    app.add_routes([web.post("/email", send_email), web.get("/stats", stats)])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--rate-limited", type=float, default=0.0, help="share of 429 answers")
    parser.add_argument("--unavailable", type=float, default=0.0, help="share of 503 answers")
    args = parser.parse_args()
    app = make_app(args.latency_ms / 1000, args.rate_limited, args.unavailable)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=1024)


if __name__ == "__main__":
    main()
