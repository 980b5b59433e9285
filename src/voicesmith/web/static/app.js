// Shared helpers: the CSRF token, sending forms, and showing errors next to their control.
"use strict";

const vs = {
  csrf() {
    return document.body.dataset.csrf || "";
  },

  // The API's {"detail": "..."} from a response body, or a plain sentence.
  detailOf(status, text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body.detail === "string") return body.detail;
    } catch (_) {
      // not JSON: fall through
    }
    return status ? `the server answered ${status}` : "the server could not be reached";
  },

  // The error slot belonging to an element: the first .error in its form or .error-scope.
  errorSlot(elt) {
    const scope = elt.closest("form, .error-scope, fieldset") || elt.parentElement;
    return scope ? scope.querySelector(".error") : null;
  },

  showError(elt, message) {
    const slot = vs.errorSlot(elt);
    if (slot) slot.textContent = message;
  },

  clearError(elt) {
    vs.showError(elt, "");
  },

  // POST a FormData with the CSRF header; onProgress gets (loaded, total) while uploading.
  send(method, url, data, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRF-Token", vs.csrf());
      if (onProgress) {
        xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.total));
      }
      xhr.addEventListener("load", () => resolve({ ok: xhr.status < 300, status: xhr.status, text: xhr.responseText }));
      xhr.addEventListener("error", () => resolve({ ok: false, status: 0, text: "" }));
      xhr.send(data);
    });
  },
};
window.vs = vs;

// htmx: clear a control's old error when it sends, show the server's detail when it fails.
document.addEventListener("htmx:beforeRequest", (e) => vs.clearError(e.detail.elt));
document.addEventListener("htmx:responseError", (e) => {
  const xhr = e.detail.xhr;
  vs.showError(e.detail.elt, vs.detailOf(xhr.status, xhr.responseText));
  // A refused change must not stay on screen as if it had been made (a role dropdown).
  const form = e.detail.elt.closest("form[data-reset-on-error]");
  if (form) form.reset();
});
// A form that created something starts empty again, ready for the next one.
document.addEventListener("htmx:afterRequest", (e) => {
  const form = e.detail.elt.closest("form[data-reset-on-success]");
  if (form && e.detail.successful) form.reset();
});
document.addEventListener("htmx:sendError", (e) => {
  vs.showError(e.detail.elt, "the server could not be reached; check that it is running");
});
