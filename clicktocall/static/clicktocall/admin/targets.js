/* Up and down buttons on the line's targets: move a target in the list, and number the
 * targets' Order fields 0, 1, 2… from the top (rows without a name are left blank). */
(function () {
  "use strict";
  var group = document.getElementById("targets-group");
  if (!group) return;

  function rows() {
    return Array.prototype.filter.call(group.querySelectorAll("tr.form-row"), function (row) {
      return !row.classList.contains("empty-form") && row.querySelector("input[name$='-position']");
    });
  }

  function renumber() {
    var n = 0;
    rows().forEach(function (row) {
      var name = row.querySelector("input[name$='-name']");
      var position = row.querySelector("input[name$='-position']");
      if (name && name.value.trim()) position.value = n++;
    });
  }

  function move(row, step) {
    var list = rows();
    var i = list.indexOf(row), j = i + step;
    if (i < 0 || j < 0 || j >= list.length) return;
    if (step < 0) list[j].parentNode.insertBefore(row, list[j]);
    else list[j].parentNode.insertBefore(row, list[j].nextSibling);
    renumber();
    row.querySelector(step < 0 ? ".ctc-up" : ".ctc-down").focus();
  }

  function arrows(row) {
    var cell = row.querySelector("td.field-position");
    if (!cell || cell.querySelector(".ctc-up")) return;
    [["ctc-up", "\u2191", "Move up", -1], ["ctc-down", "\u2193", "Move down", 1]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button " + spec[0];
      button.textContent = spec[1];
      button.title = spec[2];
      button.setAttribute("aria-label", spec[2]);
      button.style.padding = "2px 6px";
      button.style.marginLeft = "2px";
      button.addEventListener("click", function () { move(row, spec[3]); });
      cell.appendChild(button);
    });
  }

  rows().forEach(arrows);
  document.addEventListener("formset:added", function (event) {
    if (event.target && group.contains(event.target)) arrows(event.target);
  });
})();
