// Alarms (ISA-18.2): open alarms, unacknowledged first, until acknowledged even after the value
// returned to normal; acknowledge with a comment, shelve for a while; every action with who and when.
import { api, canOperate, chip, dialog, every, fmtUtc, fmtValue, h, onLive, parseUtc } from "../core.js";

const SHELVE = [["15 min", 900], ["1 h", 3600], ["4 h", 14400], ["8 h", 28800], ["24 h", 86400]];

function detail(text) {
  const m = /^until ([0-9.]+)$/.exec(text || "");
  return m ? `until ${fmtUtc(Number(m[1]) * 1000)} UTC` : text || "";
}

export function mount(root) {
  let which = "open";
  const tbody = h("tbody");
  const actionsBody = h("tbody");
  const errorBox = h("div", { class: "error-box" });
  const tabs = h("div", { class: "toolbar" });
  const counts = h("span", { class: "sub", id: "alarm-counts" });
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Alarms"), counts),
    tabs, errorBox,
    h("div", { class: "panel" }, h("table", { id: "alarms-table" }, h("thead", {}, h("tr", {},
      ["#", "Severity", "State", "Spacecraft", "Parameter", "Reason", "Value", "Raised (UTC)", "Acknowledged", "Shelved", ""]
        .map((t) => h("th", {}, t)))), tbody)),
    h("div", { class: "panel", style: "margin-top:14px" }, h("h2", {}, "Operator actions", h("span", { class: "sub" }, "archived with who and when")),
      h("table", { id: "actions-table" }, h("thead", {}, h("tr", {},
        ["Time (UTC)", "Operator", "Action", "Alarm", "Comment", "Detail"].map((t) => h("th", {}, t)))), actionsBody)));

  function renderTabs() {
    tabs.replaceChildren(...[["open", "Open"], ["all", "All"]].map(([k, label]) => h("button", {
      class: k === which ? "active" : "", "data-filter": k, onclick: () => { which = k; renderTabs(); load(); } }, label)),
    h("span", { class: "muted", style: "margin-left:12px" },
      canOperate() ? "" : "Acknowledging and shelving need an operator's login."));
  }

  function acknowledge(a) {
    const comment = h("textarea", { id: "ack-comment", placeholder: "what you saw, what you did" });
    dialog(`Acknowledge alarm #${a.id}: ${a.spacecraft} ${a.parameter}`, h("div", {},
      h("div", { class: "muted" }, `${a.severity_name} \u00b7 ${a.reason || ""} \u00b7 raised ${a.raised_utc}`),
      h("label", { for: "ack-comment" }, "Comment (archived with your name)"), comment), "Acknowledge",
    async () => {
      await api(`/api/alarms/${a.id}/acknowledge`, { method: "POST", body: { comment: comment.value } });
      await load();
    });
  }

  function shelve(a) {
    const duration = h("select", { id: "shelve-duration" }, ...SHELVE.map(([label, secs]) => h("option", { value: String(secs) }, label)));
    const comment = h("textarea", { id: "shelve-comment", placeholder: "why" });
    dialog(`Shelve alarm #${a.id}: ${a.spacecraft} ${a.parameter}`, h("div", {},
      h("div", { class: "muted" }, "A shelved alarm is hidden from the indicator until the shelf expires."),
      h("label", { for: "shelve-duration" }, "For"), duration,
      h("label", { for: "shelve-comment" }, "Comment (archived with your name)"), comment), "Shelve",
    async () => {
      await api(`/api/alarms/${a.id}/shelve`, { method: "POST", body: { duration_s: Number(duration.value), comment: comment.value } });
      await load();
    });
  }

  async function load() {
    try {
      const [rows, acts] = await Promise.all([api(`/api/alarms?state=${which}`), api("/api/actions?limit=50")]);
      errorBox.textContent = "";
      const severities = ["nominal", "watch", "warning", "distress", "critical"];
      const unack = rows.filter((a) => a.state.endsWith("_unacknowledged")).length;
      counts.textContent = `${rows.length} ${which === "open" ? "open" : "in all"}, ${unack} unacknowledged`;
      tbody.replaceChildren(...rows.map((a) => {
        a.severity_name = severities[a.severity] || String(a.severity);
        const closed = a.state === "closed";
        const buttons = h("td", { style: "white-space:nowrap" },
          a.acknowledged_utc ? null : h("button", { disabled: !canOperate(), "data-action": "acknowledge", onclick: () => acknowledge(a),
            title: canOperate() ? "" : "operators only" }, "Acknowledge"), " ",
          closed ? null : h("button", { disabled: !canOperate(), "data-action": "shelve", onclick: () => shelve(a),
            title: canOperate() ? "" : "operators only" }, "Shelve"));
        return h("tr", { class: a.state.endsWith("_unacknowledged") ? "unacknowledged" : "", dataset: { alarmId: String(a.id), state: a.state } },
          h("td", { class: "mono" }, String(a.id)),
          h("td", {}, chip(a.severity_name), a.max_severity > a.severity ? h("span", { class: "muted", title: "highest severity of this alarm" }, ` max ${severities[a.max_severity]}`) : null),
          h("td", { class: "state" }, a.state.replace(/_/g, " "), h("div", { class: "muted", style: "font-size:12px" }, a.condition === "active" ? "condition active" : "returned to normal")),
          h("td", {}, a.spacecraft), h("td", {}, a.parameter), h("td", {}, a.reason || ""),
          h("td", { class: "num mono" }, fmtValue(a.value)),
          h("td", { class: "mono" }, fmtUtc(parseUtc(a.raised_utc))),
          h("td", {}, a.acknowledged_utc ? h("div", {}, h("b", {}, a.operator), " ", h("span", { class: "mono muted" }, fmtUtc(parseUtc(a.acknowledged_utc))),
            a.comment ? h("div", { class: "muted" }, `\u201c${a.comment}\u201d`) : null) : h("span", { class: "muted" }, "-")),
          h("td", {}, a.shelved_until_utc ? h("div", {}, `until ${fmtUtc(parseUtc(a.shelved_until_utc))}`, h("div", { class: "muted" }, `by ${a.shelved_by}`)) : h("span", { class: "muted" }, "-")),
          buttons);
      }));
      if (!rows.length) tbody.append(h("tr", {}, h("td", { colspan: 11, class: "empty" }, which === "open" ? "No open alarm" : "No alarm")));
      actionsBody.replaceChildren(...acts.map((x) => h("tr", {},
        h("td", { class: "mono" }, fmtUtc(parseUtc(x.time_utc))), h("td", {}, x.operator), h("td", {}, x.action),
        h("td", { class: "mono" }, x.alarm_id === null ? "-" : `#${x.alarm_id}`), h("td", {}, x.comment || ""),
        h("td", { class: "muted" }, detail(x.detail)))));
      if (!acts.length) actionsBody.append(h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No operator action yet")));
    } catch (e) {
      errorBox.textContent = e.message;
    }
  }

  renderTabs();
  load();
  let queued = false;
  const stops = [
    onLive("alarm", () => { if (!queued) { queued = true; setTimeout(() => { queued = false; load(); }, 150); } }),
    every(15000, load),
  ];
  return () => stops.forEach((f) => f());
}
