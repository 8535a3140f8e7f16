"""The audit hash chain's cost: appends per second (one record per transaction, as a page view writes it, and
in batches of 50, as a screening save writes them) and records verified per second by `mibg audit verify`'s walk,
and a backup of the result (a benchmark that prints figures, not a timed test).

    MIBG_DEBUG=1 MIBG_DATA_DIR=/tmp/mibg-bench python bench/bench_audit_chain.py [--records 100000]

Runs on the configured database: a fresh SQLite file in MIBG_DATA_DIR (removed first), or DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("MIBG_DEBUG", "1")
    os.environ.setdefault("MIBG_DATA_DIR", tempfile.mkdtemp(prefix="mibg-bench-"))
    os.environ["MIBG_SQLITE_NAME"] = "bench-audit.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mibg.web.settings")
    if not os.environ.get("DATABASE_URL"):
        (Path(os.environ["MIBG_DATA_DIR"]) / "bench-audit.sqlite3").unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from mibg.commands.backup import make_backup
    from mibg.web.audit.chain import verify
    from mibg.web.audit.models import AuditEvent

    call_command("migrate", verbosity=0)

    def event(i: int) -> AuditEvent:
        return AuditEvent(username="nora", action="update", model="courses.Course", object_id=str(i % 97),
                          field="snapshot_json:labs.platelets.value", old_value="14", new_value=str(i), note="bench")

    singles = 2000
    start = time.perf_counter()
    for i in range(singles):
        event(i).save()
    single_s = time.perf_counter() - start
    print(f"append, one record per transaction: {singles / single_s:,.0f} records/s ({1000 * single_s / singles:.2f} ms each)")

    batches = (args.records - singles) // 50
    start = time.perf_counter()
    for b in range(batches):
        with transaction.atomic():
            AuditEvent.objects.bulk_create([event(b * 50 + j) for j in range(50)])
    batch_s = time.perf_counter() - start
    print(f"append, 50 records per transaction: {50 * batches / batch_s:,.0f} records/s")

    start = time.perf_counter()
    report = verify()
    verify_s = time.perf_counter() - start
    print(f"verify: {report.records:,} records in {verify_s:.2f} s ({report.records / verify_s:,.0f} records/s); "
          f"{'intact' if report.intact else report.broken}")

    target = Path(os.environ["MIBG_DATA_DIR"]) / f"bench-{time.time_ns()}.backup"
    start = time.perf_counter()
    manifest = make_backup(target)
    print(f"backup (with the chain walk and row counts): {manifest['size_bytes'] / 1e6:.1f} MB in "
          f"{time.perf_counter() - start:.2f} s")
    target.unlink()
    Path(f"{target}.manifest.json").unlink()


if __name__ == "__main__":
    main()
