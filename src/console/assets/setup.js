// The setup page's only script: reads an uploaded key file into the form, and polls the
// link's status every 2 s so "first request received" appears without a reload. Text goes
// in through textContent only.
(function () {
  "use strict";
  var file = document.getElementById("key-file");
  var key = document.getElementById("service-account-key");
  if (file && key) {
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      if (!chosen) { return; }
      chosen.text().then(function (text) { key.value = text; });
    });
  }
  var panel = document.getElementById("status");
  if (!panel) { return; }
  var url = panel.getAttribute("data-status-url");
  var first = document.getElementById("first-request");
  var list = document.getElementById("requests");
  var google = document.getElementById("google-status");
  function show(s) {
    if (s.first_request_at) {
      first.textContent = "First request received at " + s.first_request_at + " (UTC).";
    }
    if (google && s.google_status) {
      google.textContent = s.google_status + (s.google_error ? " (" + s.google_error + ")" : "");
    }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    s.requests.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.at + "  " + r.method + " " + r.path + " → " + r.status + ": " + r.meaning;
      list.appendChild(li);
    });
  }
  function poll() {
    fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (r) {
        if (r.status === 404 || r.status === 410) {
          first.textContent = "This setup link no longer works.";
          return null;
        }
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        if (s) { show(s); }
        if (s !== null || !/no longer/.test(first.textContent)) { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
