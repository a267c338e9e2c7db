// Dropping files on an attachment form (<form data-attachment-drop>) uploads them; choosing them
// in its file input does too. Texts come from the form's data-* attributes (translated there).
(() => {
  "use strict";

  function tooBig(form, files) {
    const limit = Number(form.dataset.maxBytes);
    const big = files.find((file) => file.size > limit);
    return big ? form.dataset.tooBig.replace("%(name)s", big.name) : "";
  }

  function send(form, files) {
    const problem = form.querySelector("[data-attachment-problem]");
    const message = tooBig(form, files);
    if (message) {
      problem.textContent = message;
      return;
    }
    const input = form.querySelector("input[type=file]");
    const transfer = new DataTransfer();
    files.forEach((file) => transfer.items.add(file));
    input.files = transfer.files;
    problem.textContent = form.dataset.uploading;
    form.classList.add("attachment-drop-busy");
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-attachment-drop]").forEach((form) => {
      ["dragenter", "dragover"].forEach((name) =>
        form.addEventListener(name, (event) => {
          event.preventDefault();
          form.classList.add("attachment-drop-over");
        }),
      );
      ["dragleave", "drop"].forEach((name) =>
        form.addEventListener(name, () => form.classList.remove("attachment-drop-over")),
      );
      form.addEventListener("drop", (event) => {
        event.preventDefault();
        const files = Array.from(event.dataTransfer.files || []);
        if (files.length) send(form, files);
      });
      form.querySelector("input[type=file]").addEventListener("change", (event) => {
        const files = Array.from(event.target.files || []);
        if (files.length) send(form, files);
      });
      form.addEventListener("submit", (event) => {
        const message = tooBig(form, Array.from(form.querySelector("input[type=file]").files || []));
        if (message) {
          event.preventDefault();
          form.querySelector("[data-attachment-problem]").textContent = message;
        }
      });
    });
  });
})();
