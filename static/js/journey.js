/* WizardJourney: wizard/engine.py for the offline phone, over the rules of
   offline_rules.flow_rules: which steps, fields and choices the answers show, where Next and
   Back go, "step n of m", what a submitted step reads as, what is missing, the review and the
   answer sheet. Every function recomputes from the answers, as the server does; tests compare
   both on every branch of the shipped flow (tests/unit/test_offline_rules.py).
   Steps, fields and choices are the objects of the rules; an error is {error: code, params}.
   Needs WizardRules (rules.js) and WizardFields (fieldrules.js). */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./rules.js"), require("./fieldrules.js"));
  } else root.WizardJourney = factory(root.WizardRules, root.WizardFields);
}(typeof self !== "undefined" ? self : this, function (R, F) {
  "use strict";
  var has = Object.prototype.hasOwnProperty, isArr = Array.isArray;

  function own(o, k) { return o != null && has.call(o, k) ? o[k] : null; }
  function shows(rule, ctx, today) {
    if (rule == null) return true;
    // A rule that cannot be worked out for these answers hides what it guards.
    try { return R.truthy(R.evaluate(rule, ctx, {today: today})); } catch (e) { return false; }
  }
  function isInput(f) { return f.type !== "calculated"; }
  function position(j, id) { // in the flow, visible or not; -1 for no such step
    for (var i = 0; i < j.rules.steps.length; i++) if (j.rules.steps[i].id === id) return i;
    return -1;
  }
  function index(j, id) {
    for (var i = 0; i < j.steps.length; i++) if (j.steps[i].id === id) return i;
    return -1;
  }
  function isVisible(j, id) { return index(j, id) >= 0; }
  function visibleFields(j, step) { return own(j.fields, step.id) || []; }
  function choices(j, f) {
    return (f.choices || []).filter(function (c) { return shows(c.show_if, j.context, j.today); });
  }
  function values(list) { return list.map(function (c) { return c.value; }); }

  // The path for these answers: visible steps in order, their visible fields, and the context
  // conditions read (answers on visible fields, calculated values). Hidden answers stay in
  // `answers` but feed nothing.
  function journey(rules, answers, today) {
    var ctx = {}, steps = [], fields = {};
    today = today || F.today(rules.timezone);
    answers = answers || {};
    var ended = false;
    rules.steps.forEach(function (s) {
      if (ended || !shows(s.show_if, ctx, today)) return;
      steps.push(s);
      if (s.end) ended = true;
      fields[s.id] = (s.fields || []).filter(function (f) {
        var v;
        if (!shows(f.show_if, ctx, today)) return false;
        if (!isInput(f)) {
          try { v = R.evaluate(f.expr, ctx, {today: today}); } catch (e) { v = null; }
          // NaN and infinities (x / 0, a missing number + 1) mean "cannot work it out".
          ctx[f.id] = v === undefined || (typeof v === "number" && !isFinite(v)) ? null : v;
        } else if (has.call(answers, f.id)) ctx[f.id] = F.ruleValue(f, answers[f.id]);
        return true;
      });
    });
    return {rules: rules, steps: steps, fields: fields, context: ctx, today: today};
  }

  function nextStep(j, id) { // null: the review page comes next
    var here = position(j, id), i;
    if (here < 0) return j.steps[0] || null;
    for (i = 0; i < j.steps.length; i++) if (position(j, j.steps[i].id) > here) return j.steps[i];
    return null;
  }
  function previousStep(j, id) {
    var here = position(j, id), found = null;
    if (here < 0) return null;
    j.steps.forEach(function (s) { if (position(j, s.id) < here) found = s; });
    return found;
  }
  // [n, m] of "step n of m": a later step leaves m only once every answer its condition reads
  // belongs to a step before this one, so m never grows as the family goes forward.
  function progress(j, id) {
    var i = index(j, id), all = j.rules.steps, here = position(j, id), owner = {}, later = 0, k;
    var gone = {}; // steps that can no longer be shown; "end" steps stop it (as engine.py)
    if (i < 0) return [0, j.steps.length];
    if (j.steps[i].end) return [i + 1, i + 1];
    all.forEach(function (s, n) { (s.fields || []).forEach(function (f) { owner[f.id] = n; }); });
    for (k = here + 1; k < all.length; k++) {
      var settled = (all[k].reads || []).every(function (name) {
        var at = has.call(owner, name) ? owner[name] : -1;
        return at < here || gone[at] === true;
      });
      if (!settled || isVisible(j, all[k].id)) {
        later++;
        if (settled && all[k].end) break;
      } else gone[k] = true;
    }
    return [i + 1, i + 1 + later];
  }

  // What a person submitted for one step -> {values, errors} by field id, as engine.read_step:
  // every visible input gets a value (null when empty and optional); a hidden choice was never
  // offered; a script warning stands unless raw[id + "-confirm"] is "yes".
  function readStep(j, step, raw, answers) {
    var vals = {}, errors = {}, merged = {}, k;
    if (typeof step === "string") step = j.rules.steps[position(j, step)];
    for (k in answers) if (has.call(answers, k)) merged[k] = answers[k];
    visibleFields(j, step).filter(isInput).forEach(function (f) {
      var r = F.read(f, own(raw, f.id), merged, j.today), v = r.value, shown, w;
      if (!r.error) {
        if (F.isEmpty(v) && f.required) r = {error: F.emptyCode(f), params: {}};
        else if ((f.choices || []).length && !F.isEmpty(v)) {
          shown = values(choices(j, f));
          if ((isArr(v) ? v : [v]).some(function (x) { return shown.indexOf(x) < 0; })) {
            r = {error: "not_a_choice", params: {}};
          }
        }
        w = !r.error && F.scriptWarning(f, v);
        if (w && own(raw, f.id + "-confirm") !== "yes") r = {error: w, params: {}};
      }
      if (r.error) errors[f.id] = r;
      else { vals[f.id] = v; merged[f.id] = v; }
    });
    return {values: vals, errors: errors};
  }

  // Whether a stored answer still passes: null, or {error, params}.
  function checkAnswer(j, f, answers) {
    var v = own(answers, f.id);
    if (F.isEmpty(v)) return f.required ? {error: F.emptyCode(f), params: {}} : null;
    return F.validate(f, v, answers, j.today);
  }
  // Every visible answer missing or no longer valid, in journey order: [{step, field, error}].
  function problems(j, answers) {
    var found = [];
    j.steps.forEach(function (s) {
      visibleFields(j, s).filter(isInput).forEach(function (f) {
        var e = checkAnswer(j, f, answers);
        if (e) found.push({step: s, field: f, error: e});
      });
    });
    return found;
  }
  // The first visible step never answered (no stored answer, not even null, for any of its
  // visible inputs) or with a missing or invalid answer; null when all are done.
  function firstUnfinished(j, answers) {
    var broken = problems(j, answers).map(function (p) { return p.step.id; }), i, inputs;
    for (i = 0; i < j.steps.length; i++) {
      inputs = visibleFields(j, j.steps[i]).filter(isInput);
      if (broken.indexOf(j.steps[i].id) >= 0 || (inputs.length && !inputs.some(function (f) {
        return has.call(answers, f.id);
      }))) return j.steps[i];
    }
    return null;
  }
  // After changing an answer from the review: pages the change opened, then anything
  // unfinished; null means back to the review.
  function afterChange(before, after, answers, id) {
    var here = position(after, id), i;
    for (i = 0; i < after.steps.length; i++) {
      if (position(after, after.steps[i].id) > here && !isVisible(before, after.steps[i].id)) {
        return after.steps[i];
      }
    }
    return firstUnfinished(after, answers);
  }

  // The review: [{step, rows: [{step, field, value}]}], visible steps and fields only; a
  // checklist shows only the ticked items still offered.
  function review(j, answers) {
    var groups = [];
    j.steps.forEach(function (s) {
      var rows = visibleFields(j, s).map(function (f) {
        var v = isInput(f) ? own(answers, f.id) : own(j.context, f.id), shown;
        if (f.type === "checklist" && isArr(v) && v.length) {
          shown = values(choices(j, f));
          v = v.filter(function (x) { return shown.indexOf(x) >= 0; });
        }
        return {step: s, field: f, value: v};
      });
      if (rows.length) groups.push({step: s, rows: rows});
    });
    return groups;
  }
  // What the family takes to the official app: {rows (given answers in the official form's
  // order, then the rest in flow order), checklists (rows), nextSteps (the instruction pages
  // after the last question)}.
  function answerSheet(j, answers) {
    var rows = [], order = {}, n = 0, last = -1;
    review(j, answers).forEach(function (g) { rows = rows.concat(g.rows); });
    (j.rules.answer_sheet || []).forEach(function (id, i) {
      if (!has.call(order, id)) n++;
      order[id] = i;
    });
    function key(r) { return has.call(order, r.field.id) ? order[r.field.id] : n; }
    var given = rows.filter(function (r) {
      return isInput(r.field) && r.field.type !== "checklist" && !F.isEmpty(r.value);
    }).map(function (r, i) { return [key(r), i, r]; }).sort(function (a, b) {
      return a[0] - b[0] || a[1] - b[1]; // stable on every browser
    }).map(function (x) { return x[2]; });
    j.steps.forEach(function (s, i) { if (s.kind !== "instruction") last = i; });
    return {rows: given,
            checklists: rows.filter(function (r) { return r.field.type === "checklist"; }),
            nextSteps: j.steps.slice(last + 1)};
  }

  return {
    journey: journey, isVisible: isVisible, index: index, visibleFields: visibleFields,
    choices: choices, nextStep: nextStep, previousStep: previousStep, progress: progress,
    readStep: readStep, checkAnswer: checkAnswer, problems: problems,
    firstUnfinished: firstUnfinished, afterChange: afterChange, review: review,
    answerSheet: answerSheet,
    step: function (rules, id) {
      for (var i = 0; i < rules.steps.length; i++) if (rules.steps[i].id === id) return rules.steps[i];
      return null;
    }
  };
}));
