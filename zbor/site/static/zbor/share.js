// Copy link and the device's share sheet, on the campaign page. Progressive enhancement: the
// page shows the address and plain links without this script; with it, the buttons appear.
// Loaded from this site only (CSP: script-src 'self'); it sends nothing anywhere.
(function () {
  "use strict";
  var box = document.querySelector(".share-actions");
  var field = document.getElementById("share-url");
  if (!box || !field) return;
  var url = field.value;
  var status = box.querySelector("[role=status]");
  var copy = box.querySelector("[data-copy-link]");
  var native = box.querySelector("[data-share-native]");

  function copied() {
    status.textContent = box.getAttribute("data-copied");
  }

  copy.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(copied, function () {
        field.select();
      });
    } else {
      // Without the clipboard API: select the address for the visitor to copy.
      field.focus();
      field.select();
    }
  });

  if (navigator.share) {
    native.hidden = false;
    native.addEventListener("click", function () {
      navigator.share({ title: document.title, url: url }).catch(function () {
        // Dismissed by the visitor, or refused: nothing to do.
      });
    });
  }
  box.hidden = false;
})();
