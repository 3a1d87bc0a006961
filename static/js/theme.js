// Runs in <head> before the first paint: apply the saved colour theme (auto, light or
// dark) and mark that JavaScript runs, so CSS can hide no-JS fallbacks.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var saved = localStorage.getItem("df-theme");
    if (saved === "light" || saved === "dark" || saved === "auto") root.dataset.theme = saved;
  } catch (_) { /* storage blocked: stay on auto */ }
})();
