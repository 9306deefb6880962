/*!
 * Click-to-Call widget. No dependencies, no build step.
 *
 *   <div data-campaign-line="+18559299898">…a plain <form> as the fallback…</div>
 *   <script src="https://calls.example.org/static/clicktocall/widget.js" async></script>
 *
 * Each such <div> becomes an accessible form (labels, a telephone input with a hint,
 * a live region that screen readers announce) that posts JSON to /outgoing and shows
 * the answer. Without JavaScript the <div>'s own content (the plain form) is used.
 *
 * Attributes of the <div>:
 *   data-campaign-line  the campaign's number (required)
 *   data-endpoint       the /outgoing URL; else the fallback form's action; else the
 *                       origin this script was loaded from + /outgoing/
 *   data-fields         optional fields to ask for, comma-separated: name, email, zip
 *                       (default: name,zip)
 *   data-data           a JSON object of variables sent along with the request
 *   data-zip            "members": the line calls the visitor's own members of Congress;
 *                       the ZIP field is always shown, explained, and checked (5 digits
 *                       or ZIP+4) before sending
 *   data-button         the button's text (default: Call me)
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var scriptSrc = script && script.src;
  var count = 0;
  // The same pattern the plain form uses; valid with the "v" flag browsers compile it with.
  var PATTERN = "\\+?[0-9 \\(\\)\\.\\-]{10,20}";
  var ZIP_PATTERN = "[0-9]{5}(?:-?[0-9]{4})?";
  var INVALID_MESSAGE = "Sorry, but you haven't provided any of the info we were expecting.";
  var TEXT = {
    phone: "Your phone number",
    phoneHint: "With the area code, e.g. (617) 523-2338. We will call you at this number.",
    name: "Your name (optional)",
    email: "Your email (optional)",
    zip: "ZIP code (optional)",
    zipMembers: "Your ZIP code",
    zipHint: "So that we connect you to your own members of Congress. Without it, the call will ask for it.",
    zipMalformed: "Please enter a 5-digit ZIP code, such as 02113.",
    button: "Call me",
    missing: "Please enter your phone number.",
    malformed: "Please enter a phone number with its area code, such as (617) 523-2338.",
    busy: "Placing your call…",
    unreachable: "Sorry, we could not reach the calling service. Please try again.",
    error: "Sorry, there was an error."
  };
  var FIELDS = {
    name: { type: "text", autocomplete: "name" },
    email: { type: "email", autocomplete: "email" },
    zip: { type: "text", autocomplete: "postal-code", inputmode: "numeric" }
  };
  var CSS =
    ".ctc-widget{font:inherit;max-width:28rem}" +
    ".ctc-widget .ctc-field{margin:0 0 .75rem}" +
    ".ctc-widget label{display:block;font-weight:600;margin-bottom:.2rem}" +
    ".ctc-widget input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;border:1px solid #6b7280;border-radius:.25rem}" +
    ".ctc-widget input[aria-invalid=true]{border:2px solid #b00020}" +
    ".ctc-widget .ctc-hint{display:block;font-size:.875em;color:#4b5563;margin-top:.2rem}" +
    ".ctc-widget button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.25rem;background:#1b6fb5;color:#fff;cursor:pointer}" +
    ".ctc-widget button:focus-visible,.ctc-widget input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
    ".ctc-widget [aria-busy=true] button{opacity:.7}" +
    ".ctc-widget .ctc-message{min-height:1.5em;margin:.75rem 0 0;font-weight:600}" +
    ".ctc-widget .ctc-message[data-state=error]{color:#b00020}" +
    ".ctc-widget .ctc-message[data-state=success]{color:#1b7f3b}";

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (text) node.textContent = text;
    return node;
  }

  function addStyle() {
    if (document.getElementById("ctc-widget-style")) return;
    var style = element("style", { id: "ctc-widget-style" });
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  function endpointFor(box) {
    var explicit = box.getAttribute("data-endpoint") || (script && script.getAttribute("data-endpoint"));
    if (explicit) return explicit;
    var fallback = box.querySelector("form[action]");
    if (fallback) return fallback.action;
    if (scriptSrc) return new URL("/outgoing/", scriptSrc).href;
    return "/outgoing/";
  }

  function digits(value) {
    return value.replace(/\D/g, "").length;
  }

  function build(box) {
    var line = (box.getAttribute("data-campaign-line") || "").trim();
    if (!line || box.getAttribute("data-ctc-ready")) return;
    box.setAttribute("data-ctc-ready", "1");
    count += 1;
    var prefix = "ctc-" + count + "-";
    var endpoint = endpointFor(box);
    var wanted = (box.getAttribute("data-fields") || "name,zip")
      .split(",")
      .map(function (name) { return name.trim(); })
      .filter(function (name) { return FIELDS.hasOwnProperty(name); });
    var byLocation = box.getAttribute("data-zip") === "members";
    if (byLocation && wanted.indexOf("zip") < 0) wanted.push("zip");
    var extra = {};
    if (box.getAttribute("data-data")) {
      try {
        var parsed = JSON.parse(box.getAttribute("data-data"));
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) extra = parsed;
      } catch (ignored) { /* a malformed data-data attribute sends no variables */ }
    }

    var form = element("form", { class: "ctc-form", novalidate: "", action: endpoint, method: "post" });
    var message = element("p", {
      id: prefix + "message", class: "ctc-message", role: "status", "aria-live": "polite", "aria-atomic": "true"
    });

    var phoneField = element("div", { class: "ctc-field" });
    phoneField.appendChild(element("label", { for: prefix + "phone" }, TEXT.phone));
    var phone = element("input", {
      id: prefix + "phone", name: "phone", type: "tel", inputmode: "tel", autocomplete: "tel",
      required: "", "aria-required": "true", pattern: PATTERN, "aria-describedby": prefix + "phone-hint"
    });
    phoneField.appendChild(phone);
    phoneField.appendChild(element("span", { id: prefix + "phone-hint", class: "ctc-hint" }, TEXT.phoneHint));
    form.appendChild(phoneField);

    var inputs = {};
    wanted.forEach(function (name) {
      var spec = FIELDS[name];
      var field = element("div", { class: "ctc-field" });
      var members = byLocation && name === "zip";
      field.appendChild(element("label", { for: prefix + name }, members ? TEXT.zipMembers : TEXT[name]));
      var attributes = { id: prefix + name, name: name, type: spec.type, autocomplete: spec.autocomplete };
      if (spec.inputmode) attributes.inputmode = spec.inputmode;
      if (members) {
        attributes.pattern = ZIP_PATTERN;
        attributes["aria-describedby"] = prefix + "zip-hint";
      }
      inputs[name] = element("input", attributes);
      field.appendChild(inputs[name]);
      if (members) field.appendChild(element("span", { id: prefix + "zip-hint", class: "ctc-hint" }, TEXT.zipHint));
      form.appendChild(field);
    });

    var button = element("button", { type: "submit" }, box.getAttribute("data-button") || TEXT.button);
    form.appendChild(button);
    form.appendChild(message);

    var busy = false;
    var pending = null;

    function say(text, state) {
      // Empty the region first so that the same message twice is announced twice.
      message.textContent = "";
      message.setAttribute("data-state", state);
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { message.textContent = text; }, 30);
    }

    function markPhone(invalid) {
      if (invalid) {
        phone.setAttribute("aria-invalid", "true");
        phone.setAttribute("aria-describedby", prefix + "phone-hint " + prefix + "message");
      } else {
        phone.removeAttribute("aria-invalid");
        phone.setAttribute("aria-describedby", prefix + "phone-hint");
      }
    }

    function problemWith(value) {
      if (!value) return TEXT.missing;
      if (!new RegExp("^(?:" + PATTERN + ")$").test(value) || digits(value) < 10) return TEXT.malformed;
      return "";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      var value = phone.value.trim();
      var problem = problemWith(value);
      if (problem) {
        markPhone(true);
        say(problem, "error");
        phone.focus();
        return;
      }
      markPhone(false);
      var zip = inputs.zip;
      if (byLocation && zip) {
        var zipValue = zip.value.trim();
        if (zipValue && !new RegExp("^(?:" + ZIP_PATTERN + ")$").test(zipValue)) {
          zip.setAttribute("aria-invalid", "true");
          zip.setAttribute("aria-describedby", prefix + "zip-hint " + prefix + "message");
          say(TEXT.zipMalformed, "error");
          zip.focus();
          return;
        }
        zip.removeAttribute("aria-invalid");
        zip.setAttribute("aria-describedby", prefix + "zip-hint");
      }
      var payload = {};
      if (Object.keys(extra).length) payload.data = extra;
      payload.campaign_line = line;
      payload.phone = value;
      Object.keys(inputs).forEach(function (name) {
        var v = inputs[name].value.trim();
        if (v) payload[name] = v;
      });
      busy = true;
      form.setAttribute("aria-busy", "true");
      button.setAttribute("aria-disabled", "true");
      say(TEXT.busy, "busy");
      fetch(endpoint, {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(payload)
      })
        .then(function (response) {
          return response.json().catch(function () { return { error: true, message: TEXT.error }; });
        })
        .then(function (data) {
          var text = data && typeof data.message === "string" ? data.message : TEXT.error;
          var failed = !data || data.error !== false;
          if (failed && text === INVALID_MESSAGE) markPhone(true);
          say(text, failed ? "error" : "success");
          box.dispatchEvent(new CustomEvent(failed ? "clicktocall:error" : "clicktocall:placed", {
            bubbles: true, detail: { message: text }
          }));
        }, function () {
          say(TEXT.unreachable, "error");
        })
        .then(function () {
          busy = false;
          form.removeAttribute("aria-busy");
          button.removeAttribute("aria-disabled");
        });
    });

    box.textContent = "";
    box.classList.add("ctc-widget");
    box.appendChild(form);
  }

  function init(root) {
    addStyle();
    var boxes = (root || document).querySelectorAll("[data-campaign-line]");
    Array.prototype.forEach.call(boxes, build);
  }

  window.ClickToCall = { init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
})();
