// Asks before an action that cannot be taken back from where it was clicked: a form with
// `data-confirm` (the question, naming what it acts on) is sent only if the user says yes.
// "Deactivate" had acted at one click and named no account (a browser audit, 2026-12-06).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
