#!/usr/bin/env node
// Read every vector of a fields file (default tests/vectors/fields.json) with
// static/js/fieldrules.js and print the results as one JSON list, in the file's order:
//   node tests/js/run_field_vectors.cjs [FILE.json]
// Each result is {"name", "value"} or {"name", "error", "params"}; a vector that makes the
// script throw gives {"name", "crash": message}. tests/unit/test_field_vectors.py compares them
// with Python's fieldtypes.read.
"use strict";
const fs = require("fs");
const path = require("path");
const WizardFields = require(path.join(__dirname, "..", "..", "static", "js", "fieldrules.js"));

const file = process.argv[2] || path.join(__dirname, "..", "vectors", "fields.json");
const doc = JSON.parse(fs.readFileSync(file, "utf8"));
const out = [];
for (const v of doc.vectors) {
  if (typeof v === "string") continue; // a section heading
  const field = Object.assign({ id: "x", type: v.type }, v.field || {});
  try {
    const r = WizardFields.read(field, v.raw, v.answers || {}, doc.today);
    out.push(Object.assign({ name: v.name }, r));
  } catch (e) {
    out.push({ name: v.name, crash: String(e && e.stack || e) });
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
