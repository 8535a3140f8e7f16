"""Playwright (sync API) driving Debian's headless Chromium against pytest-django's live server."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path("test-output")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (bin/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def watch_console(page, errors):
    """Collect every console error and uncaught page error: a page that logs one fails its test (issue 15)."""
    page.on("console", lambda message: errors.append(f"console {message.type}: {message.text} ({page.url}, {message.location.get('url')})")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error} ({page.url})"))


@pytest.fixture
def as_person(browser, live_server):
    """``as_person("patel", password)`` -> a page logged in as that person, in a browser context of its own.

    The test fails at its end when any page it opened logged a console error or threw.
    """
    contexts = []
    errors: list[str] = []

    def open_as(username, password):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
        contexts.append(context)
        context.on("page", lambda opened: watch_console(opened, errors))
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/patients/")
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, "the browser logged errors:\n" + "\n".join(errors)


@pytest.fixture
def shot():
    SHOTS.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    return take
