// Step pages: the form is sent with fetch, and the server names the page to go to (204,
// X-Wizard-Next). When that is this page again, with its mistakes, it replaces itself in the
// history, so Back goes to the page before (a plain post/redirect/get adds an entry, and Back
// then needs two presses). Anything else falls back to the plain form post. See _go in
// wizard/views/family.py.
(function () {
  "use strict";
  var form = document.getElementById("step-form");
  var main = document.getElementById("main");
  // A page kept on the phone (no signal) is sent by static/js/offline.js alone.
  if (main && main.getAttribute("data-offline")) return;
  if (!form || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    event.preventDefault();
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    // getAttribute: form.action would be a control named "action", if the form had one.
    fetch(form.getAttribute("action") || window.location.href, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: {"X-Wizard-Inline": "1"},
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (response) {
      var next = response.status === 204 && response.headers.get("X-Wizard-Next");
      if (!next) {
        form.submit();
      } else if (next === window.location.pathname + window.location.search) {
        window.location.replace(next);
      } else {
        window.location.assign(next);
      }
    }).catch(function () {
      // No signal: the phone keeps the step and sends it later (static/js/offline.js);
      // without that, the browser tries the plain post itself.
      var offline = window.WizardOffline;
      if (!(offline && offline.submit(form, submitter))) form.submit();
    });
  });
})();
