"""`mibg backup` and `mibg restore`: a populated database comes back row for row, in every table; a damaged file,
a missing manifest or a database that holds data is refused; bad paths are one-line errors.

The database under test is SQLite, or PostgreSQL when DATABASE_URL is set (restored into a second database
made for the test, named after the test database). Checksums are computed here with hashlib.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

import mibg
from mibg.cli import main

SOURCE = str(Path(mibg.__file__).resolve().parents[1])
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def populated(people, make_course):
    """Dr Patel's patient through administration, release (exposure-rate readings) and follow-up (labs,
    transfusions, adverse events, response); a second patient only screened; an API token."""
    from mibg.web.accounts.models import ApiToken
    from mibg.web.followup import demo as followup_demo

    followed = make_course(until="follow-up", days_ahead=-30)
    followup_demo.counts_after(people["nora"], followed)
    followup_demo.events_and_response(people["patel"], followed, review=True)
    make_course(until="eligible")
    ApiToken.issue(people["sam"], "backup test")
    return followed


def run_mibg(args: list[str], data_dir: Path, database_url: str | None) -> subprocess.CompletedProcess[str]:
    """`mibg` in its own process, as an operator runs it: its own settings, a fresh data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"MIBG_DEBUG": "1", "MIBG_DATA_DIR": str(data_dir), "PYTHONPATH": SOURCE})
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "mibg.cli", *args], env=env, capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture
def new_database(tmp_path):
    """``new_database("a")`` -> (data dir, DATABASE_URL or None, reader): where a `mibg` process restores to, a new
    SQLite file or a new PostgreSQL database named after the test database (dropped afterwards)."""
    made: list[str] = []
    settings = connection.settings_dict
    base = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    password = {"password": settings["PASSWORD"]} if settings.get("PASSWORD") else {}

    def admin(statement: str) -> None:
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True, **password) as conn:
            conn.execute(statement)

    def make(label: str):
        data_dir = tmp_path / f"database-{label}"
        data_dir.mkdir()
        if connection.vendor == "sqlite":
            return data_dir, None, lambda: sqlite3.connect(data_dir / "mibg.sqlite3")
        import psycopg

        name = f"{settings['NAME']}_{label}"
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return data_dir, f"{base}/{name}", lambda: psycopg.connect(f"{base}/{name}", **password)

    yield make
    for name in made:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh(new_database):
    return new_database("restored")


def original_reader():
    """A plain connection to the database under test (not Django's: values exactly as stored)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return sqlite3.connect(settings["NAME"], uri=True)
    import psycopg

    password = {"password": settings["PASSWORD"]} if settings.get("PASSWORD") else {}
    return psycopg.connect(f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
                           f"{settings['NAME']}", **password)


def every_row(reader, tables: list[str]) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order (rows as stored; the order does not matter to equality)."""
    conn = reader()
    try:
        out = {}
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            out[table] = sorted((tuple(row) for row in cursor.fetchall()), key=repr)
        return out
    finally:
        conn.close()


def tables_of(reader) -> list[str]:
    conn = reader()
    try:
        if isinstance(conn, sqlite3.Connection):
            query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        else:
            query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return sorted(row[0] for row in conn.execute(query).fetchall())
    finally:
        conn.close()


def test_a_populated_database_restored_into_a_fresh_one_is_the_same_in_every_row_of_every_table(populated, fresh,
                                                                                                  tmp_path, capsys):
    data_dir, url, restored = fresh
    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    assert f"mibg backup: {backup} ({connection.vendor}," in capsys.readouterr().out

    done = run_mibg(["restore", str(backup)], data_dir, url)
    assert (done.returncode, done.stderr) == (0, "")
    assert "tables and" in done.stdout
    assert "match the manifest; audit chain intact" in done.stdout

    tables = sorted(connection.introspection.table_names())
    assert tables_of(restored) == tables
    before, after = every_row(original_reader, tables), every_row(restored, tables)
    # Not a vacuous comparison: the clinical record, the people and the trail are there.
    for table in ("accounts_user", "auth_group", "accounts_user_groups", "patients_patient", "courses_course",
                  "directives_writtendirective", "treatment_assay", "treatment_administration", "radiation_exposurereading",
                  "followup_labresult", "followup_transfusion", "followup_adverseevent", "audit_auditevent",
                  "django_migrations"):
        assert before[table], table
    for table in tables:
        assert after[table] == before[table], table


