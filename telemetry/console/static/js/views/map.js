// Map: land (GSHHS), night side, stations' visibility contours, ground tracks one orbit back and
// ahead, and every satellite where it is now on the console's clock. Equirectangular projection.
import { api, clock, every, fmtDeg, h, interp, interpAngle, parseUtc } from "../core.js";

const COLOURS = ["#4aa3ff", "#e3b341", "#3fb950", "#f778ba", "#a371f7", "#39c5cf", "#f0883e", "#d2d6dc"];
let landCache = null;

export function mount(root) {
  const canvas = h("canvas", { id: "map-canvas" });
  const tbody = h("tbody");
  const info = h("div", { class: "muted", style: "font-size:12px;margin-top:8px" });
  const errorBox = h("div", { class: "error-box" });
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Map"),
      h("span", { class: "sub" }, "ground tracks one orbit back (dashed) and ahead, visibility at each station's minimum elevation and mask, night side")),
    errorBox,
    h("div", { class: "map-layout" },
      h("div", { class: "panel map-wrap" }, canvas),
      h("div", { class: "panel" }, h("h2", {}, "Satellites now"),
        h("table", { id: "map-table" }, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Sat."), h("th", { class: "num" }, "Lat"),
          h("th", { class: "num" }, "Lon"), h("th", {}, "Contact"))), tbody), info)));

  let layers = null;
  let passes = [];
  let base = null;       // offscreen canvas: ocean, land, graticule
  let size = [0, 0];

  async function loadLand() {
    if (!landCache) landCache = await api("/api/land?resolution=low");
    base = null;
  }

  async function loadLayers() {
    try {
      layers = await api("/api/map");
      errorBox.textContent = "";
    } catch (e) {
      errorBox.textContent = e.message;
    }
  }

  async function loadPasses() {
    try {
      passes = (await api("/api/passes")).map((p) => ({ ...p, aos: parseUtc(p.aos_utc), los: parseUtc(p.los_utc) }));
    } catch (e) { /* the map still draws */ }
  }

  const W = () => size[0], H = () => size[1];
  const px = (lon) => (lon + 180) / 360 * W();
  const py = (lat) => (90 - lat) / 180 * H();

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(400, canvas.parentElement.clientWidth - 24);
    const hgt = Math.min(w / 2, window.innerHeight - 150);
    const width = Math.round(Math.min(w, hgt * 2));
    if (width === size[0]) return;
    size = [width, width / 2];
    canvas.width = Math.round(size[0] * dpr);
    canvas.height = Math.round(size[1] * dpr);
    canvas.style.width = `${size[0]}px`;
    canvas.style.height = `${size[1]}px`;
    base = null;
  }

  function drawBase() {
    const dpr = window.devicePixelRatio || 1;
    base = document.createElement("canvas");
    base.width = canvas.width;
    base.height = canvas.height;
    const g = base.getContext("2d");
    g.scale(dpr, dpr);
    g.fillStyle = "#0a1d31";
    g.fillRect(0, 0, W(), H());
    if (landCache) {
      for (const ring of landCache.rings) {
        const pts = ring.points;
        g.beginPath();
        for (let i = 0; i < pts.length; i += 2) {
          const x = px(pts[i]), y = py(pts[i + 1]);
          if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
        }
        g.closePath();
        g.fillStyle = ring.level === 2 ? "#0a1d31" : "#26352f";
        g.fill();
        g.strokeStyle = ring.level === 2 ? "#1d3a55" : "#3d5247";
        g.lineWidth = 0.6;
        g.stroke();
      }
    }
    g.strokeStyle = "rgba(140,160,190,0.16)";
    g.lineWidth = 0.7;
    g.font = "10px DejaVu Sans, sans-serif";
    g.fillStyle = "rgba(160,175,195,0.6)";
    for (let lon = -150; lon <= 150; lon += 30) {
      g.beginPath(); g.moveTo(px(lon), 0); g.lineTo(px(lon), H()); g.stroke();
      g.fillText(`${Math.abs(lon)}\u00b0${lon < 0 ? "W" : lon > 0 ? "E" : ""}`, px(lon) + 2, H() - 4);
    }
    for (let lat = -60; lat <= 60; lat += 30) {
      g.beginPath(); g.moveTo(0, py(lat)); g.lineTo(W(), py(lat)); g.stroke();
      g.fillText(`${Math.abs(lat)}\u00b0${lat < 0 ? "S" : lat > 0 ? "N" : ""}`, 3, py(lat) - 3);
    }
  }

  /** Unwrapped longitudes of a ring so that consecutive points differ by less than 180 degrees. */
  function unwrap(lons) {
    const out = [lons[0]];
    for (let i = 1; i < lons.length; i++) {
      let d = lons[i] - lons[i - 1];
      if (d > 180) d -= 360; else if (d < -180) d += 360;
      out.push(out[i - 1] + d);
    }
    return out;
  }

  function contourPath(g, lats, lons, poleLat) {
    const u = unwrap(lons);
    const wraps = Math.abs(u[u.length - 1] - u[0]) > 180;     // the contour holds a pole
    for (const shift of [-360, 0, 360]) {
      g.beginPath();
      for (let i = 0; i < u.length; i++) {
        const x = px(u[i] + shift), y = py(lats[i]);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      }
      if (wraps) {
        g.stroke();
        g.lineTo(px(u[u.length - 1] + shift), py(poleLat));
        g.lineTo(px(u[0] + shift), py(poleLat));
        g.closePath();
        g.fill();
      } else {
        g.closePath();
        g.fill();
        g.stroke();
      }
    }
  }

  function polyline(g, lons, lats) {
    g.beginPath();
    for (let i = 0; i < lons.length; i++) {
      const x = px(lons[i]), y = py(lats[i]);
      if (i === 0 || Math.abs(lons[i] - lons[i - 1]) > 180) g.moveTo(x, y); else g.lineTo(x, y);
    }
    g.stroke();
  }

  function draw() {
    resize();
    if (!W()) return;
    if (!base) drawBase();
    const dpr = window.devicePixelRatio || 1;
    const g = canvas.getContext("2d");
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(base, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!layers) return;
    const now = clock.now();
    // night side
    const t = layers.terminator;
    g.beginPath();
    t.longitude_deg.forEach((lon, i) => { const x = px(lon), y = py(t.latitude_deg[i]); if (i === 0) g.moveTo(x, y); else g.lineTo(x, y); });
    const pole = t.dark_pole === "south" ? -90 : 90;
    g.lineTo(px(180), py(pole)); g.lineTo(px(-180), py(pole)); g.closePath();
    g.fillStyle = "rgba(0,3,12,0.5)";
    g.fill();
    g.strokeStyle = "rgba(227,179,65,0.45)";
    g.lineWidth = 1;
    polyline(g, t.longitude_deg, t.latitude_deg);
    g.fillStyle = "#e3b341";
    g.beginPath(); g.arc(px(t.subsolar_longitude_deg), py(t.subsolar_latitude_deg), 4, 0, 2 * Math.PI); g.fill();
    g.font = "10px DejaVu Sans, sans-serif";
    g.fillText("Sun", px(t.subsolar_longitude_deg) + 6, py(t.subsolar_latitude_deg) + 4);
    // stations and their visibility
    g.font = "11px DejaVu Sans, sans-serif";
    for (const st of layers.stations) {
      g.fillStyle = "rgba(63,185,80,0.10)";
      g.strokeStyle = "rgba(63,185,80,0.75)";
      g.lineWidth = 1;
      contourPath(g, st.contour_latitude_deg, st.contour_longitude_deg, st.latitude_deg >= 0 ? 90 : -90);
      const x = px(st.longitude_deg), y = py(st.latitude_deg);
      g.fillStyle = "#3fb950";
      g.beginPath(); g.moveTo(x, y - 5); g.lineTo(x + 4.5, y + 3.5); g.lineTo(x - 4.5, y + 3.5); g.closePath(); g.fill();
    }
    // a label per station cluster (Taiwan's three stations are within a few pixels)
    const placed = [];
    for (const st of layers.stations) {
      const x = px(st.longitude_deg), y = py(st.latitude_deg);
      const k = placed.filter(([a, b]) => Math.abs(a - x) < 40 && Math.abs(b - y) < 30).length;
      placed.push([x, y]);
      g.fillStyle = "#9be9a8";
      g.font = "11px DejaVu Sans, sans-serif";
      g.fillText(st.name, x + 7, y + 4 + 14 * k);
    }
    // tracks and satellites
    const rows = [];
    layers.satellites.forEach((sat, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const ms = sat.time_s.map((x) => x * 1000);
      const k = ms.findIndex((x) => x > now);
      const cut = k < 0 ? ms.length : k;
      g.lineWidth = 1.3;
      g.strokeStyle = colour;
      g.globalAlpha = 0.45;
      g.setLineDash([4, 4]);
      polyline(g, sat.longitude_deg.slice(0, cut + 1), sat.latitude_deg.slice(0, cut + 1));
      g.setLineDash([]);
      g.globalAlpha = 0.95;
      polyline(g, sat.longitude_deg.slice(Math.max(0, cut - 1)), sat.latitude_deg.slice(Math.max(0, cut - 1)));
      g.globalAlpha = 1;
      const lat = interp(now, ms, sat.latitude_deg);
      const lon = interpAngle(now, ms, sat.longitude_deg);
      rows.push({ name: sat.name, colour, lat, lon });
      if (Number.isFinite(lat)) {
        const x = px(lon), y = py(lat);
        g.fillStyle = colour;
        g.strokeStyle = "#0e1318";
        g.lineWidth = 1.5;
        g.beginPath(); g.arc(x, y, 5.5, 0, 2 * Math.PI); g.fill(); g.stroke();
        g.fillStyle = "#ffffff";
        g.font = "bold 11px DejaVu Sans, sans-serif";
        const wide = g.measureText(sat.name).width;       // at the right edge: the name on the left
        g.fillText(sat.name, x + 8 + wide > W() ? x - 8 - wide : x + 8, y - 6);
      }
    });
    tbody.replaceChildren(...rows.map((r) => {
      const inView = passes.filter((p) => p.satellite === r.name && p.aos <= now && now <= p.los).map((p) => p.station);
      return h("tr", { dataset: { satellite: r.name } },
        h("td", {}, h("span", { class: "dot", style: `background:${r.colour}` })), h("td", {}, r.name),
        h("td", { class: "num mono" }, fmtDeg(r.lat, 2)), h("td", { class: "num mono" }, fmtDeg(r.lon, 2)),
        h("td", { class: inView.length ? "state-text nominal" : "muted" }, inView.length ? inView.join(", ") : "-"));
    }));
    info.textContent = `Sub-solar point ${fmtDeg(t.subsolar_latitude_deg, 1)}, ${fmtDeg(t.subsolar_longitude_deg, 1)}. `
      + `Tracks from ${new Date(layers.time_s * 1000).toISOString().slice(11, 16)}Z \u00b1 one period.`;
    canvas.dataset.drawnMs = String(Math.round(now));
  }

  function stale() {
    if (!layers) return true;
    return Math.abs(clock.now() - layers.time_s * 1000) > 5 * 60 * 1000;
  }

  (async () => {
    await Promise.all([loadLand().catch((e) => { errorBox.textContent = e.message; }), loadLayers(), loadPasses()]);
    draw();
  })();
  const onResize = () => { base = null; size = [0, 0]; draw(); };
  window.addEventListener("resize", onResize);
  const stops = [
    every(500, draw),
    every(2000, () => { if (stale()) loadLayers(); }),
    every(30000, loadPasses),
    () => window.removeEventListener("resize", onResize),
  ];
  return () => stops.forEach((f) => f());
}
