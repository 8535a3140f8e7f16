"""`mibg user`: a site sets up its first real users without the browser, and every change is audited.

Run as the real command (a child process on its own SQLite file), as a site's administrator would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.one_backend  # a child process on its own SQLite file, whatever DATABASE_URL says

MIBG = [sys.executable, "-m", "mibg.cli"]
GOOD_PASSWORD = "correct horse battery staple 42"


def _run(args: list[str], tmp_path: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIBG_", "DATABASE_URL", "DJANGO_SETTINGS"))}
    env.update({"MIBG_DATA_DIR": str(tmp_path), "MIBG_DEBUG": "1"})
    return subprocess.run([*MIBG, "user", *args], env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path,
                          input=stdin if stdin is not None else "")


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "mibg.sqlite3") as connection:
        return list(connection.execute(sql))


def _audit_notes(tmp_path: Path) -> list[str]:
    return [str(r[0]) for r in _rows(tmp_path, "select note from audit_auditevent where model = 'accounts.User' "
                                               "order by seq")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _migrated_site_template: Path) -> Path:
    """A site database where the administrator has added Dr Patel (physician) from standard input."""
    path = tmp_path_factory.mktemp("site")
    shutil.copytree(_migrated_site_template, path, dirs_exist_ok=True)
    added = _run(["add", "patel", "--role", "physician", "--printed-name", "Dr Asha Patel, MD", "--password-stdin"],
                 path, stdin=GOOD_PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    return path


def test_the_administrator_adds_dr_patel_as_physician_with_a_password_from_standard_input(site: Path) -> None:
    users = _rows(site, "select username, printed_name, is_active, password from accounts_user where username='patel'")
    assert len(users) == 1
    username, printed, active, password_hash = users[0]
    assert (username, printed, active) == ("patel", "Dr Asha Patel, MD", 1)
    assert GOOD_PASSWORD not in str(password_hash)  # hashed, never stored in clear
    groups = _rows(site, "select g.name from auth_group g join accounts_user_groups ug on ug.group_id = g.id "
                         "join accounts_user u on u.id = ug.user_id where u.username = 'patel'")
    assert groups == [("physician",)]
    assert any("user added by 'mibg user add'" in note and "physician" in note for note in _audit_notes(site))


def test_the_password_never_appears_in_the_output_or_the_audit_trail(site: Path) -> None:
    listing = _run(["list"], site)
    assert listing.returncode == 0
    assert "patel" in listing.stdout
    assert "physician" in listing.stdout
    assert GOOD_PASSWORD not in listing.stdout
    assert all(GOOD_PASSWORD not in note for note in _audit_notes(site))


def test_a_password_given_as_an_argument_is_refused_by_the_parser(site: Path) -> None:
    result = _run(["set-password", "patel", "--password", GOOD_PASSWORD], site)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_without_a_terminal_or_password_stdin_the_command_asks_for_one_and_changes_nothing(site: Path) -> None:
    before = _rows(site, "select password from accounts_user where username='patel'")
    result = _run(["set-password", "patel"], site)
    assert result.returncode == 2
    assert "--password-stdin" in result.stderr
    assert _rows(site, "select password from accounts_user where username='patel'") == before


@pytest.mark.parametrize(("args", "stdin", "field"), [
    (["add", "sam", "--role", "physicist", "--password-stdin"], "short\n", "password"),
    (["add", "sam", "--role", "physicist", "--password-stdin"], "\n", "password"),
    (["add", "sam", "--role", "surgeon", "--password-stdin"], GOOD_PASSWORD + "\n", "role"),
    (["add", "sam", "--password-stdin"], GOOD_PASSWORD + "\n", "role"),
    (["add", "riley", "--role", "physician", "--password-stdin"], GOOD_PASSWORD + "\n", "printed_name"),
    (["add", "PATEL", "--role", "nurse", "--password-stdin"], GOOD_PASSWORD + "\n", "username"),
    (["add", "bad name!", "--role", "nurse", "--password-stdin"], GOOD_PASSWORD + "\n", "username"),
    (["set-password", "nobody", "--password-stdin"], GOOD_PASSWORD + "\n", "username"),
    (["roles", "patel", "--add", "wizard"], None, "add"),
    (["roles", "patel", "--add", "chair", "--remove", "chair"], None, "role"),
    (["deactivate", "nobody"], None, "username"),
])
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(site: Path, args: list[str], stdin: str | None,
                                                                  field: str) -> None:
    users_before = _rows(site, "select username, password, is_active from accounts_user order by id")
    audit_before = _audit_notes(site)
    result = _run(args, site, stdin)
    assert result.returncode == 2, result.stdout
    assert f"{field}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert _rows(site, "select username, password, is_active from accounts_user order by id") == users_before
    assert _audit_notes(site) == audit_before


def test_roles_are_given_and_taken_and_each_change_is_audited(migrated_site: Path) -> None:
    assert _run(["add", "chen", "--role", "nurse", "--password-stdin"], migrated_site, GOOD_PASSWORD + "\n").returncode == 0
    given = _run(["roles", "chen", "--add", "admin", "--add", "pharmacist"], migrated_site)
    assert given.returncode == 0, given.stderr
    assert "admin, nurse, pharmacist" in given.stdout
    # The admin role opens the Django admin: staff and superuser follow it, both ways.
    assert _rows(migrated_site, "select is_staff, is_superuser from accounts_user where username='chen'") == [(1, 1)]
    taken = _run(["roles", "chen", "--remove", "admin"], migrated_site)
    assert taken.returncode == 0
    assert _rows(migrated_site, "select is_staff, is_superuser from accounts_user where username='chen'") == [(0, 0)]
    notes = _audit_notes(migrated_site)
    assert any("nurse -> admin, nurse, pharmacist" in n for n in notes)
    assert any("admin, nurse, pharmacist -> nurse, pharmacist" in n for n in notes)


def test_a_new_password_replaces_the_old_one_and_is_audited(migrated_site: Path) -> None:
    assert _run(["add", "nora", "--role", "pharmacist", "--password-stdin"], migrated_site,
                GOOD_PASSWORD + "\n").returncode == 0
    before = _rows(migrated_site, "select password from accounts_user where username='nora'")
    changed = _run(["set-password", "nora", "--password-stdin"], migrated_site, "another long passphrase 77\n")
    assert changed.returncode == 0, changed.stderr
    assert _rows(migrated_site, "select password from accounts_user where username='nora'") != before
    assert any("password set by 'mibg user set-password'" in n for n in _audit_notes(migrated_site))


def test_deactivating_a_user_stops_logins_and_revokes_tokens_but_keeps_the_account(migrated_site: Path) -> None:
    assert _run(["add", "morgan", "--role", "readonly", "--password-stdin"], migrated_site,
                GOOD_PASSWORD + "\n").returncode == 0
    with sqlite3.connect(migrated_site / "mibg.sqlite3") as connection:
        user_id = connection.execute("select id from accounts_user where username='morgan'").fetchone()[0]
        connection.execute("insert into accounts_apitoken (user_id, name, prefix, digest, created_at, second_factor) "
                           "values (?, 'script', 'abcdefgh', ?, '2026-12-01 10:00:00', 0)", (user_id, "0" * 64))
    result = _run(["deactivate", "morgan"], migrated_site)
    assert result.returncode == 0, result.stderr
    assert "deactivated" in result.stdout
    assert _rows(migrated_site, "select is_active from accounts_user where username='morgan'") == [(0,)]
    assert _rows(migrated_site, "select count(*) from accounts_apitoken where revoked_at is null") == [(0,)]
    assert any("deactivated by 'mibg user deactivate'" in n and "1 API token(s) revoked" in n
               for n in _audit_notes(migrated_site))
