// Progressive enhancement for the calculator forms: show only the parameter groups the
// chosen pool model reads (each <fieldset data-models="..."> lists its models). Without
// JavaScript every group stays visible and the server ignores the ones that do not apply.
(function () {
  "use strict";
  var select = document.getElementById("id_model");
  if (!select) {
    return;
  }
  var groups = document.querySelectorAll("fieldset[data-models]");
  function update() {
    groups.forEach(function (group) {
      var models = group.getAttribute("data-models").split(" ");
      group.hidden = models.indexOf(select.value) === -1;
    });
  }
  select.addEventListener("change", update);
  update();
})();
