// Links: per telemetry source, connected or silent, packet rate, counts, CRC errors, gaps,
// quarantine; and the platform's own state.
import { api, chip, every, fmtUtc, h, on, onLive, parseUtc, refreshStatus } from "../core.js";

export function mount(root) {
  const links = new Map();
  const tbody = h("tbody");
  const platformBox = h("div", { id: "platform-state" });
  const errorBox = h("div", { class: "error-box" });
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Links"), h("span", { class: "sub" }, "telemetry sources as the platform hears them")),
    errorBox,
    h("div", { class: "panel" }, h("table", { id: "links-table" }, h("thead", {}, h("tr", {},
      ["Source", "Spacecraft", "Status", "Last heard (UTC)", "Rate", "Packets", "Messages", "Missing", "Recovered",
       "CRC errors", "Quarantined"].map((t, i) => h("th", { class: i >= 4 ? "num" : "" }, t)))), tbody)),
    h("div", { class: "panel", style: "margin-top:14px" }, h("h2", {}, "Platform"), platformBox));

  function render() {
    const rows = [...links.values()].sort((a, b) => (a.spacecraft || "").localeCompare(b.spacecraft || "", undefined, { numeric: true })
      || a.source.localeCompare(b.source));
    tbody.replaceChildren(...rows.map((l) => h("tr", { dataset: { source: l.source, status: l.status } },
      h("td", { class: "mono", title: l.source }, l.source.length > 34 ? l.source.slice(0, 32) + "\u2026" : l.source),
      h("td", {}, l.spacecraft || ""),
      h("td", {}, chip(l.status), l.status === "silent" && l.silent_s !== null ? h("span", { class: "muted" }, ` ${Math.round(l.silent_s)} s`) : null),
      h("td", { class: "mono" }, l.last_heard_utc ? fmtUtc(parseUtc(l.last_heard_utc)) : "-"),
      h("td", { class: "num mono" }, l.rate_per_s === undefined ? "-" : `${l.rate_per_s.toFixed(1)}/s`),
      h("td", { class: "num mono" }, String(l.packets ?? "-")),
      h("td", { class: "num mono" }, String(l.messages ?? "-")),
      h("td", { class: `num mono${l.missing_messages ? " state-text warning" : ""}` }, String(l.missing_messages ?? "-")),
      h("td", { class: "num mono" }, String(l.recovered_packets ?? "-")),
      h("td", { class: `num mono${l.crc_errors ? " state-text warning" : ""}` }, String(l.crc_errors ?? "-")),
      h("td", { class: `num mono${l.quarantined ? " state-text warning" : ""}` }, String(l.quarantined ?? "-")))));
    if (!rows.length) tbody.append(h("tr", {}, h("td", { colspan: 11, class: "empty" }, "No source heard yet")));
  }

  function showStatus(st) {
    const p = st.platform;
    platformBox.replaceChildren(...[
      h("div", {}, p ? `Listening on ${p.listening}` : "Not listening: showing an archive written elsewhere",
        p && p.degraded ? h("span", { class: "state-text critical" }, ` \u2014 archive cannot be written: ${p.degraded}`) : null,
        p && p.error ? h("span", { class: "state-text critical" }, ` \u2014 stopped: ${p.error}`) : null),
      h("div", { class: "muted" }, `Archive ${st.archive}: ${st.packets_archived} packets archived; spacecraft ${st.spacecraft.join(", ") || "none yet"}`),
      st.follower_error ? h("div", { class: "state-text warning" }, `Live feed: ${st.follower_error}`) : null].filter(Boolean));
  }

  async function load() {
    try {
      for (const l of await api("/api/links")) links.set(l.source, l);
      errorBox.textContent = "";
    } catch (e) {
      errorBox.textContent = e.message;
    }
    render();
  }

  load();
  refreshStatus().then(showStatus).catch(() => {});
  const stops = [
    onLive("link", (m) => { links.set(m.source, m); render(); }),
    on("status", showStatus),
    every(10000, load),
  ];
  return () => stops.forEach((f) => f());
}
