// An import working on a worker: reload its page every few seconds until it is done.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-import-refresh]");
    if (!box) {
      return;
    }
    var delay = parseInt(box.getAttribute("data-import-refresh"), 10) || 2000;
    window.setTimeout(function () {
      window.location.reload();
    }, delay);
  });
})();
