// Shapes: /api/shape computes the shapes, the solved ?, the size arithmetic, the field per layer and the
// chosen unit's field; this file draws them (a box on a photo or a grid, a clickable map of the last layer).
let backdrop = null;   // the chosen sample photo, or null for a plain grid
let last = null;       // the last answer, redrawn when the backdrop changes

function cell(tr, text, className) {
  const td = tr.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function arithmetic(td, texts) {
  if (!texts) return;
  const axes = { 1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"] }[texts.length];
  const same = texts.every(t => t === texts[0]);
  (same ? [texts[0]] : texts).forEach((text, i) => {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = same ? "why this size" : `why this ${axes[i]}`;
    const pre = document.createElement("pre");
    pre.textContent = text;
    details.append(summary, pre);
    td.appendChild(details);
  });
}

function layerTable(data) {
  const t = document.createElement("table");
  t.className = "layers";
  const head = t.createTHead().insertRow();
  [["layer"], ["PyTorch", "code"], ["output"], ["params"], ["RF"], ["jump"], ["size arithmetic"]].forEach(([h, c]) => {
    const th = document.createElement("th"); th.textContent = h; if (c) th.className = c; head.appendChild(th);
  });
  const body = t.createTBody();
  data.layers.forEach((l, i) => {
    const r = data.trace[i] || {};
    const tr = body.insertRow();
    cell(tr, l.text); cell(tr, l.code, "code"); cell(tr, "(" + l.output_shape.join(", ") + ")");
    cell(tr, l.params.toLocaleString("en")); cell(tr, r.rf || ""); cell(tr, r.jump ? r.jump.join("x") : "");
    arithmetic(cell(tr, ""), l.arithmetic);
  });
  document.getElementById("shape-table").replaceChildren(t);
}

function drawField(field, inputShape) {
  // The view spans the image and any part of the box that lies in the padding; one input pixel = `scale` px.
  const canvas = document.getElementById("rf-canvas");
  const ctx = canvas.getContext("2d");
  const [h, w] = inputShape.slice(-2);
  const [top, left] = field.start, [height, width] = field.size;
  const y0 = Math.min(0, top), x0 = Math.min(0, left);
  const y1 = Math.max(h, top + height), x1 = Math.max(w, left + width);
  const scale = Math.min(8, 320 / Math.max(y1 - y0, x1 - x0));
  canvas.width = Math.round((x1 - x0) * scale); canvas.height = Math.round((y1 - y0) * scale);
  const ox = -x0 * scale, oy = -y0 * scale;
  ctx.fillStyle = "#ddd"; ctx.fillRect(0, 0, canvas.width, canvas.height);          // padding
  if (backdrop) ctx.drawImage(backdrop, ox, oy, w * scale, h * scale);
  else {
    ctx.fillStyle = "#fff"; ctx.fillRect(ox, oy, w * scale, h * scale);
    if (scale >= 3) {
      ctx.strokeStyle = "#ccd"; ctx.lineWidth = 1; ctx.beginPath();
      for (let i = 0; i <= h; i++) { ctx.moveTo(ox, oy + i * scale); ctx.lineTo(ox + w * scale, oy + i * scale); }
      for (let j = 0; j <= w; j++) { ctx.moveTo(ox + j * scale, oy); ctx.lineTo(ox + j * scale, oy + h * scale); }
      ctx.stroke();
    }
  }
  const box = [ox + left * scale, oy + top * scale, width * scale, height * scale];
  ctx.fillStyle = "rgba(255, 214, 0, 0.25)"; ctx.fillRect(...box);
  ctx.strokeStyle = "#ffd600"; ctx.lineWidth = 3; ctx.strokeRect(...box);
  canvas.dataset.box = box.join(","); canvas.dataset.scale = scale; canvas.dataset.origin = [ox, oy].join(",");
  canvas.setAttribute("aria-label", `the ${h}x${w} input on ${backdrop ? "the chosen photo" : "a plain grid"}, ` +
    `with a yellow box over rows ${top} to ${top + height - 1} and columns ${left} to ${left + width - 1}`);
}

function drawUnits(field) {
  const canvas = document.getElementById("unit-canvas");
  const ctx = canvas.getContext("2d");
  const [h, w] = field.output_size;
  const size = Math.max(2, Math.min(24, Math.floor(192 / Math.max(h, w))));
  canvas.width = w * size; canvas.height = h * size; canvas.dataset.cell = size;
  ctx.fillStyle = "#eef"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (size >= 4) {
    ctx.strokeStyle = "#99a"; ctx.lineWidth = 1;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) ctx.strokeRect(j * size + 0.5, i * size + 0.5, size - 1, size - 1);
    }
  }
  ctx.fillStyle = "#ffb300"; ctx.fillRect(field.unit[1] * size, field.unit[0] * size, size, size);
  canvas.setAttribute("aria-label", `the last map, ${h}x${w} values; the chosen unit, row ${field.unit[0]}, ` +
    `column ${field.unit[1]}, is orange. Arrow keys move it.`);
}

