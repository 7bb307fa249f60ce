"""A policy website on 127.0.0.1 whose pages a test changes between requests (for add-by-URL and check)."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field

SECTIONS = {
    "1. Information we collect": [
        (
            "We collect the information you give us when you create an account, such as your name, email "
            "address, phone number and the date of birth you enter, and the content you post."
        ),
        (
            "We collect information about how you use Acme, such as the pages you visit, the links you click, "
            "the device and browser you use and the approximate location derived from your IP address."
        ),
    ],
    "2. How we use information": [
        (
            "We use the information we collect to provide, operate and improve Acme, to keep your account "
            "secure, and to show you content and advertising that we think is relevant to you."
        ),
    ],
    "3. Sharing": [
        (
            "We share information with service providers who process it on our behalf under contracts that "
            "limit what they may do with it, and with authorities when the law requires us to."
        ),
    ],
}
NEW_CLAUSE = (
    "We use the posts you share publicly to train the artificial intelligence models that power "
    "Acme's writing assistant; you can opt out in Settings under Privacy at any time."
)
CHANGED_FROM = "and with authorities when the law requires us to."
CHANGED_TO = "with our corporate affiliates, and with authorities when the law requires us to or a court orders it."


def policy_html(
    *,
    stamp: str = "Effective: January 10, 2024",
    markup: bool = False,
    changed: bool = False,
    tracking: str = "utm_campaign=spring",
) -> bytes:
    """Acme's privacy policy page. `markup` rewrites only the markup, whitespace and tracking
    parameters; `changed` adds a clause and rewords another (what a real new version does)."""
    sections = {k: list(v) for k, v in SECTIONS.items()}
    if changed:
        sections["2. How we use information"].append(NEW_CLAUSE)
        sections["3. Sharing"][0] = sections["3. Sharing"][0].replace(CHANGED_FROM, CHANGED_TO)
    link = f"https://acme.example/privacy-center?{tracking}"
    if not markup:
        body = "".join(f"<h2>{h}</h2>" + "".join(f"<p>{p}</p>" for p in ps) for h, ps in sections.items())
        extra = f"<p>Questions? Visit {link} to reach our privacy team.</p>"
        return (
            f"<html><head><title>Acme</title></head><body><nav>Home | Blog</nav><h1>Acme Privacy Policy</h1>"
            f"<p>{stamp}</p>{body}{extra}<footer>© Acme</footer></body></html>"
        ).encode()
    body = "\n".join(
        f'<section class="s">\n  <h2 id="x">  {h} </h2>\n'
        + "\n".join(f'  <div><p class="para">\n    {p.replace(", ", ",  ")}\n  </p></div>' for p in ps)
        + "\n</section>"
        for h, ps in sections.items()
    )
    extra = f"<p>Questions?   Visit <span>{link}</span>   to reach our privacy team.</p>"
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Acme | Privacy</title>'
        f'<script>var t = {time.time()};</script></head>\n<body><header><nav><a href="/?x=1">Home</a></nav>'
        f"</header>\n<main>\n<h1>Acme Privacy Policy</h1>\n<p><em>{stamp}</em></p>\n{body}\n{extra}\n</main>"
        f"<footer>© Acme 2026</footer></body></html>"
    ).encode()


@dataclass
class Page:
    """What one path answers: status, body and content type; `delay` seconds first, or a redirect."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0
    location: str = ""
    stream_bytes: int = 0  # send this many bytes without a Content-Length (a body too large to keep)


@dataclass
class Site:
    """The pages served, and every request seen as (path, User-Agent)."""

    url: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    streamed: int = 0

    def set(self, path: str, page: Page) -> str:
        """Serve `page` at `path` from the next request on; returns its URL."""
        self.pages[path] = page
        return self.url + path


def start_site() -> tuple[Site, http.server.ThreadingHTTPServer]:
    """A threaded HTTP server on 127.0.0.1 serving a Site; stop it with `server.shutdown()`."""
    site = Site()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            site.requests.append((self.path, self.headers.get("User-Agent", "")))
            page = site.pages.get(self.path, Page(b"not found", 404, "text/plain"))
            time.sleep(page.delay)
            try:
                self.send_response(page.status)
                if page.location:
                    self.send_header("Location", page.location)
                self.send_header("Content-Type", page.content_type)
                if page.stream_bytes:
                    self.end_headers()
                    self._stream(page.stream_bytes)
                    return
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _stream(self, total: int) -> None:
            chunk = b"We collect your data. " * 3000
            while site.streamed < total:
                self.wfile.write(chunk)
                site.streamed += len(chunk)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return site, server
