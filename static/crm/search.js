// The header's search box (search/templates/search/_header_box.html): Ctrl-K or Cmd-K focuses
// it from anywhere; Escape empties the dropdown. A static file: the CSP forbids inline scripts.
(() => {
  "use strict";
  document.addEventListener("keydown", (event) => {
    const box = document.querySelector("[data-global-search]");
    if (!box) return;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && document.activeElement === box) {
      const dropdown = document.getElementById("global-search-dropdown");
      if (dropdown) dropdown.replaceChildren();
    }
  });
})();
