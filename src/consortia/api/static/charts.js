// Small SVG charts drawn here (no charting library): a line and a bar chart of one series, with
// the axis range and the latest value written out. Points are {x, y} numbers; x is time in ms.

const NS = "http://www.w3.org/2000/svg";
const W = 480, H = 150, PAD_L = 46, PAD_R = 8, PAD_T = 10, PAD_B = 20;

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return el;
}

function label(x, y, text, anchor = "end") {
  const t = svg("text", { x, y, "text-anchor": anchor, class: "axis" });
  t.textContent = text;
  return t;
}

// The value axis: from zero (counts, rates, durations) unless ``zero`` is false (a height).
function range(values, zero) {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (zero) lo = Math.min(0, lo);
  if (hi === lo) { hi = lo + 1; lo = Math.max(0, lo - 1); }
  return [lo, hi];
}

function frame(root, title, points, format, zero = true) {
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("role", "img");
  root.setAttribute("aria-label", title);
  while (root.firstChild) root.removeChild(root.firstChild);
  const ys = points.map((p) => p.y), xs = points.map((p) => p.x);
  const [lo, hi] = range(ys, zero);
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const sx = (x) => PAD_L + ((x - x0) / ((x1 - x0) || 1)) * (W - PAD_L - PAD_R);
  const sy = (y) => H - PAD_B - ((y - lo) / (hi - lo)) * (H - PAD_T - PAD_B);
  root.append(svg("line", { x1: PAD_L, y1: H - PAD_B, x2: W - PAD_R, y2: H - PAD_B, class: "frame" }));
  root.append(svg("line", { x1: PAD_L, y1: PAD_T, x2: PAD_L, y2: H - PAD_B, class: "frame" }));
  root.append(label(PAD_L - 4, PAD_T + 8, format(hi)));
  root.append(label(PAD_L - 4, H - PAD_B, format(lo)));
  if (xs.length > 1) {
    root.append(label(W - PAD_R, H - 4, `${Math.round((x1 - x0) / 1000)} s shown`));
  }
  return { sx, sy, lo };
}

export function lineChart(root, title, points, format = (v) => String(Math.round(v)), zero = true) {
  const { sx, sy } = frame(root, title, points, format, zero);
  if (points.length > 1) {
    const d = points.map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join("");
    root.append(svg("path", { d, class: "line" }));
  }
  const last = points[points.length - 1];
  if (last) root.append(label(PAD_L + 4, PAD_T + 8, `${title}: ${format(last.y)}`, "start"));
  root.dataset.points = String(points.length);
  return root;
}

// Bars stand side by side, one per point in order (blocks bunch up in time under load).
export function barChart(root, title, points, format = (v) => String(Math.round(v))) {
  const { sy, lo } = frame(root, title, points, format);
  const step = (W - PAD_L - PAD_R) / Math.max(points.length, 1);
  const width = Math.max(1, step - 1);
  points.forEach((p, i) => {
    const y = sy(p.y), base = sy(lo);
    root.append(svg("rect", { x: (PAD_L + i * step + 0.5).toFixed(1), y: y.toFixed(1), width: width.toFixed(1),
      height: Math.max(0, base - y).toFixed(1), class: "bar" }));
  });
  const last = points[points.length - 1];
  if (last) root.append(label(PAD_L + 4, PAD_T + 8, `${title}: ${format(last.y)}`, "start"));
  root.dataset.points = String(points.length);
  return root;
}

export function chartBox() {
  return svg("svg", { class: "chart", preserveAspectRatio: "none" });
}
