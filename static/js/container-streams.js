// Container streams: log follow and the exec console (xterm.js).
//
// Log lines arrive as spans of [classes, text]. Text goes into text nodes and classes are
// checked against the fixed ANSI set, so nothing from a container's log is parsed as HTML.
(function () {
  "use strict";
  if (window.dfContainerStreams) return;  // panels may include this script more than once
  window.dfContainerStreams = true;

  const MAX_LINES = 5000;
  const ANSI_CLASS = /^ansi-(?:(?:fg|bg)-(?:1[0-5]|[0-9])|bold|dim|italic|underline|strike)$/;

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + path;
  }

  function safeClasses(classes) {
    return String(classes || "").split(/\s+/).filter((c) => ANSI_CLASS.test(c)).join(" ");
  }

  function lineElement(line, withTimestamps) {
    const row = document.createElement("span");
    row.className = "log-line " + (line.stream === "stderr" ? "log-stderr" : "log-stdout");
    row.dataset.ts = line.ts || "";
    if (withTimestamps && line.ts) {
      const ts = document.createElement("span");
      ts.className = "log-ts";
      ts.textContent = line.ts;
      row.append(ts, document.createTextNode(" "));
    }
    (line.spans || []).forEach(([classes, text]) => {
      const cls = safeClasses(classes);
      if (!cls) { row.append(document.createTextNode(text)); return; }
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      row.append(span);
    });
    row.append(document.createTextNode("\n"));
    return row;
  }

  // --- log follow ------------------------------------------------------------------------
  const follows = new WeakMap();

  function followQuery(box) {
    const params = new URLSearchParams();
    const form = document.getElementById("log-filters");
    if (form) {
      ["q", "stream"].forEach((name) => { if (form.elements[name] && form.elements[name].value) params.set(name, form.elements[name].value); });
      if (form.elements.regex && form.elements.regex.checked) params.set("regex", "on");
    }
    // Continue after the last line shown, so nothing written meanwhile is lost or repeated.
    const shown = box.querySelectorAll(".log-line[data-ts]");
    const last = shown.length ? shown[shown.length - 1].dataset.ts : "";
    if (last) params.set("since", last);
    params.set("tail", last ? "all" : "0");
    return params.toString();
  }

  function setFollowStatus(box, text) {
    const status = box.querySelector("[data-follow-status]");
    if (status) { status.hidden = !text; status.textContent = text; }
  }

  function startFollow(box) {
    stopFollow(box);
    let pre = box.querySelector("[data-log-lines]");
    if (!pre) {
      pre = document.createElement("pre");
      pre.className = "log";
      pre.setAttribute("data-log-lines", "");
      box.append(pre);
    }
    const withTs = box.dataset.timestamps === "1";
    const lastTs = (() => { const s = box.querySelectorAll(".log-line[data-ts]"); return s.length ? s[s.length - 1].dataset.ts : ""; })();
    const ws = new WebSocket(socketUrl(box.dataset.logFollow + "?" + followQuery(box)));
    follows.set(box, ws);
    box.dataset.following = "connecting";
    ws.onopen = () => { box.dataset.following = "on"; setFollowStatus(box, "Following new lines…"); };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      if (data.type === "lines") {
        const empty = pre.querySelector("[data-log-empty]");
        if (empty) empty.remove();
        const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        const frag = document.createDocumentFragment();
        data.lines.forEach((line) => {
          // `since` repeats lines of the last shown second: skip up to the last one shown.
          if (lastTs && line.ts && line.ts <= lastTs) return;
          frag.append(lineElement(line, withTs));
        });
        pre.append(frag);
        while (pre.childElementCount > MAX_LINES) pre.firstElementChild.remove();
        if (stick) pre.scrollTop = pre.scrollHeight;
      } else if (data.type === "dropped") {
        setFollowStatus(box, data.count + " lines skipped (too fast to show).");
      } else if (data.type === "end") {
        setFollowStatus(box, "The log ended (the container stopped).");
      } else if (data.type === "error") {
        setFollowStatus(box, "Follow stopped: " + (data.message || "bad filters"));
      }
    };
    ws.onclose = (ev) => {
      box.dataset.following = "off";
      if (ev.code === 4403 || ev.code === 4404) setFollowStatus(box, "Follow refused.");
    };
  }

  function stopFollow(box) {
    const ws = follows.get(box);
    if (ws) { ws.onclose = null; ws.close(); follows.delete(box); }
    box.dataset.following = "off";
  }

  document.addEventListener("change", (e) => {
    const toggle = e.target.closest("[data-log-follow-toggle]");
    if (!toggle) return;
    const box = document.querySelector(toggle.dataset.target);
    if (!box) return;
    if (toggle.checked) startFollow(box); else { stopFollow(box); setFollowStatus(box, ""); }
  });
  // A new set of lines (filters applied, lazy load) replaces the box: follow again if on.
  document.addEventListener("htmx:afterSwap", (e) => {
    const toggle = document.querySelector("[data-log-follow-toggle]");
    const box = document.querySelector(toggle ? toggle.dataset.target : "#log-lines");
    if (toggle && toggle.checked && box && box.dataset.logFollow) startFollow(box);
    if (box) { const pre = box.querySelector("[data-log-lines]"); if (pre) pre.scrollTop = pre.scrollHeight; }
    const dl = document.querySelector("[data-log-download]");
    if (dl) dl.search = location.search;
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-log-lines]").forEach((pre) => { pre.scrollTop = pre.scrollHeight; });
  });

  // --- exec console ------------------------------------------------------------------------
  function connectConsole(panel) {
    if (panel.dfSession) return;
    const status = panel.querySelector("[data-exec-status]");
    const mount = panel.querySelector("[data-exec-terminal]");
    const say = (text) => { status.textContent = text; };
    if (!window.Terminal) { say("The terminal did not load."); return; }
    mount.textContent = "";
    const term = new window.Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000 });
    const fit = window.FitAddon ? new window.FitAddon.FitAddon() : null;
    if (fit) term.loadAddon(fit);
    term.open(mount);
    if (fit) fit.fit();
    const params = new URLSearchParams({ cmd: panel.querySelector("[data-exec-cmd]").value || "sh", rows: term.rows, cols: term.cols });
    const ws = new WebSocket(socketUrl(panel.dataset.execConsole + "?" + params.toString()));
    ws.binaryType = "arraybuffer";
    const encoder = new TextEncoder();
    const session = { ws, term, fit };
    panel.dfSession = session;
    panel.dataset.state = "connecting";
    panel.querySelector("[data-exec-connect]").hidden = true;
    panel.querySelector("[data-exec-disconnect]").hidden = false;
    say("Connecting…");
    const sendResize = () => {
      if (fit) fit.fit();
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resize", rows: term.rows, cols: term.cols }));
    };
    session.onResize = sendResize;
    window.addEventListener("resize", sendResize);
    term.onData((data) => { if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data)); });
    ws.onmessage = (msg) => {
      if (msg.data instanceof ArrayBuffer) { term.write(new Uint8Array(msg.data)); return; }
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      if (data.type === "ready") { panel.dataset.state = "connected"; say("Connected (session audited)."); term.focus(); }
      else if (data.type === "exit") say("The process exited" + (data.code === null || data.code === undefined ? "." : " with code " + data.code + "."));
      else if (data.type === "error") say("Error: " + data.message);
    };
    ws.onclose = (ev) => {
      panel.dataset.state = "closed";
      if (ev.code === 4403) say("Refused: your role may not open a console here.");
      else if (ev.code === 4404) say("Refused: no such container.");
      else if (!/exited|Error/.test(status.textContent)) say("Disconnected.");
      endConsole(panel, false);
    };
  }

  function endConsole(panel, closeSocket) {
    const session = panel.dfSession;
    if (!session) return;
    panel.dfSession = null;
    window.removeEventListener("resize", session.onResize);
    if (closeSocket) { session.ws.onclose = null; session.ws.close(); panel.dataset.state = "closed"; panel.querySelector("[data-exec-status]").textContent = "Disconnected."; }
    panel.querySelector("[data-exec-connect]").hidden = false;
    panel.querySelector("[data-exec-disconnect]").hidden = true;
  }

  document.addEventListener("submit", (e) => {
    const form = e.target.closest("[data-exec-form]");
    if (!form) return;
    e.preventDefault();
    connectConsole(form.closest("[data-exec-console]"));
  });
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("[data-exec-disconnect]");
    if (btn) endConsole(btn.closest("[data-exec-console]"), true);
  });
})();
