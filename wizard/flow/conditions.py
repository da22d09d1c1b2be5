"""Conditions: a small author syntax compiled to JsonLogic, and a JsonLogic evaluator.

Authors write Python-looking expressions (``age_months(child_dob, data.cutoff) >= 36 and
hukou != 'shanghai'``). :func:`compile_expression` parses them with :mod:`ast` against a strict
whitelist (nothing is ever ``eval``-ed) and returns a JSON-serialisable JsonLogic rule.
:func:`evaluate` runs a rule on the server; ``static/js/rules.js`` runs the same rule on the
phone with identical semantics (both are checked against ``tests/vectors/*.json``).

Semantics, shared with rules.js (JavaScript rules wherever JsonLogic leaves a choice):

* Truthiness as in json-logic-js: ``[]``, ``""``, ``0``, NaN, ``null``, ``false`` are false;
  ``"0"`` and ``{}`` are true.
* ``===`` / ``!==`` compare JSON values strictly and *deeply* (arrays and objects by content;
  ``1 === 1.0``; ``1 !== "1"``; ``true !== 1``). ``==`` / ``!=`` follow JavaScript's loose
  equality for scalars (``1 == "1"``, ``null == 0`` is false) and the deep comparison for two
  arrays or two objects.
* ``< <= > >=`` follow JavaScript: two strings compare by UTF-16 code units, anything else is
  converted to a number (``null`` -> 0, ``true`` -> 1, ``"12"`` -> 12, ``"abc"`` -> NaN, arrays
  via their comma-joined text) and NaN compares false. So a missing answer (null) compares as 0.
* ``+`` and ``*`` convert with JavaScript ``parseFloat`` (``"12abc"`` -> 12, null -> NaN);
  ``- / %`` with JavaScript ``Number()``. Division by zero gives Infinity/NaN, never an error.
  Arithmetic results that are whole numbers come back as Python ``int``.
* A missing operand is ``null``. ``and``/``or`` return the deciding operand; with no operands
  they return ``null``. ``*`` of nothing is 1, ``+`` of nothing is 0.
* ``var`` reads own keys of objects and in-range indexes (``"0"``, ``"1"``...) of arrays only;
  a key that is present with value ``null`` gives ``null`` (not the default).
* Dates are ISO strings ``YYYY-MM-DD`` (valid calendar dates, years 0001-9999). The date
  helpers return ``null`` for anything else, including ``datetime.date`` objects in answers.
* ``min``/``max`` follow ``Math.min``/``Math.max``: ``-0`` is smaller than ``0`` (so
  ``1 / min(0, -0.0)`` is -Infinity). Strings compare by UTF-16 code units even when they hold
  lone surrogates (``"\\ud800"``), as JavaScript does.

Flow files are hostile input (staff upload them), so compiling is bounded: a source of at most
:data:`MAX_SOURCE_LENGTH` characters and :data:`MAX_DEPTH` levels of nesting, ASCII names only,
no arithmetic on text; a rule too deep to evaluate raises ValueError, never RecursionError.

Number precision beyond 2**53 is not guaranteed to agree with JavaScript.
"""

from __future__ import annotations

import ast
import datetime
import functools
import io
import math
import re
import tokenize
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["ConditionError", "compile_expression", "variables", "evaluate", "truthy", "OPERATORS",
           "FUNCTIONS"]


class ConditionError(ValueError):
    """Author error in an expression. str(err) is a helpful sentence saying what to do."""

    def __init__(self, message: str, offset: int | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset  # 0-based character offset into the source, when known
        self.source = source

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------
# Compiling the author syntax
# --------------------------------------------------------------------------------------------

# Bounds on one expression. Python's parser, our compiler and both evaluators recurse once per
# level, so a few hundred nested `not`s would pass here and overflow the stack later.
MAX_SOURCE_LENGTH = 2000  # characters
MAX_DEPTH = 64  # levels of nesting (`not not x` is 3; brackets alone add none)
ECHO_LENGTH = 80  # longest piece of an author's text quoted back in a message
_NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_SAFE_INT = 2**53
# A text that is meant as a date: 2027-08-31, 2027-8-31, 2027/08/31, 31/08/2027, 31.08.2027.
_DATE_LIKE_RE = re.compile(r"[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}"
                           r"|[0-9]{1,2}([-/.])[0-9]{1,2}\2[0-9]{4}")
_UNREADABLE = re.compile("[\x00\ud800-\udfff]")
_DATE_FUNCTIONS = {"age_months", "age_years", "days_between"}

# name -> (min args, max args or None, how to call it)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "age_months": (2, 2, "age_months(date_of_birth, on_date), "
                          "e.g. age_months(child_dob, data.cutoff)"),
    "age_years": (2, 2, "age_years(date_of_birth, on_date), e.g. age_years(child_dob, today())"),
    "days_between": (2, 2, "days_between(from_date, to_date), "
                            "e.g. days_between(today(), data.deadline)"),
    "today": (0, 0, "today(), with nothing between the brackets"),
    "count": (1, 1, "count(answer), e.g. count(documents)"),
    "min": (1, None, "min(a, b, ...), with at least one value"),
    "max": (1, None, "max(a, b, ...), with at least one value"),
}
_LITERAL_NAMES = {"true": True, "false": False, "null": None,
                  "True": True, "False": False, "None": None}
