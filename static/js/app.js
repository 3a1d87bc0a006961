// DockerForge page glue: theme toggle, menu, messages, the team's live event socket and
// per-object streams (operation log and progress).
//
// Socket messages carry only kind and ids. Elements listening for "df:event" (e.g.
// hx-trigger="df:event from:body") re-fetch their partials over HTTP, so permission checks
// stay in the views. Bursts are coalesced here: at most one "df:event" per REFRESH_MS,
// always with a trailing one so the last change of a burst is never missed.
(function () {
  "use strict";
  const root = document.documentElement;
  const THEMES = ["auto", "light", "dark"];
  const THEME_ICON = { auto: "◐", light: "☀", dark: "☾" };
  const THEME_LABEL = { auto: "automatic", light: "light", dark: "dark" };

  function showTheme() {
    const theme = root.dataset.theme || "auto";
    document.querySelectorAll("[data-theme-toggle]").forEach((btn) => {
      const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
      btn.setAttribute("aria-label", "Colour theme: " + THEME_LABEL[theme] + " (switch to " + THEME_LABEL[next] + ")");
      btn.title = "Colour theme: " + THEME_LABEL[theme];
      const icon = btn.querySelector("[data-theme-icon]");
      if (icon) icon.textContent = THEME_ICON[theme];
    });
  }

  function cycleTheme() {
    const current = root.dataset.theme || "auto";
    root.dataset.theme = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
    try { localStorage.setItem("df-theme", root.dataset.theme); } catch (_) { /* ignore */ }
    showTheme();
  }

  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-theme-toggle]")) return cycleTheme();
    const navToggle = e.target.closest("[data-nav-toggle]");
    if (navToggle) {
      const open = navToggle.getAttribute("aria-expanded") !== "true";
      navToggle.setAttribute("aria-expanded", String(open));
      return;
    }
    const dismiss = e.target.closest("[data-dismiss]");
    if (dismiss) dismiss.closest("li, .msg").remove();
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches("select[data-autosubmit]")) e.target.form.requestSubmit();
  });

  // --- the team's event socket ---------------------------------------------------------
  const REFRESH_MS = 500;
  let refreshTimer = null;
  let refreshPending = false;
  let lastDetail = null;

  function fireRefresh() {
    document.body.dispatchEvent(new CustomEvent("df:event", { detail: lastDetail, bubbles: true }));
  }
  // Leading-and-trailing throttle: the first message refreshes at once, later ones within
  // the window collapse into one refresh at its end.
  function scheduleRefresh(detail) {
    lastDetail = detail;
    if (refreshTimer) { refreshPending = true; return; }
    fireRefresh();
    refreshTimer = setTimeout(function tick() {
      if (refreshPending) {
        refreshPending = false;
        fireRefresh();
        refreshTimer = setTimeout(tick, REFRESH_MS);
      } else {
        refreshTimer = null;
      }
    }, REFRESH_MS);
  }

  function setLive(state) {
    const box = document.getElementById("live-status");
    if (!box) return;
    box.dataset.state = state;
    box.title = "Live updates: " + state;
    const label = box.querySelector("[data-live-label]");
    if (label) label.textContent = "Live updates: " + state;
  }

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + path;
  }

  // A socket that reconnects with backoff; onopen after a reconnect lets pages catch up.
  function openSocket(path, handlers, attempt) {
    const ws = new WebSocket(socketUrl(path));
    ws.onopen = () => { handlers.open && handlers.open(attempt); attempt = 0; };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      handlers.message(data);
    };
    ws.onclose = (ev) => {
      handlers.close && handlers.close(ev);
      if (ev.code >= 4400 && ev.code < 4500) return;  // refused (auth, permission): don't hammer
      const delay = Math.min(30000, 500 * Math.pow(2, attempt));
      setTimeout(() => openSocket(path, handlers, attempt + 1), delay);
    };
    return ws;
  }

  function connectEvents(path) {
    openSocket(path, {
      open: (attempt) => {
        setLive("connected");
        if (attempt > 0) scheduleRefresh({ type: "reconnected" });  // catch up on missed events
      },
      message: (data) => {
        scheduleRefresh(data);
        if (data.kind) document.body.dispatchEvent(new CustomEvent("df:" + data.kind, { detail: data, bubbles: true }));
      },
      close: () => setLive("disconnected"),
    }, 0);
  }

  // --- per-operation stream: log lines, progress, status ------------------------------
  // The box stays; its inner partial is re-fetched (htmx) on "df:op-refresh", so the log
  // and progress elements are looked up per message.
  function connectOperation(box) {
    const refresh = () => box.dispatchEvent(new CustomEvent("df:op-refresh"));
    openSocket(box.dataset.opStream, {
      // On (re)connect re-read the committed state, so lines sent before we listened show.
      open: refresh,
      message: (data) => {
        const log = box.querySelector("[data-op-log]");
        const bar = box.querySelector("[data-op-progress]");
        if (data.type === "log" && log) {
          const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
          log.append(document.createTextNode(data.line));  // text node: never parsed as HTML
          if (stick) log.scrollTop = log.scrollHeight;
        } else if (data.type === "progress" && bar) {
          const percent = Math.round(data.progress * 100) + "%";
          bar.value = data.progress;
          bar.textContent = percent;
          const label = box.querySelector("[data-op-percent]");
          if (label) label.textContent = percent;
        } else if (data.type === "status") {
          refresh();
        }
      },
    }, 0);
  }

  document.addEventListener("DOMContentLoaded", () => {
    showTheme();
    if (!("WebSocket" in window)) return;
    const path = document.body.dataset.wsEvents;
    if (path) connectEvents(path);
    document.querySelectorAll("[data-op-stream]").forEach(connectOperation);
  });
})();
