"""Save throughput with PRAGMA synchronous = NORMAL against FULL (issue 13, item 4).

Issue 13's rule: if FULL costs less than 20% of save throughput, use it. In WAL mode, NORMAL
syncs the WAL only at checkpoints (a committed transaction survives a killed process, not
always a power cut); FULL syncs the WAL at every commit.

One database per mode, made by the store's migrations with the kindergarten flow published and
some sessions, in one folder (default: the system's temporary folder; pass --dir to measure
the disk the server uses). The store's own save (`Store.save_answers`, one step's answers as
the step page saves them) is timed in rounds that take turns between the two modes, the order
swapped every round, all in this one process: sequential saves from one connection, then
saves from several threads each with its own connection (as gunicorn's threads and workers
each have theirs). The FULL connections are opened by store.connect (through Store) and then
set to `PRAGMA synchronous = FULL`. Prints saves/s (median over rounds) and FULL/NORMAL.
A bench: asserts nothing.
    .venv/bin/python bench/sync_mode.py
    .venv/bin/python bench/sync_mode.py --seconds 2 --rounds 5 --threads 4 --dir /var/lib/wizard
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from wizard import store
from wizard.flow import loader

ROOT = Path(__file__).resolve().parent.parent
FLOW = "kindergarten-shanghai"
MODES = ("NORMAL", "FULL")


def open_store(path: Path, mode: str) -> store.Store:
    s = store.Store(path)  # store.connect: WAL, synchronous NORMAL, ...
    if mode != "NORMAL":
        s.db.execute(f"PRAGMA synchronous = {mode}")
    got = s.db.execute("PRAGMA synchronous").fetchone()[0]
    assert got == {"NORMAL": 1, "FULL": 2}[mode], (mode, got)
    return s


def make_db(path: Path, sessions: int) -> list[int]:
    s = store.Store(path)
    s.migrate()
    flow = loader.load_file(ROOT / "flows" / f"{FLOW}.yaml").flow
    s.publish_flow(flow)
    ids = [s.create_session(os.urandom(16).hex(), FLOW, flow.version, "en",
                            resume_salt="salt", resume_hash=os.urandom(16).hex(),
                            consent_version="v1") for _ in range(sessions)]
    s.close()
    return ids


def save_loop(s: store.Store, ids: list[int], until: float, offset: int) -> int:
    n = 0
    while time.perf_counter() < until:
        session_id = ids[(offset + n) % len(ids)]
        s.save_answers(session_id, {"child_dob": f"2022-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                                    "hukou": ("shanghai", "other_province")[n % 2]},
                       device="bench", reached=2)
        n += 1
    return n


def run(stores: list[store.Store], ids: list[int], seconds: float) -> float:
    """Saves per second from these connections, one thread each, for `seconds`."""
    counts = [0] * len(stores)
    start = time.perf_counter()
    until = start + seconds

    def work(i: int) -> None:
        counts[i] = save_loop(stores[i], ids, until, i * 7)

    if len(stores) == 1:
        work(0)
    else:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return sum(counts) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per run (default 1.5)")
    parser.add_argument("--rounds", type=int, default=5, help="runs per mode (default 5)")
    parser.add_argument("--threads", type=int, default=4,
                        help="connections of the threaded case (default 4)")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--dir", help="folder for the databases (default: a temporary one)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="wizard-sync-mode-", dir=args.dir))
    try:
        paths = {mode: folder / f"{mode.lower()}.sqlite3" for mode in MODES}
        ids = {mode: make_db(paths[mode], args.sessions) for mode in MODES}
        print(f"databases in {folder}; {args.rounds} rounds of {args.seconds} s per mode "
              f"and case, order swapped every round")
        results: dict[str, dict[str, list[float]]] = {}
        for case, conns in (("sequential", 1), (f"{args.threads} threads", args.threads)):
            opened = {mode: [open_store(paths[mode], mode) for _ in range(conns)]
                      for mode in MODES}
            figures: dict[str, list[float]] = {mode: [] for mode in MODES}
            run(opened["NORMAL"], ids["NORMAL"], 0.3)  # warm up caches and the WAL
            run(opened["FULL"], ids["FULL"], 0.3)
            for r in range(args.rounds):
                for mode in (MODES if r % 2 == 0 else MODES[::-1]):
                    figures[mode].append(run(opened[mode], ids[mode], args.seconds))
            for mode in MODES:
                for s in opened[mode]:
                    s.close()
            results[case] = figures

        print(f"{'case':<14}{'NORMAL saves/s':>16}{'FULL saves/s':>14}{'FULL/NORMAL':>13}")
        for case, figures in results.items():
            normal = statistics.median(figures["NORMAL"])
            full = statistics.median(figures["FULL"])
            print(f"{case:<14}{normal:>16.0f}{full:>14.0f}{full / normal:>13.2f}")
            print(f"{'':<14}{'runs: ' + ' '.join(f'{x:.0f}' for x in figures['NORMAL']):>16}"
                  f"  {'runs: ' + ' '.join(f'{x:.0f}' for x in figures['FULL'])}")
        print("issue 13: use FULL if it costs less than 20% of save throughput "
              "(FULL/NORMAL above 0.80)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
