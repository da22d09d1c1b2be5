// Registers the service worker (/sw.js), which keeps the pages of a walkthrough on the phone for
// when there is no signal. Without service workers the site works as before, online only.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () {
      // Private browsing, or a browser that refuses: the pages say so where it matters
      // (static/js/offline.js), and everything still works online.
    });
  });
})();
