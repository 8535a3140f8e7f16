"""`mibg restore FILE`: put back a backup made by `mibg backup`, after checking it, and check the result.

Before anything is touched: the manifest (FILE.manifest.json) must be there, and the file's SHA-256 must be the
manifest's; the engine must be the configured database's; every migration in the backup must be known to this
software. A database that holds data (any row beyond Django's own bookkeeping) is not overwritten unless
``--force``, and then it is first backed up itself into the data directory (``pre-restore-<time>``), so a
restore never loses what was there. After restoring: every table's row count and the applied migrations must
equal the manifest's, and the audit chain must be intact with the manifest's head.

Stop the application first (a restore replaces the database under it). SQLite: the online backup API copies
the file into the configured database. PostgreSQL: ``pg_restore --clean
--if-exists --single-transaction`` into the configured database (all or nothing).

Exit 0 restored and checked; 1 refused (data present, no --force) or the check after restoring failed;
2 bad input (a missing or unreadable file, no manifest, a checksum that differs, another engine).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mibg.cli import EXIT_BLOCKED, EXIT_OK, fail
from mibg.commands.backup import (
    ENGINES,
    MANIFEST_FORMAT,
    BackupError,
    make_backup,
    manifest_path,
    os_reason,
    pg_tool,
    refusal,
    run_pg_tool,
    sha256_file,
)

#: Tables that a freshly migrated, empty database already has rows in: they are not "data".
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission", "audit_auditchainhead"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a backup file made by 'mibg backup' (its manifest FILE.manifest.json beside it)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite a database that holds data (it is backed up first, into the data directory)")


def checked_manifest(backup: Path) -> dict[str, Any]:
    """The manifest, once the file is there, readable and has the manifest's checksum. Raises BackupError."""
    if not backup.exists():
        raise BackupError(f"{backup}: no such file")
    if not backup.is_file():
        raise BackupError(f"{backup}: not a file")
    manifest_file = manifest_path(backup)
    if not manifest_file.is_file():
        raise BackupError(f"{manifest_file}: the manifest is missing; a backup without its manifest cannot be checked "
                          "and is not restored")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise BackupError(f"{manifest_file}: {os_reason(error)}") from None
    except ValueError:
        raise BackupError(f"{manifest_file}: not a manifest (not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{manifest_file}: not a {MANIFEST_FORMAT} manifest")
    for key in ("engine", "sha256", "tables", "migrations"):
        if key not in manifest:
            raise BackupError(f"{manifest_file}: the manifest has no {key!r}")
    if manifest["engine"] not in ENGINES:
        raise BackupError(f"{manifest_file}: engine {manifest['engine']!r} is not sqlite or postgresql")
    try:
        digest = sha256_file(backup)
    except OSError as error:
        raise BackupError(f"{backup}: {os_reason(error)}") from None
    if digest != manifest["sha256"]:
        raise BackupError(f"{backup}: its SHA-256 {digest} is not the manifest's {manifest['sha256']}: the file is damaged "
                          "or was changed; nothing was restored")
    return manifest


def unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known]


def not_applied(manifest: dict[str, Any]) -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    applied = {(app, name) for app, name in manifest["migrations"]}
    return [f"{app}.{name}" for app, name in sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
            if (app, name) not in applied]


def holds_data() -> str | None:
    """The first table beyond Django's bookkeeping that has a row, or None."""
    from mibg.commands.backup import row_counts, table_names

    tables = [t for t in table_names() if t not in BOOKKEEPING]
    return next((table for table, count in row_counts(tables).items() if count), None)


