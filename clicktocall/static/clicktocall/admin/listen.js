/* A "Listen" button next to the line's voice: reads the script aloud with the browser's own
 * speech synthesis, in a voice of the chosen language. It is an approximate preview: the
 * provider's voice (Amazon Polly, Google) sounds different, and only a test call plays it. */
(function () {
  "use strict";
  var select = document.querySelector("select.ctc-voice");
  var language = document.querySelector("select.ctc-language");
  var script = document.getElementById("id_script");
  if (!select || !script) return;
  var row = select.closest(".form-row") || select.parentNode;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button ctc-listen";
  button.textContent = "Listen";
  var note = document.createElement("span");
  note.className = "ctc-listen-note";
  note.setAttribute("role", "status");
  if (!("speechSynthesis" in window)) {
    button.disabled = true;
    note.textContent = " This browser cannot read text aloud; place a test call to hear the script.";
  } else {
    note.textContent = " An approximate preview in your browser's own voice, not the provider's: a test call plays the real one.";
  }
  var wrap = document.createElement("div");
  wrap.className = "ctc-listen-row";
  wrap.appendChild(button);
  wrap.appendChild(note);
  row.appendChild(wrap);

  // Only the voices of the chosen language are offered (each group's label ends with its code).
  function fitVoices() {
    if (!language) return;
    var code = language.value, keep = null;
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      var match = group.label.split(" \u2013 ").pop() === code;
      group.hidden = !match;
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) { option.disabled = !match; });
      if (match && !keep) keep = group.querySelector("option");
    });
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.disabled) select.value = keep ? keep.value : "";
  }
  if (language) {
    language.addEventListener("change", fitVoices);
    fitVoices();
  }

  function spoken(text) {
    // {{ name | "default" }} speaks its default; {{ name }} a sample name; other variables nothing.
    return text.replace(/\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g, "").replace(/\{\{([\s\S]*?)\}\}/g, function (_, inner) {
      var m = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?:\|\s*"([^"]*)"\s*)?$/.exec(inner);
      if (!m) return "";
      if (m[2]) return m[2];
      return m[1] === "name" ? "Paul Revere" : "";
    });
  }

  button.addEventListener("click", function () {
    var synth = window.speechSynthesis;
    synth.cancel();
    var utterance = new SpeechSynthesisUtterance(spoken(script.value) || "The script is empty.");
    var lang = language ? language.value : "en-US";
    utterance.lang = lang;
    var voices = synth.getVoices().filter(function (v) { return v.lang.replace("_", "-") === lang; });
    if (voices.length) utterance.voice = voices[0];
    synth.speak(utterance);
  });
})();
