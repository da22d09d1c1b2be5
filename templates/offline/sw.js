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

self.addEventListener("message", function (event) {
  if (event.data === "tidy") event.waitUntil(tidy());
});

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
