/* Zbor: keeps what a donor typed that the server forgets (the name to show, the words, the
   email) in this browser tab only (sessionStorage) while a card payment is made elsewhere, so a
   failed or cancelled payment returns to the form as it was sent. The server keeps none of it
   once a payment did not go through; the tab forgets it when the form is shown again, when the
   gift's page says it arrived (this script is loaded there, without a form), or when the tab is
   closed. Nothing is sent anywhere. */
(function () {
  "use strict";
  var KEY = "zbor-donate", names = ["public_name", "message", "email"];
  var form = document.querySelector("form.donate-form[data-campaign]");
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (!store) { return; }
  if (!form) { store.removeItem(KEY); return; }
  var campaign = form.getAttribute("data-campaign");
  if (form.hasAttribute("data-restore")) {
    var kept = null;
    try { kept = JSON.parse(store.getItem(KEY) || "null"); } catch (e) { kept = null; }
    if (kept && kept.campaign === campaign) {
      names.forEach(function (name) {
        var field = form.elements[name];
        if (field && !field.value && typeof kept[name] === "string") { field.value = kept[name]; }
      });
    }
  }
  store.removeItem(KEY);
  form.addEventListener("submit", function () {
    var kept = { campaign: campaign }, any = false;
    names.forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) { kept[name] = field.value; any = true; }
    });
    if (any) { store.setItem(KEY, JSON.stringify(kept)); }
  });
}());
