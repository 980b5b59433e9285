// The Training tab: Add Audio File entries, the drop zone's bulk import, and live job badges.
"use strict";

const STATUS_LABELS = {
  pending: "Pending",
  training: "Training...",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};
const ACTIVE = new Set(["pending", "training"]);
const METADATA_RE = /\.(csv|tsv|txt)$/i;

function datasetName() {
  return document.getElementById("dataset-name").value.trim();
}

// The dataset uploaded to last: Start Training's picker moves to it once the panel shows it.
let uploadedTo = "";

function datasetsChanged() {
  uploadedTo = datasetName();
  document.body.dispatchEvent(new CustomEvent("datasets-changed"));
}

// Start Training's picker follows the Datasets panel, the list the server just rendered.
function syncDatasetPicker() {
  const picker = document.getElementById("start-dataset");
  const rows = [...document.querySelectorAll("#datasets-panel tr[data-dataset]")];
  if (!rows.length) return;
  const chosen = uploadedTo || picker.value;
  picker.replaceChildren(...rows.map((row) => {
    const option = document.createElement("option");
    option.value = row.dataset.dataset;
    const count = Number(row.querySelector(".audio-count").textContent);
    option.textContent = `${row.dataset.dataset} (${count} clip${count === 1 ? "" : "s"})`;
    option.dataset.clips = String(count);
    return option;
  }));
  if (rows.some((row) => row.dataset.dataset === chosen)) picker.value = chosen;
  showSteps();
}

// How many steps the chosen epochs give: a fine-tune needs thousands, and 10 epochs of a
// small dataset are a few hundred at most.
function showSteps() {
  const picker = document.getElementById("start-dataset");
  const option = picker.selectedOptions[0];
  const epochs = document.getElementById("epochs");
  const auto = document.getElementById("epochs-auto").checked;
  epochs.disabled = auto;
  const hint = document.getElementById("steps-hint");
  const clips = Number(option ? option.dataset.clips : 0);
  const batch = Number(document.getElementById("batch-size").value) || 1;
  const perEpoch = Math.ceil(clips / batch);
  if (auto) hint.textContent = "Trains until the checkpoint scores stop improving, up to the server's step limit.";
  else if (!clips) hint.textContent = "";
  else {
    const total = perEpoch * (Number(epochs.value) || 0);
    hint.textContent = `About ${total} steps (${perEpoch} per epoch); a voice that sounds like its speaker usually needs thousands.`;
  }
}

// ---- Add Audio File: one entry per clip, each with its own Upload button.

function addEntry() {
  const list = document.getElementById("entries");
  const item = document.getElementById("entry-template").content.firstElementChild.cloneNode(true);
  const number = String(list.children.length + 1);
  item.querySelectorAll(".n").forEach((n) => { n.textContent = number; });
  item.querySelector(".upload").addEventListener("click", () => uploadEntry(item));
  list.appendChild(item);
  item.querySelector("input[type=file]").focus();
}

async function uploadEntry(item) {
  const button = item.querySelector(".upload");
  const file = item.querySelector("input[type=file]").files[0];
  vs.clearError(button);
  if (!file) {
    vs.showError(button, "choose an audio file first");
    return;
  }
  const data = new FormData();
  data.append("dataset_name", datasetName());
  data.append("transcript", item.querySelector("[name=transcript]").value);
  data.append("audio", file);
  button.disabled = true;
  button.textContent = "Uploading…";
  const result = await vs.send("POST", "/admin/training/upload", data);
  if (result.ok) {
    button.textContent = "✓ Uploaded";
    button.classList.add("done");
    item.querySelectorAll("input, textarea").forEach((input) => { input.disabled = true; });
    datasetsChanged();
  } else {
    button.disabled = false;
    button.textContent = "Upload";
    vs.showError(button, vs.detailOf(result.status, result.text));
  }
}

// ---- The drop zone: files, folders or a zip, sent to the bulk import in one request.

