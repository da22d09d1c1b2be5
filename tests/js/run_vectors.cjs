#!/usr/bin/env node
// Evaluate test vectors with static/js/rules.js and print the results as one JSON document:
//   node tests/js/run_vectors.cjs FILE.json...
// Each file is either a list of {rule, answers, today?, ...} objects (tests/vectors/conditions.json)
// or {"tests": ["comment", [rule, data, expected], ...]} (tests/vectors/jsonlogic_public.json).
// Output: [{"file", "index", "result"} or {"file", "index", "error"}], one per vector; "index" is
// the position in the file's list (comments included). NaN and +/-Infinity, which JSON cannot
// hold, are written as {"$number": "NaN" | "Infinity" | "-Infinity"}. Always exits 0 once the
// files are read: tests/unit/test_conditions.py compares the results.
"use strict";
const fs = require("fs");
const path = require("path");
const WizardRules = require(path.join(__dirname, "..", "..", "static", "js", "rules.js"));

function replacer(key, value) {
  if (typeof value === "number" && !isFinite(value)) {
    return { $number: isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity" };
  }
  return value === undefined ? { $undefined: true } : value;
}

const out = [];
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(fs.readFileSync(file, "utf8"));
  const list = Array.isArray(doc) ? doc : doc.tests;
  list.forEach(function (item, index) {
    let rule, data, options;
    if (typeof item === "string") return; // a section comment
    if (Array.isArray(item)) {
      rule = item[0]; data = item[1]; options = {};
    } else {
      rule = item.rule; data = item.answers; options = item.today ? { today: item.today } : {};
    }
    try {
      out.push({ file: file, index: index, result: WizardRules.evaluate(rule, data, options) });
    } catch (e) {
      out.push({ file: file, index: index, error: String(e && e.message || e) });
    }
  });
}
process.stdout.write(JSON.stringify(out, replacer) + "\n");
