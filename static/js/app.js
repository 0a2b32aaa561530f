// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  var scan = document.getElementById("scan-q");

  // "/" focuses the header scan box from anywhere except a text field.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var tag = t && t.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
    if (scan) {
      e.preventDefault();
      scan.focus();
      scan.select();
    }
  });

  // On bench pages, a scan field that loses focus to nothing takes it back, so the next
  // scan never lands nowhere.
  var bench = document.querySelector("[data-bench-focus]");
  if (bench) {
    document.addEventListener("click", function (e) {
      var t = e.target;
      if (t === document.body || t === document.documentElement) bench.focus();
    });
  }

  // A short low tone when the page reports an error, for people looking at the tube, not
  // the screen.
  if (document.querySelector("[data-sound=error]") && window.AudioContext) {
    try {
      var ctx = new AudioContext();
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = 220;
      gain.gain.value = 0.08;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.25);
    } catch (err) {
      /* sound is a nicety */
    }
  }

  // In forms marked data-enter-moves (a row per tube, each with a barcode field), a
  // scanner's Enter moves to the next field instead of submitting the whole form after the
  // first scan. Without JavaScript, Enter submits, as any form does.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    var t = e.target;
    var form = t && t.form;
    if (!form || !form.hasAttribute("data-enter-moves") || t.tagName !== "INPUT" || t.type === "submit") return;
    e.preventDefault();
    var fields = Array.prototype.filter.call(form.elements, function (el) {
      return (el.tagName === "INPUT" && (el.type === "text" || el.type === "number") && !el.disabled) || el.type === "submit";
    });
    var i = fields.indexOf(t);
    var next = fields[i + 1];
    if (next) next.focus();
  });

  // A box grid refreshes itself every few seconds while the page is visible, so two
  // technicians filling one box see each other's tubes. The page works without it: every
  // placement reloads the grid anyway.
  var live = document.querySelector("[data-live-grid]");
  if (live && window.fetch) {
    setInterval(function () {
      if (document.hidden) return;
      fetch(live.getAttribute("data-live-grid"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html) live.innerHTML = html; })
        .catch(function () { /* the next tick tries again */ });
    }, 5000);
  }

  // Buttons marked data-confirm ask before submitting a destructive form.
  document.addEventListener("submit", function (e) {
    var btn = e.submitter;
    var msg = (btn && btn.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
})();
