// The idle time-out's warning: shown before the session ends, with "Stay logged in", which
// asks the portal for nothing but a fresh idle timeout (`/account/keep-alive`). Typing is no
// request: a doctor slow over a read had lost it at the time-out, unwarned (WCAG 2.2.1).
// The last request of the user's own is shared by every tab of the portal (localStorage): a
// tab left open said "Your session has ended" while another tab's use had kept it alive, and
// the review chart's fetches (`window.cardioSession.touched`) count too (an audit).
(function () {
  "use strict";
  const box = document.getElementById("session-timeout");
  if (!box) return;
  const KEY = "cardio-last-activity";
  const text = document.getElementById("session-timeout-text");
  const button = box.querySelector("button");
  const warnAfterMs = Number(box.dataset.warnAfterS) * 1000;
  const endsAfterMs = Number(box.dataset.endsAfterS) * 1000;
  const warning = text.textContent;
  let own = Date.now();  // this page's own request
  let timers = [];
  let returnFocusTo = null;
  let over = false;

  function lastActivity() {
    let shared = 0;
    try { shared = Number(window.localStorage.getItem(KEY)) || 0; } catch (e) { /* private mode */ }
    return Math.max(own, shared);
  }

  function schedule() {
    timers.forEach(clearTimeout);
    const since = Date.now() - lastActivity();
    timers = [setTimeout(warn, Math.max(0, warnAfterMs - since)),
              setTimeout(ended, Math.max(0, endsAfterMs - since))];
  }

  // A request the user made (a page, "Stay logged in", a chart window): the idle time starts
  // again here and in every other tab.
  function touched() {
    if (over) return;
    own = Date.now();
    try { window.localStorage.setItem(KEY, String(own)); } catch (e) { /* private mode */ }
    box.hidden = true;
    schedule();
  }

  function warn() {
    if (over) return;
    if (Date.now() - lastActivity() < warnAfterMs - 1000) { schedule(); return; }  // another tab
    returnFocusTo = document.activeElement;
    text.textContent = warning;
    button.hidden = false;
    box.hidden = false;
    button.focus();
  }

  function ended() {
    if (Date.now() - lastActivity() < endsAfterMs - 1000) { box.hidden = true; schedule(); return; }
    showEnded();
  }

  function showEnded() {
    over = true;
    timers.forEach(clearTimeout);
    text.textContent = "Your session has ended: anything you send now is not saved. " +
      "Copy what you typed, then log in again.";
    button.hidden = true;
    box.hidden = false;
  }

  button.addEventListener("click", function () {
    // Only the portal's own "204 No Content" is a fresh timeout: a session already ended is
    // answered with a redirect to the login page, which a followed fetch had read as success.
    fetch(box.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: {"X-CSRFToken": box.dataset.csrf},
    }).then(function (answer) {
      if (answer.status !== 204) { showEnded(); return; }
      touched();
      if (returnFocusTo && returnFocusTo.focus) returnFocusTo.focus();
    }).catch(showEnded);
  });
  window.addEventListener("storage", function (event) {
    if (event.key === KEY && !over) { box.hidden = true; schedule(); }
  });
  // `ended`: a request of the page's own answered 401 (the session ended in another tab).
  window.cardioSession = { touched: touched, ended: showEnded };
  touched();
})();
