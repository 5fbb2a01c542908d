// Muster's only script, served by the binary under the page's CSP (script-src 'self').
// Pages work without it; with it:
// - live pages re-read themselves when the server says the record changed (server-sent
//   events on the address in data-live) and swap their [data-live-region] parts, leaving
//   the forms and what is typed in them alone;
// - times show in the viewer's time zone (or UTC, a choice kept in this browser), 24-hour,
//   with relative times ("12 min ago") kept current.
// It never builds markup from text: regions come whole from the server's escaped page.
(function () {
  "use strict";
  var root = document.documentElement;
  var lang = root.getAttribute("lang") || "en";
  var KEY = "muster-tz";

  function useUtc() {
    try { return window.localStorage.getItem(KEY) === "utc"; } catch (e) { return false; }
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function absolute(d) {
    var utc = useUtc();
    var opts = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
    if (utc) { opts.timeZone = "UTC"; }
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-GB", opts).formatToParts(d).forEach(function (p) {
        parts[p.type] = p.value;
      });
    } catch (e) {
      return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    }
    return parts.year + "-" + parts.month + "-" + parts.day + " " + two(+parts.hour % 24) +
      ":" + parts.minute + " " + (utc ? "UTC" : parts.timeZoneName);
  }

  function relative(d) {
    var secs = (d.getTime() - Date.now()) / 1000;
    var abs = Math.abs(secs);
    var rtf;
    try { rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" }); } catch (e) { return null; }
    if (abs < 60) { return rtf.format(0, "second"); }
    if (abs < 3600) { return rtf.format(Math.round(secs / 60), "minute"); }
    if (abs < 172800) { return rtf.format(Math.round(secs / 3600), "hour"); }
    return rtf.format(Math.round(secs / 86400), "day");
  }

  function localize(scope) {
    var times = (scope || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) { continue; }
      if (t.hasAttribute("data-rel")) {
        var r = relative(d);
        if (r) { t.textContent = r; }
        t.title = absolute(d);
      } else {
        t.textContent = absolute(d);
      }
    }
    var control = document.getElementById("tz-control");
    if (control) {
      var zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
      var note = control.querySelector("[data-tz-note]");
      var button = control.querySelector("button");
      if (note && button) {
        var utc = useUtc();
        note.textContent = utc ? control.getAttribute("data-utc") :
          control.getAttribute("data-local") + (zone ? " (" + zone + ")" : "");
        button.textContent = utc ? control.getAttribute("data-to-local") : control.getAttribute("data-to-utc");
        control.hidden = false;
      }
    }
  }

  function setupZone() {
    var control = document.getElementById("tz-control");
    if (!control) { return; }
    var button = control.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      try { window.localStorage.setItem(KEY, useUtc() ? "local" : "utc"); } catch (e) { /* kept for this page only */ }
      localize();
    });
  }

  var busy = false;
  var again = false;

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var regions = document.querySelectorAll("[data-live-region]");
        for (var i = 0; i < regions.length; i++) {
          // Someone typing in a region (editing a note) keeps it until they are done.
          if (regions[i].contains(document.activeElement)) { continue; }
          var fresh = doc.getElementById(regions[i].id);
          if (fresh) {
            var node = document.importNode(fresh, true);
            regions[i].replaceWith(node);
            localize(node);
          }
        }
        document.body.setAttribute("data-live-version", String(Date.now()));
      })
      .catch(function () { /* the next change or the refresh link will do */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function setupLive() {
    var el = document.querySelector("[data-live]");
    if (!el || !window.EventSource) { return; }
    var source = new EventSource(el.getAttribute("data-live"));
    var status = document.getElementById("live-status");
    source.addEventListener("open", function () {
      if (status) {
        status.textContent = status.getAttribute("data-on");
        document.body.setAttribute("data-live-open", "1");
      }
    });
    source.addEventListener("error", function () {
      if (status) { status.textContent = status.getAttribute("data-off"); }
    });
    source.addEventListener("changed", refresh);
  }

  function start() {
    setupZone();
    localize();
    setupLive();
    window.setInterval(function () { localize(); }, 30000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
