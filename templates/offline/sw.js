/* The service worker, served by wizard/views/offline.py at /sw.js (scope: the whole site).

   Pages: network first, so a family with signal always gets the server's page. With no signal
   (or none within PAGE_WAIT), a walkthrough's page comes from its offline bundle: the blank
   page of the flow version and language the phone keeps, which static/js/offline.js fills
   from the phone's own copy of the answers. Anything else with no signal: the no-signal page.
   Versioned files (?v=) and bundle files never change: cache first.

   Caches: this build's shell ("wizard-shell-<build>", filled at install), and one cache per
   bundle ("wizard-flow-<flow>-v<version>-<lang>-<build>", filled by offline.js and listed in
   IndexedDB). A new build never deletes a bundle that a record still lists, so a walkthrough
   kept by an older build keeps working; tidy() removes only caches nothing lists. */
"use strict";
var BUILD = {{ build|tojson }};
var SHELL = "wizard-shell-" + BUILD;
var SHELL_URLS = {{ shell|tojson }};
var NO_SIGNAL = SHELL_URLS[0];
var PAGE_WAIT = 8000; // ms: on a train a request may hang rather than fail

importScripts({{ store_script|tojson }});

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(SHELL_URLS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(tidy().then(function () { return self.clients.claim(); }));
});

var keeping = {}; // cache name -> the work of keeping it, so that two pages share one
self.addEventListener("message", function (event) {
  var message = event.data, port = event.ports && event.ports[0];
  if (!message || message.type !== "keep") return;
  var work = keeping[message.cache];
  if (!work) {
    work = keeping[message.cache] = keep(message).then(function () {
      delete keeping[message.cache];
    }, function (error) {
      delete keeping[message.cache];
      throw error;
    });
  }
  event.waitUntil(work.then(function () { if (port) port.postMessage(true); },
                            function () { if (port) port.postMessage(false); }));
});

// Keeps a flow's bundle: its pages (which come inside it: one response compresses far better
// than 28), the files they load, and its rules and texts. The record lists the cache before
// it is filled, so tidy() never deletes it half-made; the cache it replaces (an older build)
// is dropped once it is ready.
function keep(m) {
  return WizardStore.getFlow(m.flow, m.version).then(function (record) {
    record = record || {flow: m.flow, version: m.version, langs: {}};
    var mine = record.langs[m.lang] || {};
    record.lang = m.lang; // the language the family last used: kept pages open in it
    return (mine.ready === m.cache ? caches.has(m.cache) : Promise.resolve(false))
      .then(function (already) {
        if (already) return WizardStore.putFlow(record);
        return fill(m, record, mine);
      });
  });
}

function fill(m, record, mine) {
  var name = m.cache;
  record.langs[m.lang] = {ready: mine.ready, pending: name, pages: mine.pages};
  return WizardStore.putFlow(record).then(function () {
    return fetch(m.bundle, {credentials: "same-origin"});
  }).then(function (response) {
    if (!response.ok) throw new Error("bundle " + response.status);
    return response.json();
  }).then(function (b) {
    // Named by the server's build, not the page's: a page of an older build may ask.
    if (b.cache !== name) {
      record.langs[m.lang].pending = b.cache;
      name = b.cache;
    }
    return WizardStore.putFlow(record).then(function () {
      return caches.open(name);
    }).then(function (cache) {
      return Promise.all(Object.keys(b.html).map(function (url) {
        return cache.put(url, new Response(b.html[url], {headers: b.headers}));
      })).then(function () {
        return cache.addAll(b.assets); // most likely in the HTTP cache already
      }).then(function () {
        delete b.html; // kept once, as pages
        return cache.put(m.bundle, new Response(JSON.stringify(b), {
          headers: {"Content-Type": "application/json"}}));
      });
    }).then(function () {
      return WizardStore.getFlow(m.flow, m.version);
    }).then(function (latest) {
      latest = latest || record;
      latest.title = b.flow_title;
      latest.langs[m.lang] = {ready: name, pending: null, pages: b.pages};
      return WizardStore.putFlow(latest);
    });
  }).then(tidy);
}

function tidy() {
  return Promise.all([caches.keys(), WizardStore.cachesInUse().catch(function () {
    return null; // cannot tell what is in use: keep everything
  })]).then(function (found) {
    var names = found[0], used = found[1];
    return Promise.all(names.filter(function (name) {
      if (name.indexOf("wizard-shell-") === 0) return name !== SHELL;
      return used !== null && name.indexOf("wizard-flow-") === 0 && !used[name];
    }).map(function (name) { return caches.delete(name); }));
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/api/") === 0 || url.pathname === "/sw.js") return;
  if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (url.searchParams.has("v") || url.pathname.indexOf("/offline/") === 0 ||
             url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});

function page(request, url) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, PAGE_WAIT);
    fetch(request).then(function (response) {
      clearTimeout(timer); resolve(response);
    }, function (error) { clearTimeout(timer); reject(error); });
  }).catch(function () { return kept(url); });
}

// The kept blank page for a walkthrough address: /f/<flow>/ (start), /f/<flow>/<step>,
// /f/<flow>/review, /done, /save.
function kept(url) {
  var match = /^\/f\/([^\/]+)\/([^\/]*)$/.exec(url.pathname);
  if (!match) return noSignal();
  var name = decodeURIComponent(match[2]);
  return WizardStore.pagesFor(decodeURIComponent(match[1]), url.searchParams.get("lang"))
    .then(function (kit) {
      if (!kit) return noSignal();
      var address = name === "" ? kit.pages.start :
        ["review", "done", "save"].indexOf(name) >= 0 ? kit.pages[name] : kit.pages.steps[name];
      if (!address) return noSignal();
      return caches.open(kit.cache).then(function (cache) { return cache.match(address); })
        .then(function (hit) { return hit || noSignal(); });
    }, noSignal);
}

function noSignal() {
  return caches.match(NO_SIGNAL).then(function (hit) {
    return hit || new Response("No signal", {status: 503, headers: {"Content-Type": "text/plain"}});
  });
}
