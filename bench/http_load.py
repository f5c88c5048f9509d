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
    # wrk counts non-2xx/3xx together; the Lua scripts print their own counters (lua_counters).
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result = {
        "requests_per_second": round(rate),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        # Requests wrk gave up on after its 2 s timeout: they have no latency.
        "timeouts": int(timeouts.group(1)) if (timeouts := re.search(r"timeout (\d+)", out)) else 0,
    }
    result.update((name, int(count)) for name, count in re.findall(r"^(\w+)=(\d+)$", out, re.M))
    return result


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


def lua_counters(*names: str) -> str:
    """Lua for wrk: per-thread counters (`server_errors` counts 5xx answers, apart from wrk's
    "non-2xx or 3xx": a 429 or 400 is not a server error), summed over the threads at the end
    and printed as name=count."""
    zeros = "".join(f"{name} = 0\n" for name in names)
    sums = "".join(f'  io.write(string.format("{name}=%d\\n", sum("{name}")))\n' for name in names)
    return f"""
local threads = {{}}
function setup(thread) thread:set("id", #threads + 1); table.insert(threads, thread) end
{zeros}function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end
local function sum(name)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get(name) end
  return total
end
function done(summary, latency, requests)
{sums}end
"""


COUNT_5XX = lua_counters("server_errors")


def signup_script(prefix: str, suffix: str, headers: dict[str, str], values: Path, threads: int = 2) -> str:
    """Each request a new address, a new client address (X-Forwarded-For) and a form value of its
    own from the file `values` (one per line, shared out between wrk's threads). Should the
    values run out, they are used again and counted: the server drops such a sign-up as replayed."""
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    return (
        lua_counters("server_errors", "reused_form_values")
        + f"""
local values = {{}}
function init(args)
  local line_number = 0
  for line in io.lines("{values}") do
    if line_number % {threads} == id - 1 then values[#values + 1] = line end
    line_number = line_number + 1
  end
end
local n = 0
request = function()
  n = n + 1
  if n > #values then reused_form_values = reused_form_values + 1 end
  local serial = id * 10000000 + n
  local ip = string.format("10.%d.%d.%d", id, math.floor(n / 256) % 256, n % 256)
  local h = {{ {lua_headers} }}
  h["X-Forwarded-For"] = ip
  local body = "{prefix}&started=" .. values[(n - 1) % #values + 1] .. "&email=bench" .. serial .. "{suffix}"
  return wrk.format("POST", "/subscribe/", h, body)
end
"""
    )
