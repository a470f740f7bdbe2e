/* Workspace: drag-reorder of the deck (SortableJS; htmx posts the new order on Sortable's "end"
   event), "copy all" for new links, and the print button. Everything else is plain htmx. */
(function () {
  "use strict";

  function initSortables(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll(".js-sortable").forEach(function (list) {
      if (list.dataset.sortableReady) return;
      list.dataset.sortableReady = "1";
      // The fallback (pointer events) behaves the same with a mouse, a finger and a test driver.
      Sortable.create(list, { handle: ".drag-handle", animation: 150, ghostClass: "dragging", forceFallback: true });
    });
  }

  function copyText(button) {
    var source = document.querySelector(button.dataset.copy);
    var status = button.parentElement.querySelector(".copy-status");
    var done = function () { if (status) status.textContent = button.dataset.copied || "Copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) copyText(copy);
    if (event.target.closest("[data-print]")) window.print();
  });

  // The grid editor: a shape that is not saved yet (typed, or suggested) is not lost by leaving
  // the page unawares; saving it (a real form submit) leaves without asking.
  var leaving = false, edited = false;
  document.addEventListener("input", function (event) { if (event.target.closest("[data-warn-unsaved]")) edited = true; });
  document.addEventListener("submit", function () { leaving = true; });
  window.addEventListener("beforeunload", function (event) {
    if (leaving || !(edited || document.querySelector("[data-unsaved]"))) return;
    event.preventDefault();
    event.returnValue = "";
  });

  if (window.htmx) {
    htmx.onLoad(initSortables);
  } else {
    document.addEventListener("DOMContentLoaded", function () { initSortables(document); });
  }
})();
