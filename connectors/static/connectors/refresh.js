// "Refresh my data": while the citizen's sources are being updated, show each one's progress
// and reload the page when all are done. Without JavaScript the page works as it is.
(function () {
  "use strict";
  var form = document.querySelector("form[data-refresh-status]");
  var progress = document.getElementById("refresh-progress");
  if (!form || !progress || !/[?&]refreshing=1\b/.test(window.location.search)) {
    return; // no refresh was just asked for
  }
  var url = form.getAttribute("data-refresh-status");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        progress.hidden = false;
        progress.textContent = body.sources.map(function (s) {
          return s.label + ": " + s.text;
        }).join(" · ");
        if (body.done) {
          window.location.replace(window.location.pathname); // the fresh data, once
        } else if (tries < 60) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () { /* the page still works; the next reload shows the result */ });
  }
  poll();
})();
