// The analysis page, live: /ws/ai/analyses/<id>/ sends each agent step as it is stored (a row
// the server rendered, autoescaped) and a "changed" notice when the analysis finishes or one
// of its fixes changes status; then the page re-fetches itself over HTTP, so what a person
// may do (approve, reject) stays the view's decision. Without JavaScript the page is whole
// on every reload.
(function () {
  "use strict";
  if (window.dfAiAnalysis) return;
  window.dfAiAnalysis = true;

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + path;
  }

  function addStep(root, number, html) {
    const body = root.querySelector("[data-steps]");
    if (!body || body.querySelector('tr[data-step="' + number + '"]')) return;  // shown once
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    const row = tpl.content.firstElementChild;
    if (!row) return;
    const later = Array.from(body.querySelectorAll("tr[data-step]")).find((r) => Number(r.dataset.step) > number);
    body.insertBefore(row, later || null);
    const count = root.querySelector("[data-step-count]");
    if (count) count.textContent = String(body.querySelectorAll("tr[data-step]").length);
  }

  async function refresh(root) {
    const resp = await fetch(location.pathname, { credentials: "same-origin" });
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    const fresh = doc.querySelector("#analysis-body");
    const current = root.querySelector("#analysis-body");
    if (fresh && current) current.replaceWith(document.importNode(fresh, true));
    const freshRoot = doc.querySelector("[data-analysis-socket]");
    if (freshRoot) root.dataset.status = freshRoot.dataset.status;
    root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
  }

  function connect(root) {
    const ws = new WebSocket(socketUrl(root.dataset.analysisSocket));
    root.analysisSocket = ws;
    let queue = Promise.resolve();  // refreshes one after another, in the order of the notices
    const later = (fn) => { queue = queue.then(fn).catch(() => {}); };
    ws.onclose = () => { root.dataset.live = ""; };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      if (data.type === "ready") {
        root.dataset.live = "1";
        if (data.status !== root.dataset.status) later(() => refresh(root));  // it finished before we connected
      } else if (data.type === "step") {
        addStep(root, data.number, data.html);
      } else if (data.type === "changed") {
        later(() => refresh(root));
      }
    };
  }

  function init() { document.querySelectorAll("[data-analysis-socket]").forEach((root) => { if (!root.analysisSocket) connect(root); }); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
