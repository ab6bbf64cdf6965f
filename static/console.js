/* The operators' console, on top of htmx: the table's one poll, toasts, busy buttons, row
   menus (ARIA menu-button pattern), focus that moves into what opened and back, a live
   region for status changes. Everything here is an enhancement: without it the links and
   forms still do their work. No eval, no inline styles (the CSP forbids both). */
(function () {
  "use strict";

  var TOAST_MS = 7000;
  var pendingFocus = null;   // an element id to focus once htmx has swapped it in
  var changed = {};          // row ids whose content a swap is about to change
  var stale = {};            // rows a poll left alone while their menu was open
  var refreshing = {};       // rows asked for again since, not yet answered

  function byId(id) { return document.getElementById(id); }

  function announce(text) {
    var region = byId("live-announce");
    if (region) { region.textContent = text; }
  }

  /* --- the table's one poll ------------------------------------------------------------ */

  var lastPoll = 0;
  function pollDue() {
    var poll = byId("live-poll");
    if (!poll || document.hidden || !window.htmx) { return; }
    var every = (parseInt(poll.dataset.every, 10) || 5) * 1000;
    if (Date.now() - lastPoll >= every) {
      lastPoll = Date.now();
      window.htmx.trigger(poll, "poll");
    }
  }

  function ago() {
    var poll = byId("live-poll"), hint = byId("live-updated");
    if (!poll || !hint) { return; }
    var seconds = Math.max(0, Math.round((Date.now() - Date.parse(poll.dataset.at)) / 1000));
    hint.textContent = seconds < 3 ? "updated just now" : "updated " + seconds + " s ago";
  }

  function countdowns() {
    document.querySelectorAll("time.countdown").forEach(function (el) {
      var seconds = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      el.textContent = seconds > 0 ? "in " + seconds + " s" : "now";
    });
  }

  window.setInterval(function () { pollDue(); ago(); countdowns(); }, 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { pollDue(); }
  });

  /* A poll's answer can land after the table it was asked for has been replaced (a search,
     a page): the rows no longer shown are left out. The listener sits on the poll element
     itself, whose events no longer reach the document once it is gone. */
  function keepShownRows(event) {
    var holder = document.createElement("template");
    holder.innerHTML = event.detail.serverResponse;
    holder.content.querySelectorAll("tbody[id]").forEach(function (row) {
      if (!byId(row.id)) { row.remove(); }
    });
    event.detail.serverResponse = holder.innerHTML;
  }

  function watchPoll(root) {
    var poll = root.id === "live-poll" ? root : root.querySelector && root.querySelector("#live-poll");
    if (poll && !poll.dataset.watched) {
      poll.dataset.watched = "1";
      poll.addEventListener("htmx:beforeSwap", keepShownRows);
    }
  }

  /* --- rows that change: lit for a moment, announced, never clobbering an open edit ---- */

  /* What a row shows: its text, its state classes and its links (a poll that brings the
     row as it already is changes nothing on the page). */
  function rowText(el) {
    if (!el) { return ""; }
    el = el.cloneNode(true);
    el.querySelectorAll(".row-menu").forEach(function (menu) { menu.remove(); });
    el.querySelectorAll("time.countdown").forEach(function (t) { t.textContent = t.getAttribute("datetime"); });
    var parts = [el.className.replace(/\s*just-changed/, ""), el.textContent.replace(/\s+/g, " ").trim()];
    el.querySelectorAll(".sig, a[href], form[action], button[formaction]").forEach(function (part) {
      parts.push(part.className + (part.getAttribute("href") || part.getAttribute("action") ||
                                   part.getAttribute("formaction") || ""));
    });
    return parts.join("|");
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.matches || !target.matches("tbody.booking")) { return; }
    var incoming = event.detail.fragment.querySelector("tbody") || event.detail.fragment.firstElementChild;
    if (rowText(incoming) === rowText(target)) {
      event.detail.shouldSwap = false;
      return;
    }
    // A row being edited, or with its menu open (or opening), is not pulled from under
    // the hand: an edit ends with a fresh row anyway; a menu asks for one when it closes.
    if (target.querySelector(".edit-row")) {
      event.detail.shouldSwap = false;
      return;
    }
    if (target.querySelector(".menu-button[aria-expanded=true]")) {
      event.detail.shouldSwap = false;
      stale[target.id] = true;
      return;
    }
    changed[target.id] = signalsOf(target);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.matches && target.matches("tbody.booking")) {
      if (refreshing[target.id]) {
        delete refreshing[target.id];
        if (target.querySelector(".menu-button[aria-expanded=true]")) {  // reopened meanwhile
          event.detail.shouldSwap = false;
          stale[target.id] = true;
          return;
        }
      }
      changed[target.id] = signalsOf(target);
    }
  });

  function signalsOf(row) {
    return Array.prototype.map.call(row.querySelectorAll(".sig"), function (s) {
      return s.textContent;
    }).join(", ");
  }

  document.addEventListener("htmx:load", function (event) {
    var el = event.detail.elt;
    if (!el || !el.matches) { return; }
    if (el.matches("tbody.booking") && Object.prototype.hasOwnProperty.call(changed, el.id)) {
      var before = changed[el.id];
      delete changed[el.id];
      el.classList.add("just-changed");
      window.setTimeout(function () { el.classList.remove("just-changed"); }, 2500);
      var now = signalsOf(el);
      var title = el.querySelector("tr > td:nth-child(2) > a");
      if (now !== before) { announce((title ? title.textContent : "Booking") + ": " + now); }
    }
    enhance(el);
    watchPoll(el);
    countdowns();
    if (el.matches(".toast")) { toast(el); }
    el.querySelectorAll && el.querySelectorAll(".toast").forEach(toast);
    if (pendingFocus && byId(pendingFocus)) {
      byId(pendingFocus).focus();
      pendingFocus = null;
    }
    var form = el.querySelector && el.querySelector(".edit-row form");
    if (form) {
      var first = form.querySelector("[aria-invalid=true]") || form.querySelector("input:not([type=hidden])");
      if (first) { first.focus(); }
    }
  });

  /* Each row gets the button of its menu here, after its one due action: a link to the
     booking's page (which offers everything), as its title is. Without this script the
     title is that link; 50 rows do not carry a second one each. */
  function enhance(root) {
    if (!root.querySelectorAll) { return; }
    var rows = root.matches("tbody.booking") ? [root] : root.querySelectorAll("tbody.booking");
    Array.prototype.forEach.call(rows, function (row) {
      var title = row.querySelector("tr > td:nth-child(2) > a");
      var cell = row.querySelector("tr > td:last-child");
      if (!title || !cell || row.querySelector("a.menu")) { return; }
      var link = document.createElement("a");
      link.href = title.getAttribute("href");
      link.className = "menu";
      link.setAttribute("aria-label", "Actions");
      link.textContent = "\u22ef";
      cell.appendChild(link);
      link.id = "menu-button-" + row.id.replace("booking-", "");
      link.setAttribute("role", "button");
      link.setAttribute("aria-haspopup", "menu");
      link.setAttribute("aria-expanded", "false");
      link.classList.add("menu-button");
    });
  }

  /* --- toasts ------------------------------------------------------------------------- */

  function toast(el) {
    if (el.dataset.ready) { return; }
    el.dataset.ready = "1";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { el.remove(); });
    el.prepend(close);
    if (!el.classList.contains("flash-error")) {
      window.setTimeout(function () { el.remove(); }, TOAST_MS);
    }
  }

  /* --- busy buttons: one request however many clicks ---------------------------------- */

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var button = elt.matches("button") ? elt : elt.querySelector && elt.querySelector("button[type=submit]");
    if (button) { button.setAttribute("aria-busy", "true"); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.querySelectorAll) {
      elt.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
      if (elt.removeAttribute) { elt.removeAttribute("aria-busy"); }
    }
  });

  /* --- row menus: the ARIA menu-button pattern ---------------------------------------- */

  function rowId(button) { return button.id.replace("menu-button-", ""); }

  /* The menu's box is made the first time its button is pressed, then filled by htmx. */
  function menuOf(button, make) {
    var menu = byId("menu-" + rowId(button));
    if (!menu && make) {
      menu = document.createElement("div");
      menu.id = "menu-" + rowId(button);
      menu.className = "row-menu";
      menu.setAttribute("role", "menu");
      menu.setAttribute("aria-labelledby", button.id);
      menu.hidden = true;
      button.setAttribute("aria-controls", menu.id);
      button.after(menu);
    }
    return menu;
  }

  function closeMenus(except, answered) {
    document.querySelectorAll(".menu-button[aria-expanded=true]").forEach(function (button) {
      if (button === except) { return; }
      button.setAttribute("aria-expanded", "false");
      var menu = menuOf(button);
      if (menu) { menu.hidden = true; }
      var row = button.closest("tbody.booking");
      if (row && stale[row.id] && answered) {
        delete stale[row.id];  // the request on its way answers with the row as it is now
      } else if (row && stale[row.id] && window.htmx) {
        delete stale[row.id];
        refreshing[row.id] = true;
        window.htmx.ajax("GET", button.getAttribute("href") + "/row",
                         { target: row, swap: "outerHTML" });
      }
    });
  }

  function items(menu) { return Array.prototype.slice.call(menu.querySelectorAll("[role=menuitem]")); }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".menu-button");
    if (button && window.htmx) {
      event.preventDefault();
      if (button.getAttribute("aria-expanded") === "true") {
        closeMenus();
        return;
      }
      closeMenus(button);
      button.setAttribute("aria-expanded", "true");
      var menu = menuOf(button, true);
      if (menu.children.length) {  // loaded before: show it again without asking
        menu.hidden = false;
        if (items(menu)[0]) { items(menu)[0].focus(); }
      } else if (!button.dataset.loading) {
        button.dataset.loading = "1";  // a double click asks once
        window.htmx.ajax("GET", button.getAttribute("href") + "/menu",
                         { target: menu, swap: "innerHTML", source: button })
          .then(function () { delete button.dataset.loading; });
      }
      return;
    }
    if (!event.target.closest(".row-menu")) { closeMenus(); }
  }, true);

  document.addEventListener("htmx:afterSwap", function (event) {
    var menu = event.detail.target;
    if (menu && menu.classList && menu.classList.contains("row-menu")) {
      if (window.htmx) { window.htmx.process(menu); }  // its items' hx- attributes
      menu.hidden = false;
      if (items(menu)[0]) { items(menu)[0].focus(); }
    }
  });

  document.addEventListener("keydown", function (event) {
    var button = event.target.closest && event.target.closest(".menu-button");
    if (button && (event.key === " " || event.key === "ArrowDown")) {
      event.preventDefault();
      var open = byId("menu-" + rowId(button));
      if (button.getAttribute("aria-expanded") !== "true") {
        button.click();
      } else if (open && items(open)[0]) {
        items(open)[0].focus();
      }
      return;
    }
    var menu = event.target.closest && event.target.closest(".row-menu");
    if (menu) {
      var list = items(menu), at = list.indexOf(event.target);
      var opener = byId(menu.getAttribute("aria-labelledby"));
      if (event.key === "Escape") {
        event.preventDefault();
        closeMenus();
        if (opener) { opener.focus(); }
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        list[(at + step + list.length) % list.length].focus();
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        list[event.key === "Home" ? 0 : list.length - 1].focus();
      } else if (event.key === "Tab") {
        closeMenus();
      }
      return;
    }
    var edit = event.target.closest && event.target.closest(".edit-row");
    if (edit && event.key === "Escape") {
      var close = edit.querySelector("[data-close-edit]");
      if (close) { event.preventDefault(); close.click(); }
    }
  });

  /* A live poll may replace the row that holds the keyboard focus (its meeting changed
     meanwhile): the same control of the new row takes the focus back, never another's. */
  var keptFocus = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    keptFocus = active && active.id && active.closest && active.closest("tbody.booking")
      ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var again = keptFocus && byId(keptFocus);
    if (again && document.activeElement !== again &&
        (!document.activeElement || document.activeElement === document.body)) {
      again.focus({ preventScroll: true });
    }
    keptFocus = null;
  });

  /* Whatever replaces a row (an action, Close, Save), focus returns to the row's menu
     button; opening the reschedule form focuses its first field instead (htmx:load). */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.matches && target.matches("tbody.booking")) {
      pendingFocus = "menu-button-" + target.id.replace("booking-", "");
      closeMenus(null, true);
    }
  });

  /* --- paging and new bookings ------------------------------------------------------- */

  document.addEventListener("click", function (event) {
    var show = event.target.closest("[data-show-new]");
    if (show && window.htmx) {
      event.preventDefault();
      window.htmx.ajax("GET", window.location.pathname + window.location.search,
                       { target: "#booking-table" });
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "booking-table") {
      var top = byId("table-top");
      if (top && top.getBoundingClientRect().top < 0) {
        top.scrollIntoView({ block: "start" });
      }
      var pager = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (top && pager && pager.closest && pager.closest(".pager, thead")) { top.focus({ preventScroll: true }); }
    }
  });
}());
