// Shapes: /api/shape computes shapes, the solved ?, the trace and the field; this file draws them.
let photo = null;

function table(target, header, rows) {
  const t = document.createElement("table");
  t.className = "grid";
  const head = t.insertRow();
  header.forEach(h => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
  rows.forEach(r => { const tr = t.insertRow(); r.forEach(v => { tr.insertCell().textContent = v; }); });
  target.replaceChildren(t);
}

function drawField(field, inputShape) {
  const canvas = document.getElementById("rf-canvas");
  const ctx = canvas.getContext("2d");
  const [h, w] = inputShape.slice(-2);
  const sx = canvas.width / w, sy = canvas.height / h;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (photo) ctx.drawImage(photo, 0, 0, canvas.width, canvas.height);
  if (!field) return;
  ctx.strokeStyle = "#ffd600"; ctx.lineWidth = 3;
  const [top, left] = field.start, [height, width] = field.size;
  ctx.strokeRect(left * sx, top * sy, width * sx, height * sy);
  document.getElementById("rf-note").textContent =
    `${field.layer}, unit (${field.unit.join(", ")}): rows ${top}..${top + height - 1}, columns ${left}..${left + width - 1}`;
}

async function calculate() {
  showError(null);
  const inputShape = document.getElementById("input-shape").value.split(",").map(Number);
  const unit = [Number(document.getElementById("unit-row").value), Number(document.getElementById("unit-col").value)];
  try {
    const data = await api("/api/shape", { stack: document.getElementById("stack").value, input: inputShape, unit });
    table(document.getElementById("shape-table"), ["layer", "PyTorch", "output", "params"],
      data.layers.map(l => [l.text, l.code, "(" + l.output_shape.join(", ") + ")", l.params]));
    document.getElementById("solved").textContent =
      Object.entries(data.solved).map(([k, v]) => `solved: ${k} = ${v}`).join("; ");
    table(document.getElementById("trace-table"), ["layer", "type", "output", "RF", "jump"],
      data.trace.map(r => [r.name, r.type, "(" + r.output.join(", ") + ")", r.rf, r.jump ? r.jump.join("x") : ""]));
    document.getElementById("torch-code").textContent = data.code;
    drawField(data.field, inputShape);
  } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("calc").addEventListener("click", calculate);
  try {
    const shown = await api("/api/filter", { image: "astronaut", kernel: "identity", size: 256 });
    photo = new Image();
    photo.onload = calculate;
    photo.src = shown.input;
  } catch (error) { calculate(); }
});
