// Tax report form: the UK always uses UK share pooling, and only the UK does. Keep the
// method select in step with the jurisdiction. Without JavaScript the server applies the
// same rule (the UK forces pooling; pooling elsewhere is an error).
(function () {
  "use strict";
  var jurisdiction = document.getElementById("id_jurisdiction");
  var method = document.getElementById("id_method");
  if (!jurisdiction || !method) {
    return;
  }
  var ukOption = method.querySelector('option[value="uk"]');
  var lastOther = method.value !== "uk" ? method.value : "fifo";
  function update() {
    var uk = jurisdiction.value === "uk";
    if (uk) {
      if (method.value !== "uk") {
        lastOther = method.value;
      }
      method.value = "uk";
    } else if (method.value === "uk") {
      method.value = lastOther;
    }
    if (ukOption) {
      ukOption.disabled = !uk;
    }
    // A disabled select is not submitted; the server forces "uk" for the UK anyway.
    method.setAttribute("aria-disabled", uk ? "true" : "false");
    method.classList.toggle("locked", uk);
  }
  method.addEventListener("change", function () {
    if (jurisdiction.value === "uk" && method.value !== "uk") {
      method.value = "uk";
    }
  });
  jurisdiction.addEventListener("change", update);
  update();
})();
