/* Copy buttons: <button data-copy-target="input-id"> copies that input's value.
 * Uses navigator.clipboard where available (secure contexts) and falls back
 * to selecting the text and document.execCommand("copy"). Works for content
 * htmx swaps in later, through event delegation. */
(function () {
  "use strict";

  function fallbackCopy(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value).then(
        function () { return true; },
        function () { return fallbackCopy(input); }
      );
    }
    return Promise.resolve(fallbackCopy(input));
  }

  function flag(button, ok) {
    var label = button.querySelector("[data-copy-label]") || button;
    var original = label.getAttribute("data-original") || label.textContent;
    label.setAttribute("data-original", original);
    label.textContent = ok ? "Copied" : "Press Ctrl+C";
    button.classList.toggle("is-copied", ok);
    setTimeout(function () {
      label.textContent = original;
      button.classList.remove("is-copied");
    }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (input) copy(input).then(function (ok) { flag(button, ok); });
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
