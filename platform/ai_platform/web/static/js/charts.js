// Small SVG bar charts: enough for a day-by-day series, no library needed.

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// points: [{label, value}], format: value -> string
export function barChart(points, format = String) {
  const width = 600;
  const height = 190;
  const pad = { top: 14, right: 8, bottom: 22, left: 8 };
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", preserveAspectRatio: "none" });
  if (!points.length) {
    svg.append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "No requests in this window"));
    return svg;
  }
  const max = Math.max(...points.map((p) => p.value)) || 1;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const step = plotW / points.length;
  const barW = Math.max(2, Math.min(48, step * 0.7));
  svg.append(s("line", { class: "axis", x1: pad.left, x2: width - pad.right, y1: pad.top + plotH, y2: pad.top + plotH }));
  const every = Math.ceil(points.length / 8);
  points.forEach((p, i) => {
    const barH = (p.value / max) * plotH;
    const x = pad.left + i * step + (step - barW) / 2;
    const y = pad.top + plotH - barH;
    const rect = s("rect", { class: "bar-rect", x, y, width: barW, height: Math.max(barH, p.value > 0 ? 1 : 0), rx: 2 });
    rect.append(s("title", {}, `${p.label}: ${format(p.value)}`));
    svg.append(rect);
    if (i % every === 0) {
      svg.append(s("text", { x: x + barW / 2, y: height - 6, "text-anchor": "middle" }, p.label.slice(5)));
    }
  });
  svg.append(s("text", { x: width - pad.right, y: 10, "text-anchor": "end" }, `max ${format(max)}`));
  return svg;
}
