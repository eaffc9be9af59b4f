// The idle time-out's warning: shown before the session ends, with "Stay logged in", which
// asks the portal for nothing but a fresh idle timeout (`/account/keep-alive`). Typing is no
// request: a doctor slow over a read had lost it at the time-out, unwarned (WCAG 2.2.1).
(function () {
  "use strict";
  const box = document.getElementById("session-timeout");
  if (!box) return;
  const text = document.getElementById("session-timeout-text");
  const button = box.querySelector("button");
  const warnAfterMs = Number(box.dataset.warnAfterS) * 1000;
  const endsAfterMs = Number(box.dataset.endsAfterS) * 1000;
  const warning = text.textContent;
  let timers = [];
  let returnFocusTo = null;

  function schedule() {
    timers.forEach(clearTimeout);
    timers = [setTimeout(warn, warnAfterMs), setTimeout(ended, endsAfterMs)];
  }

  function warn() {
    returnFocusTo = document.activeElement;
    text.textContent = warning;
    button.hidden = false;
    box.hidden = false;
    button.focus();
  }

  function ended() {
    text.textContent = "Your session has ended: anything you send now is not saved. " +
      "Copy what you typed, then log in again.";
    button.hidden = true;
    box.hidden = false;
  }

  button.addEventListener("click", function () {
    fetch(box.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": box.dataset.csrf},
    }).then(function (answer) {
      if (!answer.ok) { ended(); return; }
      box.hidden = true;
      schedule();
      if (returnFocusTo && returnFocusTo.focus) returnFocusTo.focus();
    }).catch(ended);
  });
  schedule();
})();
