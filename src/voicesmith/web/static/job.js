// The job page: live progress over SSE, the loss chart (uPlot), samples and the log tail.
"use strict";

const JOB_LABELS = {
  pending: "Pending",
  training: "Training...",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};
const LIVE = new Set(["pending", "training"]);
const REFRESH_MS = 2000;

const job = {
  root: null,
  id: "",
  base: "",
  chart: null,
  keys: [],
  data: [[]],
  lastStep: -1,
  refreshing: false,
  lastRefresh: 0,
};

function showStatus(status) {
  job.root.dataset.status = status;
  const badge = document.getElementById("job-badge");
  badge.className = `badge badge-${status}`;
  badge.textContent = JOB_LABELS[status] || status;
  // Resume needs a checkpoint as well as a failed or cancelled job; the server says which.
  const canResume = job.root.dataset.canResume === "true";
  document.querySelectorAll("[data-when]").forEach((button) => {
    const needed = "needsCheckpoint" in button.dataset && !canResume;
    button.hidden = needed || !button.dataset.when.split(" ").includes(status);
  });
}

function showProgress(p) {
  if (!p) return;
  document.getElementById("job-progress").value = p.percent || 0;
  const parts = [`${p.percent || 0}%`];
  if (p.epoch && p.epochs) parts.push(`epoch ${p.epoch} of ${p.epochs}`);
  if (p.total_steps) parts.push(`step ${p.step || 0} of ${p.total_steps}`);
  if (LIVE.has(job.root.dataset.status)) {
    if (p.phase) parts.push(p.phase);
    if (p.eta_seconds != null) parts.push(`ETA ${Math.round(p.eta_seconds)} s`);
  }
  if (p.peak_memory_mb) parts.push(`peak memory ${p.peak_memory_mb.toLocaleString("en")} MB`);
  document.getElementById("job-progress-text").textContent = parts.join(" · ");
}

// ---- The loss chart: one series per loss the trainer reports.

function makeChart(keys) {
  job.keys = keys;
  job.data = [[], ...keys.map(() => [])];
  // Ten colours that stay apart (Tableau 10): VITS reports seven losses, so six repeated one.
  const palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const el = document.getElementById("loss-chart");
  const opts = {
    // The card's own width, so a phone's chart fits its screen.
    width: Math.max(200, el.clientWidth || 640),
    height: 280,
    scales: { x: { time: false } },
    axes: [{ label: "step" }, { label: "loss" }],
    series: [{ label: "step" }, ...keys.map((k, i) => ({ label: k, stroke: palette[i % palette.length], width: 1.5 }))],
  };
  job.chart = new uPlot(opts, job.data, el);
}

function addPoints(points) {
  if (!points.length) return;
  if (!job.chart) makeChart(Object.keys(points[0].losses));
  for (const point of points) {
    job.data[0].push(point.step);
    job.keys.forEach((k, i) => job.data[i + 1].push(point.losses[k] ?? null));
    job.lastStep = Math.max(job.lastStep, point.step);
  }
  job.chart.setData(job.data);
  const el = document.getElementById("loss-chart");
  el.dataset.points = String(job.data[0].length);
  const last = points[points.length - 1];
  const first = job.keys[0];
  document.getElementById("chart-summary").textContent =
    `${job.data[0].length} steps logged; at step ${last.step} ${first} is ${Number(last.losses[first]).toFixed(3)}.`;
}

// ---- Data the page pulls: metrics after the last step, samples, the log tail.

async function getJSON(path) {
  const response = await fetch(job.base + path);
  return response.ok ? response.json() : null;
}

async function refreshMetrics() {
  const body = await getJSON(`/metrics?after=${job.lastStep}`);
  if (body) addPoints(body.points);
}

async function refreshSamples() {
  const body = await getJSON("/samples");
  if (!body) return;
  const list = document.getElementById("samples");
  const have = new Set([...list.querySelectorAll("audio")].map((a) => a.dataset.name));
  for (const s of body.samples) {
    if (have.has(s.name)) continue;
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = `Step ${s.step}, sentence ${s.index + 1}`;
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.dataset.name = s.name;
    audio.src = `${job.base}/samples/${encodeURIComponent(s.name)}`;
    audio.setAttribute("aria-label", `Sample at step ${s.step}, sentence ${s.index + 1}`);
    li.append(label, audio);
    list.appendChild(li);
  }
}

async function refreshLog() {
  const response = await fetch(`${job.base}/log`);
  if (!response.ok) return;
  const pre = document.getElementById("log");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = await response.text();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

async function refreshAll(force) {
  const now = Date.now();
  if (job.refreshing || (!force && now - job.lastRefresh < REFRESH_MS)) return;
  job.refreshing = true;
  job.lastRefresh = now;
  try {
    await Promise.all([refreshMetrics(), refreshSamples(), refreshLog()]);
  } finally {
    job.refreshing = false;
  }
}

function follow() {
  const source = new EventSource(`${job.base}/events`);
  const onEvent = (e) => {
    const data = JSON.parse(e.data);
    if (data.status === "deleted") {
      source.close();
      return;
    }
    job.root.dataset.canResume = String(Boolean(data.can_resume));
    showStatus(data.status);
    showProgress(data.progress || JSON.parse(job.root.dataset.progress || "{}"));
    document.getElementById("job-error").textContent = data.error || "";
    if (!LIVE.has(data.status)) {
      source.close();
      refreshAll(true);
    } else {
      refreshAll(false);
    }
  };
  source.addEventListener("status", onEvent);
  source.addEventListener("progress", onEvent);
  // Between SSE events (a slow step) the log still moves.
  const timer = setInterval(() => {
    if (LIVE.has(job.root.dataset.status)) refreshAll(false);
    else clearInterval(timer);
  }, REFRESH_MS);
}

// ---- Downloads for other runtimes: the export can refuse, so fetch first, then save.

async function download(button) {
  const format = button.dataset.export;
  const label = button.textContent;
  vs.clearError(button);
  document.querySelector(".export-warnings").textContent = "";
  button.disabled = true;
  button.textContent = "Preparing…";
  try {
    const response = await fetch(`${job.base}/export?format=${encodeURIComponent(format)}`);
    if (!response.ok) {
      vs.showError(button, vs.detailOf(response.status, await response.text()));
      return;
    }
    const warnings = JSON.parse(response.headers.get("X-Voicesmith-Warnings") || "[]");
    document.querySelector(".export-warnings").textContent = warnings.join(" ");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `${job.id}-${format}.zip`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (_) {
    vs.showError(button, "the server could not be reached; check that it is running");
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-export]").forEach((b) => b.addEventListener("click", () => download(b)));
  job.root = document.getElementById("job");
  job.id = job.root.dataset.jobId;
  job.base = `/admin/jobs/${encodeURIComponent(job.id)}`;
  showStatus(job.root.dataset.status);
  showProgress(JSON.parse(job.root.dataset.progress || "{}"));
  refreshAll(true);
  if (LIVE.has(job.root.dataset.status)) follow();
});
