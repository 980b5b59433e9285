// Speak forms (the playground, a job's "Try this voice"): send the text, play the WAV back.
"use strict";

// The server lists characters the voice cannot say as code points: "U+4F60 U+1F389".
function droppedCharacters(header) {
  if (!header) return [];
  return header.split(" ").map((point) => String.fromCodePoint(parseInt(point.slice(2), 16)));
}

function showDropped(form, header) {
  const slot = form.querySelector(".dropped");
  const chars = droppedCharacters(header);
  slot.textContent = chars.length
    ? `Left out ${chars.length === 1 ? "a character" : "characters"} this voice cannot say: ${chars.join(" ")}`
    : "";
}

async function speak(form) {
  const audio = form.querySelector("audio");
  const button = form.querySelector("button[type=submit]");
  vs.clearError(button);
  showDropped(form, "");
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
    showDropped(form, response.headers.get("X-Voicesmith-Dropped-Characters"));
    if (audio.src) URL.revokeObjectURL(audio.src);
    audio.src = URL.createObjectURL(await response.blob());
    audio.play().catch(() => {}); // a browser may refuse autoplay; the controls still work
  } catch (_) {
    vs.showError(button, "the server could not be reached; check that it is running");
  } finally {
    button.disabled = false;
    button.textContent = "Speak";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.speak-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      speak(form);
    });
  });
});
