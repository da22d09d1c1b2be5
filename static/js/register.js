// On every page: registers the service worker (/sw.js), which keeps the pages of a walkthrough
// on the phone for when there is no signal; on a walkthrough's pages, then loads the scripts
// that do the offline work (main's data-kit, static/js/offline.js and what it needs).
// All of it after the page has loaded: a first visit downloads only the page and this file.
// Without service workers the site works as before, online only, and offline.js says so
// (window.WizardWorker fails).
(function () {
  "use strict";
  var main = document.getElementById("main"), loaded = Date.now();
  // Which button sent a form, for browsers without event.submitter (before Chrome 81).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[type=submit]");
    if (button) window.WizardSubmitter = button;
  }, true);
  // A page the phone kept cannot be posted (there is no signal): a press of Continue before
  // offline.js is ready waits for it (it acts on window.WizardEarly once it is); after 10 s
  // without it, the browser's own post goes (perhaps the signal is back).
  if (main && main.getAttribute("data-offline")) {
    document.addEventListener("submit", function (event) {
      if ((window.WizardOffline && window.WizardOffline.ready) || Date.now() - loaded > 10000) {
        return;
      }
      event.preventDefault();
      window.WizardEarly = {form: event.target,
                            submitter: event.submitter || window.WizardSubmitter};
    }, true);
  }
  if ("serviceWorker" in navigator) {
    window.WizardWorker = new Promise(function (resolve, reject) {
      window.addEventListener("load", function () {
        navigator.serviceWorker.register("/sw.js", {scope: "/"}).then(function (registration) {
          // A browser that blocks workers may answer with no registration rather than fail.
          if (registration) resolve(registration); else reject(new Error("not registered"));
        }, reject);
      });
    });
    window.WizardWorker.catch(function () {}); // private browsing, or a browser that refuses
  }
  var kit = main && main.getAttribute("data-kit");
  if (!kit) return;
  window.addEventListener("load", function () {
    kit.split(" ").forEach(function (src) {
      var script = document.createElement("script");
      script.src = src;
      script.async = false; // in order: each needs the ones before
      document.head.appendChild(script);
    });
  });
})();
