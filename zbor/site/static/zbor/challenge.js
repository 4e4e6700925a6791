/* Zbor: answers the donate form's proof-of-work challenge (ALTCHA's format) before a card
   payment starts. It finds the number whose SHA-256 with the salt is the challenge, using the
   browser's own crypto, and puts the answer in the form. Nothing is sent anywhere else.
   The search runs in a worker started from this same file, so the page stays responsive while
   it works (on the page itself if workers are unavailable).
   Without JavaScript the form still works for a bank transfer. */
(function () {
  "use strict";
  var encoder = new TextEncoder();

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  async function solve(task) {
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

  if (typeof document === "undefined") {  // this file, started as the page's worker
    self.onmessage = function (event) { solve(event.data).then(function (number) { self.postMessage(number); }); };
    return;
  }

  var form = document.querySelector("form[data-challenge]");
  if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var field = form.querySelector("input[name=challenge]");
  var status = document.getElementById("challenge-status");
  var task = JSON.parse(form.getAttribute("data-challenge"));
  var source = document.currentScript && document.currentScript.src;
  var submitting = false;

  function inWorker() {
    return new Promise(function (resolve) {
      var worker;
      try { worker = new Worker(source); } catch (error) { resolve(solve(task)); return; }
      worker.onmessage = function (event) { worker.terminate(); resolve(event.data); };
      worker.onerror = function (event) { event.preventDefault(); worker.terminate(); resolve(solve(task)); };
      worker.postMessage(task);
    });
  }

  var done = (window.Worker && source ? inWorker() : solve(task)).then(function (number) {
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
