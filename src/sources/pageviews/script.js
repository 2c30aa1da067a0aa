// Reckon's tracker: sends Plausible-compatible page views to POST /api/event.
// <script defer data-domain="example.com" src="https://reckon.example/js/script.js"></script>
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var domain = script.getAttribute("data-domain") || location.hostname;
  var api = script.getAttribute("data-api") || new URL("/api/event", script.src).href;
  var last = null;
  function send(name, props) {
    if (/^localhost$|^127(\.[0-9]+){0,2}\.[0-9]+$|^\[::1?\]$/.test(location.hostname) &&
        script.getAttribute("data-local") === null) return;
    if (window._phantom || window.__nightmare || (navigator.webdriver && !window.__plausible)) return;
    var body = { n: name, u: location.href, d: domain, r: document.referrer || null };
    if (props) body.p = props;
    try {
      fetch(api, { method: "POST", headers: { "Content-Type": "text/plain" },
                   body: JSON.stringify(body), keepalive: true });
    } catch (e) { /* never break the page */ }
  }
  function pageview() {
    if (last === location.pathname) return;
    last = location.pathname;
    send("pageview");
  }
  var push = history.pushState;
  if (push) {
    history.pushState = function () { push.apply(this, arguments); pageview(); };
    addEventListener("popstate", pageview);
  }
  window.plausible = function (name, options) { send(name, options && options.props); };
  if (document.visibilityState === "prerender") {
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") pageview();
    });
  } else {
    pageview();
  }
})();
