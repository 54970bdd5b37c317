// Opens the explorer's folded filters on screens wide enough to show them beside the
// results' first rows; phones keep them folded under "Filter and sort".
(function () {
  "use strict";
  if (!window.matchMedia("(min-width: 721px)").matches) return;
  document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
})();
