// Pipeline board: native HTML5 drag and drop of opportunity cards between stage columns.
//
// Dropping a card POSTs {stage, next} to the card's data-move-url (sales:move) with the
// CSRF token; the server answers with the re-rendered board, whose #board and #messages
// replace the current ones (so counts and totals stay right). Dropping on "lost" first
// asks for an optional reason. Without JavaScript (or without a mouse), each card's
// "Move to…" form posts to the same URL; htmx enhances it.
(() => {
  "use strict";

  let dragged = null; // the card being dragged

  const config = () => document.getElementById("board-config")?.dataset ?? {};

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showError(text) {
    const template = document.getElementById("board-error-template");
    const messages = document.getElementById("messages");
    if (!template || !messages) {
      window.alert(text);
      return;
    }
    const alert = template.content.firstElementChild.cloneNode(true);
    alert.querySelector("[data-message]").textContent = text;
    messages.replaceChildren(alert);
  }

  function sessionExpired(response) {
    if (response.status === 401) return true;
    const login = document.body?.dataset.loginUrl;
    return Boolean(login && response.redirected && new URL(response.url).pathname === login);
  }

  function swapIn(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const freshBoard = page.getElementById("board");
    const board = document.getElementById("board");
    if (freshBoard && board) {
      board.replaceWith(freshBoard);
      if (window.htmx) window.htmx.process(freshBoard);
    }
    const freshMessages = page.getElementById("messages");
    const messages = document.getElementById("messages");
    if (freshMessages && messages) messages.replaceWith(freshMessages);
  }

  async function move(card, stage, lostReason, lostReasonChoice) {
    const origin = card.parentElement;
    const next = card.nextElementSibling;
    const target = document.querySelector(`#board [data-column="${CSS.escape(stage)}"] [data-dropzone]`);
    // Show the move at once; the server's board replaces this guess.
    if (target) target.prepend(card);
    card.classList.add("opacity-50");
    card.setAttribute("aria-busy", "true");

    const body = new FormData();
    body.append("stage", stage);
    body.append("lost_reason", lostReason || "");
    body.append("lost_reason_choice", lostReasonChoice || "");
    // The version the card showed: a deal changed since stays where it is (the server says so).
    if (card.dataset.version) body.append("version", card.dataset.version);
    body.append("next", window.location.pathname + window.location.search);
    try {
      const response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
      });
      if (sessionExpired(response)) {
        // Signed out meanwhile: reload, so the login page brings the user back here.
        window.location.reload();
        return;
      }
      if (!response.ok) throw response;
      swapIn(await response.text());
    } catch (failure) {
      origin.insertBefore(card, next);
      card.classList.remove("opacity-50");
      card.removeAttribute("aria-busy");
      const forbidden = failure instanceof Response && failure.status === 403;
      showError(forbidden ? config().forbiddenMessage : config().failedMessage);
    }
  }

  function askLostReason(card) {
    const modalElement = document.getElementById("lost-reason-modal");
    if (!modalElement || !window.bootstrap) {
      move(card, "lost", "");
      return;
    }
    const form = modalElement.querySelector("form");
    form.action = card.dataset.moveUrl;
    form.dataset.cardId = card.dataset.id;
    form.querySelector("[name=lost_reason]").value = "";
    const choice = form.querySelector("[name=lost_reason_choice]");
    if (choice) choice.value = "";
    modalElement.querySelector("[data-lost-name]").textContent = card.dataset.name || "";
    window.bootstrap.Modal.getOrCreateInstance(modalElement).show();
  }

  const columnOf = (event) => event.target.closest?.("#board [data-column]");

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.("[data-move-url]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    requestAnimationFrame(() => card.classList.add("opacity-50"));
  });

  document.addEventListener("dragend", () => {
    if (dragged && !dragged.hasAttribute("aria-busy")) dragged.classList.remove("opacity-50");
    dragged = null;
    document.querySelectorAll(".kanban-column.drag-over").forEach((column) => column.classList.remove("drag-over"));
  });

  document.addEventListener("dragover", (event) => {
    const column = columnOf(event);
    if (!dragged || !column || column.dataset.column === dragged.dataset.stage) return;
    event.preventDefault(); // allow the drop
    event.dataTransfer.dropEffect = "move";
    column.classList.add("drag-over");
  });

  document.addEventListener("dragleave", (event) => {
    const column = columnOf(event);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drag-over");
  });

  document.addEventListener("drop", (event) => {
    const column = columnOf(event);
    if (!dragged || !column) return;
    event.preventDefault();
    column.classList.remove("drag-over");
    const card = dragged;
    const stage = column.dataset.column;
    dragged = null;
    if (stage === card.dataset.stage) return;
    card.classList.remove("opacity-50");
    if (stage === "lost") askLostReason(card);
    else move(card, stage, "");
  });

  // A card's "Move to…" form set to Lost asks for the reason first (htmx:confirm cancels its request).
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.target;
    if (!form.matches?.("[data-testid=card-move-form]") || form.querySelector("[name=stage]").value !== "lost") return;
    const card = form.closest("[data-testid=opportunity-card]");
    if (!card || !document.getElementById("lost-reason-modal") || !window.bootstrap) return;
    event.preventDefault();
    askLostReason(card);
  });

  // The "lost" dialog posts through the same move() when JavaScript runs.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "lost-reason-form" || !form.dataset.cardId) return;
    const card = document.querySelector(`#board [data-testid=opportunity-card][data-id="${CSS.escape(form.dataset.cardId)}"]`);
    if (!card) return; // fall back to a plain POST
    event.preventDefault();
    window.bootstrap?.Modal.getInstance(document.getElementById("lost-reason-modal"))?.hide();
    move(card, "lost", form.querySelector("[name=lost_reason]").value, form.querySelector("[name=lost_reason_choice]")?.value);
  });

  // Errors of the htmx-enhanced "Move to…" forms (htmx does not swap 4xx answers; #board is
  // marked data-htmx-errors="self", so crm.js leaves these to us).
  document.addEventListener("htmx:responseError", (event) => {
    if (!event.target.closest?.("#board")) return;
    const status = event.detail.xhr.status;
    showError(status === 403 ? config().forbiddenMessage : config().failedMessage);
  });
})();
