// Step pages: a page with mistakes is shown again in place, so the phone's Back button goes
// to the page before, not to this page as it was before the mistake.
//
// Without this script the form posts as usual and the server redirects back to the page
// (post/redirect/get); each of those navigations is an entry in the browser's history, so
// Back needs two presses. Here the form is sent with fetch: the server answers 204 and the
// next page's address when the answers were saved (we go there), or the page with its
// mistakes (422), which replaces this document without a new history entry. Anything else
// (a refused token, no network) falls back to the plain form post.
(function () {
  "use strict";
  var form = document.getElementById("step-form");
  if (!form || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.hasAttribute("formaction")) return; // e.g. save for later
    event.preventDefault();
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      headers: {"X-Wizard-Inline": "1"},
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (response) {
      if (response.status === 204 && response.headers.get("X-Wizard-Next")) {
        window.location.assign(response.headers.get("X-Wizard-Next"));
      } else if (response.status === 422) {
        return response.text().then(function (html) {
          document.open();
          document.write(html);
          document.close();
        });
      } else {
        form.submit();
      }
    }).catch(function () {
      form.submit();
    });
  });
})();
