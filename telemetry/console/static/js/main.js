// The page: session, header (clock, global alarm indicator, user), router between the views.
import {
  api, clock, connectLive, disconnectLive, emit, every, fmtUtc, h, on, onLive, refreshStatus, session,
} from "./core.js";

const VIEWS = {
  passes: () => import("./views/passes.js"),
  map: () => import("./views/map.js"),
  telemetry: () => import("./views/telemetry.js"),
  alarms: () => import("./views/alarms.js"),
  commands: () => import("./views/commands.js"),
  plan: () => import("./views/plan.js"),
  links: () => import("./views/links.js"),
  login: () => import("./views/login.js"),
};

let unmount = null;
let routeId = 0;

async function route() {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let name = parts[0] || "passes";
  if (!VIEWS[name]) name = "passes";
  if (!session.user && !session.publicRead) name = "login";
  const id = ++routeId;
  if (unmount) { try { unmount(); } catch (e) { console.warn(e); } unmount = null; }
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("current", a.dataset.view === name);
  const main = document.getElementById("view");
  main.replaceChildren();
  main.dataset.view = name;
  const mod = await VIEWS[name]();
  if (id !== routeId) return;
  document.title = `${name[0].toUpperCase()}${name.slice(1)} - groundseg console`;
  // the login view gets the whole path asked for, to go there once logged in
  unmount = mod.mount(main, name === "login" && parts[0] !== "login" ? parts : parts.slice(1)) || null;
}

export function navigate(path) {
  history.pushState(null, "", path);
  route();
}

function header() {
  const clockEl = document.getElementById("clock");
  every(250, () => {
    const rate = clock.kind === "replay" ? h("span", { class: "rate", title: "simulation replayed at this factor of real time" },
      clock.running ? `SIM \u00d7${clock.rate}` : "SIM waiting") : null;
    clockEl.replaceChildren(`${fmtUtc(clock.now())} UTC`, rate || "");
    clockEl.dataset.nowMs = String(Math.round(clock.now()));
  });
  const ind = document.getElementById("alarm-indicator");
  const showSummary = (sm) => {
    if (!sm) return;
    const sev = sm.highest_severity || (sm.open ? "shelved" : "none");
    ind.dataset.severity = sev;
    ind.dataset.open = String(sm.open);
    ind.dataset.unacknowledged = String(sm.unacknowledged);
    ind.classList.toggle("unacknowledged", sm.unacknowledged > 0);
    ind.textContent = sm.open === 0 ? "No open alarms"
      : `${sm.open} alarm${sm.open > 1 ? "s" : ""}${sm.highest_severity ? " \u00b7 " + sm.highest_severity.toUpperCase() : " \u00b7 shelved"}`
        + (sm.unacknowledged ? ` (${sm.unacknowledged} new)` : "");
    ind.title = `${sm.open} open, ${sm.unacknowledged} unacknowledged, ${sm.shelved} shelved`;
  };
  let liveAt = -Infinity;
  on("status", (st) => { if (st.sent_ms > liveAt) showSummary(st.alarms); });
  onLive("alarm", (m) => { liveAt = performance.now(); showSummary(m.summary); });
  const liveEl = document.getElementById("live-state");
  on("live-state", (up) => { liveEl.classList.toggle("up", up); liveEl.title = up ? "live feed connected" : "live feed reconnecting"; });
  renderUser();
}

function renderUser() {
  const el = document.getElementById("user");
  if (session.user) {
    el.replaceChildren(h("span", { "data-user": session.user, title: `role: ${session.role}` }, session.user),
      h("a", { href: "#", onclick: async (e) => { e.preventDefault(); await logout(); } }, "Log out"));
  } else {
    el.replaceChildren(h("span", {}, session.publicRead ? "read-only" : ""),
      h("a", { href: "/login", "data-link": true }, "Log in"));
  }
}

async function logout() {
  try { await api("/api/logout", { method: "POST" }); } catch (e) { /* logged out anyway */ }
  Object.assign(session, { user: null, role: null, csrf: null });
  renderUser();
  if (!session.publicRead) disconnectLive();
  navigate("/login");
}

export async function loggedIn(doc) {
  Object.assign(session, { user: doc.user, role: doc.role, csrf: doc.csrf_token });
  renderUser();
  await start();
}

async function start() {
  try { await refreshStatus(); } catch (e) { /* shown by the views */ }
  connectLive();
}

async function boot() {
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-link]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    const next = a.getAttribute("href");
    navigate(next === "/login" ? `/login${location.pathname === "/login" ? "" : location.pathname}` : next);
  });
  window.addEventListener("popstate", route);
  on("unauthorized", () => {
    if (session.user) { Object.assign(session, { user: null, role: null, csrf: null }); renderUser(); }
    if (!session.publicRead && location.pathname.split("/")[1] !== "login") navigate(`/login${location.pathname}`);
  });
  try {
    const doc = await api("/api/session");
    Object.assign(session, { user: doc.user, role: doc.role, csrf: doc.csrf_token, publicRead: !!doc.public_read });
  } catch (e) { /* not logged in */ }
  header();
  if (session.user || session.publicRead) await start();
  every(3000, () => { if (session.user || session.publicRead) refreshStatus().catch(() => {}); });
  await route();
  emit("booted");
}

boot();
