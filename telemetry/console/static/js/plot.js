// A time plot of server-side buckets: min..max band, mean line, limit lines, hover read-out.
import { fmtUtc, fmtValue } from "./core.js";

const LIMIT_COLOURS = { watch: "#39c5cf", warning: "#e3b341", distress: "#f0883e", critical: "#f85149" };
const STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
                 172800, 604800];

function niceStep(span, target) {
  const raw = span / target;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * Draw ``buckets`` ([{time_ms, min, max, mean, count}], each ``widthMs`` wide from its time, in
 * time order, empty ones left out) over [startMs, endMs] into ``canvas``; returns a function
 * (x in CSS pixels) -> the bucket under it, or null.
 */
export function drawPlot(canvas, { buckets, widthMs, startMs, endMs, limits = {}, parameter = null }) {
  const dpr = window.devicePixelRatio || 1;
  const W = canvas.clientWidth, H = canvas.clientHeight;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = "#0f1620";
  g.fillRect(0, 0, W, H);
  const left = 64, right = 12, top = 12, bottom = 28;
  const pw = W - left - right, ph = H - top - bottom;
  const filled = buckets.filter((b) => b.count > 0 && Number.isFinite(b.min) && Number.isFinite(b.max));
  let lo = Math.min(...filled.map((b) => b.min)), hi = Math.max(...filled.map((b) => b.max));
  if (!filled.length) { lo = 0; hi = 1; }
  const limitLines = [];
  for (const [level, pair] of Object.entries(limits)) {
    for (const v of pair || []) {
      if (v !== null && Number.isFinite(v)) limitLines.push([level, v]);
    }
  }
  // show limits close to the data (within half the data's span) so a band near a limit shows both
  const span0 = Math.max(hi - lo, Math.abs(hi) * 1e-3, 1e-9);
  for (const [, v] of limitLines) {
    if (v >= lo - 0.5 * span0 && v <= hi + 0.5 * span0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.06;
  lo -= pad; hi += pad;
  const X = (ms) => left + (ms - startMs) / (endMs - startMs) * pw;
  const Y = (v) => top + (hi - v) / (hi - lo) * ph;
  // grid and axes
  g.strokeStyle = "rgba(140,160,190,0.15)";
  g.fillStyle = "#8b97a8";
  g.font = "11px DejaVu Sans Mono, monospace";
  g.lineWidth = 1;
  const ystep = niceStep(hi - lo, 6);
  for (let v = Math.ceil(lo / ystep) * ystep; v <= hi; v += ystep) {
    g.beginPath(); g.moveTo(left, Y(v)); g.lineTo(left + pw, Y(v)); g.stroke();
    const label = parameter && parameter.enumeration && Object.keys(parameter.enumeration).length
      ? (parameter.enumeration[String(Math.round(v))] || "") : fmtValue(Number(v.toPrecision(6)));
    g.textAlign = "right";
    g.fillText(label, left - 6, Y(v) + 4);
  }
  const spanS = (endMs - startMs) / 1000;
  const tstep = (STEPS_S.find((x) => spanS / x <= 8) || 604800) * 1000;
  g.textAlign = "center";
  for (let t = Math.ceil(startMs / tstep) * tstep; t <= endMs; t += tstep) {
    g.beginPath(); g.moveTo(X(t), top); g.lineTo(X(t), top + ph); g.stroke();
    const text = fmtUtc(t);
    g.fillText(spanS > 86400 ? text.slice(5, 16) : tstep < 60000 ? text.slice(11, 19) : text.slice(11, 16), X(t), H - 9);
  }
  g.strokeStyle = "#34445a";
  g.strokeRect(left, top, pw, ph);
  // limits
  g.save();
  g.beginPath(); g.rect(left, top, pw, ph); g.clip();
  for (const [level, v] of limitLines) {
    g.strokeStyle = LIMIT_COLOURS[level];
    g.setLineDash([5, 4]);
    g.beginPath(); g.moveTo(left, Y(v)); g.lineTo(left + pw, Y(v)); g.stroke();
  }
  g.setLineDash([]);
  // band (min..max) and mean, broken where buckets are missing
  g.fillStyle = "rgba(74,163,255,0.28)";
  g.strokeStyle = "#7cc4ff";
  g.lineWidth = 1.4;
  let run = [];
  const flush = () => {
    if (!run.length) return;
    g.beginPath();
    run.forEach((b, i) => {
      if (i === 0) g.moveTo(X(b.time_ms), Y(b.max)); else g.lineTo(X(b.time_ms), Y(b.max));
      g.lineTo(X(b.time_ms + widthMs), Y(b.max));
    });
    for (let i = run.length - 1; i >= 0; i--) {
      g.lineTo(X(run[i].time_ms + widthMs), Y(run[i].min));
      g.lineTo(X(run[i].time_ms), Y(run[i].min));
    }
    g.closePath();
    g.fill();
    g.beginPath();
    run.forEach((b, i) => { const x = X(b.time_ms + widthMs / 2); if (i === 0) g.moveTo(x, Y(b.mean)); else g.lineTo(x, Y(b.mean)); });
    g.stroke();
    if (run.length === 1) {
      g.beginPath(); g.arc(X(run[0].time_ms + widthMs / 2), Y(run[0].mean), 2, 0, 7);
      g.fillStyle = "#7cc4ff"; g.fill(); g.fillStyle = "rgba(74,163,255,0.28)";
    }
    run = [];
  };
  for (const b of filled) {
    if (run.length && b.time_ms - run[run.length - 1].time_ms > widthMs * 1.001) flush();
    run.push(b);
  }
  flush();
  g.restore();
  if (!filled.length) {
    g.fillStyle = "#8b97a8";
    g.textAlign = "center";
    g.font = "13px DejaVu Sans, sans-serif";
    g.fillText("no samples in this window", left + pw / 2, top + ph / 2);
  }
  return (x) => {
    if (x < left || x > left + pw || !filled.length) return null;
    const ms = startMs + (x - left) / pw * (endMs - startMs);
    let best = null;
    for (const b of filled) {
      if (b.time_ms <= ms + widthMs / 2 && (!best || b.time_ms > best.time_ms)) best = b;
    }
    if (!best || ms - best.time_ms > 1.5 * widthMs) return null;
    return { bucket: best, x: X(best.time_ms + widthMs / 2), y: Y(best.mean) };
  };
}
