// Wallet page: while a sync is queued or running, poll its status resource
// (/api/v1/wallet-syncs/<id>/, same-origin session) every two seconds, show the
// progress, and reload the page once it has finished so the records appear.
(function () {
  "use strict";
  var box = document.getElementById("sync-status");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var progress = box.querySelector(".sync-progress");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (run) {
        if (!run) {
          return;
        }
        if (progress) {
          progress.textContent =
            "chains " + run.chains_done + " of " + run.chains_total +
            " · blocks " + run.blocks_done + " of " + run.blocks_total +
            " · " + run.records_created + " new record" + (run.records_created === 1 ? "" : "s");
        }
        if (run.status === "done" || run.status === "failed") {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, 1000);
})();
