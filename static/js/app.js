/* Site-wide behaviour, loaded on every page after htmx.
 * - flash messages: dismiss button, success/info fade out after a few seconds
 *   (also for messages swapped in out of band by htmx);
 * - <form data-confirm="..."> asks before submitting (plain, non-htmx forms);
 * - a failed htmx request (403, 404, 5xx) shows a flash instead of failing silently;
 * - <time data-local-time> (rendered by the server in UTC) shows the viewer's own
 *   time zone, 24-hour, like the charts (data-local-time="datetime": with the date;
 *   "datetime-seconds": with the date and the seconds, where times a second apart must differ);
 * - a form that came back with errors: its error summary is scrolled to and focused,
 *   so the user (and a screen reader) starts from the list of what to fix;
 * - a field whose input says data-provider="bedrock" shows only while the form's
 *   provider (#id_provider) is that one (a key's AWS access key).
 */
(function () {
  "use strict";

  var AUTOHIDE_MS = 5000;

  function dismiss(flash) {
    flash.classList.add("is-leaving");
    setTimeout(function () { flash.remove(); }, 200);
  }

  function armFlashes() {
    document.querySelectorAll(".flash[data-autohide]:not([data-armed])").forEach(function (flash) {
      flash.setAttribute("data-armed", "");
      setTimeout(function () { dismiss(flash); }, AUTOHIDE_MS);
    });
  }

  function showFlash(text, level) {
    var box = document.getElementById("messages");
    if (!box) return;
    var flash = document.createElement("div");
    flash.className = "flash flash-" + level;
    flash.setAttribute("role", level === "error" ? "alert" : "status");
    var body = document.createElement("div");
    body.className = "flash-body";
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", "Dismiss");
    close.setAttribute("data-dismiss", "");
    close.textContent = "\u00d7";
    flash.append(body, close);
    box.append(flash);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss]");
    if (button) dismiss(button.closest(".flash"));
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var text = {
      403: "You don’t have permission to do that.",
      404: "That no longer exists, or it isn’t shared with you.",
      409: "That conflicts with the current state; reload and try again."
    }[status] || "Something went wrong (" + status + "). Please try again.";
    showFlash(text, "error");
  });

  document.addEventListener("htmx:sendError", function () {
    showFlash("The gateway could not be reached. Check your connection.", "error");
  });

  // By data-local-time: "" the time alone, "datetime" with the date, "datetime-seconds" with the date and seconds.
  var LOCAL_TIME_FORMATS = {
    "": { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" },
    datetime: { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" },
    "datetime-seconds": { dateStyle: "medium", timeStyle: "medium", hourCycle: "h23" }
  };

  function localizeTimes() {
    document.querySelectorAll("time[data-local-time]:not([data-localized])").forEach(function (element) {
      var when = new Date(element.getAttribute("datetime"));
      if (isNaN(when)) return;
      element.setAttribute("data-localized", "");
      var format = LOCAL_TIME_FORMATS[element.getAttribute("data-local-time")] || LOCAL_TIME_FORMATS[""];
      element.textContent = when.toLocaleString([], format);
      element.title = when.toLocaleString([], { dateStyle: "medium", timeStyle: "long", hourCycle: "h23" });
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]:not([data-focused])");
    if (!summary) return;
    summary.setAttribute("data-focused", "");
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }

  // A field that came back with an error stays shown, whatever the provider.
  function showProviderFields() {
    var provider = document.getElementById("id_provider");
    if (!provider) return;
    document.querySelectorAll("[data-provider]").forEach(function (input) {
      var field = input.closest(".field");
      if (field) field.hidden = provider.value !== input.getAttribute("data-provider") && !field.classList.contains("has-error");
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "id_provider") showProviderFields();
  });
  document.addEventListener("DOMContentLoaded", showProviderFields);
  document.addEventListener("DOMContentLoaded", armFlashes);
  document.addEventListener("DOMContentLoaded", focusErrorSummary);
  document.addEventListener("DOMContentLoaded", localizeTimes);
  document.addEventListener("htmx:afterSettle", localizeTimes);
  document.addEventListener("htmx:oobAfterSwap", localizeTimes);
  document.addEventListener("htmx:afterSettle", focusErrorSummary);
  document.addEventListener("htmx:afterSettle", armFlashes);
  document.addEventListener("htmx:oobAfterSwap", armFlashes);
})();
