/* Zbor: copy buttons and a print button on the bank-transfer details. The buttons are hidden
   in the page and shown only here, so without JavaScript the details are plain text to select,
   and the browser's own Print works as always. Nothing is sent anywhere. */
(function () {
  "use strict";
  if (navigator.clipboard) {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) { return; }
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        var value = target.getAttribute("data-value") || target.textContent.trim();
        navigator.clipboard.writeText(value).then(function () {
          button.textContent = button.getAttribute("data-done");
          setTimeout(function () { button.textContent = label; }, 2500);
        });
      });
    });
  }
  var print = document.querySelector("button[data-print]");
  if (print && window.print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
}());
