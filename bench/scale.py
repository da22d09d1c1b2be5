"""A step save and a resume with a thousand and with a million stored sessions (issue 13).

Goal: the million's latency at most 1.2 times the thousand's (every query that grows with the
data goes through an index; tests/unit/test_query_plans.py checks the plans). Each database is
made by the store's own migrations, then filled fast straight into its tables (executemany in
one transaction, journal and sync off: for generating only), ten answers a session, each sealed
with the database's key as the store seals them. Then the
store itself is timed on the ordinary settings (WAL, synchronous NORMAL): a step save as the
step page does it (`save_answers` with seen_revision, device and reached) and a resume
(`session_by_resume` then `answers`), each on a session drawn at random, in rounds that take
turns between the two databases. Prints figures and ratios; asserts nothing.
    .venv/bin/python bench/scale.py                 # 1,000 and 1,000,000 sessions
    .venv/bin/python bench/scale.py --sizes 1000,100000
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from wizard import store
from wizard.flow import loader

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "flows" / "kindergarten-shanghai.yaml"
ANSWERS = {  # field -> a typical value (JSON): ten answers a session
    "child_dob": "2023-10-01", "child_age_months": 46, "hukou": "other_province",
    "district": "pudong", "has_permit": True, "permit_points": False, "child_has_permit": True,
    "social_insurance": "six_months", "housing": "filed_lease", "guardian1_mobile": "13800138000",
}
STATUSES = ["active"] * 12 + ["completed"] * 6 + ["expired", "deleted"]  # one in ten ended
SAVED = {"hukou": "shanghai"}, {"hukou": "other_province"}  # alternated: every save changes
ROUNDS, PER_ROUND, WARM = 5, 400, 100


def digest(kind: str, number: int) -> str:
    return hashlib.sha256(f"{kind}{number}".encode()).hexdigest()


def stamp(unix_time: float) -> str:
    return datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc).isoformat(
        timespec="seconds")


def generate(path: Path, sessions: int, flow) -> float:
    """A migrated database with `sessions` sessions, a device token each and ten answers
    each (none for ended ones: erased); returns seconds taken."""
    started = time.perf_counter()
    s = store.Store(path)
    s.migrate()
    s.publish_flow(flow)
    keys = s.keys  # answers are sealed, as the store seals them (wizard/sealing.py)
    s.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # generating only: a crash loses a temp file
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # 1 GB: the indexes stay in memory
    conn.execute("BEGIN")
    start = time.time() - 60 * 86400  # two months of registrations
    values = {field: json.dumps(value) for field, value in ANSWERS.items()}

    def session_rows():
        for i in range(1, sessions + 1):
            created = start + i * 60 * 86400 / sessions
            status = STATUSES[i % len(STATUSES)]
            done = stamp(created + 1800) if status == "completed" else None
            yield (i, flow.id, flow.version, "zh_Hans" if i % 3 else "en", status, 10,
                   digest("salt", i)[:32], digest("resume", i),
                   digest("pin", i) if i % 4 == 0 else None, "v1", stamp(created),
                   "housing", stamp(created), stamp(created + 3600), done,
                   "android" if i % 5 else "ios", 12)

    conn.executemany(
        "INSERT INTO sessions (id, flow_id, flow_version, locale, status, revision, "
        "resume_salt, resume_hash, pin_hash, consent_version, consent_at, last_step, "
        "created_at, updated_at, completed_at, device_kind, furthest) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", session_rows())
    conn.executemany(
        "INSERT INTO session_tokens (token_hash, session_id, created_at) VALUES (?, ?, ?)",
        ((digest("token", i), i, stamp(start)) for i in range(1, sessions + 1)))

    def answer_rows():
        for i in range(1, sessions + 1):
            if STATUSES[i % len(STATUSES)] in ("expired", "deleted"):
                continue
            at, device = stamp(start + i * 60 * 86400 / sessions), digest("token", i)
            for n, (field, value) in enumerate(sorted(values.items())):
                yield (i, field, keys.seal(value, f"answers/{i}/{field}"), n + 1, "family",
                       at, device)

    conn.executemany(
        "INSERT INTO answers (session_id, field_id, value, revision, entered_by, entered_at, "
        "device) VALUES (?, ?, ?, ?, ?, ?, ?)", answer_rows())
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return time.perf_counter() - started


class Target:
    """One database and the store on it, as the app opens it."""

    def __init__(self, path: Path, sessions: int, flow):
        self.sessions = sessions
        self.store = store.Store(path)
        self.open = [i for i in range(1, sessions + 1)
                     if STATUSES[i % len(STATUSES)] in ("active", "completed")]
        self.revision: dict[int, int] = {}
        self.turn = 0
        self.place = flow.place("hukou")
        self.rng = random.Random(sessions)
        self.saves: list[float] = []
        self.resumes: list[float] = []

    def save(self) -> float:
        sid = self.rng.choice(self.open)
        self.turn += 1
        began = time.perf_counter()
        self.revision[sid] = self.store.save_answers(
            sid, SAVED[self.turn % 2], seen_revision=self.revision.get(sid, 10),
            device=digest("token", sid), reached=self.place)
        return time.perf_counter() - began

    def resume(self) -> float:
        lookup = digest("resume", self.rng.choice(self.open))
        began = time.perf_counter()
        sess = self.store.session_by_resume(lookup)
        self.store.answers(sess["id"])
        return time.perf_counter() - began


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.0f} µs"


def measure(targets: list[Target], title: str) -> None:
    for t in targets:  # warm: the first calls open the file and fill SQLite's cache
        t.saves, t.resumes = [], []
        for _ in range(WARM):
            t.save()
            t.resume()
    for _ in range(ROUNDS):  # rounds take turns, so drift (the machine) hits both
        for t in targets:
            t.saves += [t.save() for _ in range(PER_ROUND)]
            t.resumes += [t.resume() for _ in range(PER_ROUND)]
    print(f"\n{title}: {ROUNDS * PER_ROUND} runs each, sessions drawn at random; "
          "median (p90)")
    for t in targets:
        for name, runs in (("step save", t.saves), ("resume", t.resumes)):
            p90 = statistics.quantiles(runs, n=10)[-1]
            print(f"{t.sessions:>9,} sessions  {name:<10}{us(statistics.median(runs))}"
                  f" ({us(p90).strip()})")
    small, big = targets[0], targets[-1]
    if big is not small:
        print(f"latency ratio {big.sessions:,} / {small.sessions:,} (goal <= 1.2):")
        for name, runs in (("step save", "saves"), ("resume", "resumes")):
            ratio = (statistics.median(getattr(big, runs))
                     / statistics.median(getattr(small, runs)))
            print(f"  {name:<10}{ratio:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000",
                        help="numbers of sessions, comma-separated (default: 1000,1000000)")
    parser.add_argument("--keep", metavar="FOLDER",
                        help="keep the databases in FOLDER and use those already there "
                             "(to compare code changes without generating again)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    flow = loader.load_file(FLOW).flow
    folder = Path(args.keep or tempfile.mkdtemp(prefix="wizard-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        targets = []
        for n in sizes:
            path = folder / f"{n}.sqlite3"
            if path.exists():
                print(f"using {path} ({path.stat().st_size / 1e6:.1f} MB)")
            else:
                took = generate(path, n, flow)
                size = path.stat().st_size / 1e6
                print(f"generated {n:>9,} sessions ({n * len(ANSWERS) * 9 // 10:>10,} "
                      f"answers): {took:6.1f} s, {size:7.1f} MB")
            targets.append(Target(path, n, flow))
        measure(targets, "the app's connection settings")
        for t in targets:
            t.store.close()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
