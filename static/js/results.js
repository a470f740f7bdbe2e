/* Results page: when the number-of-factors panel arrives while the page is open (htmx swaps the
   polled panel in, and the form's hint out of band), the run form takes the suggested number,
   as it does on load, unless the researcher has already typed a number (or sent one that came
   back with an error): they stay in charge. */
(function () {
  "use strict";
  var typed = document.querySelector(".run-form[data-bound]") !== null;

  document.addEventListener("input", function (event) {
    if (event.target.name === "factors") typed = true;
  });

  function preselect() {
    var hint = document.querySelector("#evidence-suggestion[data-factors]");
    var field = document.querySelector(".run-form [name=factors]");
    if (hint && field && !typed) field.value = hint.dataset.factors;
  }

  document.addEventListener("htmx:afterSettle", preselect);
  document.addEventListener("htmx:oobAfterSwap", preselect);
})();
