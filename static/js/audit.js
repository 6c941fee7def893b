/* The audit page: "From" and "To" are days in the viewer's own time zone, like the times listed.
 * The hidden tz field carries the browser's zone (unless the URL already named one), and is only
 * sent while a date is set, so a URL without dates stays free of it. */
(function () {
  "use strict";

  var form = document.querySelector(".audit-filters");
  if (!form) return;
  var zone = form.querySelector("input[name=tz]");
  var dates = form.querySelectorAll("input[type=date]");

  function sync() {
    zone.disabled = !Array.prototype.some.call(dates, function (input) { return input.value; });
  }

  if (!zone.value) {
    try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone.value = ""; }
  }
  sync();
  // Capture phase: runs before htmx reads the form for the request this change triggers.
  document.addEventListener("change", function (event) { if (form.contains(event.target)) sync(); }, true);
  document.addEventListener("input", function (event) { if (form.contains(event.target)) sync(); }, true);
})();
