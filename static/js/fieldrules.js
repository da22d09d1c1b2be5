/* WizardFields: the field registry of wizard/flow/fieldtypes.py for the offline phone: the same
   normalising, the same rules, the same error codes and params (tests/vectors/fields.json runs
   through both), and the sentences and answers of wizard/display.py in the page language.
   Fields are those of offline_rules.flow_rules; texts are offline_rules.flow_texts.
   read(field, raw, answers, today) -> {value} or {error, params}; today is "YYYY-MM-DD".
   Plain ES5 plus \p{...} regular expressions (built at load: where a browser lacks them,
   WizardFields.supported is false and the server checks everything, as it does anyway). */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.WizardFields = factory();
}(typeof self !== "undefined" ? self : this, function () {
  "use strict";
  var has = Object.prototype.hasOwnProperty, isArr = Array.isArray, MAX_TEXT = 2000, RE;
  // Python's str.isspace(): what strip(), split() and \s see (JavaScript's trim() also takes
  // U+FEFF but not U+001C-001F or U+0085).
  var WS = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var STRIP = new RegExp("^" + WS + "+|" + WS + "+$", "g"), SPACES = new RegExp(WS + "+", "g");
  // Zero-width characters and direction marks: removed without a word (see fieldtypes.py).
  var REMOVED = /[\u200b-\u200f\u2060\ufeff\u061c]/g, PAIR = /[\ud800-\udbff][\udc00-\udfff]/g;
  var HAN = "\\u2e80-\\u2fdf\\u3005\\u3007\\u3021-\\u3029\\u3400-\\u4dbf\\u4e00-\\u9fff" +
    "\\uf900-\\ufaff\\u{20000}-\\u{3ffff}";
  // \w of Python's regex module (Unicode's word characters), for flow patterns.
  var WORD = "\\p{Alpha}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_C}";
  try {
    RE = {
      // Bidi embeddings, overrides, isolates; control characters but tab and newline; lone
      // surrogates (\p{Cs} matches only unpaired halves in u mode).
      hidden: new RegExp("[\\u202a-\\u202e\\u2066-\\u2069]|[^\\P{Cc}\\t\\n]|\\p{Cs}", "u"),
      visible: new RegExp("[^\\p{Cc}\\p{Cf}\\p{Cs}\\p{Z}\\p{M}\\u115f\\u1160\\u3164\\uffa0\\u2800]", "u"),
      notHan: new RegExp("(?![" + HAN + "])\\p{L}", "u"), // a letter (isalpha) that is not Han
      // i18n.format_date: a hyphen between a number and a letter never breaks (Uyghur dates).
      suffix: new RegExp("([0-9])-(?=[\\p{L}\\p{Nl}\\p{No}])", "gu")
    };
  } catch (e) { RE = null; }

  function Invalid(code, params) { this.code = code; this.params = params || {}; }
  function bad(code, params) { throw new Invalid(code, params); }
  function get(o, k) { return o != null && has.call(o, k) ? o[k] : null; }
  function strip(s) { return s.replace(STRIP, ""); }
  function cpLen(s) { return s.length - (s.match(PAIR) || []).length; } // Python's len()
  function pad(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
  function pyStr(v) {
    return v === null || v === undefined ? "None" : v === true ? "True" : v === false ? "False" : String(v);
  }
  // fieldtypes._one: one submitted string (forms may send lists).
  function one(raw) {
    if (raw === undefined || raw === null) return "";
    if (isArr(raw)) raw = raw.length ? raw[0] : "";
    if (typeof raw !== "string") raw = pyStr(raw);
    if (raw.length > MAX_TEXT * 4 && cpLen(raw) > MAX_TEXT * 4) bad("too_big");
    return raw;
  }
  // Full-width digits, letters and signs (Chinese keyboards) to ASCII; other scripts' digits
  // stay, for the [0-9] checks to refuse (the official app takes only 0-9).
  function digits(s) {
    return s.replace(REMOVED, "").replace(/[\uff01-\uff5e]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(/\u3000/g, " ");
  }
  function iso(y, m, d) { // "YYYY-MM-DD" of a real date in years 1-9999, else ""
    var feb = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
    if (!(y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
          d <= [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1])) return "";
    return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2);
  }

  // Exact decimals (Python compares with Decimal): [negative, digits without leading or
  // trailing zeros, place of the first digit]; a number or a string such as "-12.50" or "1e-7".
  function dec(x) {
    var m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:e([+-]?[0-9]+))?$/i.exec(String(x));
    var frac = m[3] || "", d = (m[2] + frac).replace(/^0+/, ""), t = d.replace(/0+$/, "");
    return [m[1] === "-", t, d.length - frac.length + +(m[4] || 0)];
  }
  function cmp(a, b) {
    a = dec(a); b = dec(b);
    var an = a[0] && a[1] !== "", bn = b[0] && b[1] !== "", r, n;
    if (an !== bn) return an ? -1 : 1;
    if (!a[1] || !b[1]) r = (a[1] ? 1 : 0) - (b[1] ? 1 : 0);
    else if (a[2] !== b[2]) r = a[2] > b[2] ? 1 : -1;
    else {
      n = Math.max(a[1].length, b[1].length);
      r = (a[1] + pad("", n)).slice(0, n) < (b[1] + pad("", n)).slice(0, n) ? -1 :
        a[1] === b[1] ? 0 : 1;
    }
    return an ? -r : r;
  }
  // Keep k leading digits of d, rounding half to even (Python's decimal context) -> [digits,
  // carry]; the carry (1) means the digits moved up a place (999 -> 1000).
  function roundTo(d, k) {
    if (d.length <= k) return [d, 0];
    if (k < 0) return ["", 0];
    var rest = d.slice(k), keep = d.slice(0, k), up = rest[0] > "5" ||
      (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || +(keep.slice(-1) || 0) % 2 === 1));
    if (!up) return [keep.replace(/0+$/, ""), 0];
    for (var i = k - 1; i >= 0 && keep[i] === "9"; i--);
    if (i < 0) return ["1", 1];
    return [(keep.slice(0, i) + (+keep[i] + 1)).replace(/0+$/, ""), 0];
  }
  // Babel's format_decimal with "#,##0.###" (all four languages): 28 significant digits first
  // (Decimal.normalize), then 3 places, both half to even; "-0" stays negative as in Babel.
  function formatDecimal(v, t) {
    var x = dec(v), r = roundTo(x[1], 28), top = x[2] + r[1], whole, frac;
    r = roundTo(r[0], top + 3); top += r[1];
    whole = top > 0 ? (r[0] + pad("", top)).slice(0, top) : "0";
    frac = top > 0 ? r[0].slice(top) : pad("", -top) + r[0];
    whole = whole.replace(/\B(?=([0-9]{3})+$)/g, t.number.group);
    return (x[0] ? "-" : "") + whole + (/[1-9]/.test(frac) ? t.number.decimal + frac : "");
  }

  // ---------------------------------------------------------------- flow patterns
  // Python matches the whole answer with the regex module: \d, \w and \s are Unicode there, so
  // they are rewritten here; any character escaped for Python is written as \u{...}, since u
  // mode refuses escapes like \- outside a class. A pattern JavaScript cannot compile the same
  // way (Python-only syntax such as (?i), (?P<n>), \Z, possessive quantifiers; \b and \W in a
  // class) is not checked on the phone: the server checks every answer again. Nor is a pattern
  // with a quantified group ending in a quantifier, like (a+)+: the server stops those after
  // 0.1 s, but JavaScript cannot, and the page would freeze.
  var compiled = {};
  function toJs(p) {
    var out = "", cls = false, i, c, n;
    if (/[*+?}]\)[*+{]/.test(p)) return null;
    for (i = 0; i < p.length; i++) {
      c = p[i];
      if (c === "\\") {
        n = p.codePointAt(++i);
        c = p[i];
        if (c === undefined) return null;
        if (c === "d" || c === "D") out += "\\" + (c === "d" ? "p" : "P") + "{Nd}";
        else if (c === "s" || c === "S") out += "\\" + (c === "s" ? "p" : "P") + "{White_Space}";
        else if (c === "w") out += cls ? WORD : "[" + WORD + "]";
        else if (c === "W" && !cls) out += "[^" + WORD + "]";
        else if (c === "W" || (!cls && /[bB]/.test(c))) return null;
        else if (/[0-9A-Za-z]/.test(c)) out += "\\" + c;
        else { out += "\\u{" + n.toString(16) + "}"; if (n > 0xffff) i++; }
      } else if (c === "[" && !cls) {
        cls = true;
        out += c;
        if (p[i + 1] === "^") out += p[++i];
        if (p[i + 1] === "]") { out += "\\]"; i++; } // a ] first in a class is a ] for Python
      } else {
        if (c === "]") cls = false;
        out += c;
      }
    }
    try { return new RegExp("^(?:" + out + ")$", "u"); } catch (e) { return null; }
  }
  function matches(p, v) {
    if (!has.call(compiled, p)) compiled[p] = toJs(p);
    return compiled[p] ? compiled[p].test(v) : true;
  }

  // ---------------------------------------------------------------- parse: raw -> typed
  function choice(f, v) {
    return (f.choices || []).some(function (c) { return c.value === v; });
  }
  function parseText(f, raw) {
    // Browsers send line breaks as \r\n; U+2028/2029 come from pasted documents.
    var text = one(raw).replace(/\r\n?|[\u2028\u2029]/g, "\n"), cleaned;
    if (RE.hidden.test(text)) bad("hidden_characters");
    cleaned = strip(text.replace(REMOVED, "").normalize("NFC"));
    if (f.type === "text") cleaned = cleaned.replace(SPACES, " ");
    if (!cleaned) {
      if (strip(text)) bad("hidden_characters"); // only zero-width characters or marks
      return null;
    }
    if (!RE.visible.test(cleaned)) bad("nothing_visible");
    return cleaned;
  }
  function number(raw) { return strip(digits(one(raw))).replace(/[, ]/g, ""); }
  function parseInteger(f, raw) {
    var t = number(raw);
    if (!t) return null;
    if (!/^[+-]?[0-9]{1,15}$/.test(t)) bad("not_integer");
    return +t + 0; // + 0: never -0
  }
  function parseDecimal(f, raw) {
    // Kept as a normalised string, as Python's format(Decimal(text), "f"): exact, JSON-safe.
    var t = number(raw), m = /^([+-]?)([0-9]{1,15}(?:\.([0-9]*))?|\.([0-9]+))$/.exec(t), frac;
    if (!t) return null;
    if (!m) bad("not_number");
    frac = m[3] || m[4] || "";
    if (f.places != null && frac.length > f.places) bad("too_many_places", {places: f.places});
    return (m[1] === "-" ? "-" : "") + (m[2].split(".")[0].replace(/^0+/, "") || "0") +
      (frac ? "." + frac : "");
  }
  function parseDate(f, raw) {
    var p, t;
    if (raw !== null && typeof raw === "object" && !isArr(raw)) { // three boxes
      p = ["day", "month", "year"].map(function (k) { return strip(digits(one(get(raw, k)))); });
      if (!p.some(Boolean)) return null;
      if (!p.every(Boolean)) bad("date_incomplete");
      if (!p.every(function (x) { return /^[0-9]{1,4}$/.test(x); })) bad("date_not_numbers");
      return (+p[2] >= 1000 && iso(+p[2], +p[1], +p[0])) || bad("date_invalid");
    }
    t = strip(one(raw)); // one ISO string (the sync API): only YYYY-MM-DD
    if (!t) return null;
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(t)) bad("date_invalid");
    return iso(+t.slice(0, 4), +t.slice(5, 7), +t.slice(8)) || bad("date_invalid");
  }
  function parseChoice(f, raw) {
    var v = strip(one(raw));
    if (!v) return null;
    if (!choice(f, v)) bad("not_a_choice");
    return v;
  }
  function parseMulti(f, raw) {
    if (raw === undefined || raw === null || raw === "") return null;
    var order = (f.choices || []).map(function (c) { return c.value; }), picked = [];
    (isArr(raw) ? raw : [raw]).forEach(function (v) {
      v = strip(one(v));
      if (!v) return;
      if (order.indexOf(v) < 0) bad("not_a_choice");
      if (picked.indexOf(v) < 0) picked.push(v);
    });
    // The flow's order, however the browser sent them.
    picked.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
    return picked.length ? picked : null;
  }
  function parseYesNo(f, raw) {
    if (typeof raw === "boolean") return raw;
    var v = strip(one(raw)).toLowerCase();
    if (!v) return null;
    if (v === "yes" || v === "true") return true;
    if (v === "no" || v === "false") return false;
    bad("not_yes_no");
  }
  function parseMobile(f, raw) {
    var t = strip(digits(one(raw))), d;
    if (!t) return null;
    d = t.replace(new RegExp(WS + "|[-()]", "g"), "");
    if (d.slice(0, 3) === "+86") d = d.slice(3);
    else if (d.slice(0, 4) === "0086") d = d.slice(4);
    else if (d.length === 13 && d.slice(0, 2) === "86") d = d.slice(2);
    if (!/^1[3-9][0-9]{9}$/.test(d)) bad("mobile_invalid");
    return d;
  }
  function idBorn(t) { return iso(+t.slice(6, 10), +t.slice(10, 12), +t.slice(12, 14)); }
  function parseId(f, raw) { // GB 11643-1999
    // Only x to X: toUpperCase() would turn some letters into two (ß into SS).
    var t = digits(one(raw)).replace(new RegExp(WS, "g"), "").replace(/x/g, "X"), born, sum = 0, i;
    if (!t) return null;
    if (cpLen(t) !== 18) bad("id_length", {length: cpLen(t)});
    if (!/^[0-9]{17}[0-9X]$/.test(t)) bad("id_chars");
    born = idBorn(t);
    if (!born) bad("id_birth_date", {digits: t.slice(6, 14)});
    if (born < "1900") bad("id_birth_too_early", {date: born});
    for (i = 0; i < 17; i++) sum += t[i] * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i];
    if (t[17] !== "10X98765432"[sum % 11]) bad("id_check_digit");
    return t;
  }

  // ---------------------------------------------------------------- check: typed -> rules
  function checkLength(f, v) {
    var n = isArr(v) ? v.length : cpLen(v), most = Math.min(f.max_length || MAX_TEXT, MAX_TEXT);
    if (f.type === "multichoice" || f.type === "checklist") {
      if (f.min_length != null && n < f.min_length) bad("too_few_choices", {min: f.min_length});
      if (f.max_length != null && n > f.max_length) bad("too_many_choices", {max: f.max_length});
      return;
    }
    if (n > most) bad("too_long", {max: most, length: n});
    if (f.min_length != null && n < f.min_length) bad("too_short", {min: f.min_length});
  }
  function checkText(f, v) {
    checkLength(f, v);
    if (f.pattern && !matches(f.pattern, v)) bad("pattern");
  }
  function checkRange(f, v) {
    if (f.min != null && cmp(v, f.min) < 0) bad("too_small", {min: f.min});
    if (f.max != null && cmp(v, f.max) > 0) bad("too_large", {max: f.max});
  }
  function bound(b, today) { return b == null ? "" : b === "today" ? today : String(b); }
  function checkDate(f, v, answers, today) {
    var low = bound(f.min, today), high = bound(f.max, today);
    if (low && v < low) bad("date_too_early", {min: low});
    if (high && v > high) bad("date_too_late", {max: high});
  }
  function checkId(f, v, answers, today) {
    var born = idBorn(v), expected = f.birth_date_field && get(answers, f.birth_date_field);
    if (born && born > today) bad("id_birth_future", {date: born});
    if (expected && born && born !== expected) {
      bad("id_birth_mismatch", {found: born, expected: expected});
    }
  }
  function none() { return null; }
  // type -> [parse, check, code for an empty required answer]
  var TYPES = {
    text: [parseText, checkText], textarea: [parseText, checkText],
    integer: [parseInteger, checkRange], decimal: [parseDecimal, checkRange],
    date: [parseDate, checkDate, "required_date"], choice: [parseChoice, none, "required_choice"],
    multichoice: [parseMulti, checkLength, "required_choice"],
    yes_no: [parseYesNo, none, "required_choice"],
    checklist: [function (f, raw) { return parseMulti(f, raw) || []; }, checkLength],
    mobile: [parseMobile, none], resident_id: [parseId, checkId], calculated: [none, none]
  };

  function isEmpty(v) { return v === undefined || v === null || v === "" || (isArr(v) && !v.length); }
  function validateRaw(f, v, answers, today) {
    var multi = f.type === "multichoice" || f.type === "checklist";
    if ((f.type === "choice" && !choice(f, v)) ||
        (multi && (isArr(v) ? v : [v]).some(function (x) { return !choice(f, x); }))) {
      bad("not_a_choice");
    }
    TYPES[f.type][1](f, v, answers || {}, today);
  }
  function attempt(fn) {
    try { return fn(); } catch (e) {
      if (e instanceof Invalid) return {error: e.code, params: e.params};
      throw e;
    }
  }

  // A date in the page language: Babel's long pattern (y, M, d and 'quoted' text: the only
  // symbols the long patterns of our four languages use; MMM and up are the wide names).
  function formatDate(value, t) {
    var y = +value.slice(0, 4), m = +value.slice(5, 7), d = +value.slice(8, 10);
    var s = t.date.pattern.replace(/'([^']*)'|y+|M+|d+/g, function (x, quoted) {
      var n = x.length;
      if (quoted !== undefined) return quoted || "'";
      if (x[0] === "y") return n === 2 ? pad(y % 100, 2) : pad(y, n);
      if (x[0] === "M") return n > 2 ? t.date.months[m - 1] : pad(m, n);
      return pad(d, n);
    });
    return s.replace(RE.suffix, "$1\u2011");
  }

  return {
    supported: !!RE,
    read: function (f, raw, answers, today) {
      return attempt(function () {
        var v = TYPES[f.type][0](f, raw);
        if (!isEmpty(v)) validateRaw(f, v, answers, today);
        return {value: v};
      });
    },
    // A stored, non-empty answer against its rules: null, or {error, params}.
    validate: function (f, v, answers, today) {
      return attempt(function () { validateRaw(f, v, answers, today); return null; });
    },
    emptyCode: function (f) { return TYPES[f.type][2] || "required"; },
    isEmpty: isEmpty,
    // An answer as conditions see it: decimals as numbers.
    ruleValue: function (f, v) { return f.type === "decimal" && v != null ? parseFloat(v) : v; },
    // A name in Latin or Uyghur letters where the household register has Chinese characters.
    scriptWarning: function (f, v) {
      return f.script === "han" && typeof v === "string" && RE.notHan.test(v) ? "script_han" : null;
    },
    // display.error_text: the flow's own sentence, else the catalog's with {params} filled in.
    message: function (f, e, t) {
      var own = get(get(t.fields, f.id), "overrides"), p = e.params || {};
      if (get(own, e.error)) return own[e.error];
      return (has.call(t.messages, e.error) ? t.messages[e.error] : e.error).replace(
        /\{\{|\}\}|\{(\w+)\}/g, function (x, k) {
          if (!k) return x[0];
          return /^date_too/.test(e.error) ? formatDate(p[k], t) : pyStr(p[k]);
        });
    },
    formatDate: formatDate,
    // display.display: an answer as the review page and the answer sheet show it.
    display: function (f, v, t) {
      var ft = get(t.fields, f.id) || {}, ch = ft.choices || {}, s;
      function label(x) { return ch[x].label || ""; }
      if (isEmpty(v)) return "";
      if (f.type === "date") return formatDate(v, t);
      if (f.type === "yes_no") return v ? t.words.yes : t.words.no;
      if (f.type === "choice") return has.call(ch, v) ? label(v) : pyStr(v);
      if (f.type === "multichoice" || f.type === "checklist") {
        return v.filter(function (x) { return has.call(ch, x); }).map(label)
          .join(t.words.list_separator);
      }
      if (f.type === "decimal" || (f.type === "calculated" && typeof v === "number" &&
                                   v % 1 !== 0)) s = formatDecimal(v, t);
      else if (f.type === "resident_id") s = v.slice(0, 6) + " " + v.slice(6, 14) + " " + v.slice(14);
      else if (f.type === "mobile") s = v.slice(0, 3) + " " + v.slice(3, 7) + " " + v.slice(7);
      else s = pyStr(v);
      return ft.unit ? s + " " + ft.unit : s;
    },
    // Today in the flow's time zone from the phone's clock (engine.local_today); the phone's
    // own date where Intl does not know the zone.
    today: function (zone, now) {
      var parts = {}, d = now || new Date();
      try {
        new Intl.DateTimeFormat("en-US", {timeZone: zone, year: "numeric", month: "2-digit",
          day: "2-digit"}).formatToParts(d).forEach(function (x) { parts[x.type] = x.value; });
        return pad(parts.year, 4) + "-" + parts.month + "-" + parts.day;
      } catch (e) {
        return new Date(d.getTime() - d.getTimezoneOffset() * 6e4).toISOString().slice(0, 10);
      }
    }
  };
}));
