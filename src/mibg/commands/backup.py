"""`mibg backup FILE`: a consistent copy of the whole database while the application runs, and its manifest.

SQLite: the online backup API (sqlite3.Connection.backup) copies the database page by page inside one read
transaction. PostgreSQL: ``pg_dump --format=custom`` (restored with ``pg_restore``) on a snapshot exported from
the same REPEATABLE READ transaction that counts the rows, so the counts are exactly those of the file.

Beside ``FILE`` the manifest ``FILE.manifest.json`` (format ``mibg-backup-manifest-v1``): the engine, the
time (UTC), the software and protocol versions, the applied migrations, the rows of every table, the audit
chain's state (records, head seq and hash, intact or the first break) and the file's size and SHA-256.
``mibg restore`` refuses a file without its manifest or whose checksum differs. The head hash in a manifest
kept elsewhere is also an anchor for the audit chain (mibg.web.audit.chain).

The backup file is made readable by its owner only (mode 0600): it holds every patient's record.

Exit 0 done (a broken audit chain is said on stderr; the backup is still made: it is evidence), 2 bad input
(an existing file, a missing directory, no permission, no database, no pg_dump).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mibg.cli import EXIT_OK, fail

MANIFEST_FORMAT = "mibg-backup-manifest-v1"
MANIFEST_SUFFIX = ".manifest.json"
ENGINES = ("sqlite", "postgresql")


class BackupError(Exception):
    """Bad input or an environment that cannot make or restore a backup: one line, exit 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the backup file to write (must not exist); the manifest is FILE.manifest.json")


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def os_reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def check_output(path: Path) -> None:
    """Never overwrite: a backup file (or its manifest) that exists is an earlier backup."""
    for target in (path, manifest_path(path)):
        if target.exists():
            raise BackupError(f"{target} already exists; a backup never overwrites a file: choose another name")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such directory")


# Reading the database --------------------------------------------------------------------------------------------

def table_names() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def row_counts(tables: list[str]) -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


def applied_migrations(tables: list[str]) -> list[list[str]]:
    from django.db import connection

    if "django_migrations" not in tables:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [[app, name] for app, name in cursor.fetchall()]


def chain_state(report: Any) -> dict[str, Any]:
    return {"records": report.records, "head_seq": report.head_seq, "head_hash": report.head_hash,
            "intact": report.intact, "broken": None if report.broken is None else report.broken.line()}


def database_state() -> dict[str, Any]:
    """Tables, row counts, migrations and the audit chain, read inside the caller's snapshot."""
    from mibg.web.audit.chain import walk

    tables = table_names()
    audit = chain_state(walk()) if "audit_auditchainhead" in tables else None
    return {"tables": row_counts(tables), "migrations": applied_migrations(tables), "audit_chain": audit}


# pg_dump / pg_restore --------------------------------------------------------------------------------------------

def pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The connection for the PostgreSQL client tools, by their own environment variables (no password on a
    command line, where other users could read it)."""
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"),
                      ("NAME", "PGDATABASE")):
        value = settings_dict.get(key)
        if value:
            env[name] = str(value)
    options = settings_dict.get("OPTIONS") or {}
    for key, name in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(key):
            env[name] = str(options[key])
    return env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def run_pg_tool(arguments: list[str], settings_dict: dict[str, Any]) -> None:
    done = subprocess.run(arguments, env=pg_environment(settings_dict), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise BackupError(f"{Path(arguments[0]).name} failed: {lines[0] if lines else f'exit {done.returncode}'}")


# Making a backup -------------------------------------------------------------------------------------------------

def make_backup(output: Path) -> dict[str, Any]:
    """Write ``output`` and its manifest; return the manifest. Raises BackupError, OSError or DatabaseError."""
    from django.db import connection

    from mibg import __version__
    from mibg.protocol import load_protocol
    from mibg.web.audit.chain import read_snapshot

    engine = connection.vendor
    if engine not in ENGINES:
        raise BackupError(f"the database engine {engine!r} is not supported (sqlite or postgresql)")
    check_output(output)
    partial = output.with_name(f".{output.name}.partial")
    # Patients' records: readable by the owner only (the operator's account), whatever the umask. Made here, before
    # the database is read, so a directory without write permission is said at once; pg_dump and SQLite keep the mode.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(partial, 0o600)
    try:
        with read_snapshot(export=engine == "postgresql") as snapshot:
            state = database_state()
            if engine == "sqlite":
                connection.ensure_connection()
                target = sqlite3.connect(partial)
                try:
                    connection.connection.backup(target)
                    # One self-contained file (no -wal beside it), readable from read-only media.
                    target.execute("PRAGMA journal_mode=DELETE")
                finally:
                    target.close()
            else:
                run_pg_tool([pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={partial}"],
                            connection.settings_dict)
        digest, size = sha256_file(partial), partial.stat().st_size
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    manifest = {
        "format": MANIFEST_FORMAT,
        "engine": engine,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software_version": __version__,
        "protocol_version": load_protocol().label,
        "backup_file": output.name,
        "size_bytes": size,
        "sha256": digest,
        **state,
    }
    written = manifest_path(output)
    partial_manifest = written.with_name(f".{written.name}.partial")
    partial_manifest.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(partial_manifest, written)
    return manifest



def refusal(verb: str, problem: Exception, path: Path) -> str:
    """The one line ``mibg backup`` or ``mibg restore`` prints for what stopped it (never a traceback)."""
    if isinstance(problem, BackupError):
        return f"{verb}: {problem}"
    if isinstance(problem, OSError):
        return f"{verb}: {problem.filename or path}: {os_reason(problem)}"
    first = (str(problem).strip().splitlines() or [type(problem).__name__])[0]
    return f"{verb}: the database is not reachable or not usable: {first}"

def run(args: argparse.Namespace) -> int:
    from mibg.commands.serve import setup_django

    output = Path(args.file).absolute()
    try:
        check_output(output)
    except BackupError as error:
        return fail(f"backup: {error}")
    not_configured = setup_django()
    if not_configured:
        return fail(f"backup: {not_configured}")
    from django.db import DatabaseError

    try:
        manifest = make_backup(output)
    except (BackupError, OSError, DatabaseError, sqlite3.Error) as problem:
        return fail(refusal("backup", problem, output))
    rows = sum(manifest["tables"].values())
    print(f"mibg backup: {output} ({manifest['engine']}, {manifest['size_bytes']} bytes, sha256 {manifest['sha256']}); "
          f"{len(manifest['tables'])} tables, {rows} rows; manifest {manifest_path(output)}")
    audit = manifest["audit_chain"]
    if audit and not audit["intact"]:
        print(f"mibg backup: warning: the audit chain is broken in what was backed up: {audit['broken']}", file=sys.stderr)
    return EXIT_OK
