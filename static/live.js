/* Live panels (<div data-live hx-trigger="every 10s, live-refresh">): no polling while the
   tab is hidden, and one refresh as soon as it is shown again. A script file, not an hx-trigger
   filter: the CSP allows no eval. */
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt.hasAttribute("data-live")) {
      event.preventDefault();
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) { return; }
    document.querySelectorAll("[data-live]").forEach(function (element) {
      window.htmx.trigger(element, "live-refresh");
    });
  });
}());
