// Step pages: when the same page comes back with its mistakes, it replaces itself in the
// browser's history, so the phone's Back button goes to the page before.
//
// Without this script the form posts as usual and the server redirects (post/redirect/get):
// to the next page, or back to this one with its mistakes. Each of those is a new entry in
// the browser's history, so Back after a mistake would need two presses. Here the form is
// sent with fetch; the server answers 204 with the address it would have redirected to, and
// the script goes there, replacing the current entry when it is this same page. Anything else
// (a refused token, no network) falls back to the plain form post.
(function () {
  "use strict";
  var form = document.getElementById("step-form");
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
      form.submit();
    });
  });
})();
