/* The bookings table's bulk bar: a live "3 selected", its buttons disabled while nothing is
   ticked, and "select all on this page". The ticked ids are kept here too, so a row that a
   poll or an action swaps in (a fresh checkbox) comes back ticked. Without this script the
   checkboxes and the bar's form still work: they post to the confirmation page. */
(function () {
  "use strict";

  var picked = {};  // booking id -> true, for the rows shown

  function boxes() {
    return document.querySelectorAll('input[type=checkbox][form="bulk-selected"]');
  }

  function refresh() {
    var form = document.getElementById("bulk-selected");
    if (!form) { return; }
    var shown = {}, count = 0, all = boxes();
    all.forEach(function (box) {
      shown[box.value] = true;
      box.checked = Boolean(picked[box.value]);
      if (box.checked) { count += 1; }
    });
    Object.keys(picked).forEach(function (id) { if (!shown[id]) { delete picked[id]; } });
    document.getElementById("bulk-count").textContent = count + " selected";
    form.querySelectorAll("button[name=action]").forEach(function (b) { b.disabled = count === 0; });
    var page = document.getElementById("select-page");
    if (page) {
      page.hidden = false;
      page.checked = all.length > 0 && count === all.length;
      page.indeterminate = count > 0 && count < all.length;
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.id === "select-page") {
      boxes().forEach(function (b) {
        if (box.checked) { picked[b.value] = true; } else { delete picked[b.value]; }
      });
    } else if (box.matches && box.matches('input[type=checkbox][form="bulk-selected"]')) {
      if (box.checked) { picked[box.value] = true; } else { delete picked[box.value]; }
    } else {
      return;
    }
    refresh();
  });

  // Rows swapped in (a poll, an action's answer, another page) get their ticks back.
  document.addEventListener("htmx:load", refresh);
  // Ticks the browser restored (back to the page) count as picked.
  boxes().forEach(function (box) { if (box.checked) { picked[box.value] = true; } });
  refresh();
}());
