// Telemetry: per spacecraft the latest value of every parameter with unit and limit state, live;
// a plot of any parameter over any window from the server's buckets (min / max / mean / count).
import { api, clock, every, fmtUtc, fmtValue, h, onLive, parseUtc, worst } from "../core.js";
import { drawPlot } from "../plot.js";

function fmtWidth(s) {
  return s >= 86400 ? `${s / 86400} d` : s >= 3600 ? `${s / 3600} h` : s >= 60 ? `${s / 60} min` : `${s} s`;
}

const RANGES = [["10 min", 600], ["1 h", 3600], ["6 h", 21600], ["24 h", 86400], ["7 d", 604800]];

export function mount(root, rest) {
  let dictionary = {};        // name -> parameter description
  let spacecraft = [];
  let latest = {};            // sc -> name -> {value, state, time_ms}
  let selected = rest[0] || null;
  let parameter = rest[1] || null;
  let range = 3600;           // seconds back from now; null: the fixed window below
  let fixed = null;           // [startMs, endMs]
  let plotData = null;
  let hover = null;
  let plotBusy = false;
  let plotError = "";

  const scList = h("div", { class: "sc-list", id: "sc-list" });
  const tbody = h("tbody");
  const table = h("table", { id: "parameters-table" }, h("thead", {}, h("tr", {},
    h("th", {}, "Parameter"), h("th", { class: "num" }, "Value"), h("th", {}, "Unit"), h("th", {}, "State"),
    h("th", {}, "Time (UTC)"))), tbody);
  const title = h("h2", { id: "plot-title" }, "Select a parameter");
  const canvas = h("canvas", { id: "plot-canvas" });
  const tip = h("div", { class: "plot-tip" });
  const summary = h("div", { class: "muted", id: "plot-summary", style: "font-size:12px;margin-top:6px" });
  const startIn = h("input", { id: "plot-start", placeholder: "start, e.g. 2026-11-26T00:00:00Z" });
  const endIn = h("input", { id: "plot-end", placeholder: "end" });
  const rangeBar = h("div", { class: "toolbar" });
  const errorBox = h("div", { class: "error-box" });
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Telemetry"),
      h("span", { class: "sub" }, "latest values with limit states; plots are downsampled on the server")),
    errorBox,
    h("div", { class: "tm-layout" },
      h("div", { class: "panel" }, h("h2", {}, "Spacecraft"), scList),
      h("div", { class: "panel" }, h("h2", { id: "values-title" }, "Latest values"), table),
      h("div", { class: "panel" }, title, rangeBar,
        h("div", { class: "toolbar range-inputs" }, startIn, endIn,
          h("button", { id: "plot-apply", onclick: applyWindow }, "Show window")),
        h("div", { class: "plot-wrap" }, canvas, tip), summary)));

  function applyWindow() {
    const a = Date.parse(startIn.value), b = Date.parse(endIn.value);
    if (!Number.isFinite(a) || !Number.isFinite(b) || b <= a) {
      errorBox.textContent = "window: give an ISO 8601 start and a later end (UTC)";
      return;
    }
    errorBox.textContent = "";
    fixed = [a, b];
    range = null;
    renderRanges();
    loadPlot();
  }

  function renderRanges() {
    rangeBar.replaceChildren(h("span", { class: "label" }, "Last"), ...RANGES.map(([label, secs]) => h("button", {
      class: range === secs ? "active" : "", "data-range": String(secs),
      onclick: () => { range = secs; fixed = null; renderRanges(); loadPlot(); },
    }, label)));
  }

  function url() {
    return `/telemetry/${encodeURIComponent(selected || "")}${parameter ? "/" + encodeURIComponent(parameter) : ""}`;
  }

  function renderList() {
    scList.replaceChildren(...spacecraft.map((sc) => {
      const states = Object.values(latest[sc] || {}).map((v) => v.state);
      return h("button", { class: sc === selected ? "active" : "", "data-spacecraft": sc,
        onclick: () => { selected = sc; history.replaceState(null, "", url()); renderList(); renderTable(); loadPlot(); } },
      h("span", {}, sc), h("span", { class: `dot ${states.length ? worst(states) : ""}` }));
    }));
  }

  function renderTable() {
    const values = latest[selected] || {};
    document.getElementById("values-title").textContent = selected ? `Latest values \u2014 ${selected}` : "Latest values";
    const known = Object.keys(dictionary);
    const names = [...known.filter((n) => n in values), ...Object.keys(values).filter((n) => !(n in dictionary))];
    tbody.replaceChildren(...names.map((name) => {
      const v = values[name];
      const p = dictionary[name];
      return h("tr", { class: `clickable${name === parameter ? " selected" : ""}`, dataset: { parameter: name, timeMs: String(v.time_ms) },
        title: p ? p.description : "",
        onclick: () => { parameter = name; history.replaceState(null, "", url()); renderTable(); loadPlot(); } },
      h("td", {}, name), h("td", { class: `num mono value ${v.state}` }, fmtValue(v.value, p)),
      h("td", { class: "muted" }, p ? p.unit : ""), h("td", { class: `state-text ${v.state}` }, v.state),
      h("td", { class: "mono muted", title: fmtUtc(v.time_ms) }, fmtUtc(v.time_ms, false)));
    }));
    if (!selected) tbody.append(h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No spacecraft in the archive yet")));
  }

  function window_() {
    if (fixed) return fixed;
    const end = clock.now();
    return [end - range * 1000, end];
  }

  async function loadPlot() {
    if (!selected || !parameter) { draw(); return; }
    if (plotBusy) return;
    plotBusy = true;
    const [a, b] = window_();
    const n = Math.max(50, Math.min(1000, Math.floor(canvas.clientWidth / 2)));
    const p = dictionary[parameter];
    title.textContent = `${selected} \u00b7 ${parameter}${p && p.unit ? ` [${p.unit}]` : ""}`;
    try {
      const path = `/api/parameters/${encodeURIComponent(selected)}/${encodeURIComponent(parameter)}/samples`
        + `?start=${encodeURIComponent(new Date(a).toISOString())}&end=${encodeURIComponent(new Date(b).toISOString())}&buckets=${n}`;
      const { doc: rows, headers } = await api(path, { headers: true });
      const width = Number(headers.get("X-Bucket-Width-S"));
      plotError = "";
      plotData = { buckets: rows.map((r) => ({ ...r, time_ms: parseUtc(r.time_utc) })), widthMs: width * 1000, startMs: a, endMs: b };
      errorBox.textContent = "";
      const count = rows.reduce((sum, r) => sum + r.count, 0);
      summary.textContent = `${rows.length} buckets of ${fmtWidth(width)} with data, ${count} samples, `
        + `${fmtUtc(a)} .. ${fmtUtc(b)} UTC; band: min..max per bucket, line: mean`;
      canvas.dataset.request = path;
      canvas.dataset.buckets = String(rows.length);
      canvas.dataset.samples = String(count);
    } catch (e) {
      errorBox.textContent = e.message;
      plotData = null;
      plotError = e.message;
    } finally {
      plotBusy = false;
    }
    draw();
  }

  function draw() {
    if (!plotData) {
      const g = canvas.getContext("2d");
      canvas.width = canvas.clientWidth; canvas.height = canvas.clientHeight;
      g.fillStyle = "#0f1620"; g.fillRect(0, 0, canvas.width, canvas.height);
      g.fillStyle = "#8b97a8"; g.font = "13px DejaVu Sans, sans-serif"; g.textAlign = "center";
      g.fillText(plotError || (parameter ? "loading" : "click a parameter to plot it"), canvas.width / 2, canvas.height / 2);
      return;
    }
    const p = dictionary[parameter];
    hover = drawPlot(canvas, { ...plotData, limits: p ? p.limits : {}, parameter: p });
  }

  canvas.addEventListener("mousemove", (e) => {
    if (!hover) return;
    const r = canvas.getBoundingClientRect();
    const hit = hover(e.clientX - r.left);
    if (!hit) { tip.style.display = "none"; return; }
    const b = hit.bucket, p = dictionary[parameter];
    tip.replaceChildren(h("div", {}, `${fmtUtc(b.time_ms)} UTC`),
      h("div", {}, b.count ? `mean ${fmtValue(b.mean, p)}  min ${fmtValue(b.min, p)}  max ${fmtValue(b.max, p)}` : "no sample"),
      h("div", { class: "muted" }, `${b.count} samples`));
    tip.style.display = "block";
    tip.style.left = `${Math.min(hit.x + 12, canvas.clientWidth - 230)}px`;
    tip.style.top = `${Math.max(0, hit.y - 40)}px`;
  });
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });

  async function load() {
    try {
      const d = await api("/api/parameters");
      dictionary = Object.fromEntries(d.parameters.map((p) => [p.name, p]));
      spacecraft = [...new Set([...d.spacecraft, ...spacecraft])].sort();
      if (!selected || !spacecraft.includes(selected)) selected = spacecraft[0] || null;
      if (!parameter && d.parameters.length) parameter = d.parameters[0].name;   // a plot from the start
      const all = await Promise.all(spacecraft.map((sc) => api(`/api/parameters/${encodeURIComponent(sc)}`)));
      for (const doc of all) {
        const values = latest[doc.spacecraft] || (latest[doc.spacecraft] = {});
        for (const p of doc.parameters) {
          const old = values[p.name];
          if (!old || old.time_ms <= p.time_s * 1000) values[p.name] = { value: p.value, state: p.state, time_ms: p.time_s * 1000 };
        }
      }
      errorBox.textContent = "";
    } catch (e) {
      errorBox.textContent = e.message;
    }
    renderList();
    renderTable();
    renderRanges();
    loadPlot();
  }

  const offLive = onLive("parameter", (m) => {
    const known = m.spacecraft in latest;
    const values = latest[m.spacecraft] || (latest[m.spacecraft] = {});
    for (const [name, v] of Object.entries(m.values)) {
      const old = values[name];
      if (old && old.time_ms > m.time_s * 1000) continue;          // a late packet: not the latest
      values[name] = { value: v.value, state: v.state, time_ms: m.time_s * 1000 };
    }
    if (!known && !spacecraft.includes(m.spacecraft)) {
      spacecraft = [...spacecraft, m.spacecraft].sort();
      if (!selected) selected = m.spacecraft;
    }
    scheduleRender(m.spacecraft === selected);
  });
  let pending = null, pendingTable = false;
  function scheduleRender(table) {
    pendingTable = pendingTable || table;
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = null;
      renderList();
      if (pendingTable) updateValues();
      pendingTable = false;
    });
  }
  function updateValues() {
    const values = latest[selected] || {};
    const rows = tbody.querySelectorAll("tr[data-parameter]");
    if (rows.length !== Object.keys(values).length) { renderTable(); return; }
    for (const tr of rows) {
      const v = values[tr.dataset.parameter];
      const p = dictionary[tr.dataset.parameter];
      const cells = tr.children;
      const text = fmtValue(v.value, p);
      if (cells[1].textContent !== text) {
        cells[1].textContent = text;
        tr.classList.remove("flash"); void tr.offsetWidth; tr.classList.add("flash");
      }
      cells[1].className = `num mono value ${v.state}`;
      cells[3].className = `state-text ${v.state}`;
      cells[3].textContent = v.state;
      cells[4].textContent = fmtUtc(v.time_ms, false);
      cells[4].title = fmtUtc(v.time_ms);
      tr.dataset.timeMs = String(v.time_ms);
    }
  }

  load();
  const onResize = () => draw();
  window.addEventListener("resize", onResize);
  const stops = [
    offLive,
    every(2000, () => { if (range !== null && parameter) loadPlot(); }),
    () => window.removeEventListener("resize", onResize),
  ];
  return () => stops.forEach((f) => f());
}
