// Keeps the events page live: long-polls /admin/events/poll (the session cookie goes along)
// and puts new events at the top. Without this script the page still shows the newest events.
(function () {
  "use strict";
  var table = document.getElementById("events");
  if (!table) { return; }
  var body = table.tBodies[0];
  var status = document.getElementById("live-status");
  var after = table.dataset.after;
  var directory = table.dataset.directory;

  function cell(row, text, href) {
    var td = row.insertCell(-1);
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function show(events) {
    events.forEach(function (e) {
      var row = body.insertRow(0);
      cell(row, e.cursor).className = "num";
      cell(row, e.event_type);
      cell(row, e.subject);
      cell(row, e.directory_id, "/admin/directories/" + encodeURIComponent(e.directory_id));
      cell(row, e.created_at);
    });
    while (body.rows.length > 500) { body.deleteRow(-1); }
  }

  function poll(delay) {
    setTimeout(function () {
      var url = "/admin/events/poll?after=" + encodeURIComponent(after);
      if (directory) { url += "&directory=" + encodeURIComponent(directory); }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) {
          if (r.redirected || !r.ok) { throw new Error("status " + r.status); }
          return r.json();
        })
        .then(function (page) {
          after = page.after;
          if (page.events.length) {
            show(page.events);
            status.textContent = page.events.length + " new event(s).";
          }
          poll(0);
        })
        .catch(function () {
          status.textContent = "Live updates paused; retrying. Reload the page if this lasts.";
          poll(5000);
        });
    }, delay);
  }

  poll(0);
}());