def test_the_manifest_records_engine_versions_migrations_every_tables_rows_the_chain_and_the_checksum(populated, tmp_path):
    from mibg.web.audit.models import AuditChainHead

    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    manifest = json.loads((tmp_path / "clinic.backup.manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "mibg-backup-manifest-v1"
    assert manifest["engine"] == connection.vendor
    assert manifest["software_version"] == "0.1.0"
    assert manifest["protocol_version"] == "NCT01370330 v1.1.0"
    assert manifest["created_utc"].endswith("Z")
    assert manifest["sha256"] == hashlib.sha256(backup.read_bytes()).hexdigest()
    assert manifest["size_bytes"] == backup.stat().st_size
    assert backup.stat().st_mode & 0o777 == 0o600  # every patient's record: the owner only
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        assert manifest["migrations"] == [list(row) for row in cursor.fetchall()]
        assert sorted(manifest["tables"]) == sorted(connection.introspection.table_names())
        for table, rows in manifest["tables"].items():
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            assert cursor.fetchone()[0] == rows, table
    head = AuditChainHead.objects.get(pk=1)
    assert manifest["audit_chain"] == {"records": head.seq, "head_seq": head.seq, "head_hash": head.record_hash,
                                       "intact": True, "broken": None}


def test_a_backup_file_damaged_by_one_byte_is_refused_and_nothing_is_restored(populated, fresh, tmp_path):
    data_dir, url, _restored = fresh
    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01
    backup.write_bytes(bytes(data))

    done = run_mibg(["restore", str(backup)], data_dir, url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert f"{backup}: its SHA-256 {hashlib.sha256(bytes(data)).hexdigest()} is not the manifest's" in done.stderr
    assert "nothing was restored" in done.stderr
    assert not (data_dir / "mibg.sqlite3").exists()  # SQLite: not even created (PostgreSQL: checked before Django)


def test_a_backup_without_its_manifest_is_refused(populated, tmp_path, capsys):
    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    (tmp_path / "clinic.backup.manifest.json").unlink()
    capsys.readouterr()
    assert main(["restore", str(backup)]) == 2
    err = capsys.readouterr().err
    assert err == f"mibg: error: restore: {backup}.manifest.json: the manifest is missing; a backup without its manifest " \
                  "cannot be checked and is not restored\n"


def test_restore_refuses_to_overwrite_a_database_holding_data_and_changes_nothing(populated, tmp_path, capsys):
    from mibg.web.audit.models import AuditEvent
    from mibg.web.patients.models import Patient

    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    Patient.objects.filter(pk=populated.patient.pk).update(family_name="Changed after the backup")
    events = AuditEvent.objects.count()
    capsys.readouterr()
    assert main(["restore", str(backup)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "holds data" in err
    assert "--force" in err
    assert Patient.objects.get(pk=populated.patient.pk).family_name == "Changed after the backup"
    assert AuditEvent.objects.count() == events


def test_restore_with_force_keeps_the_database_it_replaces_as_a_backup_first(populated, fresh, tmp_path):
    data_dir, url, _restored = fresh
    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    assert run_mibg(["restore", str(backup)], data_dir, url).returncode == 0
    refused = run_mibg(["restore", str(backup)], data_dir, url)
    assert refused.returncode == 1
    assert "holds data" in refused.stderr
    forced = run_mibg(["restore", str(backup), "--force"], data_dir, url)
    assert forced.returncode == 0, forced.stderr
    kept = sorted(p for p in data_dir.glob("pre-restore-*") if not p.name.endswith(".manifest.json"))
    assert len(kept) == 1
    assert f"kept in {kept[0]}" in forced.stdout
    manifest = json.loads(Path(f"{kept[0]}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == hashlib.sha256(kept[0].read_bytes()).hexdigest()
    assert manifest["tables"]["patients_patient"] == 2


def test_bad_paths_are_one_line_errors_with_exit_2(db, tmp_path, capsys):
    existing = tmp_path / "earlier.backup"
    existing.write_bytes(b"an earlier backup")
    cases = [
        (["restore", str(tmp_path / "missing.backup")], f"restore: {tmp_path / 'missing.backup'}: no such file"),
        (["restore", str(tmp_path)], f"restore: {tmp_path}: not a file"),
        (["backup", str(existing)], f"backup: {existing} already exists; a backup never overwrites a file"),
        (["backup", str(tmp_path / "no" / "such" / "x.backup")], f"backup: {tmp_path / 'no' / 'such'}: no such directory"),
        (["backup", "/sys/mibg.backup"], "backup: /sys/.mibg.backup.partial: permission denied"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith(f"mibg: error: {message}"), err
        assert err.count("\n") == 1, err
    assert existing.read_bytes() == b"an earlier backup"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_a_backup_file_that_cannot_be_read_is_a_one_line_error(tmp_path, capsys):
    backup = tmp_path / "clinic.backup"
    backup.write_bytes(b"x")
    (tmp_path / "clinic.backup.manifest.json").write_text(json.dumps({
        "format": "mibg-backup-manifest-v1", "engine": "sqlite", "sha256": "0" * 64, "tables": {}, "migrations": []}))
    backup.chmod(0)
    assert main(["restore", str(backup)]) == 2
    assert capsys.readouterr().err == f"mibg: error: restore: {backup}: permission denied\n"


def test_a_backup_of_one_engine_is_not_restored_into_the_other(populated, tmp_path, capsys):
    backup = tmp_path / "clinic.backup"
    assert main(["backup", str(backup)]) == 0
    manifest_file = tmp_path / "clinic.backup.manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    manifest_file.write_text(json.dumps({**manifest, "engine": other}), encoding="utf-8")
    capsys.readouterr()
    assert main(["restore", str(backup), "--force"]) == 2
    assert capsys.readouterr().err == (f"mibg: error: restore: the backup is of a {other} database; the configured "
                                       f"database is {connection.vendor}\n")


WRITER = """
import os, sys, time
import django
django.setup()
from mibg.web.audit.models import AuditChainHead, AuditEvent
stop, started, i = sys.argv[1], False, 0
deadline = time.monotonic() + 120
while not os.path.exists(stop) and time.monotonic() < deadline:
    i += 1
    AuditEvent(username="nora", action="view", model="patients.Patient", note=f"while backing up {i}").save()
    if not started:
        print(AuditChainHead.objects.get(pk=1).seq, flush=True)
        started = True
    time.sleep(0.002)
print(AuditChainHead.objects.get(pk=1).seq, flush=True)
"""


def test_a_backup_made_while_a_nurse_keeps_writing_is_consistent_with_its_manifest(populated, new_database, tmp_path):
    """Online: records are written before, during and after the backup; the backup holds exactly the rows and the
    chain head its manifest says, as checked by restoring it."""
    first, second = tmp_path / "first.backup", tmp_path / "online.backup"
    assert main(["backup", str(first)]) == 0
    live_dir, live_url, _reader = new_database("live")
    assert run_mibg(["restore", str(first)], live_dir, live_url).returncode == 0

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"MIBG_DEBUG": "1", "MIBG_DATA_DIR": str(live_dir), "PYTHONPATH": SOURCE,
                "DJANGO_SETTINGS_MODULE": "mibg.web.settings", **({"DATABASE_URL": live_url} if live_url else {})})
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(stop)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        seq_at_start = int(writer.stdout.readline())
        made = run_mibg(["backup", str(second)], live_dir, live_url)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=120)
    assert (made.returncode, made.stderr) == (0, "")
    assert (writer.returncode, err) == (0, "")
    seq_at_end = int(out.strip())
    head = json.loads((tmp_path / "online.backup.manifest.json").read_text(encoding="utf-8"))["audit_chain"]
    assert seq_at_start < head["head_seq"] < seq_at_end  # taken while the nurse was writing
    assert head["intact"]

    check_dir, check_url, _reader = new_database("check")
    restored = run_mibg(["restore", str(second)], check_dir, check_url)
    assert (restored.returncode, restored.stderr) == (0, "")  # every table's rows and the chain head as the manifest says
    assert f"audit chain intact, {head['records']} records, head {head['head_hash']}" in restored.stdout
