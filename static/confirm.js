/* Confirmation dialogs whose buttons say what they do.

   Contract. A control that needs a second thought carries:
     data-confirm="<verb button text>"        e.g. "Revoke the key"   (required)
     data-confirm-keep="<keep button text>"   e.g. "Keep the key"      (default "Keep it")
     data-confirm-title="<question>"          e.g. "Revoke this key?"  (default: the verb + "?")
     data-confirm-body="<one sentence>"       what happens, optional
   on one of:
     - <form hx-post=...>: the dialog opens before htmx sends anything; Keep sends nothing.
     - <form method="post">: the dialog opens before the browser submits it.
     - <form method="get" action="<confirmation page>" data-confirm-post="<url>"> or
       <a href="<confirmation page>" data-confirm-post="<url>">: without JavaScript the visitor
       lands on the confirmation page (which has its own POST form); with it, the dialog, then
       a POST of the form's fields to data-confirm-post with the page's CSRF token
       (<meta name="csrf-token">).
   The dialog takes focus (on the keep button: the safe one), Escape or Keep closes it and
   focus goes back to the control that opened it (or, when an htmx answer replaced it, to
   what took its place). A confirmed form carries confirmed=yes.
   No inline script or style anywhere: the CSP forbids them. */
(function () {
  "use strict";

  var dialog = null;
  var pending = null;  // {go: function, opener: element}

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.id = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-body");
    dialog.innerHTML =
      '<article><h2 id="confirm-dialog-title"></h2><p id="confirm-dialog-body"></p>' +
      '<footer><button type="button" class="secondary" data-confirm-answer="keep"></button>' +
      '<button type="button" class="confirm-go" data-confirm-answer="go"></button></footer></article>';
    document.body.appendChild(dialog);
    dialog.addEventListener("click", function (event) {
      var answer = event.target.closest("[data-confirm-answer]");
      if (answer) { close(answer.dataset.confirmAnswer === "go"); }
    });
    // Escape (the dialog's "cancel") keeps, like the keep button.
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); close(false); });
  }

  function open(control, go) {
    if (!dialog) { build(); }
    var verb = control.dataset.confirm;
    dialog.querySelector("#confirm-dialog-title").textContent =
      control.dataset.confirmTitle || verb + "?";
    var body = dialog.querySelector("#confirm-dialog-body");
    body.textContent = control.dataset.confirmBody || "";
    body.hidden = !control.dataset.confirmBody;
    dialog.querySelector('[data-confirm-answer="go"]').textContent = verb;
    dialog.querySelector('[data-confirm-answer="keep"]').textContent =
      control.dataset.confirmKeep || "Keep it";
    var opener = document.activeElement && document.activeElement !== document.body
      ? document.activeElement : control.querySelector("button, [type=submit]") || control;
    pending = {go: go, opener: opener};
    dialog.showModal();
    dialog.querySelector('[data-confirm-answer="keep"]').focus();
  }

  function close(confirmed) {
    var done = pending;
    pending = null;
    dialog.close();
    if (!done) { return; }
    if (done.opener && document.contains(done.opener)) { done.opener.focus(); }
    if (confirmed) { done.go(); }
  }

  function markConfirmed(form) {
    var flag = form.querySelector('input[name="confirmed"]');
    if (!flag) {
      flag = document.createElement("input");
      flag.type = "hidden";
      flag.name = "confirmed";
      form.appendChild(flag);
    }
    flag.value = "yes";
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // A control whose no-JavaScript path is a confirmation page: POST its fields to the action.
  function postTo(url, source) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    form.hidden = true;
    if (source && source.tagName === "FORM") {
      new FormData(source).forEach(function (value, name) {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = name;
        field.value = value;
        form.appendChild(field);
      });
    }
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrfToken();
    form.appendChild(token);
    markConfirmed(form);
    document.body.appendChild(form);
    form.submit();
  }

  function htmxManaged(form) {
    return form.hasAttribute("hx-post") || form.hasAttribute("hx-delete") ||
      form.hasAttribute("hx-put") || form.hasAttribute("hx-patch");
  }

  // htmx asks before every request it sends: hold it until the dialog answers.
  document.addEventListener("htmx:confirm", function (event) {
    var control = event.detail.elt.closest("[data-confirm]");
    if (!control || control !== event.detail.elt) { return; }
    event.preventDefault();
    open(control, function () {
      if (control.tagName === "FORM") { markConfirmed(control); }
      settleFocusOn = event.detail.target && event.detail.target.id;
      event.detail.issueRequest(true);
    });
  });

  // The answer may replace what opened the dialog (a revoked key's row has no Revoke):
  // focus then goes to what took its place, not to the page's start.
  var settleFocusOn = null;
  document.addEventListener("htmx:afterSettle", function () {
    if (!settleFocusOn) { return; }
    var target = document.getElementById(settleFocusOn);
    settleFocusOn = null;
    if (!target || target.contains(document.activeElement)) { return; }
    var inside = target.querySelector("button, a[href], select, input:not([type=hidden])");
    if (inside) { inside.focus(); return; }
    target.tabIndex = -1;
    target.focus();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-confirm]") || htmxManaged(form)) { return; }
    if (form.dataset.confirmed === "yes") { return; }
    event.preventDefault();
    open(form, function () {
      if (form.dataset.confirmPost) { postTo(form.dataset.confirmPost, form); return; }
      markConfirmed(form);
      form.dataset.confirmed = "yes";
      form.requestSubmit();
    });
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-confirm][data-confirm-post]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    open(link, function () { postTo(link.dataset.confirmPost, null); });
  });
}());
