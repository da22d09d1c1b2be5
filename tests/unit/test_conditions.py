"""Conditions: the author syntax compiler, the Python evaluator, and agreement with rules.js.

Vectors live in tests/vectors/: conditions.json (ours) and jsonlogic_public.json (the public
JsonLogic suite, filtered to the operators we support). tests/js/run_vectors.cjs evaluates the
same files with static/js/rules.js; every result must match Python's exactly. JSON cannot hold
NaN or Infinity, so vectors and the node runner write them as {"$number": "NaN"} etc.
"""

from __future__ import annotations

import datetime
import inspect
import json
import math
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # pragma: no cover - when pytest is run without the project installed
    sys.path.insert(0, str(ROOT))

from wizard.flow import conditions  # noqa: E402
from wizard.flow.conditions import (  # noqa: E402
    ConditionError,
    compile_expression,
    evaluate,
    truthy,
    variables,
)

VECTORS = ROOT / "tests" / "vectors"
OURS = VECTORS / "conditions.json"
PUBLIC = VECTORS / "jsonlogic_public.json"
RUNNER = ROOT / "tests" / "js" / "run_vectors.cjs"
RULES_JS = ROOT / "static" / "js" / "rules.js"
NODE = shutil.which("node")


def canon(value: Any) -> Any:
    """A comparable form of a JSON result: numbers by value (1 == 1.0), but never equal to
    booleans; NaN and infinities by name."""
    if isinstance(value, bool):
        return ("bool", value)
    if value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        if math.isnan(f):
            return ("nonfinite", "NaN")
        if math.isinf(f):
            return ("nonfinite", "Infinity" if f > 0 else "-Infinity")
        return ("num", f)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, (list, tuple)):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, dict):
        if set(value) == {"$number"}:
            return ("nonfinite", value["$number"])
        return ("dict", tuple(sorted((k, canon(v)) for k, v in value.items())))
    raise TypeError(f"not a JSON value: {value!r}")


def load(path: Path) -> list:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc if isinstance(doc, list) else doc["tests"]


def cases(path: Path) -> list[tuple[str, int, dict]]:
    """(file name, index in the file's list, normalised case) for every vector in a file."""
    out = []
    for index, item in enumerate(load(path)):
        if isinstance(item, str):
            continue
        if isinstance(item, list):
            rule, data, expected = item
            case = {"name": json.dumps(rule)[:60], "rule": rule, "answers": data,
                    "result": expected}
        else:
            case = item
        out.append((path.name, index, case))
    return out


OUR_CASES = cases(OURS)
PUBLIC_CASES = cases(PUBLIC)
ALL_CASES = OUR_CASES + PUBLIC_CASES


def case_id(c: tuple[str, int, dict]) -> str:
    return f"{c[0]}[{c[1]}] {c[2]['name']}"


def py_result(case: dict) -> tuple:
    try:
        return ("ok", canon(evaluate(case["rule"], case["answers"], today=case.get("today"))))
    except ValueError as exc:
        return ("error", str(exc))


def expected(case: dict) -> tuple:
    if "error" in case:
        return ("error", case["error"])
    return ("ok", canon(case["result"]))


# --------------------------------------------------------------------------------------------
# The vector files themselves
# --------------------------------------------------------------------------------------------

def test_vector_files_are_well_formed():
    ours = load(OURS)
    assert len(ours) >= 60
    names = [v["name"] for v in ours]
    assert len(names) == len(set(names)), "vector names must be unique"
    for v in ours:
        assert set(v) <= {"name", "expr", "data_section", "rule", "answers", "today", "result",
                          "error"}, v["name"]
        assert ("result" in v) != ("error" in v), v["name"]
    doc = json.loads(PUBLIC.read_text(encoding="utf-8"))
    assert "MIT" in doc["license"] and "json-logic" in doc["source"]
    assert len(PUBLIC_CASES) >= 150


def test_public_vectors_use_only_supported_operators():
    def ops(rule: Any, found: set) -> set:
        if isinstance(rule, list):
            for r in rule:
                ops(r, found)
        elif isinstance(rule, dict) and len(rule) == 1:
            ((op, args),) = rule.items()
            found.add(op)
            ops(args, found)
        return found

    used: set = set()
    for _, _, case in PUBLIC_CASES:
        ops(case["rule"], used)
    assert used <= conditions.OPERATORS


