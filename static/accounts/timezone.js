// Offers the browser's own time zone first in a <select data-browser-zone>:
// a "This browser" group at the top of the list, preselected while the saved
// choice is still the default (UTC). The server validates whatever is sent.
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    var existing = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
    if (!existing) return; // an alias or unknown zone: not offered
    var group = document.createElement("optgroup");
    group.label = "This browser";
    var option = document.createElement("option");
    option.value = zone;
    option.textContent = zone.replace(/_/g, " ") + " (this browser)";
    group.appendChild(option);
    select.insertBefore(group, select.firstChild);
    if (select.value === "UTC" && zone !== "UTC") {
      option.selected = true;
      var note = document.createElement("p");
      note.className = "help";
      note.setAttribute("role", "status");
      note.textContent = "We picked " + zone.replace(/_/g, " ") + " from your browser; save to keep it.";
      select.insertAdjacentElement("afterend", note);
    }
  });
})();
