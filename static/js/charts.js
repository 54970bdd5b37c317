// Chart values on tap and keyboard focus. Every data column of a server-drawn
// chart (config/charts.py) is a focusable <g class="chart-hit"> with a <title>;
// a mouse shows that title as a tooltip, but touch screens do not, so this
// copies it into a caption under the chart. No inline script: CSP stays strict.
(function () {
  "use strict";

  function readoutFor(svg) {
    var next = svg.nextElementSibling;
    if (next && next.classList.contains("chart-readout")) return next;
    var p = document.createElement("p");
    p.className = "chart-readout";
    p.setAttribute("aria-live", "polite");
    svg.insertAdjacentElement("afterend", p);
    return p;
  }

  function show(target) {
    var hit = target && target.closest ? target.closest(".chart-hit") : null;
    if (!hit) return;
    var svg = hit.closest("svg.chart");
    var title = hit.querySelector("title");
    if (!svg || !title) return;
    var previous = svg.querySelector(".chart-hit.is-active");
    if (previous) previous.classList.remove("is-active");
    hit.classList.add("is-active");
    readoutFor(svg).textContent = title.textContent;
  }

  document.addEventListener("click", function (event) { show(event.target); });
  document.addEventListener("focusin", function (event) { show(event.target); });
})();
