"""Every route and method a family can reach, fed hostile requests (hypothesis).

Random, oversized and malformed bodies, invalid UTF-8, NUL bytes, repeated and unexpected
fields, odd query parameters, forged cookies and headers. Every answer must be 2xx, 3xx or a
deliberate 4xx, never a 5xx; afterwards every stored answer must still pass its field's rules
and every session's review page must still render.
"""

from __future__ import annotations

import datetime
import json
from urllib.parse import quote

import pytest
from family_helpers import BR, KG, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from wizard import catalog, create_app, forms, store
from wizard.flow import fieldtypes, loader

FLOWS = {path.stem: loader.load_file(path).flow for path in
         [ROOT / "flows" / "kindergarten-shanghai.yaml", ROOT / "tests" / "flows" /
          "branching.yaml"]}
STEPS = [f"{prefix}/{s.id}" for prefix, flow in ((KG, FLOWS["kindergarten-shanghai"]),
                                                 (BR, FLOWS["branching"])) for s in flow.steps]
PAGES = ["/", "/healthz", "/resume", "/text-size", "/static/css/app.css", "/favicon.ico",
         f"{KG}/", f"{BR}/", f"{BR}/review", f"{BR}/done", f"{BR}/save", f"{BR}/delete",
         f"{BR}/deleted", f"{KG}/review", f"{KG}/save", "/f/nope/", "/f/nope/x", *STEPS]
FIELD_NAMES = sorted({name for flow in FLOWS.values() for s in flow.steps for f in s.fields
                      for name in (f.id, f"{f.id}-day", f"{f.id}-month", f"{f.id}-year")}
                     | {"consent", "code", "pin", "dob-day", "dob-month", "dob-year",
                        "revision", "csrf_token", "next", "lang", "return", "size"})

nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "²", "١٢٣", "１２３", "\u202e", "\u200b", "yes", "no",
                     "shanghai", "other", "2023", "10", "1", "-1", "9" * 40, "../..",
                     "//evil.example", "%00", "<script>", "\ud800".encode("utf-8",
                     "surrogatepass").decode("latin-1"), "x" * 3000]),
)
form_fields = st.lists(st.tuples(st.sampled_from(FIELD_NAMES) | st.text(max_size=10),
                                 nasty_text), max_size=12)
bodies = st.one_of(
    st.none(),
    form_fields.map(lambda pairs: ("form", pairs)),
    form_fields.map(lambda pairs: ("multipart", pairs)),
    st.binary(max_size=300).map(lambda b: ("bytes", b)),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                     max_size=4),
                 max_leaves=12).map(lambda j: ("json", j)),
    st.integers(60_000, 200_000).map(lambda n: ("big", n)),
)
headers = st.dictionaries(
    st.sampled_from(["Accept-Language", "Content-Type", "X-Forwarded-For", "X-Forwarded-Proto",
                     "Origin", "Sec-Fetch-Site", "Referer", "If-None-Match", "Range",
                     "Accept-Encoding", "Cookie"]),
    nasty_text.filter(lambda t: "\n" not in t and "\r" not in t), max_size=4)
cookies = st.dictionaries(st.sampled_from(["wz_branching", "wz_kindergarten-shanghai",
                                           "session", "lang", "text"]), nasty_text, max_size=3)
requests = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "POST", "POST", "POST", "HEAD", "PUT", "DELETE",
                               "OPTIONS", "PATCH"]),
    "path": st.sampled_from(PAGES) | st.text(max_size=30).map(lambda t: "/" + quote(t)),
    "query": st.lists(st.tuples(st.sampled_from(FIELD_NAMES), nasty_text), max_size=4),
    "body": bodies,
    "headers": headers,
    "cookies": cookies,
})

SENT = {"requests": 0}


def send(client, request):
    kwargs = {"query_string": [(k, v) for k, v in request["query"]],
              "headers": {k: v for k, v in request["headers"].items()}}
    body = request["body"]
    if body is not None:
        kind, value = body
        if kind == "form":
            kwargs["data"] = MultiDict(value)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        elif kind == "multipart":
            kwargs["data"] = MultiDict(value)
            kwargs["content_type"] = "multipart/form-data"
        elif kind == "bytes":
            kwargs["data"] = value
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        elif kind == "json":
            kwargs["data"] = json.dumps(value)
            kwargs["content_type"] = "application/json"
        else:
            kwargs["data"] = b"a=" + b"b" * value
            kwargs["content_type"] = "application/x-www-form-urlencoded"
    for name, value in request["cookies"].items():
        client.set_cookie(name, value.encode("utf-8", "replace").decode("latin-1"))
    SENT["requests"] += 1
    return client.open(request["path"], method=request["method"], **kwargs)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    app = create_app({"TESTING": False, "DATABASE": str(tmp / "fuzz.sqlite3"),
                      "SECRET_KEY": "fuzz", "WTF_CSRF_ENABLED": False})
    s = store.Store(app.config["DATABASE"])
    s.migrate()
    s.publish_flows(list(FLOWS.values()))
    s.close()
    yield app
    check_stored_answers(app)


def started_client(app):
    """A client with a live session in both flows, so step pages save what they can."""
    client = app.test_client()
    for prefix in (BR, KG):
        assert client.post(f"{prefix}/", data={"consent": "yes"}).status_code == 303
    return client


def check_stored_answers(app):
    """Every answer in the database passes its field's own rules."""
    s = store.Store(app.config["DATABASE"])
    try:
        today = datetime.date(2027, 3, 1)
        rows = list(s.db.query("SELECT a.session_id, a.field_id, a.value, s.flow_id, "
                               "s.flow_version FROM answers a JOIN sessions s "
                               "ON s.id = a.session_id"))
        for row in rows:
            flow = catalog.get(s, row["flow_id"], row["flow_version"])
            field = flow.field(row["field_id"])
            assert field is not None, row
            value = s._open(row["value"], "answers", row["session_id"], row["field_id"])
            if not fieldtypes.is_empty(value):
                fieldtypes.validate(field, value, {}, today)  # raises Invalid if not
                # A stored answer reads back as itself: nothing unnormalised got in.
                assert fieldtypes.read(field, forms.raw_from_answer(field, value), {},
                                       today) == value, row
    finally:
        s.close()


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=requests)
def test_no_request_gets_a_server_error_without_a_session(fuzz_app, request):
    response = send(fuzz_app.test_client(), request)
    assert response.status_code < 500, (request, response.status_code)


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(request=requests, path=st.sampled_from(STEPS + [f"{BR}/save", f"{KG}/review"]))
def test_no_request_gets_a_server_error_inside_a_session(fuzz_app, request, path):
    client = started_client(fuzz_app)
    request = {**request, "path": path, "method": "POST", "cookies": {}}
    response = send(client, request)
    assert response.status_code < 500, (request, response.status_code)
    for prefix in (BR, KG):  # whatever was saved, the pages that show it still work
        assert client.get(f"{prefix}/review").status_code == 200


def test_report_how_many_requests_were_sent(fuzz_app):
    # Runs after the two fuzz tests in this module (file order); the count is in -rA output.
    print(f"fuzz: {SENT['requests']} requests sent")
