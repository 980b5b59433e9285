// The job page's checkpoints: their scores in a table and a chart, a sample each, and promotion.
"use strict";

const ckpt = { base: "", chart: null, shown: "" };

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function score(value, digits) {
  return value == null ? "–" : Number(value).toFixed(digits);
}

function sampleCell(c) {
  const td = document.createElement("td");
  if (!c.samples.length) return td;
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.preload = "none";
  audio.src = c.samples[0];
  audio.setAttribute("aria-label", `Sample of the checkpoint at step ${c.step}`);
  td.appendChild(audio);
  return td;
}

function actionCell(c, promoted) {
  const td = document.createElement("td");
  if (c.step === promoted) {
    td.innerHTML = '<strong class="promoted">✓ In use</strong>';
    return td;
  }
  if (!c.kept) {
    td.textContent = "pruned";
    return td;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = "Use this checkpoint";
  button.setAttribute("aria-label", `Use this checkpoint: step ${c.step}`);
  button.addEventListener("click", () => promote(c.step, button));
  td.appendChild(button);
  return td;
}

function renderTable(body) {
  const rows = body.checkpoints.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.step = String(c.step);
    if (c.step === body.promoted) tr.className = "promoted-row";
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(c.step);
    tr.append(th, cell(score(c.cer, 3)), cell(score(c.relative_similarity, 2)),
      cell(score(c.eval_loss, 3)), sampleCell(c), actionCell(c, body.promoted));
    return tr;
  });
  document.querySelector("#checkpoints tbody").replaceChildren(...rows);
  const none = document.getElementById("no-checkpoints");
  none.hidden = rows.length > 0;
}

function renderChart(body) {
  const scored = body.checkpoints.filter((c) => c.cer != null);
  const el = document.getElementById("score-chart");
  el.dataset.points = String(scored.length);
  if (!scored.length) return;
  const data = [scored.map((c) => c.step), scored.map((c) => c.cer), scored.map((c) => c.relative_similarity)];
  if (ckpt.chart) {
    ckpt.chart.setData(data);
    return;
  }
  ckpt.chart = new uPlot({
    width: Math.max(200, el.clientWidth || 640),
    height: 240,
    scales: { x: { time: false } },
    axes: [{ label: "step" }, { label: "score" }],
    series: [
      { label: "step" },
      { label: "CER (lower is better)", stroke: "#e15759", width: 2, points: { show: true } },
      { label: "likeness (1 = like a real clip)", stroke: "#4e79a7", width: 2, points: { show: true } },
    ],
  }, data, el);
}

async function refreshCheckpoints() {
  const response = await fetch(`${ckpt.base}/checkpoints`);
  if (!response.ok) return;
  const text = await response.text();
  if (text === ckpt.shown) return; // unchanged: keep the players as they are
  ckpt.shown = text;
  const body = JSON.parse(text);
  renderTable(body);
  renderChart(body);
}

async function promote(step, button) {
  vs.clearError(button);
  button.disabled = true;
  button.textContent = "Switching…";
  const result = await vs.send("POST", `${ckpt.base}/checkpoints/${step}/promote`, new FormData());
  if (!result.ok) {
    button.disabled = false;
    button.textContent = "Use this checkpoint";
    vs.showError(document.getElementById("checkpoints"), vs.detailOf(result.status, result.text));
    return;
  }
  ckpt.shown = "";
  await refreshCheckpoints();
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("job");
  if (!root || !document.getElementById("checkpoints")) return;
  ckpt.base = `/admin/jobs/${encodeURIComponent(root.dataset.jobId)}`;
  refreshCheckpoints();
  // Scores arrive at each evaluation while the job trains; a finished job's stay put.
  const timer = setInterval(() => {
    if (["pending", "training"].includes(root.dataset.status)) refreshCheckpoints();
    else {
      clearInterval(timer);
      refreshCheckpoints();
    }
  }, 4000);
});