# --------------------------------------------------------------------------------------------
# Compiling
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", [c for c in OUR_CASES if "expr" in c[2]], ids=case_id)
def test_expression_compiles_to_its_rule(case):
    v = case[2]
    rule = compile_expression(v["expr"], v.get("data_section"))
    assert canon(rule) == canon(v["rule"])
    assert json.loads(json.dumps(rule, allow_nan=False)) == rule


def test_compile_shapes():
    assert compile_expression("a and b and (c and d)") == {"and": [{"var": n} for n in "abcd"]}
    assert compile_expression("a or (b or c)") == {"or": [{"var": n} for n in "abc"]}
    assert compile_expression("a and (b or c)") == {
        "and": [{"var": "a"}, {"or": [{"var": "b"}, {"var": "c"}]}]}
    assert compile_expression("x < y <= z") == {
        "and": [{"<": [{"var": "x"}, {"var": "y"}]}, {"<=": [{"var": "y"}, {"var": "z"}]}]}
    assert compile_expression("1 < x < 2 < 3") == {
        "and": [{"<": [1, {"var": "x"}]}, {"<": [{"var": "x"}, 2]}, {"<": [2, 3]}]}
    assert compile_expression("- -3") == 3
    assert compile_expression("-2.5") == -2.5
    assert compile_expression("+4") == 4
    assert compile_expression("-(a)") == {"-": [{"var": "a"}]}
    assert compile_expression("a + b + c") == {"+": [{"+": [{"var": "a"}, {"var": "b"}]},
                                                     {"var": "c"}]}
    assert compile_expression("x if a else y if b else z") == {
        "if": [{"var": "a"}, {"var": "x"}, {"if": [{"var": "b"}, {"var": "y"}, {"var": "z"}]}]}
    assert compile_expression("True and False and None") == {"and": [True, False, None]}
    assert compile_expression("'a' 'b'") == "ab"
    assert compile_expression("  hukou  ") == {"var": "hukou"}
    assert compile_expression("hukou ==\n  'x'") == {"===": [{"var": "hukou"}, "x"]}
    assert compile_expression("(a\n or b)") == {"or": [{"var": "a"}, {"var": "b"}]}
    assert compile_expression("'# not a comment' in notes") == {
        "in": ["# not a comment", {"var": "notes"}]}


def test_data_substitution():
    data = {"cutoff": datetime.date(2027, 8, 31), "n": 3, "ratio": 0.5, "flag": True,
            "none": None, "districts": ("pudong", "hongkou"), "nested": {"a": {"b": [1, 2]}},
            "pair": {"x": 1, "y": 2}}
    assert compile_expression("data.cutoff", data) == "2027-08-31"  # YAML gives date objects
    assert compile_expression("data.n", data) == 3
    assert compile_expression("data.ratio", data) == 0.5
    assert compile_expression("data.flag", data) is True
    assert compile_expression("data.none", data) is None
    assert compile_expression("data.districts", data) == ["pudong", "hongkou"]
    assert compile_expression("data.nested.a.b", data) == [1, 2]
    assert compile_expression("data.pair", data) == {"x": 1, "y": 2}
    assert compile_expression("x in data.districts", data) == {
        "in": [{"var": "x"}, ["pudong", "hongkou"]]}


