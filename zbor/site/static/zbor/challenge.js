/* Zbor: answers the donate form's proof-of-work challenge (ALTCHA's format) before a card
   payment starts. It finds the number whose SHA-256 with the salt is the challenge, using the
   browser's own crypto, and puts the answer in the form. Nothing is sent anywhere else.
   Without JavaScript the form still works for a bank transfer. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-challenge]");
  if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var field = form.querySelector("input[name=challenge]");
  var status = document.getElementById("challenge-status");
  var task = JSON.parse(form.getAttribute("data-challenge"));
  var encoder = new TextEncoder();
  var submitting = false;

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  async function solve() {
    for (var start = 0; start <= task.maxnumber; start += 500) {
      var end = Math.min(start + 500, task.maxnumber + 1), hashes = [];
      for (var n = start; n < end; n++) {
        hashes.push(crypto.subtle.digest("SHA-256", encoder.encode(task.salt + n)));
      }
      var results = await Promise.all(hashes);
      for (var k = 0; k < results.length; k++) {
        if (hex(results[k]) === task.challenge) { return start + k; }
      }
    }
    return null;
  }

  var done = solve().then(function (number) {
    if (number === null) { return; }
    field.value = btoa(JSON.stringify({
      algorithm: task.algorithm, challenge: task.challenge, number: number,
      salt: task.salt, signature: task.signature
    }));
    form.setAttribute("data-challenge-solved", "");
    if (status) { status.hidden = true; }
  });

  form.addEventListener("submit", function (event) {
    if (field.value || submitting) { return; }
    event.preventDefault();
    submitting = true;
    if (status) { status.hidden = false; }
    done.then(function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
  });
}());
