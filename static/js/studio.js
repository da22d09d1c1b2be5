// The studio's YAML editor: the draft's text is checked as it is typed, by the server's own
// loader (POST /studio/check), and the problems are shown with their key paths. Only an
// enhancement: without JavaScript, "Save the draft" checks the same way.
(function () {
  "use strict";
  var box = document.getElementById("live-problems");
  var form = document.getElementById("yaml-form");
  if (!box || !form || !window.fetch) return;
  var source = form.querySelector("textarea");
  var token = form.querySelector("input[name=csrf_token]");
  var timer = null;
  var asked = 0;

  function show(problems) {
    box.textContent = "";
    var panel = document.createElement(problems.length ? "div" : "p");
    panel.className = "panel problems";
    if (!problems.length) {
      panel.textContent = box.dataset.ok;
      box.appendChild(panel);
      return;
    }
    var list = document.createElement("ul");
    problems.forEach(function (p) {
      var item = document.createElement("li");
      item.className = "problem-" + p.severity;
      var path = document.createElement("code");
      path.textContent = p.path || "/";
      item.appendChild(path);
      var line = p.line ? " (" + box.dataset.line.replace("{n}", p.line) + ")" : "";
      item.appendChild(document.createTextNode(line + ": " + p.message));
      list.appendChild(item);
    });
    panel.appendChild(list);
    box.appendChild(panel);
  }

  function check() {
    var mine = ++asked;
    var body = new URLSearchParams();
    body.set("source", source.value);
    body.set("flow_id", box.dataset.flow);
    body.set("csrf_token", token ? token.value : "");
    fetch(box.dataset.check, {method: "POST", body: body, credentials: "same-origin",
                              headers: {"X-CSRFToken": token ? token.value : ""}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === asked) show(data.problems); })
      .catch(function () { /* offline or signed out: the Save button still checks */ });
  }

  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 600);
  });
})();
