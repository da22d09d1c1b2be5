"""Tokens, resume codes, PINs, rate limits and security headers.

Nothing secret is stored in the clear: a device's cookie token is stored as its SHA-256 (it has
256 random bits, so a plain hash is enough); the resume code and PIN are short, so they are
stored only as HMACs keyed with the app's secret, which never sits in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask_wtf.csrf import CSRFError

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: easy to read aloud and to copy from a screenshot.
RESUME_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
RESUME_LENGTH = 8  # 25**8 ≈ 1.5e11 codes; guessing is rate-limited and needs a second fact

# Resume attempts. What a guesser must find: the code (25**8, about 37 bits) and then the
# child's birth date (about 1,800 days for a child under five, about 11 bits) or a 4-digit PIN.
#
# - Someone who does not know a code pays for every try from their address (an IPv6 /64 counts
#   as one address): 100 tries an hour. With a million live sessions a random code opens one
#   with odds of 1 in 150,000, and then needs the birth date (1 in 1,800): 1 in 2.7e8 a try,
#   about 300 years per address at 100 an hour.
#   Families behind one community-centre address share only this budget, and only for codes
#   they mistype so badly that they match no one.
# - Someone who knows a code and guesses the birth date is counted per code and address: 5
#   tries a quarter hour, 10 a day. That locks out only them, never the family on another
#   address. Across all addresses a code takes at most 30 wrong tries a day, which one
#   address cannot reach alone (10 < 30): only a guesser using three or more networks can
#   pause a family's code, and then finds a birth date with odds of about 1 in 60 a day.
UNKNOWN_CODE_LIMITS = ((100, 3600),)
CODE_ADDRESS_LIMITS = ((5, 15 * 60), (10, 86400))
CODE_LIMITS = ((30, 86400),)


def resume_limits(lookup: str | None, client: str) -> list[tuple[str, int, int]]:
    """(key, how many, window) for one resume attempt; lookup is None for a code that opens
    nothing (unknown, deleted or expired: all counted alike, so none can be told apart)."""
    if lookup is None:
        return [(f"client:{client}", n, window) for n, window in UNKNOWN_CODE_LIMITS]
    return ([(f"code:{lookup}:{client}", n, window) for n, window in CODE_ADDRESS_LIMITS]
            + [(f"code:{lookup}", n, window) for n, window in CODE_LIMITS])


# A family's consent to a helper: a 6-digit code the family reads out or shows as a QR code,
# valid for GRANT_CODE_MINUTES and spent by its first use. Six digits are quick to read out
# and type, and few enough to guess, so guessing is bounded three ways, and only failures
# count (a success is forgotten):
# - per client address: 20 tries a quarter hour, 60 a day;
# - per helper account: 10 a quarter hour, 30 a day (a helper who mistypes a few codes in a
#   morning of families is never stopped; a stolen account cannot try many);
# - per code typed: 5 a quarter hour (one wrong code tried over and over, from many places).
# With 100 codes waiting at once (a busy deadline evening), each try finds one with odds
# 1 in 10,000, and a code lives 10 minutes: an account that tries its 10 finds one with
# odds of 1 in 1,000 per quarter hour, and that code then gives only what its family would
# have shown: access the family sees, can end, and that ends by itself in a day.
GRANT_CODE_DIGITS = 6
GRANT_CLIENT_LIMITS = ((20, 15 * 60), (60, 86400))
GRANT_USER_LIMITS = ((10, 15 * 60), (30, 86400))
GRANT_CODE_LIMITS = ((5, 15 * 60),)


def grant_code() -> str:
    return f"{secrets.randbelow(10 ** GRANT_CODE_DIGITS):0{GRANT_CODE_DIGITS}d}"


def grant_lookup(secret: str, code: str) -> str:
    """What the database keeps of a grant code: an HMAC (a million codes would be hashed
    through in a moment without the key, which never sits in the database)."""
    return _mac(secret, "grant", code).hex()


def normalise_grant_code(text: str) -> str | None:
    """Six digits, whatever spaces, dashes or full-width digits were typed; None otherwise."""
    digits = "".join(str(unicodedata.digit(c)) for c in text if unicodedata.digit(c, None)
                     is not None)
    rest = "".join(c for c in text if unicodedata.digit(c, None) is None)
    if len(digits) != GRANT_CODE_DIGITS or rest.strip(" -\u3000") != "":
        return None
    return digits


def grant_limits(lookup: str, client: str, user_id: int) -> list[tuple[str, int, int]]:
    return ([(f"grant-client:{client}", n, w) for n, w in GRANT_CLIENT_LIMITS]
            + [(f"grant-user:{user_id}", n, w) for n, w in GRANT_USER_LIMITS]
            + [(f"grant-code:{lookup}", n, w) for n, w in GRANT_CODE_LIMITS])


# Helpers' sign-in: 5 wrong passwords for one login in a quarter hour lock that login for the
# rest of it (whoever types them: a guesser moving between addresses gains nothing); one
# address gets 30 wrong tries a quarter hour across logins.
SIGN_IN_LOGIN_LIMITS = ((5, 15 * 60),)
SIGN_IN_CLIENT_LIMITS = ((30, 15 * 60),)


def sign_in_limits(login: str, client: str) -> list[tuple[str, int, int]]:
    # The login's hash, not the login: what is typed there may be a password by mistake.
    key = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
    return ([(f"sign-in:{key}", n, w) for n, w in SIGN_IN_LOGIN_LIMITS]
            + [(f"sign-in-client:{client}", n, w) for n, w in SIGN_IN_CLIENT_LIMITS])


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
    """What a person typed -> a code: case, spaces, dashes and full-width letters and digits
    (a Chinese keyboard's) do not matter."""
    folded = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())[:32]


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


