/* Dashboard chart: requests and errors per 5 minutes over the last hour.
 * The data comes from the json_script tag #traffic-data rendered by the view
 * ({labels: [ISO bucket starts], requests: [...], errors: [...]}); bucket
 * times are shown in the browser's time zone. */
(function () {
  "use strict";

  var canvas = document.getElementById("traffic-chart");
  var source = document.getElementById("traffic-data");
  if (!canvas || !source || typeof Chart === "undefined") return;

  var data = JSON.parse(source.textContent);
  var labels = data.labels.map(function (iso) {
    // 24-hour, in the viewer's time zone, like every time on the page.
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  });
  var ok = data.requests.map(function (count, i) { return count - data.errors[i]; });
  var styles = getComputedStyle(document.documentElement);
  var css = function (name) { return styles.getPropertyValue(name).trim(); };

  new Chart(canvas, {
    type: "bar",
    data: {
      labels: labels,
      datasets: [
        { label: "Succeeded", data: ok, backgroundColor: css("--accent"), borderRadius: 4, maxBarThickness: 36 },
        { label: "Errors", data: data.errors, backgroundColor: css("--red-dot"), borderRadius: 4, maxBarThickness: 36 }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, usePointStyle: true } }
      },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12, color: css("--muted") } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0, color: css("--muted") }, grid: { color: css("--border") } }
      }
    }
  });
})();
