// JobWorker dashboard: re-reads the page's live region every refresh interval (data-refresh-ms on <main>) and swaps
// it in place. Pauses while the tab is hidden or a control in the region has focus; says when a refresh fails.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var status = document.getElementById("refresh-status");
  var every = main && parseInt(main.getAttribute("data-refresh-ms"), 10);
  if (!every || !window.fetch || !window.DOMParser) { return; }

  function live() { return document.querySelector("[data-live]"); }

  function refresh() {
    var region = live();
    if (!region || document.hidden || region.contains(document.activeElement)) { return schedule(); }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, Math.max(every * 2, 5000));
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin", signal: controller.signal })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, "text/html").getElementById(region.id);
        if (next) {
          region.innerHTML = next.innerHTML;
          if (!next.hasAttribute("data-live")) { region.removeAttribute("data-live"); }
        }
        if (status) { status.textContent = ""; }
      })
      .catch(function (error) {
        if (status) { status.textContent = "Refresh failed (" + error.message + "); trying again."; }
      })
      .finally(function () { clearTimeout(timer); schedule(); });
  }

  function schedule() { if (live()) { setTimeout(refresh, every); } }
  schedule();
})();
