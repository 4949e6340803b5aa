"""Chromium through Playwright, as the replica's users open its web UIs: Debian's browser,
one page per test, every response recorded, full-page screenshots for the README."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright

from tests.conftest import REPO

SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 20_000


@contextmanager
def chromium(names: dict[str, str] | None = None, trusted: Path | None = None) -> Iterator[Browser]:
    """A headless Chromium; `names` ({host name: address}) are resolved as a DNS would, and
    the `trusted` certificate (the load balancer's, from the replica's CA) is accepted as a
    browser whose store has the CA accepts it: Chromium takes no CA file, only pinned keys."""
    args = list(CHROMIUM_ARGS)
    if names:
        rules = ", ".join(f"MAP {name} {address}" for name, address in names.items())
        args.append(f"--host-resolver-rules={rules}")
    if trusted:
        args.append(f"--ignore-certificate-errors-spki-list={spki_hash(trusted)}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


def spki_hash(certificate: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium pins keys."""
    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@contextmanager
def new_page(browser: Browser, **options) -> Iterator[Page]:
    """A page in a context of its own (no cookies or credentials shared between tests)."""
    context = browser.new_context(viewport=VIEWPORT, **options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


class Responses:
    """Every response a page receives, to assert that none failed."""

    def __init__(self, page: Page):
        self.seen: list[Response] = []
        self.logged_in_at = 0
        page.on("response", lambda response: self.seen.append(response))

    def logged_in(self) -> None:
        """Mark the end of a login form's flow: the 401s before it were the login's."""
        self.logged_in_at = len(self.seen)

    def failed(self) -> list[str]:
        """The 4xx/5xx answers, except a login's: a 401 before logged_in(), or HTTP basic
        auth's challenge (401 with WWW-Authenticate) that the browser answered by sending
        the request again."""
        answered = {(r.request.method, r.url) for r in self.seen if r.status < 400}

        def login(index: int, response: Response) -> bool:
            challenge = "www-authenticate" in response.headers and (
                (response.request.method, response.url) in answered
            )
            return response.status == 401 and (index < self.logged_in_at or challenge)

        return [
            f"{r.status} {r.request.method} {r.url}"
            for i, r in enumerate(self.seen)
            if r.status >= 400 and not login(i, r)
        ]


def save(page: Page, name: str) -> None:
    """A full-page screenshot as docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