_COMPARE_OPS = {ast.Eq: "===", ast.NotEq: "!==", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
                ast.GtE: ">="}
_BIN_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
_BIN_HINTS = {
    ast.FloorDiv: "'//' is not supported; use '/' (and compare with < or >)",
    ast.Pow: "'**' (power) is not supported; multiply instead, e.g. x * x",
    ast.MatMult: "'@' is not supported",
    ast.BitAnd: "'&' is not supported; use 'and'",
    ast.BitOr: "'|' is not supported; use 'or'",
    ast.BitXor: "'^' is not supported",
    ast.LShift: "'<<' is not supported",
    ast.RShift: "'>>' is not supported",
}
_NODE_HINTS = {
    ast.Subscript: "indexing or slicing with [...] is not supported; compare whole answers, or "
                   "use 'in' to look inside a list",
    ast.Lambda: "'lambda' is not allowed in a condition",
    ast.ListComp: "list comprehensions are not allowed in a condition",
    ast.SetComp: "set comprehensions are not allowed in a condition",
    ast.DictComp: "dict comprehensions are not allowed in a condition",
    ast.GeneratorExp: "generator expressions are not allowed in a condition",
    ast.Dict: "{...} (objects) are not allowed in a condition; put structured values in the "
              "flow's data section and use data.key",
    ast.Set: "{...} (sets) are not allowed; use a list in square brackets: ['a', 'b']",
    ast.Tuple: "use square brackets for a list, e.g. ['a', 'b']; a comma on its own is not "
               "allowed",
    ast.JoinedStr: "f-strings are not allowed; write a plain quoted string",
    ast.NamedExpr: "':=' (assignment) is not allowed in a condition",
    ast.Starred: "'*' unpacking is not allowed in a condition",
    ast.Await: "'await' is not allowed in a condition",
    ast.Yield: "'yield' is not allowed in a condition",
    ast.YieldFrom: "'yield' is not allowed in a condition",
    ast.Slice: "slices are not allowed in a condition",
}


