"""Tokens, resume codes, PINs, rate limits and security headers.

Nothing secret is stored in the clear: a device's cookie token is stored as its SHA-256 (it has
256 random bits, so a plain hash is enough); the resume code and PIN are short, so they are
stored only as HMACs keyed with the app's secret, which never sits in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import request

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: easy to read aloud and to copy from a screenshot.
RESUME_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
RESUME_LENGTH = 8  # 25**8 ≈ 1.5e11 codes; guessing is rate-limited and needs a second fact

# Wrong resume attempts allowed: per code (the real protection: 5 guesses of a birth date per
# quarter hour), and per client address (stops one machine trying many codes; generous, since
# a community internet centre puts many families behind one address).
CODE_LIMIT, CODE_WINDOW = 5, 15 * 60
CLIENT_LIMIT, CLIENT_WINDOW = 60, 60 * 60

COOKIE_PREFIX = "wz_"


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret: str, *parts: str) -> bytes:
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()


def new_salt() -> str:
    return secrets.token_hex(16)


def resume_code(secret: str, salt: str) -> str:
    """The session's resume code: made from its salt and the app secret, so the server can show
    it again to the family at any time without storing it."""
    number = int.from_bytes(_mac(secret, "resume-code", salt), "big")
    chars = []
    for _ in range(RESUME_LENGTH):
        number, digit = divmod(number, len(RESUME_ALPHABET))
        chars.append(RESUME_ALPHABET[digit])
    return "".join(chars)


def resume_lookup(secret: str, code: str) -> str:
    return _mac(secret, "resume-lookup", code).hex()


def normalise_code(text: str) -> str:
    """What a person typed -> a code: case, spaces and dashes do not matter."""
    return "".join(ch for ch in text.upper() if ch.isalnum())[:32]


def format_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


def pin_hash(secret: str, session_id: int, pin: str) -> str:
    return _mac(secret, "pin", str(session_id), pin).hex()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def local_path(target: str) -> str:
    """`target` if it is a path on this site, else "/": never a redirect to another host
    (no scheme or host, no leading //, no backslash, no control or space characters)."""
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc
            or any(ch in target for ch in "\\") or any(ord(ch) <= 32 for ch in target)):
        return "/"
    return target


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def add_headers(response):
    headers = response.headers
    if request.endpoint != "static":
        # Pages carry a family's answers or codes: never kept by a shared phone's or a
        # community centre PC's cache (Back after "Delete my answers" must not show them).
        headers.setdefault("Cache-Control", "no-store")
        headers.add("Vary", "Cookie")
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Resume links carry a code: never leak a URL to another site.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response
