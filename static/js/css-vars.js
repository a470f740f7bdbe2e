// The Content-Security-Policy refuses style="" attributes, so templates hand layout numbers
// (a grid's column count, a column's capacity) to CSS as data-css-vars="--cols:9;--cap:2" and
// this sets them as CSS custom properties. Only custom properties, only numbers.
(function () {
  "use strict";
  function apply(root) {
    var elements = root.querySelectorAll ? root.querySelectorAll("[data-css-vars]") : [];
    var all = root.matches && root.matches("[data-css-vars]") ? [root].concat(Array.from(elements)) : Array.from(elements);
    all.forEach(function (element) {
      element.getAttribute("data-css-vars").split(";").forEach(function (pair) {
        var match = /^\s*(--[a-z][a-z0-9-]*)\s*:\s*(-?\d+(?:\.\d+)?)\s*$/.exec(pair);
        if (match) element.style.setProperty(match[1], match[2]);
      });
    });
  }
  apply(document);
  document.addEventListener("htmx:load", function (event) { apply(event.detail.elt); });
})();
