/* WizardRules: evaluates the JsonLogic rules compiled by wizard/flow/conditions.py with the same
   semantics as its Python evaluate() (see that module's docstring). No dependencies.
   WizardRules.evaluate(rule, data, {today: "YYYY-MM-DD"}); WizardRules.truthy(value) */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.WizardRules = factory();
}(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  var has = Object.prototype.hasOwnProperty, isArr = Array.isArray;

  function truthy(v) { return isArr(v) ? v.length > 0 : !!v; }
  function at(a, i) { return i < a.length ? a[i] : null; }
  function isObj(v) { return v !== null && typeof v === "object"; }
  // String(v) without calling methods found in the data; null inside an array is "".
  function str(v) {
    if (isArr(v)) return v.map(function (e) { return e === null ? "" : str(e); }).join(",");
    return isObj(v) ? "[object Object]" : String(v);
  }
  function prim(v) { return isObj(v) ? str(v) : v; }
  function num(v) { return Number(prim(v)); }
  function pf(v) { return parseFloat(str(v)); }

  // ===, with arrays and objects equal when their contents are.
  function seq(a, b) {
    if (a === b) return true;
    if (!isObj(a) || !isObj(b) || isArr(a) !== isArr(b)) return false;
    var k = Object.keys(a);
    if (k.length !== Object.keys(b).length) return false;
    return k.every(function (key) { return has.call(b, key) && seq(a[key], b[key]); });
  }
  function kind(v) { return v === null ? "null" : typeof v; }
  function leq(a, b) { // JavaScript ==
    var ka = kind(a), kb = kind(b);
    if (ka === kb) return seq(a, b);
    if (ka === "null" || kb === "null") return false;
    if (ka === "boolean") return leq(+a, b);
    if (kb === "boolean") return leq(a, +b);
    if (ka === "object") return leq(str(a), b);
    if (kb === "object") return leq(a, str(b));
    return Number(a) === Number(b);
  }
  function lt(a, b, orEqual) {
    a = prim(a); b = prim(b);
    if (typeof a !== "string" || typeof b !== "string") { a = Number(a); b = Number(b); }
    return orEqual ? a <= b : a < b;
  }
  function chain(orEqual) {
    return function (a) {
      if (a.length > 2) return lt(a[0], a[1], orEqual) && lt(a[1], a[2], orEqual);
      return lt(at(a, 0), at(a, 1), orEqual);
    };
  }

  // Dates are "YYYY-MM-DD" strings of real dates in years 0001-9999; anything else gives null.
  // Returns [year, month, day, days since 1970-01-01], all computed in UTC.
  function ymd(s) {
    var m = typeof s === "string" && /^(\d{4})-(\d\d)-(\d\d)$/.exec(s), t = new Date(0);
    if (!m) return null;
    t.setUTCFullYear(+m[1], m[2] - 1, +m[3]); // an impossible date rolls over and fails below
    if (+m[1] < 1 || t.getUTCMonth() !== m[2] - 1 || t.getUTCDate() !== +m[3]) return null;
    return [+m[1], +m[2], +m[3], t.getTime() / 864e5];
  }
  function months(x, y) {
    var b = ymd(x), o = ymd(y);
    return b && o ? (o[0] - b[0]) * 12 + o[1] - b[1] - (o[2] < b[2] ? 1 : 0) : null;
  }
  function localToday() { // the phone's own date, not UTC's
    var d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 6e4).toISOString().slice(0, 10);
  }

  function bin(f) { return function (a) { return f(at(a, 0), at(a, 1)); }; }
  function not(f) { return function (x, y) { return !f(x, y); }; }
  var OPS = {
    "===": bin(seq), "!==": bin(not(seq)), "==": bin(leq), "!=": bin(not(leq)),
    "!": bin(function (x) { return !truthy(x); }), "!!": bin(truthy),
    "<": chain(false), "<=": chain(true),
    ">": bin(function (x, y) { return lt(y, x); }),
    ">=": bin(function (x, y) { return lt(y, x, true); }),
    "in": bin(function (x, b) {
      if (isArr(b)) return b.some(function (e) { return seq(x, e); });
      return typeof b === "string" && b !== "" && b.indexOf(str(x)) >= 0;
    }),
    "+": function (a) { return a.reduce(function (s, x) { return s + pf(x); }, 0); },
    "*": function (a) { return a.reduce(function (s, x) { return s * pf(x); }, 1); },
    "-": function (a) { return a.length < 2 ? -num(at(a, 0)) : num(a[0]) - num(a[1]); },
    "/": bin(function (x, y) { return num(x) / num(y); }),
    "%": bin(function (x, y) { return num(x) % num(y); }),
    "min": function (a) { return Math.min.apply(Math, a.map(num)); },
    "max": function (a) { return Math.max.apply(Math, a.map(num)); },
    "cat": function (a) { return a.map(function (x) { return x === null ? "" : str(x); }).join(""); },
    "age_months": bin(months),
    "age_years": bin(function (x, y) {
      var m = months(x, y);
      return m === null ? null : Math.floor(m / 12);
    }),
    "days_between": bin(function (x, y) {
      x = ymd(x); y = ymd(y);
      return x && y ? y[3] - x[3] : null;
    }),
    "count": bin(function (v) { return isArr(v) ? v.length : v === null || v === "" ? 0 : 1; })
  };

  // var: own keys of objects and in-range indexes of arrays only.
  function get(d, k) {
    if (isArr(d)) return /^(0|[1-9]\d*)$/.test(k) && +k < d.length ? d[+k] : undefined;
    return isObj(d) && has.call(d, k) ? d[k] : undefined;
  }
  function variable(data, a) {
    var path = at(a, 0), keys, i;
    if (path === null || path === "") return data;
    for (keys = str(path).split("."), i = 0; i < keys.length; i++) {
      data = data === null ? undefined : get(data, keys[i]);
      if (data === undefined) return at(a, 1);
    }
    return data;
  }

  function run(r, data, today) {
    var ev = function (x) { return run(x, data, today); };
    if (isArr(r)) return r.map(ev);
    if (!isObj(r) || Object.keys(r).length !== 1) return r;
    var op = Object.keys(r)[0], v = r[op], i, cur = null;
    if (!isArr(v)) v = [v];
    if (op === "if" || op === "?:") {
      for (i = 0; i < v.length - 1; i += 2) if (truthy(ev(v[i]))) return ev(v[i + 1]);
      return i === v.length - 1 ? ev(v[i]) : null;
    }
    if (op === "and" || op === "or") {
      for (i = 0; i < v.length; i++) if (truthy(cur = ev(v[i])) === (op === "or")) return cur;
      return cur;
    }
    var args = v.map(ev);
    if (op === "var") return variable(data, args);
    if (op === "today") return today;
    if (!has.call(OPS, op)) throw new Error("Unrecognized operation " + op);
    return OPS[op](args);
  }

  return {
    evaluate: function (rule, data, options) {
      var today = options && options.today != null ? options.today : localToday();
      return run(rule, data === undefined ? null : data, today);
    },
    truthy: truthy
  };
}));
