// Metric charts (uPlot): history from /api/v1/metrics/, new points over /ws/metrics/<kind>/<id>/.
(function () {
  "use strict";

  const SECONDS = { m: 60, h: 3600, d: 86400 };
  const LIVE_MAX_RANGE = 24 * 3600; // longer ranges are coarse: live points would not fit their step
  const COLORS = ["#1f6feb", "#cf222e", "#1a7f37", "#9a6700"];

  function rangeSeconds(value) {
    return parseInt(value, 10) * SECONDS[value.slice(-1)];
  }

  function formatValue(unit, v) {
    if (v == null) return "—";
    if (unit === "percent") return v.toFixed(1) + " %";
    if (unit === "count") return Math.round(v).toString();
    const suffix = unit === "bytes/s" ? "/s" : "";
    const steps = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < steps.length - 1) { v /= 1024; i++; }
    return v.toFixed(i ? 1 : 0) + " " + steps[i] + suffix;
  }

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + path;
  }

  class Chart {
    constructor(figure) {
      this.el = figure.querySelector(".metrics-plot");
      this.unit = figure.dataset.unit;
      this.metrics = figure.dataset.metrics.split(",");
      this.plot = null;
      this.data = null;
    }

    setSeries(payload) {
      // Align every metric on the first metric's timestamps (one request: same buckets).
      const times = new Set();
      this.metrics.forEach((m) => (payload.series[m] || []).forEach((p) => times.add(p[0])));
      const xs = Array.from(times).sort((a, b) => a - b);
      const index = new Map(xs.map((t, i) => [t, i]));
      const ys = this.metrics.map((m) => {
        const col = new Array(xs.length).fill(null);
        (payload.series[m] || []).forEach((p) => { col[index.get(p[0])] = p[1]; });
        return col;
      });
      this.data = [xs, ...ys];
      this.draw();
    }

    append(ts, values, windowSeconds) {
      if (!this.data) return;
      const [xs, ...ys] = this.data;
      if (xs.length && ts <= xs[xs.length - 1]) return;
      xs.push(ts);
      this.metrics.forEach((m, i) => ys[i].push(values[m] == null ? null : values[m]));
      const cutoff = ts - windowSeconds;
      while (xs.length && xs[0] < cutoff) { xs.shift(); ys.forEach((c) => c.shift()); }
      this.plot ? this.plot.setData(this.data) : this.draw();
    }

    draw() {
      if (typeof uPlot === "undefined") return;
      const unit = this.unit;
      const opts = {
        width: Math.max(300, this.el.clientWidth || 340),
        height: 180,
        series: [{}].concat(this.metrics.map((m, i) => ({
          label: m, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
          value: (u, v) => formatValue(unit, v),
        }))),
        axes: [{}, { size: 70, values: (u, vals) => vals.map((v) => formatValue(unit, v)) }],
        scales: { y: { range: (u, min, max) => [0, Math.max(max || 0, unit === "percent" ? 1 : 1) * 1.1] } },
      };
      if (this.plot) this.plot.destroy();
      this.el.textContent = "";
      this.plot = new uPlot(opts, this.data, this.el);
    }
  }

  class Panel {
    constructor(root) {
      this.root = root;
      this.charts = Array.from(root.querySelectorAll("[data-chart]")).map((f) => new Chart(f));
      this.status = root.querySelector("[data-metrics-status]");
      this.range = "1h";
      root.querySelectorAll("[data-range]").forEach((button) => {
        button.addEventListener("click", () => this.select(button));
      });
      this.load();
      this.connect(0);
    }

    select(button) {
      this.root.querySelectorAll("[data-range]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      this.range = button.dataset.range;
      this.load();
    }

    async load() {
      const metrics = Array.from(new Set(this.charts.flatMap((c) => c.metrics)));
      const url = `${this.root.dataset.api}?${this.root.dataset.kind}=${this.root.dataset.id}&since=${this.range}&metric=${metrics.join(",")}`;
      this.status.textContent = "Loading…";
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const payload = await response.json();
        this.charts.forEach((c) => c.setSeries(payload));
        this.status.textContent = `${payload.tier} tier, ${payload.step} s steps`;
      } catch (err) {
        this.status.textContent = "Could not load metrics: " + err.message;
      }
    }

    connect(attempt) {
      if (!("WebSocket" in window)) return;
      const ws = new WebSocket(socketUrl(this.root.dataset.ws));
      ws.onopen = () => { attempt = 0; };
      ws.onmessage = (msg) => {
        let data;
        try { data = JSON.parse(msg.data); } catch (_) { return; }
        const span = rangeSeconds(this.range);
        if (data.type !== "points" || span > LIVE_MAX_RANGE) return;
        this.charts.forEach((c) => c.append(data.ts, data.values, span));
      };
      ws.onclose = (ev) => {
        if (ev.code >= 4400 && ev.code < 4500) return; // refused: no permission
        setTimeout(() => this.connect(attempt + 1), Math.min(30000, 1000 * Math.pow(2, attempt)));
      };
    }
  }

  function start() {
    document.querySelectorAll("[data-metrics-panel]").forEach((root) => {
      if (!root.dataset.started) { root.dataset.started = "1"; new Panel(root); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", start);
})();
