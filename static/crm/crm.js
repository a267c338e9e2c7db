// Small behaviours shared by all pages; htmx does the rest.
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" checkboxes for bulk actions: <input data-select-all="name">
  document.querySelectorAll("[data-select-all]").forEach((master) => {
    master.addEventListener("change", () => {
      document.querySelectorAll(`input[name="${master.dataset.selectAll}"]`).forEach((box) => {
        box.checked = master.checked;
      });
    });
  });
});