def compile_expression(source: str, data: Mapping[str, Any] | None = None) -> Any:
    """Parse the author syntax with Python's `ast` (mode='eval') and a strict whitelist — never
    eval — and return a JSON-serialisable JsonLogic rule.

    ``data`` is the flow's data section; ``data.key`` (and ``data.a.b``) is replaced by its
    value at compile time. Raises :class:`ConditionError` for anything not allowed."""
    if not isinstance(source, str):
        raise ConditionError(f"a condition must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ConditionError(f"this condition is {len(source)} characters long, over the limit "
                             f"of {MAX_SOURCE_LENGTH}; shorten it (a calculated field can hold "
                             "a part of it)", 0, source)
    odd = _UNREADABLE.search(source)
    if odd:  # Python's parser would fail on these with a traceback or a misleading message
        what = "a NUL" if odd.group() == "\x00" else \
            f"a lone surrogate (\\u{ord(odd.group()):04x}, half of a character)"
        raise ConditionError(f"character {odd.start() + 1} of this condition is {what}; "
                             "remove it", odd.start(), source)
    # YAML block scalars may bring line breaks; treat them as spaces (same length, so offsets
    # still point into the author's text).
    text = source.replace("\r", " ").replace("\n", " ")
    body = text.lstrip(" \t\f")
    lead = len(text) - len(body)
    if not body.strip():
        raise ConditionError("the condition is empty; write an expression such as "
                             "hukou == 'shanghai'", 0, source)
    compiler = _Compiler(source, body, lead, data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        raise compiler.syntax_error(exc) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise ConditionError(f"this condition cannot be read ({exc}); check it for stray "
                             "characters", None, source) from None
    compiler.check_tokens()
    try:
        return compiler.node(tree.body)
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps well below the limit
        raise ConditionError("this condition is nested too deeply; split it with a calculated "
                             "field", None, source) from None


def clip(text: str, limit: int = ECHO_LENGTH) -> str:
    """An author's text shortened for quoting in a message (a 1 MB condition is not echoed)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plain_name(name: str) -> str:
    """Why a non-ASCII name is refused: Python would silently read full-width ｈｕｋｏｕ as hukou
    (identifiers are NFKC-normalised), so the author would never learn of the odd keyboard."""
    import unicodedata
    odd = next(c for c in name if not c.isascii())
    folded = unicodedata.normalize("NFKC", name)
    if folded != name and folded.isascii():
        return (f"'{clip(name)}' is not a valid answer name: it is typed with full-width "
                f"characters (such as '{odd}'); retype it in half-width letters: "
                f"{clip(folded)}")
    return (f"'{clip(name)}' is not a valid answer name: names use only the letters a-z, digits "
            f"and '_' (it has '{odd}', U+{ord(odd):04X}); put quotes around a text value: "
            f"'{clip(name)}'")


class _Compiler:
    def __init__(self, source: str, body: str, lead: int, data: Mapping[str, Any] | None):
        self.source = source
        self.body = body
        self.lead = lead
        self.data = data
        self._utf8 = body.encode("utf-8")
        self.depth = 0

    # -- errors -------------------------------------------------------------------------------
    def offset(self, node: ast.AST) -> int | None:
        col = getattr(node, "col_offset", None)
        if col is None or getattr(node, "lineno", 1) != 1:
            return None
        return self.lead + len(self._utf8[:col].decode("utf-8", "ignore"))

    def error(self, message: str, node: ast.AST | None = None) -> ConditionError:
        return ConditionError(message, self.offset(node) if node is not None else None,
                              self.source)

    def syntax_error(self, exc: SyntaxError) -> ConditionError:
        msg = exc.msg or "invalid syntax"
        body = self.body
        col = exc.offset if (exc.lineno or 1) == 1 else None
        if not col or col < 1 or col > len(body):
            offset = self.lead + len(body.rstrip())
            char = ""
        else:
            offset = self.lead + col - 1
            char = body[col - 1]
        if "unterminated string" in msg:
            hint = "close the quoted text with the same quote it started with"
        elif "was never closed" in msg:
            hint = "a bracket is opened but never closed"
        elif "unmatched" in msg or "does not match" in msg:
            hint = "the brackets do not match"
        elif "expected 'else'" in msg:
            hint = "write 'a if condition else b', with an 'else' part"
        elif "invalid decimal literal" in msg or "invalid character" in msg or \
                "invalid non-printable" in msg:
            hint = "check for stray characters, and quote text values, e.g. 'shanghai'"
        elif char == "":
            hint = "the condition stops too early: a value or a closing bracket is missing at " \
                   "the end"
        elif char == "=" and not body[col - 1:col + 1] == "==":
            hint = "use '==' to compare, not '='"
        elif char.isalnum() or char in "'\"_[(":
            hint = "two values stand next to each other; join them with an operator such as " \
                   "'and', 'or' or '=='"
        else:
            hint = f"'{char}' is not allowed here; check the spelling and the brackets"
        return ConditionError(f"this condition is not a valid expression at character "
                              f"{offset + 1} ({msg}); {hint}", offset, self.source)

    def check_tokens(self) -> None:
        """No comments, and names in plain ASCII (the body is one line: columns are offsets)."""
        if self.body.isascii() and "#" not in self.body:
            return  # nothing to find (and tokenizing is the slowest part of compiling)
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(self.body).readline))
        except (tokenize.TokenError, SyntaxError, ValueError):  # pragma: no cover - parsed fine
            if self.body.isascii():
                return
            # Cannot tell names from quoted text: refuse rather than let ｈｕｋｏｕ through.
            raise ConditionError("this condition cannot be read; check it for stray "
                                 "characters", None, self.source) from None
        for tok in tokens:
            if tok.type == tokenize.COMMENT:
                raise ConditionError("'#' comments are not allowed inside a condition; put the "
                                     "comment on its own line in the YAML file",
                                     self.lead + tok.start[1], self.source)
            if tok.type == tokenize.NAME and not tok.string.isascii():
                raise ConditionError(_plain_name(tok.string), self.lead + tok.start[1],
                                     self.source)

    # -- compiling ------------------------------------------------------------------------------
    def node(self, n: ast.AST) -> Any:
        method = getattr(self, "n_" + type(n).__name__, None)
        if method is None:
            hint = _NODE_HINTS.get(type(n))
            if hint is None:
                hint = f"this kind of expression ({type(n).__name__}) is not allowed in a condition"
            raise self.error(hint, n)
        # Every level here is a level of recursion in both evaluators too: bound it.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(f"this condition is nested more than {MAX_DEPTH} levels deep, "
                                 "the limit ('not's, operators, calls and lists inside each "
                                 "other); simplify it or split it with a calculated field",
                                 None, self.source)
        try:
            return method(n)
        finally:
            self.depth -= 1

    def n_Constant(self, n: ast.Constant) -> Any:
        v = n.value
        if isinstance(v, str) and _DATE_LIKE_RE.fullmatch(v) and _parse_iso(v) is None:
            raise self.error(f"{clip(repr(v))} is not a real date written YYYY-MM-DD; write "
                             "dates like '2027-08-31'", n)
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            if abs(v) > _SAFE_INT:
                raise self.error(f"the number {clip(str(v), 40)} is too large; conditions use "
                                 f"numbers up to {_SAFE_INT}", n)
            return v
        if isinstance(v, float):
            if not math.isfinite(v):
                raise self.error("this number is too large", n)
            return v
        if isinstance(v, complex):
            raise self.error("complex numbers (like 1j) are not allowed", n)
        if isinstance(v, bytes):
            raise self.error("byte strings (b'...') are not allowed; write a plain quoted "
                             "string", n)
        raise self.error("'...' is not allowed in a condition", n)

    def n_Name(self, n: ast.Name) -> Any:
        name = n.id
        if name in _LITERAL_NAMES:
            return _LITERAL_NAMES[name]
        if name.startswith("_"):
            raise self.error(f"names starting with '_' are not allowed ('{clip(name)}'); answer "
                             "names start with a lower-case letter", n)
        if name == "data":
            raise self.error("'data' on its own is not a value; use data.key to read a value "
                             "from the flow's data section", n)
        if name in FUNCTIONS:
            raise self.error(f"'{name}' is a function; call it as {FUNCTIONS[name][2]}", n)
        if not _NAME_RE.match(name):
            raise self.error(f"'{clip(name)}' is not a valid answer name; answer names use "
                             "lower-case letters a-z, digits and '_', starting with a letter "
                             f"(quote text values: '{clip(name)}')", n)
        return {"var": name}

    def n_Attribute(self, n: ast.Attribute) -> Any:
        path = []
        cur: ast.AST = n
        while isinstance(cur, ast.Attribute):
            path.append(cur.attr)
            cur = cur.value
        if not (isinstance(cur, ast.Name) and cur.id == "data"):
            raise self.error("'.' is only allowed after data, as in data.cutoff (values from the "
                             "flow's data section); methods and attributes are not supported", n)
        path.reverse()
        for key in path:
            if key.startswith("_"):
                raise self.error(f"data keys starting with '_' are not allowed ('{clip(key)}')", n)
        value: Any = self.data
        for depth, key in enumerate(path):
            where = "data." + ".".join(path[:depth]) if depth else "data"
            if not isinstance(value, Mapping):
                if depth == 0:
                    raise self.error(f"unknown data key '{clip(key)}'; this flow has no data "
                                     "section", n)
                raise self.error(f"{clip(where)} is not a mapping, so it has no key "
                                 f"'{clip(key)}'", n)
            if key not in value:
                keys = clip(", ".join(sorted(str(k) for k in value)), 300) or "(nothing)"
                if depth == 0:
                    raise self.error(f"unknown data key '{clip(key)}'; the flow's data section "
                                     f"has: {keys}", n)
                raise self.error(f"unknown data key '{clip(key)}' in {clip(where)}; it has: "
                                 f"{keys}", n)
            value = value[key]
        return self._literal(value, "data." + ".".join(path), n)

    def _literal(self, value: Any, where: str, n: ast.AST) -> Any:
        """A data value as a JSON literal that JsonLogic passes through unchanged."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            if abs(value) > _SAFE_INT:
                raise self.error(f"{clip(where)} is too large a number for a condition", n)
            return int(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.error(f"{clip(where)} is not a finite number", n)
            return float(value)
        if isinstance(value, datetime.datetime):
            raise self.error(f"{clip(where)} is a date and time; conditions use dates written "
                             "YYYY-MM-DD", n)
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            return [self._literal(v, f"{where}[{i}]", n) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            if len(value) == 1:
                raise self.error(f"{clip(where)} is an object with a single key, which a rule "
                                 "would read as an operation; give it more keys or use a list", n)
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise self.error(f"{clip(where)} has a key that is not text "
                                     f"({clip(repr(k))})", n)
                out[k] = self._literal(v, f"{where}.{k}", n)
            return out
        raise self.error(f"{clip(where)} holds a {type(value).__name__}, which a condition "
                         "cannot use", n)

    def n_List(self, n: ast.List) -> Any:
        return [self.node(e) for e in n.elts]

    def n_BoolOp(self, n: ast.BoolOp) -> Any:
        op = "and" if isinstance(n.op, ast.And) else "or"
        args: list[Any] = []
        for v in n.values:
            r = self.node(v)
            if isinstance(v, ast.BoolOp) and type(v.op) is type(n.op):
                args.extend(r[op])  # flatten a and (b and c)
            else:
                args.append(r)
        return {op: args}

    def n_UnaryOp(self, n: ast.UnaryOp) -> Any:
        if isinstance(n.op, ast.Not):
            return {"!": [self.node(n.operand)]}
        if isinstance(n.op, (ast.USub, ast.UAdd)):
            inner = self.node(n.operand)
            is_num = isinstance(inner, (int, float)) and not isinstance(inner, bool)
            if isinstance(n.op, ast.UAdd):
                if is_num:
                    return inner
                raise self.error("unary '+' is only allowed before a number", n)
            if is_num:
                return -inner
            if isinstance(inner, (str, list)):
                raise self.error("'-' works on numbers, not on text or lists", n)
            return {"-": [inner]}
        raise self.error("'~' is not supported; use 'not'", n)

    def n_BinOp(self, n: ast.BinOp) -> Any:
        op = _BIN_OPS.get(type(n.op))
        if op is None:
            raise self.error(_BIN_HINTS.get(type(n.op), "this operator is not supported"), n)
        left, right = self.node(n.left), self.node(n.right)
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            raise self.error("'+' adds numbers; text cannot be joined or added in a condition", n)
        for side in (left, right):
            # JsonLogic arithmetic is numeric ('a' * 3 is NaN in JavaScript, not 'aaa'), so
            # arithmetic on a text or a list is always a mistake.
            if isinstance(side, (str, list)):
                what = "text" if isinstance(side, str) else "a list"
                raise self.error(f"'{op}' works on numbers, not on {what} "
                                 f"({clip(repr(side), 40)}): in a condition it never repeats "
                                 "or joins text; compute with numbers only", n)
        return {op: [left, right]}

    def n_Compare(self, n: ast.Compare) -> Any:
        operands = [n.left, *n.comparators]
        for op in n.ops:
            if isinstance(op, (ast.Is, ast.IsNot)):
                word = "==" if isinstance(op, ast.Is) else "!="
                raise self.error(f"'is' is not supported; use '{word}' (e.g. x {word} null)", n)
        compiled = [self.node(o) for o in operands]
        ops = n.ops
        if len(ops) == 2 and type(ops[0]) is type(ops[1]) and isinstance(ops[0], (ast.Lt, ast.LtE)):
            return {_COMPARE_OPS[type(ops[0])]: compiled}  # between: a < b < c
        pairs = [self._pair(op, compiled[i], compiled[i + 1]) for i, op in enumerate(ops)]
        return pairs[0] if len(pairs) == 1 else {"and": pairs}

    @staticmethod
    def _pair(op: ast.cmpop, a: Any, b: Any) -> Any:
        if isinstance(op, ast.In):
            return {"in": [a, b]}
        if isinstance(op, ast.NotIn):
            return {"!": [{"in": [a, b]}]}
        return {_COMPARE_OPS[type(op)]: [a, b]}

    def n_IfExp(self, n: ast.IfExp) -> Any:
        return {"if": [self.node(n.test), self.node(n.body), self.node(n.orelse)]}

    def n_Call(self, n: ast.Call) -> Any:
        func = n.func
        names = ", ".join(f"{k}()" for k in FUNCTIONS)
        if not isinstance(func, ast.Name):
            raise self.error(f"only these functions can be called: {names}; methods such as "
                             ".lower() are not supported", n)
        name = func.id
        if name.startswith("_"):
            raise self.error(f"names starting with '_' are not allowed ('{clip(name)}')", n)
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise self.error(f"unknown function '{clip(name)}'; the functions are: {names}", n)
        lo, hi, usage = spec
        if n.keywords:
            raise self.error(f"{name}() does not take named arguments; write {usage}", n)
        for a in n.args:
            if isinstance(a, ast.Starred):
                raise self.error(f"'*' unpacking is not allowed; write {usage}", a)
        count = len(n.args)
        if count < lo or (hi is not None and count > hi):
            got = f"{count} argument" + ("" if count == 1 else "s")
            raise self.error(f"{name}() got {got}; write {usage}", n)
        args = [self.node(a) for a in n.args]
        if name in _DATE_FUNCTIONS:
            for a, arg in zip(n.args, args):
                # A literal that is not a real date makes the helper null for every family.
                if not isinstance(arg, dict) and _iso_date(arg) is None:
                    raise self.error(f"{name}() needs dates, and {clip(repr(arg), 40)} is not a "
                                     "real date written YYYY-MM-DD; use a date answer, "
                                     "data.<date>, today() or a date like '2027-08-31'", a)
        return {name: args}


# --------------------------------------------------------------------------------------------
# Reading rules
# --------------------------------------------------------------------------------------------

def variables(rule: Any) -> set[str]:
    """Names of the answers (var names) a compiled rule reads: the literal paths given to
    ``var`` (a dotted path is returned whole; the empty path, meaning all data, is left out)."""
    found: set[str] = set()
    _collect(rule, found)
    return found


def _collect(rule: Any, found: set[str]) -> None:
    # Without recursion: a rule from elsewhere (not compile_expression) may be nested any depth.
    stack = [rule]
    while stack:
        rule = stack.pop()
        if isinstance(rule, list):
            stack.extend(rule)
        elif isinstance(rule, dict) and len(rule) == 1:
            ((op, values),) = rule.items()
            if not isinstance(values, list):
                values = [values]
            if op == "var" and values:
                path = values[0]
                if isinstance(path, str):
                    if path:
                        found.add(path)
                elif isinstance(path, (int, float)) and not isinstance(path, bool):
                    found.add(_to_str(path))
                else:
                    stack.append(path)
                stack.extend(values[1:])
            else:
                stack.extend(values)


# --------------------------------------------------------------------------------------------
# JavaScript value semantics
# --------------------------------------------------------------------------------------------

_NAN = float("nan")
_INF = float("inf")
_JS_WS = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
          "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
_DEC_RE = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX_RE = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")
_INDEX_RE = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_MISSING = object()


def truthy(value: Any) -> bool:
    """JsonLogic truthiness (same as json-logic-js: [] is false; "0" is true; 0, "", null,
    false, NaN false)."""
    t = type(value)
    if t is bool:
        return value
    if value is None:
        return False
    if t is str or t is list:
        return len(value) > 0
    if t is int:
        return value != 0
    if t is float:
        return value == value and value != 0.0
    if t is dict:
        return True
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, (str, list, tuple)):
        return len(value) > 0
    return True


def _num(x: float) -> int | float:
    """A float result as JavaScript would print it: whole numbers as int (keeping -0.0)."""
    if x.is_integer() and -_SAFE_INT < x < _SAFE_INT and (x != 0 or math.copysign(1.0, x) > 0):
        return int(x)
    return x


def _str_to_number(s: str) -> int | float:
    """JavaScript StringToNumber (as in Number("...") )."""
    s = s.strip(_JS_WS)
    if not s:
        return 0
    if _DEC_RE.fullmatch(s):
        return _num(float(s))
    if _RADIX_RE.fullmatch(s):
        return _float(int(s, 0))
    return _NAN


def _float(i: int) -> int | float:
    """An int as a JavaScript number (which is a double)."""
    if -_SAFE_INT <= i <= _SAFE_INT:
        return i
    try:
        return float(i)
    except OverflowError:
        return _INF if i > 0 else -_INF


def _to_number(v: Any) -> int | float:
    """JavaScript ToNumber for JSON values."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        return v if -_SAFE_INT <= v <= _SAFE_INT else _float(v)
    if v is None:
        return 0
    if t is bool:
        return 1 if v else 0
    if t is str:
        return _str_to_number(v)
    if t is list:
        return _str_to_number(_to_str(v))
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, float):
        return float(v)
    if isinstance(v, int):
        return _float(int(v))
    return _NAN


def _parse_float(v: Any) -> float:
    """JavaScript parseFloat(String(v))."""
    t = type(v)
    if t is float:
        return v + 0.0  # String(-0) is "0"
    if t is int:
        return float(_float(v))
    s = v if t is str else _to_str(v)
    m = _DEC_RE.match(s.lstrip(_JS_WS))
    return float(m.group()) if m else _NAN


def _num_to_str(x: int | float) -> str:
    """JavaScript Number::toString."""
    if type(x) is int or isinstance(x, int):
        if -10**21 < x < 10**21:
            return str(int(x))
        x = float(x)
    if x != x:
        return "NaN"
    if x in (_INF, -_INF):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))  # shortest round-trip digits, as in JavaScript
    mantissa, _, exp = r.partition("e")
    intpart, _, frac = mantissa.partition(".")
    digits = (intpart + frac).lstrip("0")
    point = len(intpart) + (int(exp) if exp else 0)  # decimal point position in intpart+frac
    point -= len(intpart + frac) - len((intpart + frac).lstrip("0"))
    digits = digits.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") \
            + str(abs(e))
    return sign + out


def _to_str(v: Any) -> str:
    """JavaScript String(v) for JSON values (arrays join with ',', null inside them is '')."""
    t = type(v)
    if t is str:
        return v
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int or t is float:
        return _num_to_str(v)
    if t is list or t is tuple:
        return ",".join("" if e is None else _to_str(e) for e in v)
    if isinstance(v, Mapping):
        return "[object Object]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _num_to_str(v)
    return str(v)


def _kind(v: Any) -> str:
    t = type(v)
    if t is str:
        return "s"
    if t is int or t is float:
        return "n"
    if v is None:
        return "z"
    if t is bool:
        return "b"
    if isinstance(v, bool):
        return "b"
    if isinstance(v, (int, float)):
        return "n"
    if isinstance(v, str):
        return "s"
    return "o"  # arrays and objects


def _strict_eq(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is tb and ta is not list and ta is not dict:
        return a == b
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka != "o":
        return a == b
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return False
        return all(_strict_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        for k, x in a.items():
            y = b.get(k, _MISSING) if isinstance(k, str) else _MISSING
            if y is _MISSING or not _strict_eq(x, y):
                return False
        return True
    return False


def _loose_eq(a: Any, b: Any) -> bool:
    """JavaScript ==, with arrays/objects compared by content like ===."""
    ka, kb = _kind(a), _kind(b)
    if ka == kb:
        return _strict_eq(a, b)
    if ka == "z" or kb == "z":
        return False
    if ka == "b":
        return _loose_eq(1 if a else 0, b)
    if kb == "b":
        return _loose_eq(a, 1 if b else 0)
    if ka == "o":
        return _loose_eq(_to_str(a), b)
    if kb == "o":
        return _loose_eq(a, _to_str(b))
    return _to_number(a) == _to_number(b)  # a number and a string


def _str_lt(a: str, b: str) -> bool:
    if a.isascii() and b.isascii():
        return a < b
    # JavaScript compares UTF-16 code units, lone surrogates ("\ud800") included.
    return a.encode("utf-16-be", "surrogatepass") < b.encode("utf-16-be", "surrogatepass")


def _lt(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a < b
    if _kind(a) == "o":
        a = _to_str(a)
    if _kind(b) == "o":
        b = _to_str(b)
    if type(a) is str and type(b) is str:
        return _str_lt(a, b)
    return _to_number(a) < _to_number(b)


def _le(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a <= b
    if _kind(a) == "o":
        a = _to_str(a)
    if _kind(b) == "o":
        b = _to_str(b)
    if type(a) is str and type(b) is str:
        return not _str_lt(b, a)
    return _to_number(a) <= _to_number(b)


# --------------------------------------------------------------------------------------------
# Operations (arguments already evaluated; a missing argument is None)
# --------------------------------------------------------------------------------------------

def _arg(args: list, i: int) -> Any:
    return args[i] if len(args) > i else None


def _op_lt(args: list) -> bool:
    if len(args) > 2:
        return _lt(args[0], args[1]) and _lt(args[1], args[2])
    return _lt(_arg(args, 0), _arg(args, 1))


def _op_le(args: list) -> bool:
    if len(args) > 2:
        return _le(args[0], args[1]) and _le(args[1], args[2])
    return _le(_arg(args, 0), _arg(args, 1))


def _op_in(args: list) -> bool:
    a, b = _arg(args, 0), _arg(args, 1)
    tb = type(b)
    if tb is list:
        if type(a) is str:
            return a in b
        return any(_strict_eq(a, x) for x in b)
    if tb is str:
        return b != "" and _to_str(a) in b
    return False


def _op_add(args: list) -> int | float:
    total = 0.0
    for x in args:
        total += _parse_float(x)
    return _num(total)


def _op_mul(args: list) -> int | float:
    total = 1.0
    for x in args:
        total *= _parse_float(x)
    return _num(total)


def _op_sub(args: list) -> int | float:
    if len(args) < 2:
        return _num(-float(_to_number(_arg(args, 0))))
    return _num(float(_to_number(args[0])) - float(_to_number(args[1])))


def _op_div(args: list) -> int | float:
    a, b = float(_to_number(_arg(args, 0))), float(_to_number(_arg(args, 1)))
    if b == 0:
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)
    return _num(a / b)


def _op_mod(args: list) -> int | float:
    a, b = float(_to_number(_arg(args, 0))), float(_to_number(_arg(args, 1)))
    if b == 0 or a != a or b != b or a in (_INF, -_INF):
        return _NAN
    if b in (_INF, -_INF):
        return _num(a)
    return _num(math.fmod(a, b))


def _op_min(args: list) -> int | float:
    """Math.min: NaN wins, and -0 is smaller than 0 (Python's min keeps the first of equals)."""
    best = _INF
    for x in map(_to_number, args):
        if x != x:
            return _NAN
        if x < best or (x == 0 == best and math.copysign(1.0, x) < 0):
            best = x
    return _num(float(best))


def _op_max(args: list) -> int | float:
    """Math.max: NaN wins, and 0 is greater than -0."""
    best = -_INF
    for x in map(_to_number, args):
        if x != x:
            return _NAN
        if x > best or (x == 0 == best and math.copysign(1.0, x) > 0):
            best = x
    return _num(float(best))


def _op_cat(args: list) -> str:
    return "".join("" if x is None else _to_str(x) for x in args)


def _iso_date(v: Any) -> datetime.date | None:
    if type(v) is not str or len(v) != 10:
        return None
    return _parse_iso(v)


@functools.lru_cache(maxsize=4096)
def _parse_iso(v: str) -> datetime.date | None:
    m = _ISO_RE.match(v)
    if m is None:
        return None
    try:
        return datetime.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _months(args: list) -> int | None:
    dob, on = _iso_date(_arg(args, 0)), _iso_date(_arg(args, 1))
    if dob is None or on is None:
        return None
    return (on.year - dob.year) * 12 + (on.month - dob.month) - (1 if on.day < dob.day else 0)


def _op_age_years(args: list) -> int | None:
    m = _months(args)
    return None if m is None else m // 12


def _op_days_between(args: list) -> int | None:
    a, b = _iso_date(_arg(args, 0)), _iso_date(_arg(args, 1))
    if a is None or b is None:
        return None
    return b.toordinal() - a.toordinal()


def _op_count(args: list) -> int:
    v = _arg(args, 0)
    if type(v) is list or type(v) is tuple:
        return len(v)
    return 0 if v is None or v == "" else 1


_OPS = {
    "===": lambda a: _strict_eq(_arg(a, 0), _arg(a, 1)),
    "!==": lambda a: not _strict_eq(_arg(a, 0), _arg(a, 1)),
    "==": lambda a: _loose_eq(_arg(a, 0), _arg(a, 1)),
    "!=": lambda a: not _loose_eq(_arg(a, 0), _arg(a, 1)),
    "!": lambda a: not truthy(_arg(a, 0)),
    "!!": lambda a: truthy(_arg(a, 0)),
    "<": _op_lt,
    "<=": _op_le,
    ">": lambda a: _lt(_arg(a, 1), _arg(a, 0)),
    ">=": lambda a: _le(_arg(a, 1), _arg(a, 0)),
    "in": _op_in,
    "+": _op_add,
    "-": _op_sub,
    "*": _op_mul,
    "/": _op_div,
    "%": _op_mod,
    "min": _op_min,
    "max": _op_max,
    "cat": _op_cat,
    "age_months": _months,
    "age_years": _op_age_years,
    "days_between": _op_days_between,
    "count": _op_count,
}

#: Every operator the evaluators understand (both here and in rules.js).
OPERATORS = frozenset(_OPS) | {"var", "if", "?:", "and", "or", "today"}


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

def evaluate(rule: Any, answers: Mapping[str, Any], *,
             today: datetime.date | str | None = None) -> Any:
    """Evaluate a compiled rule against answers with JsonLogic semantics identical to rules.js.
    today defaults to date.today(); used by the today op.

    Raises ValueError("Unrecognized operation X") for an operator not in :data:`OPERATORS`."""
    if today is None:
        today_iso = datetime.date.today().isoformat()
    elif isinstance(today, datetime.datetime):
        today_iso = today.date().isoformat()
    elif isinstance(today, datetime.date):
        today_iso = today.isoformat()
    else:
        today_iso = str(today)
    try:
        return _apply(rule, answers, today_iso)
    except RecursionError:
        # Only a rule that compile_expression would refuse (MAX_DEPTH) gets here.
        raise ValueError("rule nested too deeply to evaluate") from None


def _apply(logic: Any, data: Any, today: str) -> Any:
    t = type(logic)
    if t is list:
        return [_apply(x, data, today) for x in logic]
    if t is not dict or len(logic) != 1:
        return logic
    for op, values in logic.items():
        break
    if type(values) is not list:
        values = [values]
    fn = _OPS.get(op)
    if fn is not None:
        return fn([_apply(v, data, today) for v in values])
    if op == "var":
        return _var(data, [_apply(v, data, today) for v in values])
    if op == "if" or op == "?:":
        n = len(values)
        i = 0
        while i < n - 1:
            if truthy(_apply(values[i], data, today)):
                return _apply(values[i + 1], data, today)
            i += 2
        return _apply(values[i], data, today) if i == n - 1 else None
    if op == "and":
        current = None
        for v in values:
            current = _apply(v, data, today)
            if not truthy(current):
                return current
        return current
    if op == "or":
        current = None
        for v in values:
            current = _apply(v, data, today)
            if truthy(current):
                return current
        return current
    if op == "today":
        for v in values:
            _apply(v, data, today)
        return today
    raise ValueError(f"Unrecognized operation {op}")


def _var(data: Any, args: list) -> Any:
    path = args[0] if args else None
    default = args[1] if len(args) > 1 else None
    if path is None or path == "":
        return data
    if type(path) is not str:
        path = _to_str(path)
    if "." not in path:
        found = _get(data, path)
        return default if found is _MISSING else found
    for key in path.split("."):
        if data is None:
            return default
        data = _get(data, key)
        if data is _MISSING:
            return default
    return data


def _get(data: Any, key: str) -> Any:
    t = type(data)
    if t is dict:
        return data.get(key, _MISSING)
    if t is list or t is tuple:
        if _INDEX_RE.match(key):
            i = int(key)
            if i < len(data):
                return data[i]
        return _MISSING
    if isinstance(data, Mapping):
        try:
            return data[key] if key in data else _MISSING
        except (KeyError, TypeError):
            return _MISSING
    return _MISSING
