"""The app as it is deployed (docs/deploy.md): gunicorn started with gunicorn.conf.py, over TLS
or behind Debian's nginx running the example configuration from docs/deploy.md.

Everything runs as subprocesses on free ports of 127.0.0.1, with its own temp directory, so two
pytest-xdist workers never share a server, a port or a database:

- `tls_cert`: a throwaway certificate for 127.0.0.1 and localhost, signed by a throwaway CA
  (trustme) that Python clients can trust; browsers are told to ignore the error instead.
- `gunicorn_https`: `wizard init-db`, `wizard import` and `gunicorn -c gunicorn.conf.py` (what
  `make serve` runs), with `--certfile`/`--keyfile`: the app facing phones directly over HTTPS.
- `nginx_proxy`: gunicorn on plain HTTP with WIZARD_BEHIND_PROXY=true, and in front of it
  nginx with the server blocks of docs/deploy.md (ports, certificate and upstream swapped in),
  wrapped in a minimal nginx.conf whose paths all live in a temp directory.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
# The virtualenv running the tests (.venv under `make test`) has the wizard and gunicorn scripts.
BIN = Path(sys.executable).parent
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
START_TIMEOUT = 30.0  # seconds for a server to answer /healthz before the test fails


def _missing(message: str):
    """A missing tool fails under CI and skips elsewhere, like browser_kit's chromium."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A port nobody listens on right now (the kernel's choice, so xdist workers differ)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ a throwaway certificate


@dataclass(frozen=True)
class Certificate:
    certfile: Path  # the server certificate (PEM), as gunicorn and nginx want it
    keyfile: Path   # its private key (PEM)
    cafile: Path    # the throwaway CA that signed it: what a client trusts

    def client_context(self) -> ssl.SSLContext:
        """Verifies the server like a real client, against the throwaway CA."""
        return ssl.create_default_context(cafile=str(self.cafile))