def whole_number(text: str | None, max_digits: int = 12) -> int | None:
    """A number parameter from a request, or None: ASCII digits only. str.isdigit() alone
    lets through "²" and Arabic-Indic digits, and int("²") raises."""
    if text and len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


# ---------------------------------------------------------------- origins


def check_origin(origin: str) -> str:
    """The configured public origin, normalised ("https://example.org"); raises on a value
    that is not a bare http(s) origin, so a typo is found at start-up, not in a QR code."""
    parts = urlsplit(str(origin).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"PUBLIC_ORIGIN must look like https://example.org, not {origin!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def public_url(endpoint: str, **values) -> str:
    """An absolute link to give away (resume link, QR code), on the configured origin."""
    return current_app.config["PUBLIC_ORIGIN"] + url_for(endpoint, **values)


def refuse_cross_site() -> None:
    """Refuse a state-changing request that a browser says came from another site.

    Browsers send Sec-Fetch-Site and Origin on POSTs whatever the referrer policy; a request
    without them (an old browser, a test client) is left to the CSRF token alone."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        raise CSRFError("cross-site request")
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.lower() not in (
            current_app.config["PUBLIC_ORIGIN"], request.host_url.rstrip("/").lower()):
        raise CSRFError("cross-origin request")


# ---------------------------------------------------------------- headers

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def keep_private(response):
    """A page that shows answers or codes: never kept by a shared phone's or a community
    centre PC's cache (Back after "Delete my answers" must not show them)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def add_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        # A year; not includeSubDomains: other hosts of the domain are not ours to decide.
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint == "static":
        # A stylesheet or script is not a document: the headers below would only cost every
        # phone a few hundred bytes per file.
        return response
    # Pages that show a family's answers or codes say no-store themselves (see keep_private);
    # the others are only revalidated, so that the phone's Back button can use the browser's
    # back/forward cache, which no-store switches off.
    headers.setdefault("Cache-Control", "no-cache")
    headers.add("Vary", "Cookie")
    headers.setdefault("Content-Security-Policy", CSP)
    # Resume links carry a code: never leak a URL to another site (same-origin still lets
    # our own pages see where a request came from).
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response
