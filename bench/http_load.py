"""Load generators for bench/site_load.py: Debian's wrk when installed, else a bounded Python loop.

Both keep `connections` keep-alive connections busy for `seconds` against one loopback port and
report requests/s, p50/p99 latency in milliseconds and the count of 5xx answers.
"""

import http.client
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

# (method, path, headers, body) for the n-th request of one connection.
RequestMaker = Callable[[int, int], tuple[str, str, dict[str, str], bytes]]


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(port: int, path: str, seconds: int, connections: int, script: str = "") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
        if script:
            (Path(tmp) / "load.lua").write_text(script)
            cmd += ["-s", str(Path(tmp) / "load.lua")]
        out = subprocess.run(
            [*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
        ).stdout
    return parse_wrk(out)


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict:
    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return round(to_ms(*found.groups()), 1)

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    # wrk counts non-2xx/3xx together; the Lua scripts below count 5xx apart.
    server_errors = re.search(r"server_errors=(\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_second": round(rate),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "server_errors": int(server_errors.group(1)) if server_errors else None,
    }


def python_loop(port: int, make: RequestMaker, seconds: int, connections: int) -> dict:
    """The fallback: one thread per connection; bounded by time, loopback only."""
    latencies: list[float] = []
    statuses: list[int] = []
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = 0
        while time.monotonic() < deadline:
            method, path, headers, body = make(index, n)
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(response.status)
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests_per_second": round(len(latencies) / seconds),
        "p50_ms": round(cuts[49], 1),
        "p99_ms": round(cuts[98], 1),
        "non_2xx": sum(1 for s in statuses if not 200 <= s < 400),
        "server_errors": sum(1 for s in statuses if s >= 500),
    }


# Counts 5xx answers apart from wrk's "non-2xx or 3xx" (a 429 or 400 is not a server error).
COUNT_5XX = """
local threads = {}
function setup(thread) thread:set("id", #threads + 1); table.insert(threads, thread) end
errors = 0
function response(status, headers, body) if status >= 500 then errors = errors + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("errors") end
  io.write(string.format("server_errors=%d\\n", total))
end
"""


def signup_script(prefix: str, suffix: str, headers: dict[str, str]) -> str:
    """Each request a new address and a new client address (X-Forwarded-For) per thread and count."""
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    return (
        COUNT_5XX
        + f"""
local n = 0
request = function()
  n = n + 1
  local serial = id * 10000000 + n
  local ip = string.format("10.%d.%d.%d", id, math.floor(n / 256) % 256, n % 256)
  local h = {{ {lua_headers} }}
  h["X-Forwarded-For"] = ip
  return wrk.format("POST", "/subscribe/", h, "{prefix}" .. serial .. "{suffix}")
end
"""
    )
