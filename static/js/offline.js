/* WizardOffline: the walkthrough with no signal. Runs on the pages of a walkthrough.

   On a live page (from the server): keeps the bundle of this flow version and language in a
   Cache (pages, rules, texts: see wizard/views/offline.py), keeps the phone's copy of the
   answers in step with the server (the sync API, docs/sync-api.md), saves what is typed on
   every change, and takes over when a step cannot be sent (static/js/step.js calls submit()).

   On a kept page (data-offline, served by the service worker with no signal): fills the blank
   page from the phone's copy, hides what the answers hide (journey.js), checks answers with
   the server's rules and messages (fieldrules.js), and saves them to the phone and the queue
   of changes that sync() sends when there is signal: each change has its own id (sending it
   twice is harmless) and the revision it was based on (an edit from another phone since then
   comes back as a conflict, which the family settles here). */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var kind = main && main.getAttribute("data-page");
  var status = document.getElementById("offline-status");
  var S = window.WizardStore, F = window.WizardFields, J = window.WizardJourney;
  if (!kind || !status) return;
  var d = main.dataset, flowId = d.flow, version = +d.version, lang = d.lang;
  var kept = d.offline === "1", stepId = d.step;
  var here = new URLSearchParams(location.search);
  var bundle = null, copy = null, rules = null, sending = null, wait = 2000, timer = null;
  var problem = null; // why the phone cannot keep answers, once known
  var lost = false; // a copy of another session was dropped (say so once)
  var api = window.WizardOffline = {ready: false};
  var handlers = {}; // form id -> what sends it here, for a press that came before we were ready

  // The button that sent a form: event.submitter, or (older browsers) the submit button last
  // clicked, which register.js notes.
  function submitterOf(event) {
    return event.submitter || window.WizardSubmitter || null;
  }

  // ------------------------------------------------------------ small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function newId() {
    var bytes = crypto.getRandomValues(new Uint8Array(18));
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-")
      .replace(/\//g, "_");
  }
  function flowUrl(rest, review) {
    return "/f/" + encodeURIComponent(flowId) + "/" + (rest ? encodeURIComponent(rest) : "") +
      (review ? "?return=review" : "");
  }
  function words(key) { return bundle ? bundle.words[key] : ""; }
  function today() { return F.today(rules.timezone); }
  function journey() { return J.journey(rules, copy.answers, today()); }
  function fieldRule(id) {
    for (var i = 0; i < rules.steps.length; i++) {
      var fields = rules.steps[i].fields || [];
      for (var k = 0; k < fields.length; k++) if (fields[k].id === id) return fields[k];
    }
    return null;
  }
  function stepRule(id) {
    return rules.steps.filter(function (s) { return s.id === id; })[0] || null;
  }
  // ------------------------------------------------------------ the status line

  function show() {
    status.textContent = "";
    var parts = [];
    if (problem) parts.push([problem]);
    if ((copy && copy.gone) || lost) parts.push([words("gone")]);
    var conflictField = copy && Object.keys(copy.conflicts || {})[0];
    if (conflictField) parts.push([words("conflicts"), copy.conflicts[conflictField].step]);
    if (copy && copy.unconfirmed && kind !== "review") {
      parts.push([words("rejected"), "review"]);
    }
    var rejected = copy && Object.keys(copy.rejected || {})[0];
    if (rejected) parts.push([words("rejected"), rejected]);
    if (!navigator.onLine) parts.push([words("offline")]);
    else if (api.waiting) parts.push([words("waiting")]);
    parts = parts.filter(function (p) { return p[0]; }); // no words yet: nothing to say
    parts.forEach(function (p) {
      var line = el("p", {}, [p[0]]);
      if (p[1] && p[1] !== stepId) {
        line.appendChild(document.createTextNode(" "));
        line.appendChild(el("a", {href: flowUrl(p[1])}, [words("check")]));
      }
      status.appendChild(line);
    });
    status.hidden = !parts.length;
  }

  function refuse(reason) {
    problem = reason;
    show();
  }

  // ------------------------------------------------------------ the bundle

  function cacheName() {
    return "wizard-flow-" + flowId + "-v" + version + "-" + lang + "-" + d.build;
  }

  // Asks the service worker to keep this page's bundle (flow version, language, build); it
  // does the work itself (sw.js keep()), so that the family moving on to the next page does
  // not cut it short. Resolves when the bundle is kept (or the worker gave up, or 20 s passed).
  function keepBundle() {
    if (kept) return Promise.resolve();
    var ready = Promise.race([navigator.serviceWorker.ready, new Promise(function (_, no) {
      setTimeout(function () { no(new Error("no service worker")); }, 20000);
    })]);
    return ready.then(function (registration) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { resolve(); };
        setTimeout(resolve, 20000);
        registration.active.postMessage({type: "keep", flow: flowId, version: version,
                                         lang: lang, bundle: d.bundle, cache: cacheName()},
                                        [channel.port2]);
      });
    });
  }

  function loadBundle() {
    return S.getFlow(flowId, version).then(function (record) {
      var mine = record && record.langs[lang];
      if (!mine || !mine.ready) throw new Error("no bundle kept");
      return caches.open(mine.ready);
    }).then(function (cache) { return cache.match(d.bundle); }).then(function (hit) {
      if (!hit) throw new Error("no bundle kept");
      return hit.json();
    }).then(function (b) { bundle = b; rules = b.rules; });
  }

  // ------------------------------------------------------------ the phone's copy

  function fresh() {
    return {version: version, lang: lang, answers: {}, drafts: {}, conflicts: {},
            rejected: {}, held: {}, revision: null, status: "active", lastStep: null,
            serverKnown: false, startId: null, key: null};
  }

  function store() {
    copy.lang = lang;
    return S.putSession(flowId, copy.version, copy).then(function () {
      // Ask once that the browser never evicts the answers (it may still refuse).
      if (navigator.storage && navigator.storage.persist && !api.persistAsked) {
        api.persistAsked = true;
        navigator.storage.persist().catch(function () {});
      }
    }).catch(storageFailed);
  }

  function storageFailed(error) {
    refuse(error && error.name === "QuotaExceededError" ? words("full") ||
           status.getAttribute("data-unsupported") : status.getAttribute("data-unsupported"));
    throw error;
  }

  // ------------------------------------------------------------ sync

  function sync() {
    if (sending) return sending;
    clearTimeout(timer);
    sending = S.queued(flowId).then(function (queue) {
      var batch = queue.slice(0, 50);
      var body = {version: copy ? copy.version : version, lang: lang,
                  changes: batch.map(function (c) {
                    var out = {id: c.id, claimed_at: c.claimed_at};
                    if (c.complete) out.complete = true;
                    else {
                      out.step = c.step; out.values = c.values;
                      out.base_revision = c.base_revision;
                    }
                    return out;
                  })};
      if (copy && copy.startId && !copy.serverKnown) {
        body.start = {id: copy.startId, consent_version: copy.consentVersion,
                      claimed_at: copy.consentClaimedAt};
      }
      // The session this copy belongs to: the server refuses to put it in another one.
      if (copy && copy.key && !body.start) body.session_key = copy.key;
      if (!copy && kept) return null; // nothing here and nothing to ask for
      return fetch("/api/v1/flows/" + encodeURIComponent(flowId) + "/sync", {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body),
        headers: {"Content-Type": "application/json", "X-Wizard-Sync": "1"}
      }).then(function (response) {
        if (response.status === 401 || response.status === 410) {
          return response.json().catch(function () { return {}; }).then(function (refusal) {
            if (refusal.error === "access_ended") {
              // A helper's phone whose access the family ended (or that ran out): nothing
              // of the family's answers stays on it, nor the pages kept for them.
              copy = null;
              return S.forget(flowId).then(function (names) {
                return Promise.all(names.map(function (n) { return caches.delete(n); }));
              }).then(function () { return null; });
            }
            // Deleted, expired, or not on this phone any more: nothing is sent anywhere
            // else, and what was typed is not shown on another session's pages.
            if (copy && (copy.serverKnown || response.status === 410)) {
              copy.gone = true;
              copy.drafts = {};
            }
            return copy ? store() : null;
          });
        }
        if (response.status === 409) {
          return response.json().then(function (refusal) {
            if (refusal.error !== "other_session") throw {final: refusal.error};
            // This phone now has another session for the flow (started again, or resumed
            // with a code): the copy of the old one goes, and the new one is taken.
            return S.dropCopy(flowId).then(function () {
              copy = null;
              lost = true;
              return "more";
            });
          });
        }
        if (response.status >= 400 && response.status < 500) {
          throw {final: "status " + response.status};
        }
        if (!response.ok) throw new Error("sync " + response.status);
        return response.json().then(function (reply) { return take(reply, batch); })
          .then(function () { return queue.length > batch.length ? "more" : null; });
      });
    }).then(function (more) {
      wait = 2000;
      sending = null;
      if (more) return sync();
      return S.queued(flowId).then(function (left) { api.waiting = left.length > 0; show(); });
    }, function (error) {
      sending = null;
      api.waiting = true;
      if (error && error.final) {
        // Refused in a way a retry cannot change (an old consent text, a version no longer
        // published): kept on the phone, said on the page, tried again on the next page.
        problem = words("not_sent");
        show();
        return;
      }
      // No signal, a dropped connection or a server error: everything stays queued on the
      // phone; try again later, waiting longer each time (at most five minutes).
      show();
      timer = setTimeout(sync, wait);
      wait = Math.min(wait * 2, 300000);
    });
    return sending;
  }

  // The server's reply: its answers become the phone's, with what the server has not taken
  // on top: changes still queued, steps refused with a mistake (copy.rejected), and steps held
  // back by a conflict until the family chooses (copy.held: the whole step, so none of its
  // other answers is lost; a step skipped meanwhile waits with them).
  function take(reply, sent) {
    copy = copy || fresh();
    var byId = {};
    sent.forEach(function (c) { byId[c.id] = c; });
    copy.serverKnown = true;
    copy.startId = null; // the session exists: the start id (as good as a cookie) can go
    copy.gone = false;
    copy.key = reply.session.key || copy.key;
    copy.revision = reply.session.revision;
    copy.status = reply.session.status;
    copy.doneAt = reply.session.completed_at ? Date.parse(reply.session.completed_at) : null;
    copy.version = reply.session.flow_version;
    copy.held = copy.held || {};
    var skipped = {};
    reply.results.forEach(function (r) {
      var change = byId[r.id];
      if (!change) return;
      if (change.complete) {
        copy.unconfirmed = r.status === "invalid" ? r.problems : null;
        return;
      }
      var step = change.step;
      delete copy.rejected[step];
      if (r.status === "invalid") copy.rejected[step] = {errors: r.errors, values: change.values};
      if (r.status === "skipped") skipped[step] = change.values;
      if (r.status === "conflict") {
        copy.held[step] = change.values;
        Object.keys(r.conflicts).forEach(function (f) {
          copy.conflicts[f] = r.conflicts[f];
          copy.conflicts[f].step = step;
        });
      } else {
        // A later change of the step went through: an earlier conflict of it is settled.
        delete copy.held[step];
        Object.keys(copy.conflicts).forEach(function (f) {
          if (copy.conflicts[f].step === step) delete copy.conflicts[f];
        });
      }
    });
    if (Object.keys(copy.conflicts).length) {
      Object.keys(skipped).forEach(function (step) { copy.held[step] = skipped[step]; });
    }
    // The copy is written before the sent changes leave the queue: a page closed in between
    // sends them again, which the server answers as before (each change has its id).
    return S.queued(flowId).then(function (queue) {
      var left = queue.filter(function (c) { return !byId[c.id]; });
      var answers = reply.answers;
      Object.keys(copy.held).forEach(function (s) { overlay(answers, copy.held[s]); });
      Object.keys(copy.rejected).forEach(function (s) {
        overlay(answers, copy.rejected[s].values);
      });
      left.forEach(function (c) { if (!c.complete) overlay(answers, c.values); });
      copy.answers = answers;
      return store();
    }).then(function () {
      return S.dequeue(sent.map(function (c) { return c.id; }));
    });
  }

  // A step's values on top of the answers (not the boxes that confirm a warning).
  function overlay(answers, values) {
    Object.keys(values || {}).forEach(function (k) {
      if (!/-confirm$/.test(k)) answers[k] = values[k];
    });
  }

  function queue(change) {
    change.id = newId();
    change.claimed_at = new Date().toISOString(); // the phone's clock: a record, never a rule
    return S.enqueue(flowId, change).catch(storageFailed).then(function () {
      api.waiting = true;
    });
  }

  // Send now if there is signal, but never wait long: the next page comes from the phone.
  function trySend() {
    if (!navigator.onLine) return Promise.resolve();
    return Promise.race([sync(), new Promise(function (r) { setTimeout(r, 4000); })]);
  }

  // ------------------------------------------------------------ reading and filling a form

  function inputs(form, name) {
    return Array.prototype.filter.call(form.elements, function (e) { return e.name === name; });
  }

  // What the step's visible questions hold, as the registry reads it (dates as three boxes).
  function readForm(form, step) {
    var raw = {};
    (step.fields || []).forEach(function (f) {
      if (f.type === "calculated") return;
      if (f.type === "date") {
        raw[f.id] = {};
        ["day", "month", "year"].forEach(function (p) {
          var box = inputs(form, f.id + "-" + p)[0];
          raw[f.id][p] = box ? box.value : "";
        });
      } else if (f.type === "multichoice" || f.type === "checklist") {
        raw[f.id] = inputs(form, f.id).filter(function (i) { return i.checked; })
          .map(function (i) { return i.value; });
      } else if (f.type === "choice" || f.type === "yes_no") {
        var on = inputs(form, f.id).filter(function (i) { return i.checked; })[0];
        raw[f.id] = on ? on.value : "";
      } else {
        var box = inputs(form, f.id)[0];
        raw[f.id] = box ? box.value : "";
      }
      var confirm = inputs(form, f.id + "-confirm")[0];
      if (confirm) raw[f.id + "-confirm"] = confirm.checked ? "yes" : "";
    });
    return raw;
  }

  // A saved answer as its inputs show it (forms.py raw_from_answer).
  function rawFrom(f, value) {
    if (value === null || value === undefined) return f.type === "date" ? {} : "";
    if (f.type === "date") {
      var p = String(value).split("-");
      return {year: String(+p[0]), month: String(+p[1]), day: String(+p[2])};
    }
    if (f.type === "yes_no") return value ? "yes" : "no";
    if (Array.isArray(value)) return value.slice();
    return String(value);
  }

  // Fills the form from the phone's copy; never over what the family has already typed or
  // picked on this page (they may be quicker than this script).
  // What was typed on a step and not sent, with the answers it was typed over: a draft is
  // shown again only while those answers are still the ones saved (another phone, or a
  // volunteer, may have changed them since; their answer then wins, never an old draft).
  function stepAnswers(step) {
    return JSON.stringify((step.fields || []).map(function (f) {
      return f.id in copy.answers ? copy.answers[f.id] : null;
    }));
  }
  function keepDraft(step, raw) {
    copy.drafts[step.id] = {raw: raw, over: stepAnswers(step)};
  }
  function draftOf(step) {
    var draft = copy.drafts[step.id];
    if (draft && draft.raw && draft.over === stepAnswers(step)) return draft.raw;
    delete copy.drafts[step.id];
    return null;
  }

  function rawValues(step, values) {
    var raw = {};
    (step.fields || []).forEach(function (f) {
      if (f.id in values) raw[f.id] = rawFrom(f, values[f.id]);
    });
    return raw;
  }

  function fill(form, step, raw) {
    function untouched(box) {
      return box && box.value === box.defaultValue && box.checked === box.defaultChecked;
    }
    (step.fields || []).forEach(function (f) {
      if (!(f.id in raw) || f.type === "calculated") return;
      var v = raw[f.id];
      if (f.type === "date") {
        ["day", "month", "year"].forEach(function (p) {
          var box = inputs(form, f.id + "-" + p)[0];
          if (untouched(box)) box.value = (v && v[p]) || "";
        });
      } else if (["choice", "yes_no", "multichoice", "checklist"].indexOf(f.type) >= 0) {
        var picked = Array.isArray(v) ? v : [v], boxes = inputs(form, f.id);
        if (!boxes.every(untouched)) return;
        boxes.forEach(function (i) { i.checked = picked.indexOf(i.value) >= 0; });
      } else {
        var box = inputs(form, f.id)[0];
        if (untouched(box)) box.value = v;
      }
    });
  }

  // What the server is sent: the typed answers, and the boxes that confirm a warning.
  function payload(values, raw) {
    var out = {};
    Object.keys(values).forEach(function (k) { out[k] = values[k]; });
    Object.keys(raw).forEach(function (k) {
      if (/-confirm$/.test(k) && raw[k] === "yes") out[k] = "yes";
    });
    return out;
  }

  // ------------------------------------------------------------ mistakes

  function clearMistakes() {
    Array.prototype.forEach.call(main.querySelectorAll(".error-summary, .error-message"),
      function (n) { n.parentNode.removeChild(n); });
    Array.prototype.forEach.call(main.querySelectorAll(".field-error, .input-error"),
      function (n) { n.classList.remove("field-error"); n.classList.remove("input-error"); });
    document.title = document.title.replace(words("error") + " ", "");
  }

  // The same markup as the server's (macros/form.html): a message by the field, a summary on
  // top that links to it, "Error:" in the title.
  function showMistakes(errors) {
    clearMistakes();
    var links = [];
    rules.steps.filter(function (s) { return s.id === stepId; })[0].fields
      .forEach(function (f) {
        var e = errors[f.id];
        if (!e) return;
        var box = main.querySelector('[data-field="' + f.id + '"]');
        var first = box && box.querySelector("input, textarea");
        if (!first) return; // not on this page (any more): nothing to point at
        var text = e.message || F.message(f, e, bundle.texts);
        var note = el("p", {"class": "error-message", id: "f-" + f.id + "-error",
                            "data-code": e.code || e.error},
                      [el("span", {"class": "visually-hidden"}, [words("error")]), " " + text]);
        var before = box.querySelector(".date, .radios, .checkboxes, input, textarea");
        before.parentNode.insertBefore(note, before);
        box.classList.add("field-error");
        Array.prototype.forEach.call(box.querySelectorAll(".input"), function (i) {
          i.classList.add("input-error");
        });
        links.push({href: "#" + first.id, text: text});
      });
    errorSummary(words("problem"), links.map(function (l) {
      return el("a", {href: l.href}, [l.text]);
    }));
    document.title = words("error") + " " + document.title;
  }

  // The error summary (macros/form.html error_summary): after Back, focused, linking to each
  // problem.
  function errorSummary(title, links) {
    var summary = el("div", {"class": "error-summary", role: "alert", tabindex: "-1",
                             "aria-labelledby": "error-summary-title"}, [
      el("h2", {id: "error-summary-title"}, [title]),
      el("ul", {}, links.map(function (a) { return el("li", {}, [a]); }))]);
    var back = main.querySelector(".back-link");
    main.insertBefore(summary, back ? back.nextSibling : main.firstChild);
    summary.focus();
  }

  // ------------------------------------------------------------ conflicts

  function showConflicts(form) {
    Object.keys(copy.conflicts || {}).forEach(function (fid) {
      var box = form.querySelector('[data-field="' + fid + '"]');
      if (!box) return;
      var c = copy.conflicts[fid];
      var other = el("button", {type: "button", "class": "button button-secondary"},
                     [words("keep_other")]);
      var mine = el("button", {type: "button", "class": "button button-secondary"},
                    [words("keep_this")]);
      var panel = el("div", {"class": "panel conflict", "data-conflict": fid}, [
        el("p", {}, [el("strong", {}, [words("conflict")])]),
        el("p", {}, [words("other_phone") + " ", el("bdi", {}, [c.server_text || "—"])]),
        el("p", {}, [words("this_phone") + " ", el("bdi", {}, [c.phone_text || "—"])]),
        other, " ", mine]);
      box.parentNode.insertBefore(panel, box);
      other.addEventListener("click", function () { settle(fid, false); });
      mine.addEventListener("click", function () { settle(fid, true); });
    });
  }

  // The family chose. The step held back is sent again whole, with the answer chosen, based
  // on the revision the phone has now seen; once no conflict is left, so are the steps that
  // waited with it.
  function settle(fid, keepMine) {
    var c = copy.conflicts[fid], step = c.step;
    delete copy.conflicts[fid];
    var chosen = keepMine ? c.phone : c.server;
    copy.answers[fid] = chosen;
    if (copy.held[step]) copy.held[step][fid] = chosen;
    var open = Object.keys(copy.conflicts).map(function (f) { return copy.conflicts[f].step; });
    var send = Object.keys(copy.held).filter(function (s) {
      return open.indexOf(s) < 0 && (s === step || !open.length);
    });
    var queued = send.map(function (s) {
      var values = copy.held[s];
      delete copy.held[s];
      return queue({step: s, values: values, base_revision: copy.revision});
    });
    return Promise.all(queued).then(store).then(trySend).then(function () {
      location.reload();
    });
  }

  // ------------------------------------------------------------ pages

  function goTo(url) {
    trySend().then(function () { location.assign(url); });
  }

  function whereNext(j, after, before, review) {
    if (review) {
      var target = J.afterChange(before, after, copy.answers, stepId);
      return target ? flowUrl(target.id, true) : flowUrl("review");
    }
    var next = J.nextStep(after, stepId);
    return next ? flowUrl(next.id) : flowUrl("review");
  }

  // A step submitted on the phone: checked with the server's rules; saved, queued, and on to
  // the page the journey says; or shown again with its mistakes, nothing lost.
  function submitStep(form, submitter) {
    var step = stepRule(stepId), j = journey();
    if (api.cancelDraft) api.cancelDraft();
    if (submitter && submitter.name === "switch_lang") {
      keepDraft(step, readForm(form, step));
      return store().then(function () {
        location.assign(location.pathname + "?lang=" + encodeURIComponent(submitter.value));
      });
    }
    var raw = readForm(form, step);
    var read = J.readStep(j, step, raw, copy.answers);
    var errors = read.errors, values = read.values;
    var saveOnly = submitter && submitter.name === "then" && submitter.value === "save";
    if (Object.keys(errors).length && !saveOnly) {
      keepDraft(step, raw);
      return store().then(function () { showMistakes(errors); });
    }
    var before = j;
    Object.keys(values).forEach(function (k) { copy.answers[k] = values[k]; });
    if (Object.keys(errors).length) keepDraft(step, raw);
    else delete copy.drafts[stepId];
    delete copy.rejected[stepId];
    copy.lastStep = stepId;
    var change = Object.keys(values).length ?
      queue({step: stepId, values: payload(values, raw), base_revision: copy.revision}) :
      Promise.resolve();
    return change.then(store).then(function () {
      if (saveOnly) return goTo(flowUrl("save"));
      goTo(whereNext(j, journey(), before, here.get("return") === "review"));
    });
  }
  api.submit = function (form, submitter) {
    if (!api.ready || !copy) return false;
    submitStep(form, submitter);
    return true;
  };

  function enhanceStep() {
    var form = document.getElementById("step-form");
    var step = stepRule(stepId);
    if (!form || !step) return;
    var saveDraft = debounce(function () {
      keepDraft(step, readForm(form, step));
      store();
    }, 400);
    api.cancelDraft = saveDraft.cancel; // a step sent is no draft any more
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
    var refused = copy.rejected[stepId];
    if (!kept) {
      // A live page: the server has filled it. A draft typed here before signal was lost
      // (and the page reloaded since) comes back, and so does a step the server refused
      // after a sync, with the server's messages.
      var draft = draftOf(step), held = (copy.held || {})[stepId];
      if (draft) fill(form, step, draft);
      else if (refused) fill(form, step, rawValues(step, refused.values));
      else if (held) fill(form, step, rawValues(step, held)); // waits for the family's choice
      if (refused) showMistakes(refused.errors);
      form.addEventListener("submit", function (event) {
        var by = submitterOf(event);
        if (by && by.name === "switch_lang") return; // sent along, not saved
        // What the server is about to save, in the copy at once: should the signal go
        // before the next page's sync, the kept pages still know this step's answers (the
        // next sync replaces the copy with the server's own).
        var read = J.readStep(journey(), step, readForm(form, step), copy.answers);
        if (!Object.keys(read.errors).length) {
          Object.keys(read.values).forEach(function (k) { copy.answers[k] = read.values[k]; });
          copy.lastStep = stepId;
        }
        saveDraft.cancel();
        delete copy.drafts[stepId];
        delete copy.rejected[stepId];
        store();
      });
      showConflicts(form);
      return;
    }
    var j = journey();
    if (!J.isVisible(j, stepId)) {
      var target = J.firstUnfinished(j, copy.answers) || J.nextStep(j, stepId);
      location.replace(target ? flowUrl(target.id) : flowUrl("review"));
      return;
    }
    shape(form, j, step);
    fill(form, step, draftOf(step) || rawValues(step, copy.answers));
    var review = here.get("return") === "review";
    var previous = J.previousStep(j, stepId);
    var back = main.querySelector(".back-link");
    if (back) {
      back.href = review ? flowUrl("review") : previous ? flowUrl(previous.id) : flowUrl("");
    }
    var count = J.progress(j, stepId);
    var progress = document.getElementById("progress");
    if (progress) {
      progress.textContent = words("progress").replace("%(number)d", count[0])
        .replace("%(total)d", count[1]);
    }
    if (refused) showMistakes(refused.errors);
    showConflicts(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitStep(form, submitterOf(event));
    });
    handlers["step-form"] = submitStep;
    if (copy.lastStep !== stepId) { copy.lastStep = stepId; store(); }
  }

  // Hide the questions and choices these answers hide; show worked-out values.
  function shape(form, j, step) {
    var visible = J.visibleFields(j, step).map(function (f) { return f.id; });
    (step.fields || []).forEach(function (f) {
      var box = form.querySelector('[data-field="' + f.id + '"]');
      if (!box) return;
      box.hidden = visible.indexOf(f.id) < 0;
      if (f.choices) {
        var shown = J.choices(j, f).map(function (c) { return c.value; });
        Array.prototype.forEach.call(box.querySelectorAll("[data-choice]"), function (c) {
          c.hidden = shown.indexOf(c.getAttribute("data-choice")) < 0;
        });
      }
      if (f.type === "calculated") {
        var worked = Object.prototype.hasOwnProperty.call(j.context, f.id) ? j.context[f.id] : null;
        var text = F.display(f, worked, bundle.texts);
        box.querySelector(".calculated-value").textContent = text;
        if (!text) box.hidden = true;
      }
    });
  }

  function valueNode(f, value) {
    var text = F.display(f, value, bundle.texts);
    if (!text) return el("span", {"class": "not-provided"}, [words("not_provided")]);
    var attrs = (f.type === "resident_id" || f.type === "mobile") ? {"class": "number"} : {};
    return el("bdi", attrs, [text]);
  }

  // The answer in the official form's words, where it says more than the label (display.py
  // official_display): a choice's official term, 是 or 否.
  function officialValue(f, value) {
    var texts = bundle.texts.fields[f.id] || {};
    if (f.type === "choice") {
      var c = (texts.choices || {})[value];
      return c && c.official ? c.official : null; // already left out where it is the label
    }
    if (f.type === "yes_no" && typeof value === "boolean") {
      var word = value ? "是" : "否", label = value ? bundle.texts.words.yes : bundle.texts.words.no;
      return label === word ? null : word;
    }
    return null;
  }

  // The rows of a summary list: shown for the answers given, each with its value written in.
  function fillRows(selector, values, write) {
    Array.prototype.forEach.call(main.querySelectorAll(selector), function (n) {
      var id = n.getAttribute("data-field");
      n.hidden = !(id in values);
      if (n.hidden) return;
      var cell = n.querySelector(".summary-value");
      cell.textContent = "";
      write(cell, fieldRule(id), values[id]);
    });
  }

  function enhanceReview() {
    var j = journey();
    var rows = J.review(j, copy.answers);
    var shownSteps = {}, shownFields = {};
    rows.forEach(function (g) {
      shownSteps[g.step.id] = true;
      g.rows.forEach(function (r) { shownFields[r.field.id] = r.value; });
    });
    Array.prototype.forEach.call(main.querySelectorAll("[data-step]"), function (n) {
      n.hidden = !shownSteps[n.getAttribute("data-step")];
    });
    fillRows(".summary-row[data-field]", shownFields, function (cell, f, value) {
      if (f.type === "checklist" && (!value || !value.length)) {
        cell.appendChild(document.createTextNode(words("none_ticked")));
        return;
      }
      cell.appendChild(valueNode(f, value));
      var official = officialValue(f, value);
      if (official) {
        cell.appendChild(document.createTextNode(" "));
        cell.appendChild(el("span", {"class": "official", lang: "zh-Hans"}, [official]));
      }
    });
    var last = j.steps[j.steps.length - 1];
    var back = main.querySelector(".back-link");
    if (back) back.href = last ? flowUrl(last.id) : flowUrl("");
    var form = document.getElementById("review-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      confirmHere();
    });
    handlers["review-form"] = confirmHere;

    function confirmHere() {
      var found = J.problems(j, copy.answers);
      if (found.length) return showReviewProblems(found);
      copy.status = "completed"; // the server says when (its own clock) once it is sent
      queue({complete: true}).then(store).then(function () { goTo(flowUrl("done")); });
    }
  }

  function showReviewProblems(found) {
    clearMistakes();
    errorSummary(words("review_problems"), found.map(function (p) {
      var label = (bundle.texts.fields[p.field.id] || {}).label || "";
      return el("a", {href: flowUrl(p.step.id, true)}, [
        el("span", {"class": "problem-label"}, [label]),
        " " + F.message(p.field, p.error, bundle.texts)]);
    }));
  }

  function enhanceDone() {
    var j = journey();
    if (J.problems(j, copy.answers).length) return location.replace(flowUrl("review"));
    var sheet = J.answerSheet(j, copy.answers);
    var given = {};
    sheet.rows.forEach(function (r) { given[r.field.id] = r.value; });
    fillRows(".sheet .summary-row", given, function (cell, f, value) {
      cell.appendChild(valueNode(f, value));
    });
    var lists = {};
    sheet.checklists.forEach(function (r) { lists[r.field.id] = r; });
    Array.prototype.forEach.call(main.querySelectorAll("h2[data-field], ul[data-field]"),
      function (n) {
        var r = lists[n.getAttribute("data-field")];
        n.hidden = !r;
        if (!r || n.tagName !== "UL") return;
        var shown = J.choices(j, r.field).map(function (c) { return c.value; });
        Array.prototype.forEach.call(n.querySelectorAll("li[data-choice]"), function (li) {
          var value = li.getAttribute("data-choice"), have = (r.value || []).indexOf(value) >= 0;
          li.hidden = shown.indexOf(value) < 0;
          li.className = have ? "have" : "missing";
          li.querySelector(".mark").textContent = have ? words("ready") : words("still_needed");
          var help = li.querySelector(".item-help");
          if (help) help.hidden = have;
        });
      });
    var ahead = sheet.nextSteps.map(function (s) { return s.id; });
    Array.prototype.forEach.call(main.querySelectorAll(".next-steps li[data-step]"),
      function (li) { li.hidden = ahead.indexOf(li.getAttribute("data-step")) < 0; });
  }

  function enhanceStart() {
    var form = document.getElementById("start-form");
    if (!form) return;
    if (kept && copy && copy.status !== "completed") {
      // As the live start page does: carrying on comes first (starting again replaces).
      var title = main.querySelector("h1"), first = journey().steps[0];
      var carryOn = el("a", {"class": "button",
                             href: copy.lastStep || !first ? flowUrl(copy.lastStep || "review")
                               : flowUrl(first.id)}, [words("carry_on")]);
      title.parentNode.insertBefore(el("div", {"class": "panel"}, [
        el("p", {}, [words("started")]), el("p", {}, [carryOn])]), title.nextSibling);
    }
    form.addEventListener("submit", function (event) {
      // With signal the server starts the walkthrough (and records the consent) itself.
      if (navigator.onLine && !kept) return;
      event.preventDefault();
      startHere(form);
    });
    handlers["start-form"] = startHere;
  }

  // Started with no signal: the server creates the session at the first sync, with this
  // consent version and the phone's clock recorded as the phone's claim. Never over answers
  // that wait to be sent: they would be lost.
  function startHere() {
    S.queued(flowId).then(function (waiting) {
      if (waiting.length) {
        problem = words("waiting");
        show();
        status.scrollIntoView();
        return;
      }
      var box = document.getElementById("f-consent");
      if (!box.checked) {
        clearMistakes();
        var wrapper = box.closest(".field");
        wrapper.classList.add("field-error");
        wrapper.insertBefore(el("p", {"class": "error-message", id: "f-consent-error"}, [
          el("span", {"class": "visually-hidden"}, [words("error")]),
          " " + words("consent")]), wrapper.firstChild);
        errorSummary(words("problem"), [el("a", {href: "#f-consent"}, [words("consent")])]);
        return;
      }
      copy = fresh();
      copy.startId = newId();
      copy.consentVersion = bundle.consent_version;
      copy.consentClaimedAt = new Date().toISOString();
      return S.dropCopy(flowId).then(store).then(function () {
        var j = journey();
        goTo(j.steps.length ? flowUrl(j.steps[0].id) : flowUrl("review"));
      });
    });
  }

  function enhanceSave() {
    var target = copy.lastStep ? flowUrl(copy.lastStep) : flowUrl("");
    Array.prototype.forEach.call(main.querySelectorAll(".back-link, #carry-on"), function (a) {
      a.href = target;
    });
  }

  function listSaved() {
    var list = document.getElementById("saved-flows");
    if (!S || !S.supported() || !list) return;
    S.flowRecords().then(function (records) {
      var seen = {};
      records.forEach(function (r) {
        if (seen[r.flow] || !r.langs || !Object.keys(r.langs).length) return;
        seen[r.flow] = true;
        list.appendChild(el("li", {}, [el("a", {href: "/f/" + encodeURIComponent(r.flow) + "/"},
                                          [r.title || r.flow])]));
      });
    });
  }

  function debounce(fn, ms) {
    var t = null;
    var run = function () { clearTimeout(t); t = setTimeout(fn, ms); };
    run.cancel = function () { clearTimeout(t); };
    return run;
  }

  // A finished walkthrough's answers leave a shared phone after a while (the answer sheet
  // is for the days around the deadline, not for ever): counted from when the server says it
  // was confirmed, and never while anything waits to be sent.
  function forgetIfLongDone() {
    var days = bundle.keep_done_days;
    if (!copy || copy.status !== "completed" || !copy.doneAt || !copy.serverKnown) return;
    return S.queued(flowId).then(function (waiting) {
      if (waiting.length || Date.now() - copy.doneAt <= days * 86400000) return;
      return S.forget(flowId).then(function () { copy = null; });
    });
  }

  // "Forget this phone", and "Delete my answers": the phone's copy, queue and kept pages go
  // too, the server's answer doing the rest (Clear-Site-Data, or the deletion). Forgetting
  // first sends what waits to be sent, and does not forget while anything still waits: the
  // answers would be lost (deleting them is what the family asked for).
  function hookForget() {
    [["forget-form", true], ["delete-form", false]].forEach(function (hook) {
      var form = document.getElementById(hook[0]);
      if (!form) return;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        (hook[1] ? trySend() : Promise.resolve()).then(function () {
          return S.queued(flowId);
        }).then(function (waiting) {
          if (hook[1] && waiting.length) {
            problem = words("waiting") || status.getAttribute("data-unsupported");
            show();
            status.scrollIntoView();
            return;
          }
          return S.forget(flowId).then(function (names) {
            return Promise.all(names.map(function (n) { return caches.delete(n); }));
          }).catch(function () {}).then(function () { form.submit(); });
        });
      });
    });
  }

  // ------------------------------------------------------------ start

  function start() {
    if (kind === "no-signal") return listSaved();
    if (!S || !S.supported() || !window.caches || !("serviceWorker" in navigator) || !F || !J) {
      return refuse(status.getAttribute("data-unsupported"));
    }
    hookForget();
    if (window.WizardWorker) {
      window.WizardWorker.catch(function () { refuse(status.getAttribute("data-unsupported")); });
    }
    if (kept) {
      var asked = here.get("lang");
      if (asked && asked !== lang) problem = "lang_missing";
    }
    // Kept already (the usual case): no waiting. Else wait for the worker to keep it; if it
    // cannot, a live page still keeps the phone's copy in step (sync) but cannot work offline.
    var keeping = keepBundle();
    loadBundle().catch(function () { return keeping.then(loadBundle); })
      .then(function () {
        if (problem === "lang_missing") problem = words("lang_missing");
      }, function (error) {
        if (kept) throw error;
        return S.getSession(flowId).then(function (found) {
          copy = found;
          throw {soft: true};
        });
      })
      .then(function () { return S.getSession(flowId); })
      .then(function (found) {
        copy = found;
        if (copy && copy.version !== version && !kept && kind !== "start") {
          // The server has this session on another version: follow it.
          copy.version = version;
        }
        return forgetIfLongDone();
      })
      .then(function () {
        api.ready = true;
        if (!copy && kept && kind !== "start") return location.replace(flowUrl(""));
        if (!copy && !kept && kind !== "start") {
          // A live page of a session this phone has no copy of yet: one starts now, so that
          // this very page works if the signal goes; the server's answers come with the sync.
          copy = fresh();
          copy.serverKnown = true;
          var seen = document.querySelector('#step-form input[name="revision"]');
          copy.revision = seen && seen.value !== "" ? +seen.value : null;
        }
        if (kind === "start") enhanceStart();
        else if (kind === "step") enhanceStep();
        else if (kind === "review" && kept) enhanceReview();
        else if (kind === "done" && kept) enhanceDone();
        else if (kind === "save" && kept) enhanceSave();
        show();
        main.setAttribute("data-ready", "1"); // filled in: what tests wait for
        // A press of Continue that came before this script was ready (register.js kept it).
        var early = window.WizardEarly;
        window.WizardEarly = null;
        if (early && handlers[early.form.id]) handlers[early.form.id](early.form, early.submitter);
        return copy ? sync() : null;
      })
      .catch(function (error) {
        if (error && error.soft) {
          if (kind !== "start") sync();
          return;
        }
        if (!problem) refuse(status.getAttribute("data-unsupported"));
        if (window.console) console.warn("offline:", error);
      });
    window.addEventListener("online", function () { wait = 2000; sync(); show(); });
    window.addEventListener("offline", show);
  }

  start();
})();
