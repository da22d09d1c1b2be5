"""Throughput and latency over HTTP, against a bare Flask app under the same gunicorn settings.

Starts the wizard as `make serve` does (gunicorn -c gunicorn.conf.py; a fresh database in a
temporary folder, `wizard init-db`, `wizard import` of flows/; free ports), and beside it
bench/bare_flask.py under the same gunicorn settings, then drives both with wrk (bench/load.lua)
for a bounded time per scenario. Prints requests/s, p50 and p99 latency, failed requests and the
ratio to bare Flask, then PASS/FAIL against issue 13's goals. A bench: the exit code is 0
whatever the figures (it is 1 only when the bench itself cannot run).
    .venv/bin/python bench/load.py            # needs wrk (make wrk)
    .venv/bin/python bench/load.py --seconds 3 --families 32

wrk runs on the same machine as the servers, so the two share the CPU: the figures are a lower
bound of what the box serves, and the ratio to bare Flask is the figure to compare over time.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "load.lua"
FLOW = "kindergarten-shanghai"
STEP = "hukou"  # a choice step, after child-birth: the step the in-process bench measures

# Issue 13's goals.
GOAL_RATIO = 0.5  # step page and saved step: at least half of bare Flask's requests/s
GOAL_P99_MS = 100.0  # at 50 families reading and tapping on (think time), p99 below this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One gunicorn, configured by gunicorn.conf.py, its log in a file (it logs every request)."""

    def __init__(self, name: str, folder: Path, env: dict, app: list[str] | None = None):
        self.name = name
        self.port = free_port()
        self.log = folder / f"{name}.log"
        self.env = dict(env, PORT=str(self.port), HOST="127.0.0.1")
        self.argv = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), *(app or [])]
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, probe: str) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.base + probe, timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} did not start; its log:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the arbiter and its workers, ours only
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def family(base: str, dob: str) -> tuple[str, str, str]:
    """A family as a phone makes one: the start page, consent, the first step, then the bench
    step's page. Returns its Cookie header (the flow's session cookie and Flask's session
    cookie, which holds the CSRF secret), the bench step's csrf_token, url-encoded, and the
    revision the page carries."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)

    def call(path: str, form: dict | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with opener.open(base + path, data=data, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:  # 3xx without following, 4xx
            return e.code, e.read().decode(errors="replace")

    def token(html: str) -> str:
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
            re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
        if not found:
            raise RuntimeError("no csrf_token in the page")
        return found.group(1)

    _, html = call(f"/f/{FLOW}/")
    status, _ = call(f"/f/{FLOW}/", {"csrf_token": token(html), "consent": "yes"})
    assert status == 303, f"consent: {status}"
    _, html = call(f"/f/{FLOW}/child-birth")
    day, month, year = dob.split("-")
    status, _ = call(f"/f/{FLOW}/child-birth", {
        "csrf_token": token(html), "revision": _revision(html), "child_dob-day": day,
        "child_dob-month": month, "child_dob-year": year})
    assert status == 303, f"child-birth: {status}"
    status, html = call(f"/f/{FLOW}/{STEP}")
    assert status == 200, f"{STEP}: {status}"
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, urllib.parse.quote(token(html), safe=""), _revision(html)


def _revision(html: str) -> str:
    found = re.search(r'name="revision" value="(\d*)"', html)
    return found.group(1) if found else ""


def wrk(url: str, scenario: str, seconds: int, connections: int, threads: int,
        env: dict) -> dict:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
            "-s", str(LUA), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False,
                         env=dict(os.environ, **env, WRK_SCENARIO=scenario,
                                  WRK_THREADS=str(threads)))
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        sys.exit(f"wrk gave no figures:\n{out.stdout}\n{out.stderr}")
    result = json.loads(line[len("WRK_JSON "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def failures(result: dict, ok: set[int]) -> int:
    """Requests that did not get an expected answer: socket errors and timeouts, and any
    status outside `ok` (wrk itself only counts statuses of 400 and up as errors)."""
    e = result["errors"]
    bad = e["connect"] + e["read"] + e["write"] + e["timeout"]
    return bad + sum(n for code, n in result["statuses"].items() if int(code) not in ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per scenario (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--families", type=int, default=64,
                        help="sessions made before the load (default 64)")
    parser.add_argument("--think-connections", type=int, default=50)
    parser.add_argument("--think-ms", default="100,500", help="min,max think time")
    parser.add_argument("--no-gzip", action="store_true",
                        help="send no Accept-Encoding (phones send it; the app then compresses)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: `make wrk` (Debian package wrk)", file=sys.stderr)
        return 1

    from wizard.flow import loader  # after the check: `python bench/load.py --help` stays fast

    version = loader.load_file(ROOT / "flows" / f"{FLOW}.yaml").flow.version
    folder = Path(tempfile.mkdtemp(prefix="wizard-load-"))
    env = dict(os.environ, WIZARD_DATABASE=str(folder / "wizard.sqlite3"),
               WIZARD_SECRET_KEY="load-bench-" + os.urandom(8).hex())
    for cmd in (["init-db"], ["import"]):
        subprocess.run([str(BIN / "wizard"), *cmd], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)

    bare = Server("bare-flask", folder, env, ["--chdir", str(ROOT / "bench"), "bare_flask:app"])
    app = Server("wizard", folder, env)
    app.env["WIZARD_PUBLIC_ORIGIN"] = app.base
    gzip = {} if args.no_gzip else {"WRK_GZIP": "1"}
    common = dict(gzip, WRK_FLOW=FLOW, WRK_STEP=STEP, WRK_VERSION=str(version))
    results: dict[str, dict] = {}
    try:
        bare.start("/")
        app.start("/healthz")
        t0 = time.monotonic()
        lines = [family(app.base, f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}")
                 for i in range(args.families)]
        sessions = folder / "sessions.tsv"
        sessions.write_text("".join("\t".join(x) + "\n" for x in lines))
        load1 = os.getloadavg()[0]
        print(f"load average {load1:.1f} on {os.cpu_count()} CPUs"
              + ("  (a busy machine: figures are low and noisy)"
                 if load1 > (os.cpu_count() or 1) else ""))
        print(f"{args.families} families started in {time.monotonic() - t0:.1f} s; "
              f"wrk: {args.threads} threads, {args.connections} connections, "
              f"{args.seconds} s a scenario; "
              f"{'no Accept-Encoding' if args.no_gzip else 'Accept-Encoding: gzip, deflate, br'}")
        env_s = dict(common, WRK_SESSIONS=str(sessions))
        run = {"seconds": args.seconds, "threads": args.threads}
        # A short warm-up of each server: imports, templates, the flow cache.
        wrk(bare.base + "/", "plain", 2, args.connections, args.threads, {})
        wrk(app.base + f"/f/{FLOW}/{STEP}", "step", 2, args.connections, args.threads, env_s)

        scenarios = [
            ("bare Flask GET /", bare.base + "/", "plain", {}, {200}),
            ("GET /healthz", app.base + "/healthz", "plain", gzip, {200}),
            ("GET a step page", app.base + "/", "step", env_s, {200}),
            ("POST a step (saved)", app.base + "/", "save", env_s, {303}),
            ("POST sync, a pull", app.base + "/", "pull", env_s, {200}),
            ("POST sync, one new step", app.base + "/", "push", env_s, {200}),
        ]
        for name, url, scenario, extra, ok in scenarios:
            results[name] = wrk(url, scenario, connections=args.connections, env=extra, **run)
            results[name]["failed"] = failures(results[name], ok)
        think = dict(env_s, WRK_THINK_MS=args.think_ms)
        name_think = (f"GET a step page, {args.think_connections} families, "
                      f"think {args.think_ms.replace(',', '-')} ms")
        results[name_think] = wrk(app.base + "/", "step", connections=args.think_connections,
                                  env=think, **run)
        results[name_think]["failed"] = failures(results[name_think], {200})
        errors_in_logs = [line for line in app.log.read_text().splitlines()
                          if "Traceback" in line or "[ERROR]" in line or "WORKER TIMEOUT" in line]
    finally:
        app.stop()
        bare.stop()

    floor = results["bare Flask GET /"]["rps"]
    print(f"\n{'scenario':<52}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"
          f"{'x bare':>8}")
    for name, r in results.items():
        print(f"{name:<52}{r['rps']:9.0f}{r['p50_us'] / 1e3:9.2f}{r['p99_us'] / 1e3:9.2f}"
              f"{r['failed']:8d}{r['rps'] / floor:8.2f}")
    print("(failed: socket errors, timeouts and any status but the expected one: 200, "
          "or 303 for the saved step)")

    checks = [
        (f"step page >= {GOAL_RATIO} x bare Flask",
         results["GET a step page"]["rps"] / floor >= GOAL_RATIO,
         f"{results['GET a step page']['rps'] / floor:.2f}"),
        (f"saved step >= {GOAL_RATIO} x bare Flask",
         results["POST a step (saved)"]["rps"] / floor >= GOAL_RATIO,
         f"{results['POST a step (saved)']['rps'] / floor:.2f}"),
        (f"p99 < {GOAL_P99_MS:.0f} ms at {args.think_connections} families with think time",
         results[name_think]["p99_us"] / 1e3 < GOAL_P99_MS,
         f"{results[name_think]['p99_us'] / 1e3:.1f} ms"),
        ("no failed requests", all(r["failed"] == 0 for r in results.values()),
         f"{sum(r['failed'] for r in results.values())} failed"),
        ("no errors in the wizard's log", not errors_in_logs,
         f"{len(errors_in_logs)} lines"),
    ]
    print()
    for text, ok, figure in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text:<52}({figure})")
    for line in errors_in_logs[:5]:
        print("   ", line)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
