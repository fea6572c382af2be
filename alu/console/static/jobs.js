// Keeps a target page's job progress bars current without reloading the page: asks the
// console for the jobs' state (kept in the store) until none is queued or running.
// Text goes in with textContent only: nothing from the server is ever read as markup.
(function () {
  "use strict";
  var list = document.querySelector("[data-jobs]");
  if (!list) {
    return;
  }
  var url = list.getAttribute("data-jobs");

  function show(job) {
    var bar = document.getElementById("bar-" + job.id);
    var state = document.getElementById("state-" + job.id);
    if (bar) {
      bar.max = job.total || 1;
      bar.value = job.done;
      bar.textContent = job.done + " of " + job.total;
    }
    if (state) {
      state.textContent = job.state + (job.error ? " (" + job.error + ")" : "");
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (jobs) {
        var busy = false;
        jobs.forEach(function (job) {
          show(job);
          busy = busy || job.state === "queued" || job.state === "running";
        });
        if (busy) {
          window.setTimeout(poll, 1000);
        } else {
          document.querySelectorAll("[data-job-button]").forEach(function (button) {
            button.disabled = false;
          });
        }
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  if (list.hasAttribute("data-busy")) {
    poll();
  }
})();