def make_certificate(directory: Path) -> Certificate:
    try:
        import trustme
    except ModuleNotFoundError:
        pytest.fail("trustme is not installed (it makes the test certificate): "
                    "pip install -e '.[test]'")
    ca = trustme.CA(organization_name="wizard tests")
    issued = ca.issue_cert("127.0.0.1", "localhost")
    directory.mkdir(parents=True, exist_ok=True)
    cert = Certificate(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    issued.cert_chain_pems[0].write_to_path(str(cert.certfile))
    issued.private_key_pem.write_to_path(str(cert.keyfile))
    ca.cert_pem.write_to_path(str(cert.cafile))
    cert.keyfile.chmod(0o600)
    return cert


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


# ------------------------------------------------------------------ processes


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text("utf-8", "replace")
    except OSError:
        return "(no output)"
    return text[-limit:] or "(no output)"


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """Stops a server we started (and, if it will not stop, its process group: the gunicorn
    workers or nginx workers it forked, which live in the session we gave it)."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def fetch(url: str, *, context: ssl.SSLContext | None = None, method: str = "GET",
          headers: dict | None = None, body: bytes | None = None, timeout: float = 5.0,
          source: str | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on its own connection: (status, headers, body). No redirects followed.
    `source` binds the client side to that local address (127.0.0.x)."""
    match = re.match(r"^(https?)://([^/:]+):(\d+)(/.*)?$", url)
    assert match, url
    scheme, host, port, path = match.groups()
    source_address = (source, 0) if source else None
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context,
                                           source_address=source_address)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout,
                                          source_address=source_address)
    try:
        conn.request(method, path or "/", body=body, headers={"Connection": "close",
                                                              **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def wait_until_healthy(url: str, proc: subprocess.Popen, log: Path, what: str,
                       context: ssl.SSLContext | None = None,
                       timeout: float = START_TIMEOUT) -> None:
    """Polls url + /healthz until it answers 200; a bounded wait that fails with the server's
    own output when the process exits or the time is up."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with status {proc.returncode} before answering "
                        f"{url}/healthz. Its output:\n{_tail(log)}")
        try:
            status, _headers, body = fetch(url + "/healthz", context=context, timeout=2)
            if status == 200:
                return
            last = f"{status}: {body[:300]!r}"
        except (OSError, http.client.HTTPException) as exc:
            last = repr(exc)
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(f"{what} did not answer {url}/healthz with 200 within {timeout:.0f} s "
                        f"(last: {last}). Its output:\n{_tail(log)}")
        time.sleep(0.1)


# ------------------------------------------------------------------ gunicorn as `make serve`


@dataclass
class Gunicorn:
    """`gunicorn -c gunicorn.conf.py` on 127.0.0.1:port, with its own database."""

    workdir: Path
    port: int
    public_origin: str
    settings: dict = field(default_factory=dict)  # more WIZARD_* variables
    tls: Certificate | None = None
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / "gunicorn.log"

    def environment(self) -> dict:
        # Only the settings we mean: none of the caller's WIZARD_* variables leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
        env.update({
            "WIZARD_DATABASE": str(self.workdir / "wizard.sqlite3"),
            # A letter first: from_prefixed_env would read an all-digit value as a number.
            "WIZARD_SECRET_KEY": "k" + secrets.token_hex(32),
            "WIZARD_PUBLIC_ORIGIN": self.public_origin,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **self.settings,
        })
        return env

    def prepare(self, env: dict) -> None:
        """What `make serve` runs before gunicorn: the schema, then the shipped flows."""
        for command in (["init-db"], ["import"]):
            done = subprocess.run([str(BIN / "wizard"), *command], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
            if done.returncode:
                pytest.fail(f"wizard {' '.join(command)} failed ({done.returncode}):\n"
                            f"{done.stdout}\n{done.stderr}")

    def start(self) -> "Gunicorn":
        if not (BIN / "gunicorn").exists():
            pytest.fail(f"{BIN / 'gunicorn'} is missing: pip install -e '.[test]'")
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self.prepare(env)
        # gunicorn's control socket (for gunicornc) defaults to one path per user: ours stays
        # in the temp dir, so test servers never take over the one of a `make serve`.
        command = [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF),
                   "--control-socket", str(self.workdir / "gunicorn.ctl")]
        if self.tls:
            command += ["--certfile", str(self.tls.certfile), "--keyfile", str(self.tls.keyfile)]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        wait_until_healthy(self.url, self.proc, self.log, "gunicorn",
                           context=self.tls.client_context() if self.tls else None)
        return self

    def stop(self) -> None:
        if self.proc:
            # SIGINT is gunicorn's quick shutdown: nothing in flight worth waiting for.
            _stop(self.proc, signal.SIGINT)


@pytest.fixture(scope="session")
def gunicorn_https(tmp_path_factory, tls_cert):
    """gunicorn serving HTTPS itself (no proxy), as `make serve` runs it plus a certificate."""
    port = free_port()
    server = Gunicorn(tmp_path_factory.mktemp("gunicorn-https"), port,
                      public_origin=f"https://127.0.0.1:{port}", tls=tls_cert).start()
    yield server
    server.stop()


# ------------------------------------------------------------------ nginx from docs/deploy.md


def doc_nginx_block(doc: Path = DEPLOY_DOC) -> str:
    """The ```nginx example of docs/deploy.md (there must be exactly one)."""
    blocks = re.findall(r"^```nginx\n(.*?)^```", doc.read_text("utf-8"), re.S | re.M)
    assert len(blocks) == 1, f"{doc} should have exactly one ```nginx block, has {len(blocks)}"
    return blocks[0]


def _swap(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, lambda _m: replacement, text, flags=re.M)
    assert count, (f"docs/deploy.md's nginx example has no line matching {pattern!r}; "
                   "the test swaps it for its own value (update deploy_kit.site_config)")
    return new


def site_config(block: str, *, https_port: int, http_port: int, upstream_port: int,
                cert: Certificate) -> str:
    """The doc's example with the test's ports, certificate and upstream. IPv6 listeners are
    dropped: the test binds 127.0.0.1 only (a container may have no IPv6 at all)."""
    text = _swap(block, r"^\s*listen\s+\[::\]:\d+[^;]*;\s*\n", "")
    text = _swap(text, r"\blisten\s+443\s+ssl\s*;", f"listen 127.0.0.1:{https_port} ssl;")
    text = _swap(text, r"\blisten\s+80\s*;", f"listen 127.0.0.1:{http_port};")
    text = _swap(text, r"\bssl_certificate\s+\S+;", f"ssl_certificate {cert.certfile};")
    text = _swap(text, r"\bssl_certificate_key\s+\S+;", f"ssl_certificate_key {cert.keyfile};")
    text = _swap(text, r"\bserver\s+127\.0\.0\.1:8000\s*;", f"server 127.0.0.1:{upstream_port};")
    return text


MAIN_CONF = """\
# A minimal nginx.conf around the server blocks of docs/deploy.md; every path in {prefix}.
{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{
    worker_connections 512;
}}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

{site}
}}
"""


def write_nginx_conf(prefix: Path, **ports_and_cert) -> Path:
    prefix.mkdir(parents=True, exist_ok=True)
    # Workers of a root master run as `nobody`, who cannot write into our private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    site = site_config(doc_nginx_block(), **ports_and_cert)
    conf = prefix / "nginx.conf"
    conf.write_text(MAIN_CONF.format(prefix=prefix, user=user, site=site), "utf-8")
    return conf


def nginx_command(prefix: Path, conf: Path, *extra: str) -> list[str]:
    # -e: nginx opens its error log before reading the config; keep that one ours too.
    return [NGINX, "-p", f"{prefix}/", "-e", str(prefix / "error.log"), "-c", str(conf), *extra]


def require_nginx() -> None:
    if not Path(NGINX).exists():
        _missing(f"{NGINX} is missing: install Debian's nginx (`make nginx`)")


def nginx_test(conf: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on a configuration: returncode 0 and its findings on stderr."""
    require_nginx()
    return subprocess.run(nginx_command(conf.parent, conf, "-t"), capture_output=True,
                          text=True, timeout=30)


@dataclass
class Proxied:
    """nginx (docs/deploy.md) on https_port and http_port in front of `upstream`."""

    prefix: Path
    https_port: int
    http_port: int
    upstream: Gunicorn
    cert: Certificate
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log(self) -> Path:
        return self.prefix / "error.log"

    def start(self) -> "Proxied":
        require_nginx()
        conf = write_nginx_conf(self.prefix, https_port=self.https_port,
                                http_port=self.http_port, upstream_port=self.upstream.port,
                                cert=self.cert)
        checked = nginx_test(conf)
        if checked.returncode:
            pytest.fail(f"nginx -t refused {conf}:\n{checked.stderr}")
        out = open(self.prefix / "nginx.out", "wb")
        with out:
            self.proc = subprocess.Popen(nginx_command(self.prefix, conf), stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        wait_until_healthy(self.url, self.proc, self.log, "nginx",
                           context=self.cert.client_context())
        return self

    def stop(self) -> None:
        if self.proc:
            _stop(self.proc, signal.SIGQUIT)  # nginx's graceful shutdown


@pytest.fixture(scope="session")
def nginx_proxy(tmp_path_factory, tls_cert):
    """nginx from docs/deploy.md terminating TLS in front of gunicorn on plain HTTP with
    WIZARD_BEHIND_PROXY=true; the public origin is nginx's HTTPS address. Forwarded headers
    are trusted from 127.0.0.1 (where nginx connects from) and ::1, written as a CIDR range
    with a space to exercise both parsers (the app's and gunicorn's)."""
    require_nginx()
    https_port, http_port = free_port(), free_port()
    upstream = Gunicorn(
        tmp_path_factory.mktemp("gunicorn-upstream"), free_port(),
        public_origin=f"https://127.0.0.1:{https_port}",
        settings={"WIZARD_BEHIND_PROXY": "true", "WIZARD_TRUSTED_PROXIES": "127.0.0.1/32, ::1"},
    ).start()
    proxy = Proxied(tmp_path_factory.mktemp("nginx"), https_port, http_port, upstream, tls_cert)
    try:
        proxy.start()
    except BaseException:
        upstream.stop()
        raise
    yield proxy
    proxy.stop()
    upstream.stop()
