#!/usr/bin/env node
// Walk journey cases with static/js/journey.js (and fieldrules.js) and print the results as
// one JSON document, for tests/unit/test_offline_rules.py to compare with wizard/engine.py:
//   node tests/js/run_journey_vectors.cjs CASES.json
// CASES.json is either
//   {"today", "flows": {name: flow_rules}, "cases": [{"flow", "answers", "reads": [{"step",
//    "raw"}], "changes": [{"answers", "step"}]}]}
// -> [{"summary", "reads": [{"values", "errors"}], "changes": [step id or null]}], one per case
// (summary: see summary() below; engine.py's side is built the same way in the test), or
//   {"texts": [{"texts": flow_texts, "messages": [[field, error]], "displays": [[field,
//    value]], "dates": [iso]}]}
// -> [{"messages": [...], "displays": [...], "dates": [...]}]: WizardFields.message, display
// and formatDate for each.
"use strict";
const fs = require("fs");
const path = require("path");
const J = require(path.join(__dirname, "..", "..", "static", "js", "journey.js"));
const F = require(path.join(__dirname, "..", "..", "static", "js", "fieldrules.js"));

const id = (s) => (s ? s.id : null);
const err = (e) => [e.error, e.params];

function summary(j, answers) {
  const fields = {}, choices = {}, nav = {};
  for (const s of j.steps) {
    fields[s.id] = J.visibleFields(j, s).map((f) => f.id);
    for (const f of J.visibleFields(j, s)) {
      if ((f.choices || []).length) choices[f.id] = J.choices(j, f).map((c) => c.value);
    }
  }
  for (const name of j.rules.steps.map((s) => s.id).concat(["no-such-step"])) {
    nav[name] = [id(J.nextStep(j, name)), id(J.previousStep(j, name))].concat(J.progress(j, name));
  }
  const sheet = J.answerSheet(j, answers);
  return {
    steps: j.steps.map(id), fields, choices, context: j.context, nav,
    problems: J.problems(j, answers).map((p) => [p.step.id, p.field.id].concat(err(p.error))),
    first_unfinished: id(J.firstUnfinished(j, answers)),
    review: J.review(j, answers).map((g) => [g.step.id, g.rows.map((r) => [r.field.id, r.value])]),
    sheet: {rows: sheet.rows.map((r) => [r.field.id, r.value]),
            checklists: sheet.checklists.map((r) => [r.field.id, r.value]),
            next: sheet.nextSteps.map(id)},
  };
}

function readResult(r) {
  const errors = {};
  for (const k of Object.keys(r.errors)) errors[k] = err(r.errors[k]);
  return {values: r.values, errors};
}

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let out;
if (input.texts) {
  out = input.texts.map((t) => ({
    messages: t.messages.map(([f, e]) => F.message(f, e, t.texts)),
    displays: t.displays.map(([f, v]) => F.display(f, v, t.texts)),
    dates: t.dates.map((d) => F.formatDate(d, t.texts)),
  }));
} else {
  out = input.cases.map((c) => {
    const rules = input.flows[c.flow];
    const j = J.journey(rules, c.answers, input.today);
    return {
      summary: summary(j, c.answers),
      reads: c.reads.map((r) => readResult(J.readStep(j, r.step, r.raw, c.answers))),
      changes: c.changes.map((ch) =>
        id(J.afterChange(j, J.journey(rules, ch.answers, input.today), ch.answers, ch.step))),
    };
  });
}
process.stdout.write(JSON.stringify(out) + "\n");
