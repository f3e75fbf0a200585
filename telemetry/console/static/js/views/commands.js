// Commands: send a command (operators), release a critical one (a supervisor other than its
// submitter: the second person), the queue and the history with its verification stages.
import { api, canOperate, chip, every, fmtUtc, h, parseUtc, session } from "../core.js";

const STAGE_CLASS = { OK: "nominal", PENDING: "watch", TIMEOUT: "warning", "-": "" };

export function mount(root) {
  let dictionary = [];
  let spacecraft = [];
  const errorBox = h("div", { class: "error-box", id: "command-error" });
  const okBox = h("div", { class: "muted", id: "command-result" });
  const scIn = h("select", { id: "command-spacecraft" });
  const nameIn = h("select", { id: "command-name" });
  const argsBox = h("div", { class: "command-args", id: "command-args" });
  const about = h("div", { class: "muted small", id: "command-about" });
  const whenIn = h("input", { id: "command-release", placeholder: "now, or e.g. 2026-11-26T03:00:00Z" });
  const send = h("button", { class: "primary", id: "command-submit", type: "submit" }, "Submit");
  const counts = h("span", { class: "sub", id: "command-counts" });
  const queueBody = h("tbody");
  const historyBody = h("tbody");
  const form = h("form", { class: "panel command-form" }, h("h2", {}, "Send a command"),
    h("label", { for: "command-spacecraft" }, "Spacecraft"), scIn,
    h("label", { for: "command-name" }, "Command"), nameIn, about, argsBox,
    h("label", { for: "command-release" }, "Release time (UTC; empty: on reception)"), whenIn,
    h("div", { class: "toolbar", style: "margin-top:10px" }, send), errorBox, okBox);
  root.append(
    h("div", { class: "view-title" }, h("h1", {}, "Commands"), counts),
    h("div", { class: "cmd-layout" }, form,
      h("div", {},
        h("div", { class: "panel" }, h("h2", {}, "Waiting", h("span", { class: "sub" }, "critical commands wait for a second person")),
          h("table", { id: "queue-table" }, h("thead", {}, h("tr", {}, ["#", "Spacecraft", "Command", "State", "Submitted by", "Release (UTC)", ""]
            .map((t) => h("th", {}, t)))), queueBody)),
        h("div", { class: "panel", style: "margin-top:14px" }, h("h2", {}, "History", h("span", { class: "sub" }, "newest first; verification stages from PUS 1 reports")),
          h("table", { id: "history-table" }, h("thead", {}, h("tr", {}, ["#", "Spacecraft", "Command", "Arguments", "Submitted", "By / released",
            "Uplinked", "Accept", "Start", "Complete"].map((t) => h("th", {}, t)))), historyBody)))));

  function renderArgs() {
    const d = dictionary.find((c) => c.name === nameIn.value);
    about.replaceChildren(d ? d.description : "", d && d.critical ? h("span", {}, " ", chip("critical", "critical")) : "");
    argsBox.replaceChildren(...(d ? d.arguments : []).filter((a) => a.type !== "telecommand").map((a) => {
      const input = a.labels
        ? h("select", { "data-arg": a.name, "data-type": a.type }, ...a.labels.map((l) => h("option", { value: l }, l)))
        : h("input", { "data-arg": a.name, "data-type": a.type, placeholder: a.minimum === null ? a.type : `${a.minimum} .. ${a.maximum}` });
      return h("div", {}, h("label", {}, `${a.name}${a.unit ? ` [${a.unit}]` : ""}`), input);
    }));
  }

  function values() {
    const out = {};
    for (const el of argsBox.querySelectorAll("[data-arg]")) {
      const t = el.dataset.type;
      const text = el.value.trim();
      out[el.dataset.arg] = ["uint", "int", "float"].includes(t) && text !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
    }
    return out;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    errorBox.textContent = okBox.textContent = "";
    send.disabled = true;
    try {
      const r = await api("/api/commands", { method: "POST", body: { spacecraft: scIn.value, name: nameIn.value,
        arguments: values(), release_utc: whenIn.value.trim() || null } });
      okBox.textContent = `command #${r.id}: ${r.state}${r.state === "queued" ? " (waits for a supervisor's release)" : ""}`;
      await load();
    } catch (err) {
      errorBox.textContent = err.message;
    } finally {
      send.disabled = !canOperate();
    }
  });

  async function release(id) {
    errorBox.textContent = "";
    try {
      await api(`/api/commands/${id}/release`, { method: "POST", body: {} });
      await load();
    } catch (err) {
      errorBox.textContent = err.message;
    }
  }

  function stage(text) {
    const cls = text.startsWith("NOK") ? "critical" : STAGE_CLASS[text] ?? "";
    return text === "-" ? h("span", { class: "muted" }, "-") : chip(text, cls);
  }

  async function load() {
    try {
      const doc = await api("/api/commands");
      counts.textContent = Object.entries(doc.counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(", ") || "no command yet";
      queueBody.replaceChildren(...doc.queue.map((q) => {
        const mayRelease = session.role === "supervisor" && q.submitted_by !== session.user;
        return h("tr", { dataset: { commandId: String(q.id), state: q.state } },
          h("td", { class: "mono" }, String(q.id)), h("td", {}, q.spacecraft), h("td", {}, q.name),
          h("td", {}, chip(q.state, q.state === "queued" ? "warning" : "scheduled"), q.significance === "critical" ? h("span", { class: "muted" }, " critical") : null),
          h("td", {}, q.submitted_by), h("td", { class: "mono" }, q.release_utc ? fmtUtc(parseUtc(q.release_utc)) : "-"),
          h("td", {}, q.state === "queued" ? h("button", { "data-action": "release", disabled: !mayRelease, onclick: () => release(q.id),
            title: mayRelease ? "" : "a supervisor other than the submitter" }, "Release") : null));
      }));
      if (!doc.queue.length) queueBody.append(h("tr", {}, h("td", { colspan: 7, class: "empty" }, "Nothing waiting")));
      historyBody.replaceChildren(...doc.history.map((r) => h("tr", { dataset: { commandId: String(r.id) } },
        h("td", { class: "mono" }, String(r.id)), h("td", {}, r.spacecraft), h("td", {}, r.name),
        h("td", { class: "mono small", title: r.arguments }, r.arguments === "{}" ? "" : r.arguments.length > 24 ? r.arguments.slice(0, 22) + "\u2026" : r.arguments),
        h("td", { class: "mono", title: fmtUtc(parseUtc(r.submitted_utc)) }, fmtUtc(parseUtc(r.submitted_utc), false)),
        h("td", { title: "submitted by / released by" },
          !r.released_by || r.released_by === r.submitted_by ? r.submitted_by : `${r.submitted_by} / ${r.released_by}`),
        h("td", { title: r.uplinked_utc ? fmtUtc(parseUtc(r.uplinked_utc)) : "" },
          r.uplinked_utc ? `${fmtUtc(parseUtc(r.uplinked_utc), false).slice(0, 5)} ${r.station || ""}` : "-"),
        h("td", {}, stage(r.acceptance)), h("td", {}, stage(r.start)), h("td", {}, stage(r.completion)))));
      if (!doc.history.length) historyBody.append(h("tr", {}, h("td", { colspan: 10, class: "empty" }, "No command yet")));
    } catch (err) {
      errorBox.textContent = err.message;
    }
  }

  async function start() {
    try {
      const [d, st] = await Promise.all([api("/api/commands/dictionary"), api("/api/status")]);
      dictionary = d.commands;
      spacecraft = st.spacecraft.length ? st.spacecraft : ["FS8-1"];
      scIn.replaceChildren(...spacecraft.map((s) => h("option", { value: s }, s)));
      nameIn.replaceChildren(...dictionary.map((c) => h("option", { value: c.name }, c.critical ? `${c.name} (critical)` : c.name)));
      renderArgs();
    } catch (err) {
      errorBox.textContent = err.message;
    }
    send.disabled = !canOperate();
    if (!canOperate()) okBox.textContent = "Sending commands needs an operator's login.";
    await load();
  }
  nameIn.addEventListener("change", renderArgs);
  start();
  return every(3000, load);
}