# source, words the message must contain, and where the problem is (a substring of the source
# whose first character the offset must point at; None when no offset is expected)
REJECTED = [
    ("foo(x)", "unknown function 'foo'", "foo"),
    ("open('/etc/passwd')", "unknown function 'open'", "open"),
    ("eval('1')", "unknown function 'eval'", "eval"),
    ("__import__('os').system('ls')", "only these functions can be called", "__import__"),
    ("__import__('os')", "starting with '_'", "__import__"),
    ("_secret", "starting with '_'", "_secret"),
    ("hukou.lower()", "methods", "hukou"),
    ("hukou.upper", "'.' is only allowed after data", "hukou"),
    ("().__class__", "'.' is only allowed after data", None),
    ("x[0]", "indexing", "x[0]"),
    ("data['cutoff']", "indexing", "data"),
    ("lambda: 1", "lambda", "lambda"),
    ("[c for c in x]", "comprehension", "["),
    ("{c for c in x}", "comprehension", "{"),
    ("{c: 1 for c in x}", "comprehension", "{"),
    ("any(c for c in x)", "unknown function 'any'", "any"),
    ("(y := 1)", "':='", "y :="),
    ("f'{x}'", "f-strings", "f'"),
    ("[*x]", "unpacking", "*x"),
    ("min(*x)", "unpacking", "*x"),
    ("{'a': 1}", "objects", "{"),
    ("{1, 2}", "sets", "{"),
    ("(1, 2)", "square brackets", "("),
    ("x & y", "'&'", "x"),
    ("x | y", "'|'", "x"),
    ("x ^ y", "'^'", "x"),
    ("~x", "'~'", "~"),
    ("x << 1", "'<<'", "x"),
    ("x ** 2", "'**'", "x"),
    ("x // 2", "'//'", "x"),
    ("x is None", "'is' is not supported", "x"),
    ("x is not None", "'is' is not supported", "x"),
    ("min(a=1)", "named arguments", "min"),
    ("min()", "min() got 0 arguments", "min"),
    ("max()", "max() got 0 arguments", "max"),
    ("age_months(dob)", "age_months() got 1 argument; write age_months(date_of_birth, on_date)",
     "age_months"),
    ("age_years(a, b, c)", "age_years() got 3 arguments", "age_years"),
    ("days_between(a)", "days_between() got 1 argument", "days_between"),
    ("today(1)", "today() got 1 argument", "today"),
    ("count()", "count() got 0 arguments", "count"),
    ("today", "is a function; call it as today()", "today"),
    ("Hukou == 'x'", "not a valid answer name", "Hukou"),
    ("户口 == 'x'", "not a valid answer name", "户口"),
    ("data", "'data' on its own", "data"),
    ("data.missing", "unknown data key 'missing'; the flow's data section has: cutoff, n",
     "data"),
    ("data.cutoff.day", "data.cutoff is not a mapping", "data"),
    ("data.__class__", "starting with '_'", "data"),
    ("'a' + x", "'+' adds numbers", "'a'"),
    ("99999999999999999999", "too large", "9"),
    ("1e999", "too large", "1e999"),
    ("1j", "complex", "1j"),
    ("b'x'", "byte strings", "b'x'"),
    ("...", "not allowed", "..."),
    ("await x", "'await'", "await"),
    ("(yield x)", "'yield'", "yield"),
    ("x if y", "'else'", None),
    ("a = 1", "use '==' to compare, not '='", "= 1"),
    ("a ==", "stops too early", None),
    ("hukou == 'shanghai", "close the quoted text", "'shanghai"),
    ("(a or b", "never closed", "("),
    ("a or b)", "brackets do not match", ")"),
    ("a b", "two values stand next to each other", "b"),
    ("hukou == 'x' # why", "comments", "#"),
    ("", "empty", None),
    ("   \n ", "empty", None),
    ("a\x00", "", None),
    ("a and \\\nb", "", None),
    # Flow files are hostile input: what once compiled and blew up later.
    ("'a' * 100000000", "'*' works on numbers, not on text", "'a'"),
    ("x * 'a'", "'*' works on numbers, not on text", "x"),
    ("['a'] * 3", "not on a list", "["),
    ("-'a'", "'-' works on numbers", "-"),
    ("x == 'a' - 1", "'-' works on numbers", "'a'"),
    ("ｈｕｋｏｕ == 'shanghai'", "full-width", "ｈｕｋｏｕ"),
    ("hukou == 'x' and ｎ > 1", "retype it in half-width letters: n", "ｎ"),
    ("data.ｃｕｔｏｆｆ", "full-width", "ｃｕｔｏｆｆ"),
    ("xß == 1", "not a valid answer name", "xß"),
    ("age_months(dob, '2027-02-30') >= 36", "'2027-02-30' is not a real date", "'2027-02-30'"),
    ("x == '2027-09-31'", "not a real date", "'2027-09-31'"),
    ("days_between(today(), '31/08/2027')", "not a real date written YYYY-MM-DD", "'31/08/2027'"),
    ("age_years(dob, 2027)", "age_years() needs dates", "2027"),
    ("age_months(dob, None)", "needs dates", "None"),
    ("x == '\ud800'", "lone surrogate", "\ud800"),
    ("x == 'a\x00b'", "NUL", "\x00"),
    ("not " * 300 + "x", "nested more than 64 levels deep", None),
    ("a" + " + a" * 200, "more than 64 levels deep", None),
    ("x" * 2001, "2001 characters long, over the limit of 2000", "x"),
]


