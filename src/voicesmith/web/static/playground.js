// The playground: send the text, play the WAV that comes back.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("speak-form");
  if (!form) return;
  const audio = document.getElementById("speech");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    vs.clearError(button);
    button.disabled = true;
    button.textContent = "Speaking…";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: { "X-CSRF-Token": vs.csrf() },
        body: new FormData(form),
      });
      if (!response.ok) {
        vs.showError(button, vs.detailOf(response.status, await response.text()));
        return;
      }
      if (audio.src) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(await response.blob());
      audio.play().catch(() => {}); // a browser may refuse autoplay; the controls still work
    } catch (_) {
      vs.showError(button, "the server could not be reached; check that it is running");
    } finally {
      button.disabled = false;
      button.textContent = "Speak";
    }
  });
});
