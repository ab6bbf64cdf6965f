/* Menus: <details data-menu><summary>Label</summary><ul><li><a>…</a></li></ul></details>.
   Without JavaScript a plain disclosure. With it, the ARIA menu-button pattern: the summary
   says aria-haspopup and aria-expanded, the links are menu items, Down/Up/Home/End move
   among them, Escape closes the menu and focus goes back to its button; a click elsewhere
   or focus leaving closes it. Also: forms that submit when their select changes. */
(function () {
  "use strict";

  function items(menu) { return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]')); }

  function setOpen(menu, open, focusButton) {
    menu.open = open;
    menu.querySelector("summary").setAttribute("aria-expanded", String(open));
    if (!open && focusButton) { menu.querySelector("summary").focus(); }
  }

  function upgrade(menu, n) {
    var summary = menu.querySelector("summary");
    var list = menu.querySelector("ul");
    if (!summary || !list || menu.dataset.menuReady) { return; }
    menu.dataset.menuReady = "yes";
    list.id = list.id || "site-menu-" + n;  // not "menu-N": the bookings rows use those
    list.setAttribute("role", "menu");
    summary.setAttribute("aria-haspopup", "menu");
    summary.setAttribute("aria-controls", list.id);
    summary.setAttribute("aria-expanded", String(menu.open));
    list.querySelectorAll("li").forEach(function (li) { li.setAttribute("role", "none"); });
    list.querySelectorAll("a").forEach(function (a) {
      a.setAttribute("role", "menuitem");
      a.tabIndex = -1;
    });
    menu.addEventListener("toggle", function () {
      summary.setAttribute("aria-expanded", String(menu.open));
    });
    menu.addEventListener("keydown", function (event) {
      var all = items(menu);
      var at = all.indexOf(document.activeElement);
      if (event.key === "Escape" && menu.open) {
        event.preventDefault();
        setOpen(menu, false, true);
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!menu.open) { setOpen(menu, true); }
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
        all[next].focus();
      } else if ((event.key === "Home" || event.key === "End") && at >= 0) {
        event.preventDefault();
        all[event.key === "Home" ? 0 : all.length - 1].focus();
      } else if (event.key === "Tab" && menu.open) {
        setOpen(menu, false);
      }
    });
    // Opening with Enter/Space or a click puts focus on the first item, as the pattern asks.
    summary.addEventListener("click", function (event) {
      event.preventDefault();
      var opening = !menu.open;
      setOpen(menu, opening);
      if (opening) { items(menu)[0].focus(); }
    });
  }

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { setOpen(menu, false); }
    });
  });

  // A form marked data-submit-on-change (the workspace switcher) goes as soon as its select
  // changes; its button is then only for browsers without JavaScript.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-submit-on-change]");
    if (form && event.target.tagName === "SELECT") { form.requestSubmit(); }
  });

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("details[data-menu]").forEach(upgrade);
  });
}());