@pytest.mark.parametrize("source, words, where", REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected(source, words, where):
    data = {"cutoff": "2027-08-31", "n": 3}
    with pytest.raises(ConditionError) as info:
        compile_expression(source, data)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err) == err.message
    assert words in err.message
    assert not err.message[0].isupper()  # reads on after "show_if: "; not a repr
    if where is not None:
        assert err.offset == source.index(where), (err.offset, err.message)
    if err.offset is not None:
        assert 0 <= err.offset <= len(source)


def test_offsets_count_characters_after_leading_space_and_line_breaks():
    for source in ("  foo()", "'上海' == x and foo()", "a and\nfoo()", "\t\tfoo()",
                   "'上海' == x and\r\n  foo(1)"):
        with pytest.raises(ConditionError) as info:
            compile_expression(source)
        assert info.value.offset == source.index("foo"), source


def test_syntax_error_offset_with_non_ascii():
    source = "'上海' == x and (y"
    with pytest.raises(ConditionError) as info:
        compile_expression(source)
    assert info.value.offset == source.index("(")


@pytest.mark.parametrize("value, words", [
    ({"op": 1}, "single key"),
    ({1, 2}, "set"),
    (datetime.datetime(2027, 1, 1, 9, 0), "date and time"),
    (float("nan"), "finite"),
    (2**60, "too large"),
    ([object()], "object"),
    ({1: "a", 2: "b"}, "not text"),
])
def test_rejected_data_values(value, words):
    with pytest.raises(ConditionError) as info:
        compile_expression("data.v", {"v": value})
    assert words in str(info.value)


def test_missing_data_section():
    with pytest.raises(ConditionError, match="no data section"):
        compile_expression("data.cutoff")


def test_non_text_source():
    with pytest.raises(ConditionError, match="must be text"):
        compile_expression(42)  # type: ignore[arg-type]


def test_too_long_and_too_deep():
    with pytest.raises(ConditionError, match="characters long"):
        compile_expression("a or " * 2000 + "b")
    with pytest.raises(ConditionError):
        compile_expression("not " * 1200 + "x")
    with pytest.raises(ConditionError):
        compile_expression("(" * 300 + "x" + ")" * 300)
    # ordinary nesting is fine
    assert compile_expression("not " * 50 + "x")


def test_nesting_bound_is_exact_and_long_flat_chains_are_fine():
    deepest = "not " * (conditions.MAX_DEPTH - 1) + "x"  # MAX_DEPTH levels with the name
    assert compile_expression(deepest)
    with pytest.raises(ConditionError, match=f"more than {conditions.MAX_DEPTH} levels"):
        compile_expression("not " + deepest)
    # 'and' chains are flat: length, not depth, bounds them
    chain = " and ".join(["xx"] * 250)
    assert len(chain) <= conditions.MAX_SOURCE_LENGTH
    assert len(compile_expression(chain)["and"]) == 250
    assert compile_expression("(" * 150 + "x" + ")" * 150) == {"var": "x"}


def test_the_deepest_rule_compiles_and_evaluates_far_from_the_recursion_limit():
    """What passes the check must evaluate in a deep web stack too (Flask, Jinja, gunicorn)."""
    rule = compile_expression("not " * (conditions.MAX_DEPTH - 1) + "x")
    limit = sys.getrecursionlimit()
    depth = len(inspect.stack())
    sys.setrecursionlimit(depth + 3 * conditions.MAX_DEPTH + 50)
    try:
        assert evaluate(rule, {}) is ((conditions.MAX_DEPTH - 1) % 2 == 1)  # not null: true
    finally:
        sys.setrecursionlimit(limit)


