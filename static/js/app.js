// DockerForge page glue: theme toggle and the team's live event socket.
// Socket messages carry only kind and ids; elements listening for "df:event" (e.g.
// hx-trigger="df:event from:body") re-fetch their partials over HTTP.
(function () {
  "use strict";
  const root = document.documentElement;
  const saved = localStorage.getItem("df-theme");
  if (saved) root.dataset.theme = saved;
  document.addEventListener("click", (e) => {
    if (!e.target.closest("[data-theme-toggle]")) return;
    const dark = root.dataset.theme === "dark" ||
      (root.dataset.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("df-theme", root.dataset.theme);
  });

  function connect(path, attempt) {
    const dot = document.getElementById("live-status");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + path);
    const state = (s) => { if (dot) { dot.dataset.state = s; dot.title = "Live updates: " + s; } };
    ws.onopen = () => { attempt = 0; state("connected"); };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      document.body.dispatchEvent(new CustomEvent("df:event", { detail: data, bubbles: true }));
      if (data.kind) document.body.dispatchEvent(new CustomEvent("df:" + data.kind, { detail: data, bubbles: true }));
    };
    ws.onclose = () => {
      state("disconnected");
      const delay = Math.min(30000, 500 * Math.pow(2, attempt));
      setTimeout(() => connect(path, attempt + 1), delay);
    };
  }
  document.addEventListener("DOMContentLoaded", () => {
    const path = document.body.dataset.wsEvents;
    if (path && "WebSocket" in window) connect(path, 0);
  });
})();
