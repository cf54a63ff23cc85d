// Follows a bulk job on its page: polls the job's progress and moves the bar until it ends.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  function text(selector, value) {
    var node = box.querySelector(selector);
    if (node) node.textContent = value;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        box.querySelector("progress").value = job.percent;
        text(".percent", job.percent + "%");
        text(".state", job.status);
        text(".done", job.done);
        text(".total", job.total === null ? "?" : job.total);
        text(".changed", job.changed);
        if (job.error) {
          var error = box.querySelector(".error");
          error.hidden = false;
          error.textContent = job.error;
        }
        if (job.status !== "finished" && job.status !== "failed") setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