def test_evaluate_never_raises_recursion_error():
    rule: Any = {"var": "x"}
    for _ in range(20000):
        rule = {"!": [rule]}
    with pytest.raises(ValueError, match="nested too deeply"):
        evaluate(rule, {})


def test_text_arithmetic_is_numeric_and_cheap():
    """JsonLogic '*' and '+' are numeric (NaN for text), as in rules.js: never a 100 MB string."""
    big = "a" * 1000
    assert math.isnan(evaluate({"*": ["a", 100000000]}, {}))
    assert math.isnan(evaluate({"*": [{"var": "s"}, 100000000]}, {"s": big}))
    assert math.isnan(evaluate({"+": [{"var": "s"}, {"var": "s"}]}, {"s": big}))
    assert evaluate({"*": [{"var": "s"}, 3]}, {"s": "2"}) == 6
    assert evaluate({"cat": [{"var": "s"}, {"var": "s"}]}, {"s": big}) == big * 2  # linear


def test_min_and_max_follow_javascript_on_negative_zero():
    assert math.copysign(1, evaluate({"max": [-0.0, 0]}, {})) == 1
    assert math.copysign(1, evaluate({"max": [0, -0.0]}, {})) == 1
    assert math.copysign(1, evaluate({"min": [0, -0.0]}, {})) == -1
    assert math.copysign(1, evaluate({"min": [-0.0, 0]}, {})) == -1
    assert evaluate({"min": []}, {}) == math.inf and evaluate({"max": []}, {}) == -math.inf
    assert math.isnan(evaluate({"max": [1, "x", 2]}, {}))


def test_lone_surrogates_compare_like_javascript():
    assert evaluate({"<": ["\ud800", "\ue000"]}, {}) is True
    assert evaluate({"<": ["\U0001F600", "\ue000"]}, {}) is True  # UTF-16: d83d < e000
    assert evaluate({"<=": ["\udc00", "\ud800"]}, {}) is False
    assert evaluate({">": ["\ud800b", "\ud800a"]}, {}) is True


def test_long_names_are_shortened_in_messages():
    with pytest.raises(ConditionError) as info:
        compile_expression("Q" * 1500)
    assert len(info.value.message) < 400 and "\u2026" in info.value.message
    assert conditions.clip("abc") == "abc" and len(conditions.clip("x" * 1000)) == 80


# --------------------------------------------------------------------------------------------
# Evaluating
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_python_evaluation(case):
    assert py_result(case[2]) == expected(case[2])


def test_unknown_operator_is_a_value_error():
    with pytest.raises(ValueError, match="Unrecognized operation nope"):
        evaluate({"nope": [1]}, {})


def test_today_argument():
    rule = {"today": []}
    assert evaluate(rule, {}, today=datetime.date(2027, 1, 15)) == "2027-01-15"
    assert evaluate(rule, {}, today=datetime.datetime(2027, 1, 15, 23, 59)) == "2027-01-15"
    assert evaluate(rule, {}, today="2027-01-15") == "2027-01-15"
    assert evaluate(rule, {}) == datetime.date.today().isoformat()


def test_truthy():
    for falsy in (None, False, 0, 0.0, -0.0, "", [], float("nan")):
        assert truthy(falsy) is False, falsy
    for true in (True, 1, -1, 0.5, "0", " ", "false", [0], [[]], {}, {"a": 1}, float("inf")):
        assert truthy(true) is True, true


def test_results_are_not_python_bools_where_javascript_gives_numbers():
    assert math.isnan(evaluate({"+": [True, 1]}, {}))  # parseFloat("true") is NaN
    assert type(evaluate({"+": ["1", 1]}, {})) is int
    assert type(evaluate({"/": [4, 2]}, {})) is int
    assert type(evaluate({"===": [1, 1]}, {})) is bool
    assert evaluate({"===": [True, 1]}, {}) is False
    assert evaluate({"in": [True, [1]]}, {}) is False
    assert evaluate({"in": [1, [True]]}, {}) is False
    assert evaluate({"max": [True, 0]}, {}) == 1 and type(evaluate({"max": [True, 0]}, {})) is int


