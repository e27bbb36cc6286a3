/* Live progress of a running sync (progressive: without this script, the page's "Refresh"
   link does the same). Polls the run's JSON endpoint (staff only, never cached) and updates
   the <progress> element and the polite live text; stops once the run has finished. */
(function () {
  "use strict";
  var INTERVAL_MS = 2000;
  var MAX_FAILURES = 5;

  function track(box) {
    var url = box.getAttribute("data-sync-progress");
    var bar = box.querySelector("progress");
    var status = box.querySelector("[data-sync-status]");
    var text = box.querySelector("[data-sync-progress-text]");
    var failures = 0;

    function show(data) {
      if (status) { status.textContent = data.statusLabel; }
      if (text) { text.textContent = data.progressText; }
      if (bar) {
        if (data.chunksTotal) {
          bar.max = data.chunksTotal;
          bar.value = data.chunksDone;
        } else if (!data.running) {
          bar.max = 1;
          bar.value = 1;
        }
      }
      Object.keys(data.counts || {}).forEach(function (name) {
        var cell = document.querySelector('[data-count="' + name + '"]');
        if (cell) { cell.textContent = String(data.counts[name]); }
      });
    }

    function poll() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          show(data);
          if (data.running) { window.setTimeout(poll, INTERVAL_MS); }
        })
        .catch(function () {
          failures += 1;
          if (failures < MAX_FAILURES) { window.setTimeout(poll, INTERVAL_MS * failures); }
        });
    }

    window.setTimeout(poll, INTERVAL_MS);
  }

  function start() {
    if (!window.fetch) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-sync-progress]"), track);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
