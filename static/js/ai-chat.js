// AI chat: answers stream over /ws/ai/chat/<id>/ (placeholders already restored by the server).
// Every text goes in with textContent: nothing the model or a container wrote is parsed as HTML.
// Without a socket the form still works: htmx posts it (answer without streaming), and
// without JavaScript it is a plain POST.
(function () {
  "use strict";
  if (window.dfAiChat) return;
  window.dfAiChat = true;

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + path;
  }

  function bubble(log, role, text) {
    const box = document.createElement("div");
    box.className = "chat-msg chat-" + role;
    const who = document.createElement("span");
    who.className = "chat-who";
    who.textContent = role === "user" ? "You" : role === "assistant" ? "Assistant" : "Error";
    const body = document.createElement("div");
    body.className = "chat-text";
    body.textContent = text || "";
    box.append(who, body);
    log.append(box);
    log.scrollTop = log.scrollHeight;
    return body;
  }

  function connect(root) {
    const log = root.querySelector("[data-chat-log]");
    const form = root.querySelector("[data-chat-form]");
    const status = root.querySelector("[data-chat-status]");
    const setStatus = (t) => { if (status) status.textContent = t; };
    let streaming = null;
    const ws = new WebSocket(socketUrl(root.dataset.chatSocket));
    root.chatSocket = ws;
    ws.onopen = () => { root.dataset.chatReady = "1"; setStatus(""); };
    ws.onclose = () => { root.dataset.chatReady = ""; };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      if (data.type === "question") {
        bubble(log, "user", data.message.content);
        streaming = bubble(log, "assistant", "");
        streaming.parentNode.dataset.streaming = "1";
        setStatus("Answering…");
      } else if (data.type === "chunk") {
        if (!streaming) { streaming = bubble(log, "assistant", ""); }
        streaming.append(document.createTextNode(data.text));
        log.scrollTop = log.scrollHeight;
      } else if (data.type === "answer") {
        if (!streaming) streaming = bubble(log, "assistant", "");
        streaming.textContent = data.message.content;
        streaming.parentNode.dataset.streaming = "";
        streaming.parentNode.dataset.done = "1";
        streaming = null;
        setStatus("");
        if (form) form.querySelector("button").disabled = false;
      } else if (data.type === "error") {
        bubble(log, "error", data.message);
        streaming = null;
        setStatus("");
        if (form) form.querySelector("button").disabled = false;
      }
    };
  }

  // Capture phase: runs before htmx's own submit handler on the form.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-chat-form]");
    if (!form) return;
    const root = form.closest("[data-chat-socket]");
    if (!root || root.dataset.chatReady !== "1") return;  // htmx (or the browser) posts it
    event.preventDefault();
    event.stopPropagation();
    const field = form.elements.content;
    const text = field.value.trim();
    if (!text) return;
    root.chatSocket.send(JSON.stringify({ type: "message", content: text }));
    field.value = "";
    form.querySelector("button").disabled = true;
  }, true);

  function init() { document.querySelectorAll("[data-chat-socket]").forEach((root) => { if (!root.chatSocket) connect(root); }); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
  document.addEventListener("htmx:afterSettle", init);
})();