def test_variables():
    rule = compile_expression(
        "age_months(child_dob, data.cutoff) >= 36 and hukou != 'shanghai' and 'lease' in housing",
        {"cutoff": "2027-08-31"})
    assert variables(rule) == {"child_dob", "hukou", "housing"}
    assert variables({"var": ["a.b", {"var": "c"}]}) == {"a.b", "c"}
    assert variables({"var": ""}) == set()
    assert variables({"var": 1}) == {"1"}
    assert variables({"var": [{"cat": ["x", {"var": "y"}]}]}) == {"y"}
    assert variables(True) == set()
    assert variables([{"var": "a"}, {"if": [{"var": "b"}, 1, {"var": "c"}]}]) == {"a", "b", "c"}


def test_answers_may_be_any_mapping():
    from types import MappingProxyType

    rule = compile_expression("hukou == 'shanghai' and count(docs) == 2")
    assert evaluate(rule, MappingProxyType({"hukou": "shanghai", "docs": ["a", "b"]})) is True


# --------------------------------------------------------------------------------------------
# Python and JavaScript agree
# --------------------------------------------------------------------------------------------

def run_node(*files: Path) -> list[dict]:
    if NODE is None:
        pytest.skip("node is not on PATH, so static/js/rules.js cannot be checked against Python")
    proc = subprocess.run([NODE, str(RUNNER), *map(str, files)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def node_results() -> dict[tuple[str, int], tuple]:
    out = {}
    for r in run_node(OURS, PUBLIC):
        key = (Path(r["file"]).name, r["index"])
        out[key] = ("error", r["error"]) if "error" in r else ("ok", canon(r["result"]))
    return out


def test_node_ran_every_vector(node_results):
    assert set(node_results) == {(c[0], c[1]) for c in ALL_CASES}


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_javascript_matches_python(case, node_results):
    js = node_results[(case[0], case[1])]
    assert js == py_result(case[2]) == expected(case[2])


VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 2, 3, 0.5, -2.5, 1e21, 1e-7, 36, 12, 31, 2**53 + 2, -0.0,
    "", "0", "1", "2", " 12 ", "\t3\n", "0x1f", "0b11", "-0x1", "1e3", "1.", ".5", "abc",
    "Infinity", "-Infinity", "infinity", "NaN", "-0", "1,2", "3.5kg", "1_000", "\u00a07",
    "2027-01-15", "2024-02-29", "2023-02-30", "2027-08-31", "0000-01-01", "\uffff", "\U0001F600",
    "\ud800", "\udc00x", "\ue000",
    "上海", "a", "ab", "b", "lease",
    [], [1], [1, 2], ["a"], [None], [[1, 2], 3], ["a", "lease"], [True], [12],
    {}, {"a": 1, "b": 2}, {"b": 2, "a": 1},
]
NAMES = ["a", "b", "c", "lst", "obj", "dob", "missing", "a.0", "obj.a", "lst.1", ""]
OPERATORS = [("===", 2), ("!==", 2), ("==", 2), ("!=", 2), ("!", 1), ("!!", 1), ("<", 2),
             ("<", 3), ("<=", 2), ("<=", 3), (">", 2), (">=", 2), ("in", 2), ("+", 2), ("+", 1),
             ("+", 3), ("-", 2), ("-", 1), ("*", 2), ("*", 1), ("/", 2), ("%", 2), ("min", 2),
             ("max", 3), ("min", 0), ("cat", 3), ("if", 3), ("if", 2), ("if", 5), ("?:", 3),
             ("and", 2), ("or", 3), ("and", 0), ("age_months", 2), ("age_years", 2),
             ("days_between", 2), ("count", 1), ("today", 0), ("var", 1), ("var", 2)]


def random_rule(rng: random.Random, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.3:
        roll = rng.random()
        if roll < 0.45:
            return rng.choice(VALUES)
        if roll < 0.85:
            return {"var": rng.choice(NAMES)}
        return {"var": [rng.choice(NAMES), rng.choice(VALUES)]}
    op, arity = rng.choice(OPERATORS)
    args = [random_rule(rng, depth - 1) for _ in range(arity)]
    if arity == 1 and rng.random() < 0.3:
        return {op: args[0]}  # the unary shorthand {"!": x}
    return {op: args}


def test_random_rules_agree(tmp_path):
    """Differential test: a few thousand random rules over awkward values (JavaScript
    conversions, NaN, UTF-16 ordering, dates) give the same result in Python and in node."""
    rng = random.Random(20270115)
    vectors = []
    for i in range(3000):
        answers = {"a": rng.choice(VALUES), "b": rng.choice(VALUES), "c": rng.choice(VALUES),
                   "lst": rng.choice([v for v in VALUES if isinstance(v, list)]),
                   "obj": {"a": rng.choice(VALUES), "z": 1},
                   "dob": rng.choice(["2024-02-29", "2020-09-01", "2023-01-31", "bad", None])}
        rule = random_rule(rng, rng.randint(1, 4))
        vectors.append({"name": f"random {i}", "rule": rule, "answers": answers,
                        "today": "2027-01-15"})
    path = tmp_path / "random.json"
    path.write_text(json.dumps(vectors), encoding="utf-8")
    js = {r["index"]: ("error", r["error"]) if "error" in r else ("ok", canon(r["result"]))
          for r in run_node(path)}
    mismatches = []
    for i, v in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        py = py_result(v)
        if js[i] != py:
            mismatches.append((v["rule"], v["answers"], py, js[i]))
    assert not mismatches, mismatches[:5]


def test_rules_js_works_as_a_browser_script():
    if NODE is None:
        pytest.skip("node is not on PATH, so static/js/rules.js cannot be checked")
    script = (
        "const vm = require('vm'), fs = require('fs');"
        "const win = {}; win.self = win; vm.createContext(win);"
        "vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), win);"
        "const R = win.WizardRules;"
        "process.stdout.write(JSON.stringify([typeof R.evaluate, typeof R.truthy,"
        " R.evaluate({'in': ['lease', {'var': 'h'}]}, {h: ['lease']}),"
        " R.evaluate({'today': []}, {}, {today: '2027-01-15'}), R.truthy([]),"
        " /^\\d{4}-\\d\\d-\\d\\d$/.test(R.evaluate({'today': []}))]));"
    )
    proc = subprocess.run([NODE, "-e", script, str(RULES_JS)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["function", "function", True, "2027-01-15", False, True]


def test_rules_js_stays_small():
    size = RULES_JS.stat().st_size
    assert size < 8000, f"static/js/rules.js is {size} bytes; keep the offline evaluator small"


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

TOKENS = ["a", "b", "hukou", "data", "data.cutoff", "data.n", "data.nope", ".", "x", "_x", "1",
          "2.5", "-", "+", "*", "/", "%", "//", "**", "==", "!=", "<", "<=", ">", ">=", "=",
          "and", "or", "not", "in", "is", "if", "else", "lambda", ":", "(", ")", "[", "]", "{",
          "}", ",", "'s'", '"t"', "True", "None", "null", "true", "min", "max", "age_months",
          "age_years", "days_between", "today", "count", "open", "__import__", "#", "\n", "f'",
          "*", ":=", "for", "yield", "await", "@", "~", "&", "|", "^", ";", "\\", "'", "上海"]


def check_compile(source: str) -> None:
    try:
        rule = compile_expression(source, {"cutoff": "2027-08-31", "n": 3})
    except ConditionError as exc:
        assert exc.message and isinstance(exc.message, str)
        assert exc.offset is None or 0 <= exc.offset <= len(source)
        return
    json.dumps(rule, allow_nan=False)  # JSON-serialisable
    evaluate(rule, {}, today="2027-01-15")  # a compiled rule always evaluates
    evaluate(rule, {"a": "1", "b": [1], "hukou": None, "x": {"k": 1, "j": 2}}, today="2027-01-15")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_random_text_only_raises_condition_error(source):
    check_compile(source)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join))
def test_random_token_soup_only_raises_condition_error(source):
    check_compile(source)
