// What every view shares: the API client, the session, the console's clock, the live feed,
// DOM and formatting helpers. Written for this console; no library.

export const SEVERITIES = ["nominal", "watch", "warning", "distress", "critical"];

export const session = { user: null, role: null, csrf: null, publicRead: false };

export function canOperate() {
  return session.role === "operator" || session.role === "supervisor";
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const listeners = new Map();

/** Subscribe to a page-wide event ("unauthorized", "status", "live-state"); returns unsubscribe. */
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

export function emit(name, value) {
  for (const fn of listeners.get(name) || []) {
    try { fn(value); } catch (e) { console.warn(name, e); }
  }
}

/** JSON API call; throws ApiError with the server's one-line message. With ``headers``, returns
 * {doc, headers}. */
export async function api(path, { method = "GET", body, signal, headers: wantHeaders = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  let r;
  try {
    r = await fetch(path, { method, headers, signal, credentials: "same-origin",
                            body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "the console does not answer");
  }
  let doc = null;
  try { doc = await r.json(); } catch (e) { doc = null; }
  if (!r.ok) {
    if (r.status === 401) emit("unauthorized");
    throw new ApiError(r.status, (doc && doc.error) || r.statusText);
  }
  return wantHeaders ? { doc, headers: r.headers } : doc;
}

// -- the console's clock: server time extrapolated at its rate ------------------------------
export const clock = {
  baseMs: Date.now(), localMs: performance.now(), rate: 1, kind: "wall", running: true,
  now() { return this.baseMs + (performance.now() - this.localMs) * (this.running ? this.rate : 0); },
  sync(status, sentLocal, gotLocal) {
    this.rate = status.clock.rate;
    this.kind = status.clock.kind;
    this.running = status.clock.running;
    this.baseMs = status.time_s * 1000;
    this.localMs = (sentLocal + gotLocal) / 2;
  },
};

export async function refreshStatus() {
  const sent = performance.now();
  const status = await api("/api/status");
  clock.sync(status, sent, performance.now());
  status.sent_ms = sent;              // a live message that came while this was in flight is newer
  emit("status", status);
  return status;
}

// -- live feed ----------------------------------------------------------------------------------
const handlers = new Map();
let socket = null;
let wanted = false;
let retry = null;

/** Handle live messages of ``type``; returns unsubscribe. */
export function onLive(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type).delete(fn);
}

export function connectLive() {
  wanted = true;
  if (socket) return;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`);
  socket = ws;
  ws.onopen = () => emit("live-state", true);
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    for (const fn of handlers.get(m.type) || []) {
      try { fn(m); } catch (err) { console.warn("live", m.type, err); }
    }
  };
  ws.onclose = () => {
    socket = null;
    emit("live-state", false);
    if (wanted && retry === null) retry = setTimeout(() => { retry = null; connectLive(); emit("reconnected"); }, 1000);
  };
}

export function disconnectLive() {
  wanted = false;
  if (socket) socket.close();
}

// -- DOM ---------------------------------------------------------------------------------------------
/** h("td", {class: "num", title: "x"}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v;     // CSSOM: allowed by the page's CSP
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function chip(text, cls) {
  return h("span", { class: `chip ${cls || text}` }, text);
}

/** A periodic timer bound to a view's life; returns stop. */
export function every(ms, fn) {
  const id = setInterval(fn, ms);
  return () => clearInterval(id);
}

// -- formatting ---------------------------------------------------------------------------------
export function parseUtc(iso) {
  return iso ? Date.parse(iso) : NaN;
}

export function fmtUtc(ms, withDate = true) {
  if (!Number.isFinite(ms)) return "-";
  const iso = new Date(ms).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(11, 19);
}

/** Whole seconds as [-]H:MM:SS (D d HH:MM:SS beyond a day). */
export function fmtDuration(seconds) {
  const neg = seconds < 0;
  let t = Math.floor(Math.abs(seconds));
  const d = Math.floor(t / 86400); t -= d * 86400;
  const hh = Math.floor(t / 3600); t -= hh * 3600;
  const mm = Math.floor(t / 60); const ss = t - mm * 60;
  const two = (x) => String(x).padStart(2, "0");
  const body = d > 0 ? `${d} d ${two(hh)}:${two(mm)}:${two(ss)}` : `${hh}:${two(mm)}:${two(ss)}`;
  return (neg ? "-" : "") + body;
}

export function fmtValue(v, p) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  if (p && p.enumeration && Object.keys(p.enumeration).length) {
    const label = p.enumeration[String(Math.round(v))];
    if (label !== undefined) return label;
  }
  if (Number.isInteger(v) && Math.abs(v) < 1e12) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
  return v.toFixed(a >= 100 ? 1 : 3);
}

export function fmtDeg(x, digits = 1) {
  return Number.isFinite(x) ? `${x.toFixed(digits)}\u00b0` : "-";
}

export function worst(states) {
  let top = 0;
  for (const st of states) top = Math.max(top, SEVERITIES.indexOf(st));
  return SEVERITIES[Math.max(0, top)];
}

/** [lo, hi, fraction] of ``t`` in a sorted array of times; null outside. */
function bracket(t, times) {
  if (!times.length || t < times[0] || t > times[times.length - 1]) return null;
  let lo = 0, hi = times.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid; else hi = mid;
  }
  const span = times[hi] - times[lo];
  return [lo, hi, span > 0 ? (t - times[lo]) / span : 0];
}

/** Linear interpolation in a sorted array of times; NaN outside. */
export function interp(t, times, values) {
  const b = bracket(t, times);
  if (!b) return NaN;
  const [lo, hi, f] = b;
  return values[lo] + f * (values[hi] - values[lo]);
}

/** Angles in degrees interpolated the short way round. */
export function interpAngle(t, times, values) {
  const b = bracket(t, times);
  if (!b) return NaN;
  const [lo, hi, f] = b;
  let d = values[hi] - values[lo];
  if (d > 180) d -= 360; else if (d < -180) d += 360;
  let v = values[lo] + f * d;
  if (v > 180) v -= 360; else if (v < -180) v += 360;
  return v;
}

export function dialog(title, body, confirmText, onConfirm) {
  const root = document.getElementById("dialog-root");
  const error = h("div", { class: "error-box" });
  const ok = h("button", { class: "primary", "data-role": "confirm" }, confirmText);
  const cancel = h("button", { "data-role": "cancel" }, "Cancel");
  const box = h("div", { class: "backdrop" }, h("div", { class: "dialog", role: "dialog" },
    h("h3", {}, title), body, error, h("div", { class: "buttons" }, cancel, ok)));
  const close = () => box.remove();
  cancel.addEventListener("click", close);
  box.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  ok.addEventListener("click", async () => {
    ok.disabled = true;
    try {
      await onConfirm();
      close();
    } catch (e) {
      error.textContent = e.message;
      ok.disabled = false;
    }
  });
  root.append(box);
  const first = box.querySelector("textarea, input, select");
  if (first) first.focus();
  return close;
}
