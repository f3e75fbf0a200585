// Plan: per satellite, acquisitions, slews, downlinks and passes on one time axis, with "now".
import { api, clock, every, fmtUtc, h, s } from "../core.js";

const SPANS = [["3 h", 3], ["12 h", 12], ["24 h", 24]];
const KIND = { acquisition: "#f0883e", slew: "#a371f7", downlink: "#3fb950" };
const ROW = 50, LEFT = 86, TOP = 30;

export function mount(root) {
  let spanH = 12;
  let follow = true;
  let start = 0, end = 0;
  let data = null;
  let busy = false;
  const svgBox = h("div", { class: "timeline", id: "plan-timeline" });
  const info = h("div", { class: "muted", style: "font-size:12px;margin-top:6px" });
  const errorBox = h("div", { class: "error-box" });
  const bar = h("div", { class: "toolbar" });
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Plan"),
      h("span", { class: "sub" }, "acquisitions, slews, downlinks and passes per satellite")),
    bar, errorBox, h("div", { class: "panel" }, svgBox, info,
      h("div", { class: "legend" },
        h("span", {}, h("i", { style: `background:${KIND.acquisition}` }), "acquisition"),
        h("span", {}, h("i", { style: `background:${KIND.slew}` }), "slew"),
        h("span", {}, h("i", { style: `background:${KIND.downlink}` }), "downlink"),
        h("span", {}, h("i", { style: "background:#4aa3ff" }), "pass (scheduled contact)"),
        h("span", {}, h("i", { style: "background:#56606e" }), "pass (dropped / unplanned)"),
        h("span", {}, h("i", { style: "background:#f85149" }), "now"))));

  function renderBar() {
    bar.replaceChildren(h("span", { class: "label" }, "Span"),
      ...SPANS.map(([label, hours]) => h("button", { class: hours === spanH ? "active" : "", "data-span": String(hours),
        onclick: () => { spanH = hours; setWindow(follow ? null : start + (end - start) / 2); } }, label)),
      h("span", { class: "label", style: "margin-left:12px" }, "Move"),
      h("button", { onclick: () => { follow = false; setWindow(start + (end - start) / 2 - spanH * 1800e3); } }, "\u25c0 earlier"),
      h("button", { class: follow ? "active" : "", "data-follow": "1", onclick: () => { follow = true; setWindow(null); } }, "now"),
      h("button", { onclick: () => { follow = false; setWindow(start + (end - start) / 2 + spanH * 1800e3); } }, "later \u25b6"));
  }

  function setWindow(centreMs) {
    const span = spanH * 3600e3;
    if (centreMs === null) {
      start = clock.now() - 0.2 * span;
    } else {
      start = centreMs - span / 2;
    }
    end = start + span;
    renderBar();
    load();
  }

  async function load() {
    if (busy) return;
    busy = true;
    try {
      data = await api(`/api/plan?start=${encodeURIComponent(new Date(start).toISOString())}&end=${encodeURIComponent(new Date(end).toISOString())}`);
      errorBox.textContent = data.error || "";
      info.textContent = data.source ? `Plan: ${data.source}${data.loaded ? "" : " (not written yet)"}` : "No plan given (--plan): passes only.";
    } catch (e) {
      errorBox.textContent = e.message;
    } finally {
      busy = false;
    }
    draw();
  }

  function draw() {
    if (!data) return;
    const W = Math.max(600, svgBox.clientWidth || 1000);
    const sats = [...new Set([...data.passes.map((p) => p.satellite), ...data.activities.map((a) => a.satellite)])]
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const H = TOP + Math.max(1, sats.length) * ROW + 6;
    const X = (ms) => LEFT + (ms - start) / (end - start) * (W - LEFT - 8);
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H });
    const clip = s("clipPath", { id: "plan-clip" }, s("rect", { x: LEFT, y: 0, width: W - LEFT - 8, height: H }));
    svg.append(s("defs", {}, clip));
    // time axis
    const spanS = (end - start) / 1000;
    const step = (spanS <= 4 * 3600 ? 1800 : spanS <= 13 * 3600 ? 3600 : 7200) * 1000;
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
      svg.append(s("line", { x1: X(t), x2: X(t), y1: TOP - 6, y2: H, stroke: "#243040", "stroke-width": 1 }));
      const label = fmtUtc(t);
      svg.append(s("text", { x: X(t), y: TOP - 12, "text-anchor": "middle", class: "tick" },
        label.slice(11, 16) === "00:00" ? label.slice(5, 10) : label.slice(11, 16)));
    }
    const body = s("g", { "clip-path": "url(#plan-clip)" });
    sats.forEach((sat, i) => {
      const y = TOP + i * ROW;
      svg.append(s("rect", { x: 0, y, width: W, height: ROW, fill: i % 2 ? "#141b23" : "#111820" }));
      svg.append(s("text", { x: 8, y: y + ROW / 2 + 4 }, sat));
      for (const p of data.passes.filter((x) => x.satellite === sat)) {
        const ok = p.status === "scheduled";
        const r = s("rect", { x: X(p.aos_s * 1000), y: y + 34, width: Math.max(2, X(p.los_s * 1000) - X(p.aos_s * 1000)), height: 11,
          fill: ok ? "#4aa3ff" : "#56606e", rx: 2, class: "pass" },
        s("title", {}, `${sat} over ${p.station}: ${fmtUtc(p.aos_s * 1000)} .. ${fmtUtc(p.los_s * 1000, false)} UTC, `
          + (ok ? `antenna ${p.antenna}` : `${p.status}${p.reason ? " (" + p.reason.replace(/_/g, " ") + ")" : ""}`)));
        body.append(r);
        if (X(p.los_s * 1000) - X(p.aos_s * 1000) > 40) {
          body.append(s("text", { x: X(p.aos_s * 1000) + 3, y: y + 43, "font-size": 9, fill: "#0e1318", "pointer-events": "none" }, p.station));
        }
      }
      for (const a of data.activities.filter((x) => x.satellite === sat)) {
        const lane = a.kind === "downlink" ? 19 : 4;
        body.append(s("rect", { x: X(a.start_s * 1000), y: y + lane, width: Math.max(2, X(a.end_s * 1000) - X(a.start_s * 1000)),
          height: a.kind === "slew" ? 8 : 12, fill: KIND[a.kind], rx: 1, class: a.kind, opacity: a.kind === "slew" ? 0.85 : 1 },
        s("title", {}, `${a.kind}${a.label ? " " + a.label : ""}: ${fmtUtc(a.start_s * 1000)} .. ${fmtUtc(a.end_s * 1000, false)} UTC`)));
      }
    });
    svg.append(body);
    const now = clock.now();
    const nx = X(now);
    const nowLine = s("g", { id: "now-line", visibility: now >= start && now <= end ? "visible" : "hidden" },
      s("line", { x1: nx, x2: nx, y1: TOP - 6, y2: H, stroke: "#f85149", "stroke-width": 1.6 }),
      s("text", { x: nx + 4, y: TOP - 1, fill: "#f85149", "font-size": 11 }, `now ${fmtUtc(now, false)}`));
    svg.append(nowLine);
    svg.dataset.nowMs = String(Math.round(now));
    svgBox.replaceChildren(svg);
  }

  function tick() {
    if (follow) {
      const span = spanH * 3600e3;
      const want = clock.now() - 0.2 * span;
      if (Math.abs(want - start) > 0.05 * span) { setWindow(null); return; }
    }
    draw();
  }

  renderBar();
  setWindow(null);
  const onResize = () => draw();
  window.addEventListener("resize", onResize);
  const stops = [every(1000, tick), every(30000, load), () => window.removeEventListener("resize", onResize)];
  return () => stops.forEach((f) => f());
}
