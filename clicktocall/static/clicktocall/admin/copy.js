/* Copy buttons of the embed snippets on a campaign line's admin page. */
(function () {
  "use strict";
  function copied(status, text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.ctc-copy") : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (!source) return;
    function fallback() {
      source.focus();
      source.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (ignored) { ok = false; }
      copied(status, ok ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(function () { copied(status, "Copied."); }, fallback);
    } else {
      fallback();
    }
  });
})();