function clear(message) {
  ["shape-table", "solved", "field-text", "torch-code"].forEach(id => document.getElementById(id).replaceChildren());
  clearCanvases(message);
}

function clearCanvases(message) {
  for (const id of ["rf-canvas", "unit-canvas"]) {
    const canvas = document.getElementById(id);
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    delete canvas.dataset.box;
    canvas.setAttribute("aria-label", message);
  }
}

async function calculate() {
  showError(null);
  const status = document.getElementById("status");
  status.textContent = "calculating…";
  const row = document.getElementById("unit-row").value, col = document.getElementById("unit-col").value;
  const body = { stack: document.getElementById("stack").value, input: document.getElementById("input-shape").value };
  if (row !== "" || col !== "") body.unit = [Number(row || 0), Number(col || 0)];
  try {
    last = await api("/api/shape", body);
    status.textContent = "";
  } catch (error) {
    last = null;
    clear("nothing drawn: the stack was refused");
    status.textContent = "";
    showError(error);
    return;
  }
  layerTable(last);
  document.getElementById("solved").textContent =
    Object.entries(last.solved).map(([k, v]) => `solved: ${k} = ${v}`).join("; ");
  document.getElementById("torch-code").textContent = last.code;
  redraw();
}

function redraw() {
  if (!last) return;
  const field = last.field;
  document.getElementById("field-text").textContent = field ? last.field_text
    : "This stack has no spatial map with a receptive field to draw.";
  if (field && field.size.length === 2) { drawField(field, last.input_shape); drawUnits(field); }
  else clearCanvases(field ? "the field is drawn for 2-D images only" : "no receptive field to draw");
}

function pickUnit(row, col) {
  const [h, w] = last.field.output_size;
  document.getElementById("unit-row").value = Math.max(0, Math.min(h - 1, row));
  document.getElementById("unit-col").value = Math.max(0, Math.min(w - 1, col));
  calculate();
}

async function chooseBackdrop() {
  const name = document.getElementById("backdrop").value;
  if (!name) { backdrop = null; redraw(); return; }
  try {
    const shown = await api("/api/filter", { image: name, kernel: "identity", size: 256 });
    const image = new Image();
    image.onload = () => { backdrop = image; redraw(); };
    image.src = shown.input;
  } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("stack-form").addEventListener("submit", event => { event.preventDefault(); calculate(); });
  document.getElementById("stack").addEventListener("keydown", event => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); calculate(); }
  });
  const units = document.getElementById("unit-canvas");
  units.addEventListener("click", event => {
    if (!last || !last.field) return;
    const rect = units.getBoundingClientRect(), size = Number(units.dataset.cell) * rect.width / units.width;
    pickUnit(Math.floor((event.clientY - rect.top) / size), Math.floor((event.clientX - rect.left) / size));
  });
  units.addEventListener("keydown", event => {
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (!last || !last.field || !moves[event.key]) return;
    event.preventDefault();
    pickUnit(last.field.unit[0] + moves[event.key][0], last.field.unit[1] + moves[event.key][1]);
  });
  const menu = document.getElementById("backdrop");
  menu.addEventListener("change", chooseBackdrop);
  calculate();
  try {
    for (const name of await api("/api/samples")) menu.add(new Option(`the sample photo "${name}"`, name));
  } catch (error) { showError(error); }
});
