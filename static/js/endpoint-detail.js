// The endpoint page: traffic charts (re-drawn after each htmx refresh),
// polling that pauses while the tab is hidden, copy buttons, snippet tabs and
// <dialog> confirmations.
(function () {
  "use strict";

  const REFRESH_MS = 10000;
  const traffic = document.querySelector(".ep-traffic");
  const charts = {};
  let range = "hour";

  const COLORS = {
    blue: "#3b82f6", red: "#ef4444", violet: "#8b5cf6", teal: "#14b8a6", amber: "#f59e0b", gray: "#94a3b8",
  };

  const MODEL_COLORS = [COLORS.blue, COLORS.violet, COLORS.teal, COLORS.amber, COLORS.gray, COLORS.red];

  function chartData() {
    const script = document.getElementById("chart-data");
    return script ? JSON.parse(script.textContent) : null;
  }

  function timeLabels(series) {
    const withDate = range === "day";
    return series.labels.map((iso) => {
      const date = new Date(iso);
      // 24-hour, in the viewer's time zone, like every time on the page (app.js localizes the others).
      const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      return withDate && date.getHours() === 0 && date.getMinutes() === 0
        ? date.toLocaleDateString([], { month: "short", day: "numeric" })
        : time;
    });
  }

  function datasets(series) {
    const ok = series.requests.map((count, index) => count - series.errors[index]);
    return {
      "chart-requests": [
        { type: "bar", label: "Succeeded", data: ok, backgroundColor: COLORS.blue, stack: "r" },
        { type: "bar", label: "Failed", data: series.errors, backgroundColor: COLORS.red, stack: "r" },
      ],
      "chart-latency": [
        { type: "line", label: "p50", data: series.latency_p50, borderColor: COLORS.teal, backgroundColor: COLORS.teal, spanGaps: true },
        { type: "line", label: "p95", data: series.latency_p95, borderColor: COLORS.amber, backgroundColor: COLORS.amber, spanGaps: true },
      ],
      "chart-tokens": [
        { type: "bar", label: "Prompt", data: series.prompt_tokens, backgroundColor: COLORS.violet, stack: "t" },
        { type: "bar", label: "Completion", data: series.completion_tokens, backgroundColor: COLORS.gray, stack: "t" },
      ],
      "chart-cost": [
        { type: "bar", label: "Cost (USD)", data: series.cost_usd, backgroundColor: COLORS.teal },
      ],
      "chart-models": Object.keys(series.per_model || {}).map((label, index) => (
        { type: "bar", label, data: series.per_model[label], backgroundColor: MODEL_COLORS[index % MODEL_COLORS.length], stack: "m" }
      )),
      "chart-failover": [
        { type: "line", label: "Failovers", data: series.failovers, borderColor: COLORS.amber, backgroundColor: COLORS.amber },
        { type: "line", label: "Failed attempts (cooldowns)", data: series.failed_attempts, borderColor: COLORS.red, backgroundColor: COLORS.red },
      ],
    };
  }

  // Lines hide their points, but a series with a single value (the first minute of traffic)
  // draws no line at all: show that value as a dot.
  function loneValueRadius(context) {
    const values = context.dataset.data || [];
    if (context.raw === null || context.raw === undefined) return 0;
    return values.filter((value) => value !== null && value !== undefined).length === 1 ? 3 : 0;
  }

  function options(id) {
    const money = id === "chart-cost";
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: id !== "chart-cost", position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
        tooltip: money ? { callbacks: { label: (ctx) => ` $${Number(ctx.parsed.y).toFixed(6)}` } } : {},
      },
      elements: { point: { radius: loneValueRadius, hitRadius: 6 }, line: { borderWidth: 2, tension: 0.25 } },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { maxTicksLimit: 7, maxRotation: 0 } },
        y: { stacked: id !== "chart-latency" && id !== "chart-failover", beginAtZero: true, ticks: { maxTicksLimit: 5, precision: money ? undefined : 0 } },
      },
    };
  }

  function drawCharts() {
    const data = chartData();
    if (!data || typeof Chart === "undefined") return;
    const series = data[range];
    const labels = timeLabels(series);
    const sets = datasets(series);
    for (const id of Object.keys(sets)) {
      const canvas = document.getElementById(id);
      if (!canvas) continue;
      const sameSets = charts[id] && charts[id].data.datasets.length === sets[id].length
        && charts[id].data.datasets.every((dataset, index) => dataset.label === sets[id][index].label);
      if (charts[id] && charts[id].canvas === canvas && sameSets) {
        charts[id].data.labels = labels;
        charts[id].data.datasets.forEach((dataset, index) => { dataset.data = sets[id][index].data; });
        charts[id].update("none");
      } else {
        if (charts[id]) charts[id].destroy();
        // A base type keeps the time axis even with no dataset (no model has served yet).
        charts[id] = new Chart(canvas, { type: "bar", data: { labels, datasets: sets[id] }, options: options(id) });
      }
    }
  }

  function setRange(next) {
    range = next;
    traffic.dataset.activeRange = next;
    traffic.querySelectorAll(".ep-seg button").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.range === next));
    });
    drawCharts();
  }

  // Refresh the traffic every few seconds, but only while someone can see it.
  function refresh() {
    const summary = document.getElementById("activity-summary");
    if (summary && !document.hidden) htmx.trigger(summary, "refresh");
  }

  if (traffic) {
    traffic.querySelector(".ep-seg").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-range]");
      if (button) setRange(button.dataset.range);
    });
    window.setInterval(refresh, REFRESH_MS);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    document.body.addEventListener("htmx:afterSettle", (event) => {
      if (event.target.id === "activity-summary") drawCharts();
    });
    drawCharts();
  }

  // Copy buttons: the Clipboard API needs a secure context, so fall back to a selection.
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const label = button.innerHTML;
    try {
      await copyText(source.value !== undefined ? source.value : source.textContent);
      button.textContent = "Copied ✓";
      button.classList.add("is-copied");
    } catch (error) {
      button.textContent = "Copy failed";
    }
    window.setTimeout(() => { button.innerHTML = label; button.classList.remove("is-copied"); }, 1600);
  });

  // Snippet tabs.
  const tabs = Array.from(document.querySelectorAll('.ep-tabs [role="tab"]'));
  function selectTab(tab) {
    tabs.forEach((other) => {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    });
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      selectTab(next);
      next.focus();
    });
  });

  // Dialogs: links with data-dialog open a <dialog> instead of the confirmation page.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.dialog);
      if (dialog && dialog.showModal) {
        event.preventDefault();
        dialog.showModal();
      }
    }
    const closer = event.target.closest("[data-dialog-close]");
    if (closer) closer.closest("dialog").close();
  });

  const confirmDialog = document.getElementById("confirm-dialog");
  function confirmWith(question, onConfirm) {
    confirmDialog.querySelector("#confirm-text").textContent = question;
    confirmDialog.returnValue = "";
    confirmDialog.addEventListener("close", () => {
      if (confirmDialog.returnValue === "ok") onConfirm();
    }, { once: true });
    confirmDialog.showModal();
  }

  // hx-confirm (Stop) and data-ep-confirm (Restore) ask through the same dialog.
  document.body.addEventListener("htmx:confirm", (event) => {
    if (!event.detail.question || !confirmDialog) return;
    event.preventDefault();
    confirmWith(event.detail.question, () => event.detail.issueRequest(true));
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset.epConfirm || form.dataset.confirmed || !confirmDialog) return;
    event.preventDefault();
    confirmWith(form.dataset.epConfirm, () => { form.dataset.confirmed = "1"; form.requestSubmit(); });
  });
})();
