// Polar sky plot of one station: horizon mask, elevation rings, a pass's track, the satellite now.
import { s } from "./core.js";

const R = 100;

export function radius(elevationDeg) {
  return R * (90 - Math.max(-8, Math.min(90, elevationDeg))) / 90;
}

export function xy(azimuthDeg, elevationDeg) {
  const r = radius(elevationDeg);
  const a = azimuthDeg * Math.PI / 180;
  return [r * Math.sin(a), -r * Math.cos(a)];
}

function pathOf(points) {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(2)},${y.toFixed(2)}`).join("");
}

/** An SVG of ``station`` (its mask arrays) with an optional ``track`` ({azimuth_deg, elevation_deg}). */
export function skyPlot(station, track) {
  const svg = s("svg", { viewBox: "-122 -122 244 244", class: "sky", "data-station": station ? station.name : "" });
  svg.append(s("circle", { cx: 0, cy: 0, r: R, fill: "#0f1b29", stroke: "#34445a", "stroke-width": 1 }));
  if (station) {
    const curve = station.mask_azimuth_deg.map((az, i) => xy(az, station.mask_elevation_deg[i]));
    const horizon = [];
    for (let az = 360; az >= 0; az -= 4) horizon.push(xy(az, 0));
    svg.append(s("path", { d: pathOf(curve) + "Z" + pathOf(horizon) + "Z", fill: "rgba(248,81,73,0.22)",
                           "fill-rule": "evenodd", stroke: "none", class: "mask" }));
    svg.append(s("path", { d: pathOf(curve) + "Z", fill: "none", stroke: "#f85149", "stroke-width": 0.8,
                           "stroke-dasharray": "3 2" }));
  }
  for (const el of [30, 60]) {
    svg.append(s("circle", { cx: 0, cy: 0, r: radius(el), fill: "none", stroke: "#2c3a4d", "stroke-width": 0.6 }));
    svg.append(s("text", { x: 2, y: -radius(el) - 1.5, "font-size": 6, fill: "#8b97a8" }, `${el}\u00b0`));
  }
  for (let az = 0; az < 360; az += 30) {
    const [x, y] = xy(az, 0);
    svg.append(s("line", { x1: 0, y1: 0, x2: x, y2: y, stroke: "#2c3a4d", "stroke-width": 0.5 }));
    const [lx, ly] = xy(az, -8.5);
    const label = { 0: "N", 90: "E", 180: "S", 270: "W" }[az] || `${az}`;
    svg.append(s("text", { x: lx, y: ly + 2.5, "text-anchor": "middle", "font-size": label.length === 1 ? 9 : 6,
                           fill: label.length === 1 ? "#d8dfe9" : "#8b97a8" }, label));
  }
  if (track && track.azimuth_deg.length) {
    const pts = [];
    for (let i = 0; i < track.azimuth_deg.length; i++) {
      if (track.elevation_deg[i] >= -2) pts.push(xy(track.azimuth_deg[i], track.elevation_deg[i]));
    }
    if (pts.length) {
      svg.append(s("path", { d: pathOf(pts), fill: "none", stroke: "#4aa3ff", "stroke-width": 1.6, class: "track" }));
      const [ax, ay] = pts[0];
      const [bx, by] = pts[pts.length - 1];
      svg.append(s("circle", { cx: ax, cy: ay, r: 2.2, fill: "#3fb950" }));
      svg.append(s("text", { x: ax + 3, y: ay - 3, "font-size": 7, fill: "#3fb950", class: "end-label" }, "AOS"));
      svg.append(s("circle", { cx: bx, cy: by, r: 2.2, fill: "#f0883e" }));
      svg.append(s("text", { x: bx + 3, y: by - 3, "font-size": 7, fill: "#f0883e", class: "end-label" }, "LOS"));
    }
  }
  const marker = s("g", { class: "sat-marker", visibility: "hidden" },
    s("circle", { r: 4.5, fill: "#e3b341", stroke: "#0e1318", "stroke-width": 1 }),
    s("text", { x: 0, y: -8, "font-size": 8, fill: "#e3b341", "text-anchor": "middle", class: "sat-label" }, ""));
  svg.append(marker);
  return svg;
}

/** Move the satellite marker of ``svg`` (hidden when below the horizon or NaN). */
export function placeSatellite(svg, name, azimuthDeg, elevationDeg) {
  const marker = svg.querySelector(".sat-marker");
  if (!marker) return;
  if (!Number.isFinite(azimuthDeg) || !Number.isFinite(elevationDeg) || elevationDeg < -2) {
    marker.setAttribute("visibility", "hidden");
    return;
  }
  const [x, y] = xy(azimuthDeg, elevationDeg);
  marker.setAttribute("transform", `translate(${x.toFixed(2)},${y.toFixed(2)})`);
  marker.setAttribute("visibility", "visible");
  const label = marker.querySelector(".sat-label");
  const r = Math.hypot(x, y);           // the name toward the centre: clear of the AOS / LOS labels at the rim
  label.setAttribute("x", r > 1 ? (-8 * x / r).toFixed(2) : "0");
  label.setAttribute("y", r > 1 ? (-8 * y / r + 3).toFixed(2) : "-8");
  label.setAttribute("text-anchor", r <= 1 || Math.abs(x) < 0.3 * r ? "middle" : x > 0 ? "end" : "start");
  label.textContent = name;
  for (const end of svg.querySelectorAll(".end-label")) {      // under the satellite: the marker says it
    const near = Math.hypot(Number(end.getAttribute("x")) - 3 - x, Number(end.getAttribute("y")) + 3 - y) < 14;
    end.setAttribute("visibility", near ? "hidden" : "visible");
  }
}
