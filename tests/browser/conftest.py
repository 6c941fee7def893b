"""Browser tests: the real gateway (its ASGI app under uvicorn, in a thread), the fake
upstream and Debian's Chromium driven by Playwright's sync API.

- The tests need ``/usr/bin/chromium`` (``apt-get install -y chromium``; never
  ``playwright install``). Without it they are skipped, unless ``CI`` is set:
  CI must run them, so there a missing browser fails loudly.
- Tests use ``@pytest.mark.django_db(transaction=True)``: rows they create are
  committed, so the server's threads (same SQLite file) see them.
- The server serves ``/static/`` through the project's WhiteNoise middleware
  with ``WHITENOISE_USE_FINDERS`` (no collectstatic needed). The settings are
  changed *before* a fresh ASGI handler is built, because WhiteNoise reads them
  once, when the middleware is instantiated.
- Screenshots go to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.factories import PASSWORD
from tests.servers import GatewayServer, drain_usage

CHROMIUM = os.environ.get("GATEWAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Playwright's default is 30 s; everything here answers in well under a second, but a loaded CI
# machine is slower. Only a failing wait ever lasts this long.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session", autouse=True)
def _chromium():
    """Skip the directory without a browser; fail instead when running in CI."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


# -- the gateway -----------------------------------------------------------------------------------


def _static_settings():
    from django.conf import settings

    saved = {name: getattr(settings, name, None) for name in ("WHITENOISE_USE_FINDERS", "WHITENOISE_AUTOREFRESH")}
    settings.WHITENOISE_USE_FINDERS = True  # serve static/ and the apps' static files without collectstatic
    settings.WHITENOISE_AUTOREFRESH = False  # index the files once, at start-up
    return saved


@pytest.fixture(scope="session")
def gateway_server(django_db_setup, django_db_blocker):
    """The whole site (UI, static files, proxy) on 127.0.0.1, with a fresh ASGI handler."""
    from django.conf import settings
    from django.core.handlers.asgi import ASGIHandler

    saved = _static_settings()
    # Import LiteLLM (several seconds, once per process) and read its model map now, rather than
    # inside the first page view that needs the catalog, which would then outlast the UI timeouts.
    from catalog import services as catalog

    catalog.list_providers()
    # A new handler instantiates the middleware now, with the settings above; the
    # module-level ``gateway_site.asgi.application`` may already exist without them.
    server = GatewayServer(ASGIHandler(), name="gateway-under-browser").start()
    try:
        for path in ("/static/vendor/htmx-2.0.11.min.js", "/static/css/app.css", "/static/js/app.js"):
            with urllib.request.urlopen(server.url + path, timeout=10) as response:  # noqa: S310 (local)
                assert response.status == 200, f"{path} is not served: {response.status}"
        yield server
    finally:
        with django_db_blocker.unblock():
            server.stop()
        for name, value in saved.items():
            if value is None:
                delattr(settings, name)
            else:
                setattr(settings, name, value)


# -- the browser -----------------------------------------------------------------------------------
#
# Playwright's sync API keeps an asyncio loop marked "running" in the main thread while it is
# started, and Django refuses ORM calls from such a thread (SynchronousOnlyOperation). Rather
# than switching that safety check off (DJANGO_ALLOW_ASYNC_UNSAFE, which would also hide real
# bugs in the server under test), each test starts Playwright when it opens its first page and
# stops it before the database is flushed; ORM calls made while it runs go through ``ui.orm()``,
# which runs them in a short-lived thread.


UNSTICK = """() => {
    window.scrollTo(0, 0);
    for (const element of document.querySelectorAll("body *")) {
        if (getComputedStyle(element).position === "sticky") {
            element.dataset.testUnstuck = element.style.position;
            element.style.position = "static";
        }
    }
}"""
RESTICK = """() => {
    for (const element of document.querySelectorAll("[data-test-unstuck]")) {
        element.style.position = element.dataset.testUnstuck;
        delete element.dataset.testUnstuck;
    }
}"""


class UI:
    """One test's browser: contexts (one per signed-in user), screenshots, JS errors, ORM calls."""

    def __init__(self, chromium: str, server: GatewayServer) -> None:
        self.chromium = chromium
        self.server = server
        self.playwright = None
        self.browser = None
        self.js_errors: list[str] = []

    def url(self, path: str) -> str:
        return self.server.url + path

    def _browser(self):
        if self.browser is None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=self.chromium, args=CHROMIUM_ARGS)
        return self.browser

    def new_page(self, viewport: dict[str, int] | None = None):
        """A page in a new browser context (its own cookies: one user each)."""
        context = self._browser().new_context(viewport=viewport or DESKTOP, base_url=self.server.url)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        self.watch(page)
        return page

    def watch(self, page) -> None:
        """Record uncaught exceptions and console errors of ``page`` (tests assert there are none)."""
        page.on("pageerror", lambda error: self.js_errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.js_errors.append(f"{page.url}: console: {message.text}") if message.type == "error" else None
            ),
        )

    def sign_in(self, page, username: str, password: str = PASSWORD) -> None:
        from playwright.sync_api import expect

        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(self.url("/"))
        expect(page.locator(".usermenu .whoami")).to_have_text(username)
        assert_htmx_loaded(page)

    def screenshot(self, page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # A full-page shot draws sticky bars (top bar, form actions) where the viewport happens to
        # be, i.e. mid-page: put them back in the flow for the shot.
        page.evaluate(UNSTICK)
        try:
            page.screenshot(path=str(path), full_page=True, animations="disabled")
        finally:
            page.evaluate(RESTICK)
        return path

    def orm(self, function, *args, **kwargs):
        """Run ``function`` in a fresh thread: the main thread can't use the ORM while Playwright runs."""
        if self.browser is None:
            return function(*args, **kwargs)
        outcome: dict = {}

        def run() -> None:
            from django.db import connections

            try:
                outcome["value"] = function(*args, **kwargs)
            except BaseException as exc:  # re-raised in the test's thread
                outcome["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, name="browser-test-orm")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    def save_failure_artifacts(self, test_name: str) -> list[Path]:
        """A screenshot of every open page, named after the failed test, to see what the browser saw."""
        saved: list[Path] = []
        if self.browser is None:
            return saved
        pages = [page for context in self.browser.contexts for page in context.pages]
        for number, page in enumerate(pages, 1):
            try:
                saved.append(self.screenshot(page, f"FAILED-{test_name}-{number}"))
            except Exception:  # a page that is gone or stuck is no reason to hide the real failure
                continue
        return saved

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()  # closes every context
            self.playwright.stop()
        self.browser = self.playwright = None


def assert_htmx_loaded(page) -> None:
    """htmx (polling, the sharing panel, dynamic rows) and the app script ran on this page."""
    assert page.evaluate("typeof window.htmx === 'object' && typeof window.htmx.trigger === 'function'"), (
        f"htmx did not load on {page.url}"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so ``ui`` knows at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def ui(request, transactional_db, _chromium, gateway_server):
    """Torn down (browser closed) before ``transactional_db`` flushes the tables.

    When the test failed, every open page is saved as ``FAILED-<test>-<n>.png`` and the
    JavaScript errors seen so far are printed (pytest shows them with the failure).
    """
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    session = UI(_chromium, gateway_server)
    yield session
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        saved = session.save_failure_artifacts(request.node.name)
        print(f"browser: saved {[str(path) for path in saved]}; JS errors: {session.js_errors}")  # noqa: T201
    session.close()
    drain_usage()