function fileRow(name) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Upload of ${name}`);
  const note = document.createElement("span");
  note.className = "note";
  li.append(label, bar, note);
  return li;
}

// Per-file progress from the request's byte count: parts are sent in order.
function progressUpdater(files, rows) {
  const ends = [];
  let sum = 0;
  files.forEach((f) => { sum += f.size; ends.push(sum); });
  return (loaded, total) => {
    const sent = sum * (loaded / (total || 1));
    files.forEach((f, i) => {
      const start = ends[i] - f.size;
      const part = f.size ? (sent - start) / f.size : 1;
      rows[i].querySelector("progress").value = Math.max(0, Math.min(1, part)) * 100;
    });
  };
}

function bulkForm(files) {
  const data = new FormData();
  data.append("dataset_name", datasetName());
  const zips = files.filter((f) => /\.zip$/i.test(f.name));
  for (const f of files) {
    if (zips.length === 1 && f === zips[0]) data.append("archive", f, f.name);
    else if (METADATA_RE.test(f.name)) data.append("metadata", f, f.name);
    else data.append("audio", f, f.name);
  }
  return data;
}

// A duplicate is skipped, not an error: the same audio is already in the dataset.
const DUPLICATE_RE = /^duplicate of /;

function markRow(row, reason) {
  const skipped = Boolean(reason) && DUPLICATE_RE.test(reason);
  row.querySelector(".note").textContent = !reason ? "✓" : skipped ? `skipped: ${reason}` : `✗ ${reason}`;
  row.classList.toggle("rejected", Boolean(reason) && !skipped);
  row.classList.toggle("skipped", skipped);
}

function showBulkResult(body, files, rows) {
  const rejected = new Map(body.rejected.map((r) => [r.file, r.detail]));
  files.forEach((f, i) => {
    markRow(rows[i], rejected.get(f.webkitRelativePath || f.name) || rejected.get(f.name));
  });
  // Refused files first, so a long import never hides one below the list's fold.
  const list = document.getElementById("bulk-progress");
  list.prepend(...rows.filter((r) => r.classList.contains("rejected")));
  const box = document.getElementById("bulk-result");
  box.replaceChildren();
  const summary = document.createElement("p");
  summary.textContent = `Stored ${body.stored} clips; ${body.dataset} now holds ${body.audio_count}.`;
  box.appendChild(summary);
  if (body.rejected.length) box.appendChild(rejectedList(body.rejected));
}

function rejectedList(rejected) {
  const list = document.createElement("ul");
  list.className = "rejected-list";
  list.setAttribute("aria-label", "Rejected files");
  for (const r of rejected) {
    const li = document.createElement("li");
    li.textContent = `${r.file}: ${r.detail}`;
    list.appendChild(li);
  }
  return list;
}

async function importFiles(files) {
  const errorSlot = document.getElementById("bulk-error");
  const list = document.getElementById("bulk-progress");
  errorSlot.textContent = "";
  document.getElementById("bulk-result").replaceChildren();
  if (!files.length) return;
  const rows = files.map((f) => fileRow(f.webkitRelativePath || f.name));
  list.replaceChildren(...rows);
  const result = await vs.send("POST", "/admin/training/upload-batch", bulkForm(files), progressUpdater(files, rows));
  if (!result.ok) {
    errorSlot.textContent = vs.detailOf(result.status, result.text);
    return;
  }
  showBulkResult(JSON.parse(result.text), files, rows);
  datasetsChanged();
}

// Walk dropped folders; plain files come through as they are.
async function droppedFiles(dataTransfer) {
  const entries = [...dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...dataTransfer.files];
  const out = [];
  for (const entry of entries) await collect(entry, out);
  return out;
}

async function collect(entry, out) {
  if (entry.isFile) {
    out.push(await new Promise((ok, fail) => entry.file(ok, fail)));
    return;
  }
  const reader = entry.createReader();
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return;
    for (const child of batch) await collect(child, out);
  }
}

function setUpDropZone() {
  const zone = document.getElementById("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    importFiles(await droppedFiles(e.dataTransfer));
  });
  for (const id of ["bulk-files", "bulk-folder"]) {
    const input = document.getElementById(id);
    input.addEventListener("change", () => { importFiles([...input.files]); input.value = ""; });
  }
}

// ---- Training Jobs: a badge and a progress bar per job, fed by the job's SSE stream.

// Each EventSource holds one of the browser's few connections to the server.
const MAX_STREAMS = 3;
const streams = new Map();

function renderJob(row, data) {
  const status = data.status;
  if (status && status !== "deleted") {
    row.dataset.status = status;
    const badge = row.querySelector(".badge");
    badge.className = `badge badge-${status}`;
    badge.textContent = STATUS_LABELS[status] || status;
  }
  const p = data.progress || {};
  const bar = row.querySelector("progress");
  bar.hidden = status !== "training";
  bar.value = p.percent || 0;
  const eta = p.eta_seconds == null ? "" : ` · ETA ${formatEta(p.eta_seconds)}`;
  row.querySelector(".progress-text").textContent = status === "training" ? `${p.percent || 0}%${eta}` : "";
}

function formatEta(seconds) {
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return m ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
}

function follow(row) {
  const id = row.dataset.jobId;
  if (streams.has(id) || !ACTIVE.has(row.dataset.status) || streams.size >= MAX_STREAMS) return;
  const source = new EventSource(`/admin/jobs/${encodeURIComponent(id)}/events`);
  streams.set(id, source);
  const onEvent = (e) => {
    const data = JSON.parse(e.data);
    const current = document.querySelector(`tr.job[data-job-id="${CSS.escape(id)}"]`);
    if (current) renderJob(current, data);
    if (!ACTIVE.has(data.status)) stop(id);
  };
  source.addEventListener("status", onEvent);
  source.addEventListener("progress", onEvent);
}

function stop(id) {
  const source = streams.get(id);
  if (source) source.close();
  streams.delete(id);
  followAll();
}

// Training jobs first, then the pending ones, newest first, as far as the streams allow.
function followAll() {
  const rows = [...document.querySelectorAll("tr.job")];
  rows.filter((r) => r.dataset.status === "training").forEach(follow);
  rows.filter((r) => r.dataset.status === "pending").forEach(follow);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("add-entry").addEventListener("click", addEntry);
  for (const id of ["start-dataset", "epochs", "batch-size", "epochs-auto"]) {
    document.getElementById(id).addEventListener("input", showSteps);
  }
  showSteps();
  setUpDropZone();
  followAll();
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target.id === "jobs-list") followAll();
    if (e.detail.target.id === "datasets-panel") syncDatasetPicker();
  });
});
