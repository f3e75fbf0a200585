// Passes: the next passes per station with live countdowns, the contact plan's antenna for each,
// and the sky plot of the current (or next) pass with the station's mask.
import {
  api, chip, clock, every, fmtDeg, fmtDuration, fmtUtc, h, interp, interpAngle, onLive, parseUtc,
} from "../core.js";
import { placeSatellite, skyPlot } from "../sky.js";

const MAX_ROWS = 40;

export function mount(root, rest) {
  let stations = [];
  let passes = [];
  let decisions = new Map();
  let plannedBy = "";
  let selected = rest[0] || "all";
  let pinned = null;        // a pass chosen by a click, shown until it is over
  let shown = null;         // key of the pass in the sky plot
  let track = null;
  let svg = null;
  let error = "";
  let loading = null;

  const stationBar = h("div", { class: "stations" });
  const tbody = h("tbody");
  const table = h("table", { id: "passes-table" },
    h("thead", {}, h("tr", {}, ["Satellite", "Station", "AOS (UTC)", "LOS (UTC)", "Duration", "Max el",
      "Contact plan", "Countdown"].map((t, i) => h("th", { class: i >= 4 && i <= 5 ? "num" : "" }, t)))), tbody);
  const note = h("div", { class: "muted", style: "margin-top:8px;font-size:12px" });
  const skyTitle = h("div", { class: "sky-title", id: "sky-title" });
  const skyBox = h("div", { class: "sky-wrap", id: "sky" });
  const readout = h("div", { class: "sky-readout", id: "sky-readout" });
  const errorBox = h("div", { class: "error-box" });
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Passes"), h("span", { class: "sub" }, "next 24 h on the console's clock")),
    stationBar, errorBox,
    h("div", { class: "grid2" },
      h("div", { class: "panel" }, h("h2", {}, "Upcoming passes"), table, note),
      h("div", { class: "panel" }, h("h2", {}, "Sky plot", h("span", { class: "sub" }, "mask, track and the satellite now")),
        skyTitle, skyBox, readout,
        h("div", { class: "legend" }, h("span", {}, h("i", { style: "background:rgba(248,81,73,0.5)" }), "below the mask"),
          h("span", {}, h("i", { style: "background:#4aa3ff" }), "track"),
          h("span", {}, h("i", { style: "background:#e3b341" }), "satellite now")))));

  const key = (p) => `${p.satellite}|${p.station}|${p.aos_utc}`;

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      try {
        const [st, ps, cs] = await Promise.all([
          stations.length ? stations : api("/api/stations"), api("/api/passes"), api("/api/contacts")]);
        stations = st;
        passes = ps.map((p) => ({ ...p, aos: parseUtc(p.aos_utc), los: parseUtc(p.los_utc) }))
          .sort((a, b) => a.aos - b.aos);
        decisions = new Map(cs.contacts.map((c) => [key(c), c]));
        plannedBy = cs.planned_by;
        error = "";
      } catch (e) {
        error = e.message;
      }
      errorBox.textContent = error;
      renderStations();
      renderTable();
      loading = null;
    })();
    return loading;
  }

  function renderStations() {
    const names = ["all", ...stations.map((x) => x.name)];
    stationBar.replaceChildren(h("span", { class: "label muted" }, "Station"), ...names.map((n) => h("button", {
      class: n === selected ? "active" : "", "data-station": n,
      onclick: () => { selected = n; pinned = null; history.replaceState(null, "", n === "all" ? "/passes" : `/passes/${encodeURIComponent(n)}`); renderStations(); renderTable(); },
    }, n === "all" ? "All stations" : n)));
  }

  function visible() {
    const now = clock.now();
    return passes.filter((p) => p.los >= now && (selected === "all" || p.station === selected)).slice(0, MAX_ROWS);
  }

  function renderTable() {
    const rows = visible();
    tbody.replaceChildren(...rows.map((p) => {
      const d = decisions.get(key(p));
      const plan = !d ? chip("unplanned") : d.status === "scheduled" ? chip(`antenna ${d.antenna}`, "scheduled")
        : h("span", { title: d.reason.replace(/_/g, " ") }, chip(d.status));
      const tr = h("tr", { class: "clickable", dataset: { key: key(p) }, onclick: () => { pinned = key(p); tick(); } },
        h("td", {}, p.satellite), h("td", {}, p.station),
        h("td", { class: "mono", title: fmtUtc(p.aos) }, fmtUtc(p.aos, false)), h("td", { class: "mono" }, fmtUtc(p.los, false)),
        h("td", { class: "num mono" }, fmtDuration(p.duration_s)), h("td", { class: "num" }, fmtDeg(p.max_elevation_deg)),
        h("td", {}, plan),
        h("td", { class: "countdown", dataset: { aosMs: String(p.aos), losMs: String(p.los) } }));
      return tr;
    }));
    if (!rows.length) tbody.append(h("tr", {}, h("td", { colspan: 8, class: "empty" }, error ? "-" : "No pass in the next 24 h")));
    note.textContent = plannedBy ? `Contact plan: ${plannedBy}.` : "";
    tick();
  }

  function chooseSkyPass() {
    const now = clock.now();
    if (pinned) {
      const p = passes.find((x) => key(x) === pinned);
      if (p && p.los >= now) return p;
      pinned = null;
    }
    const candidates = passes.filter((p) => p.los >= now && (selected === "all" || p.station === selected));
    return candidates.find((p) => p.aos <= now) || candidates[0] || null;
  }

  async function showSky(p) {
    const k = p ? key(p) : null;
    if (k === shown) return;
    shown = k;
    track = null;
    const station = stations.find((x) => x.name === (p ? p.station : selected));
    svg = skyPlot(station || null, null);
    skyBox.replaceChildren(svg);
    if (!p) return;
    try {
      const t = await api(`/api/track?satellite=${encodeURIComponent(p.satellite)}&station=${encodeURIComponent(p.station)}`
                          + `&start=${encodeURIComponent(p.aos_utc)}&end=${encodeURIComponent(p.los_utc)}`);
      if (shown !== k) return;
      track = { ...t, time_ms: t.time_s.map((x) => x * 1000) };
      svg = skyPlot(station, track);
      skyBox.replaceChildren(svg);
    } catch (e) {
      errorBox.textContent = e.message;
    }
  }

  function tick() {
    const now = clock.now();
    for (const cell of tbody.querySelectorAll("td.countdown")) {
      const aos = Number(cell.dataset.aosMs), los = Number(cell.dataset.losMs);
      const inPass = aos <= now && now <= los;
      const secs = Math.floor(((inPass ? los : aos) - now) / 1000);
      cell.textContent = now > los ? "over" : `${inPass ? "LOS" : "AOS"} in ${fmtDuration(secs)}`;
      cell.classList.toggle("in-pass", inPass);
      cell.dataset.nowMs = String(Math.round(now));
      cell.dataset.seconds = String(secs);
      cell.parentElement.classList.toggle("current", inPass);
    }
    if (passes.length && tbody.querySelector("td.countdown") && visible().length
        && Number(tbody.querySelector("td.countdown").dataset.losMs) < now) renderTable();
    const p = chooseSkyPass();
    for (const tr of tbody.querySelectorAll("tr")) tr.classList.toggle("selected", !!p && tr.dataset.key === key(p));
    showSky(p);
    if (!p) {
      skyTitle.textContent = stations.length ? "No pass in the next 24 h" : "";
      readout.replaceChildren();
      return;
    }
    const inPass = p.aos <= now && now <= p.los;
    const d = decisions.get(key(p));
    skyTitle.replaceChildren(h("b", {}, p.satellite), ` over ${p.station} \u2014 `,
      h("span", { class: `countdown${inPass ? " in-pass" : ""}` }, `${inPass ? "LOS" : "AOS"} in ${fmtDuration(Math.floor(((inPass ? p.los : p.aos) - now) / 1000))}`));
    let az = NaN, el = NaN;
    if (track && inPass) {
      az = interpAngle(now, track.time_ms, track.azimuth_deg);
      if (az < 0) az += 360;
      el = interp(now, track.time_ms, track.elevation_deg);
    }
    if (svg) placeSatellite(svg, p.satellite, az, el);
    const antenna = !d ? "unplanned" : d.status === "scheduled" ? `antenna ${d.antenna}` : `${d.status} (${d.reason.replace(/_/g, " ")})`;
    readout.replaceChildren(
      h("div", { class: "k" }, "Azimuth"), h("div", { class: "k" }, "Elevation"), h("div", { class: "k" }, "Max el"), h("div", { class: "k" }, "Contact plan"),
      h("div", { class: "v", id: "sky-az" }, inPass ? fmtDeg(az, 1) : fmtDeg(p.aos_azimuth_deg, 1)),
      h("div", { class: "v", id: "sky-el" }, inPass ? fmtDeg(el, 1) : "\u2014"),
      h("div", { class: "v" }, fmtDeg(p.max_elevation_deg, 1)),
      h("div", { class: "v", style: "font-size:13px" }, antenna));
  }

  load();
  const stops = [
    every(250, tick),
    every(60000, load),
    onLive("pass", () => load()),
  ];
  return () => stops.forEach((f) => f());
}
