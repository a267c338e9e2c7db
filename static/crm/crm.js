// Small behaviours shared by all pages; htmx does the rest.
(() => {
  "use strict";

  // -- bulk selection ---------------------------------------------------------------

  // Buttons that act on a selection (<button data-requires-selection="ids">) are enabled
  // only while at least one box named "ids" is checked. Without JavaScript they always
  // submit, and the server answers "Select at least one record".
  function updateSelectionButtons() {
    document.querySelectorAll("[data-requires-selection]").forEach((button) => {
      const name = button.dataset.requiresSelection;
      const form = button.form || document;
      button.disabled = !form.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    // "Select all" checkboxes for bulk actions: <input data-select-all="name">
    document.querySelectorAll("[data-select-all]").forEach((master) => {
      master.addEventListener("change", () => {
        document.querySelectorAll(`input[name="${CSS.escape(master.dataset.selectAll)}"]`).forEach((box) => {
          if (!box.disabled) box.checked = master.checked;
        });
        updateSelectionButtons();
      });
    });
    updateSelectionButtons();
  });
  // <select data-submit-on-change>: choosing sends its form (the language switcher).
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-submit-on-change]")) event.target.form.submit();
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches?.("input[type=checkbox]")) updateSelectionButtons();
  });

  // -- failed htmx requests ---------------------------------------------------------
  //
  // htmx does not swap error answers, so without this a failed request looks like
  // nothing happened. Now:
  //  - a session that expired (401, or a redirect that ended on the login page)
  //    reloads the page, so the login page is never swapped into a fragment and the
  //    user comes back to this page after signing in;
  //  - a 4xx answer shows its message (the problem text of an error page, a JSON API
  //    error's message, or a short text body) in #messages;
  //  - a 5xx answer or a network failure shows a generic message.
  // Elements inside [data-htmx-errors="self"] handle their own errors, and a handler
  // closer to the element that already decided to swap the answer (e.g. a 400 carrying
  // form errors) wins.

  const MAX_TEXT = 300;
  // Where an error answer's HTML keeps its message, most specific first.
  const MESSAGE_SELECTORS = [
    "[data-error-message]", // templates/403.html, 404.html, ...
    "[data-testid=problem-message]", // templates/recyclebin/problem.html
    "#messages .alert-danger",
    "#messages .alert-warning",
    ".alert-danger",
  ];

  const texts = () => document.getElementById("htmx-error-config")?.dataset ?? {};

  function loginPath() {
    return document.body?.dataset.loginUrl || "/accounts/login/";
  }

  function endedOnLogin(xhr) {
    if (!xhr.responseURL) return false;
    try {
      const url = new URL(xhr.responseURL, window.location.href);
      return url.origin === window.location.origin && url.pathname === loginPath();
    } catch {
      return false;
    }
  }

  function showError(message) {
    const container = document.getElementById("messages");
    const template = document.getElementById("htmx-error-template");
    if (!container || !template) {
      window.alert(message);
      return;
    }
    const alert = template.content.firstElementChild.cloneNode(true);
    alert.querySelector("[data-message]").textContent = message;
    container.prepend(alert);
    const box = container.getBoundingClientRect();
    if (box.bottom < 0 || box.top > window.innerHeight) container.scrollIntoView({ behavior: "smooth" });
  }

  function clean(text) {
    const flat = (text || "").replace(/\s+/g, " ").trim();
    return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
  }

  // The message a 4xx answer carries, or "" when it has none we can show.
  function messageOf(xhr) {
    const body = xhr.responseText || "";
    if (!body.trim()) return "";
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (type.includes("json")) {
      try {
        const data = JSON.parse(body);
        return clean(data?.error?.message || data?.detail || "");
      } catch {
        return "";
      }
    }
    if (type.includes("html") || /^\s*</.test(body)) {
      const page = new DOMParser().parseFromString(body, "text/html");
      const found = MESSAGE_SELECTORS.map((selector) => page.querySelector(selector)).find(Boolean);
      if (found) {
        found.querySelectorAll("button, form").forEach((node) => node.remove());
        return clean(found.textContent);
      }
      // A fragment without markup we know: its text, if short (never a whole page).
      if (page.querySelector("main, nav, h1")) return "";
      const text = clean(page.body?.textContent);
      return text.length < MAX_TEXT ? text : "";
    }
    const text = clean(body);
    return text.length < MAX_TEXT ? text : "";
  }

  function fallback(status) {
    const t = texts();
    if (status === 403) return t.forbidden;
    if (status === 404) return t.notFound;
    if (status >= 500) return t.serverError;
    return t.clientError;
  }

  // No <style> element from htmx: the Content-Security-Policy allows style sheets from this
  // site only (crm.css has the indicator rules). Read by htmx when the document is ready.
  if (window.htmx) window.htmx.config.includeIndicatorStyles = false;

  // <div data-swap-form-errors>: a 400 answer is the form with its errors, swapped in like a
  // success (in place of an inline hx-on handler, which the policy does not run).
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 400 && event.target.closest?.("[data-swap-form-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // htmx fires each event twice, "htmx:beforeSwap" then "htmx:before-swap" (same detail):
  // listening to the second, on the document, lets every handler on the page
  // (hx-on::before-swap included) decide first.
  document.addEventListener("htmx:before-swap", (event) => {
    const detail = event.detail;
    const xhr = detail.xhr;
    const status = xhr.status;
    if (status === 401 || endedOnLogin(xhr)) {
      // The session expired: reload, so the login page comes back here afterwards.
      detail.shouldSwap = false;
      detail.isError = false;
      if (window.location.pathname !== loginPath()) window.location.reload();
      return;
    }
    if (status < 400 || detail.shouldSwap) return;
    if (event.target.closest?.('[data-htmx-errors="self"]')) return;
    const message = status >= 500 ? "" : messageOf(xhr);
    showError(message || fallback(status) || `${status} ${xhr.statusText || ""}`.trim());
  });

  function networkFailure(event) {
    if (event.target.closest?.('[data-htmx-errors="self"]')) return;
    showError(texts().networkError || "Network error");
  }
  document.addEventListener("htmx:sendError", networkFailure);
  document.addEventListener("htmx:timeout", networkFailure);
})();