def restore_sqlite(backup: Path, settings_dict: dict[str, Any]) -> None:
    # immutable: the checked file is only read (no lock, no -wal or -shm written beside it, read-only media work).
    source = sqlite3.connect(f"{backup.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
    target = sqlite3.connect(str(settings_dict["NAME"]), uri=True)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def restore_postgresql(backup: Path, settings_dict: dict[str, Any]) -> None:
    run_pg_tool([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                 "--exit-on-error", f"--dbname={settings_dict['NAME']}", str(backup)], settings_dict)


def check_restored(manifest: dict[str, Any]) -> tuple[list[str], Any]:
    """Differences between the restored database and the manifest (none when all is well), and the chain report."""
    from mibg.commands.backup import applied_migrations, row_counts, table_names
    from mibg.web.audit.chain import verify

    problems = []
    tables = table_names()
    expected: dict[str, int] = manifest["tables"]
    for table in sorted(set(expected) - set(tables)):
        problems.append(f"table {table} is in the backup but not in the database")
    for table in sorted(set(tables) - set(expected)):
        problems.append(f"table {table} is in the database but not in the backup")
    for table, count in row_counts([t for t in tables if t in expected]).items():
        if count != expected[table]:
            problems.append(f"table {table} has {count} rows; the backup had {expected[table]}")
    if applied_migrations(tables) != manifest["migrations"]:
        problems.append("the applied migrations are not the backup's")
    report = verify() if "audit_auditchainhead" in tables else None
    audit = manifest.get("audit_chain")
    if report is not None:
        if report.broken is not None:
            problems.append(f"the audit chain is broken: {report.broken.line()}")
        if audit and (report.head_seq, report.head_hash) != (audit["head_seq"], audit["head_hash"]):
            problems.append(f"the audit chain head is seq {report.head_seq} {report.head_hash}; the backup's was seq "
                            f"{audit['head_seq']} {audit['head_hash']}")
    return problems, report


def run(args: argparse.Namespace) -> int:
    from mibg.commands.serve import setup_django

    backup = Path(args.file).absolute()
    try:
        manifest = checked_manifest(backup)
    except BackupError as error:
        return fail(f"restore: {error}")
    not_configured = setup_django()
    if not_configured:
        return fail(f"restore: {not_configured}")
    from django.conf import settings
    from django.db import DatabaseError, connection

    if connection.vendor != manifest["engine"]:
        return fail(f"restore: the backup is of a {manifest['engine']} database; the configured database is "
                    f"{connection.vendor}")
    unknown = unknown_migrations(manifest)
    if unknown:
        return fail(f"restore: the backup was made by a newer mibg: its migration {unknown[0]} is unknown to this one "
                    f"({manifest.get('software_version', '?')}); install that version to restore it")
    try:
        occupied = holds_data()
        if occupied and not args.force:
            print(f"mibg: restore refused: the configured database holds data (table {occupied} has rows); "
                  "nothing was changed. Use --force to replace it (it is backed up first).", file=sys.stderr)
            return EXIT_BLOCKED
        if occupied:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
            kept = Path(settings.DATA_DIR) / f"pre-restore-{stamp}.{suffix}"
            make_backup(kept)
            print(f"mibg restore: the database as it was is kept in {kept} (with its manifest)")
        settings_dict = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "sqlite":
            restore_sqlite(backup, settings_dict)
        else:
            restore_postgresql(backup, settings_dict)
        connection.close()
        problems, report = check_restored(manifest)
    except (BackupError, OSError, DatabaseError, sqlite3.Error) as problem:
        return fail(refusal("restore", problem, backup))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        print(f"mibg: restore: restored, but the check after restoring failed: {problems[0]}{more}", file=sys.stderr)
        return EXIT_BLOCKED
    rows = sum(manifest["tables"].values())
    pending = not_applied(manifest)
    later = (f"; {len(pending)} migrations of this software are not applied yet ('mibg serve' applies them when it "
             "starts)") if pending else ""
    chain = f"audit chain intact, {report.records} records, head {report.head_hash}" if report else "no audit chain"
    print(f"mibg restore: {backup} (made {manifest.get('created_utc', '?')} by mibg {manifest.get('software_version', '?')}) "
          f"restored; {len(manifest['tables'])} tables and {rows} rows match the manifest; {chain}{later}")
    return EXIT_OK
