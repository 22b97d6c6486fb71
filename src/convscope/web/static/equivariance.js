// The slider asks /api/equivariance for the map at each position (and how far things moved since the last
// position at this stride); this file draws the maps, marks the pattern, the peak and its ties, and prints.
let previous = null;   // the last position shown at the current stride

function box(ctx, [top, left], [height, width], cell, style, dashed) {
  ctx.save();
  ctx.strokeStyle = style; ctx.lineWidth = dashed ? 2 : 3; ctx.setLineDash(dashed ? [6, 4] : []);
  const inset = dashed ? -2 : 1.5;  // the pattern's outline sits just outside it, so its pixels stay visible
  ctx.strokeRect(left * cell + inset, top * cell + inset, width * cell - 2 * inset, height * cell - 2 * inset);
  ctx.restore();
}

function grey(canvas, rows, cell) {
  // the input is 0/1 pixels: drawn black and white, not in the signed palette of the map
  const ctx = canvas.getContext("2d");
  canvas.width = rows[0].length * cell; canvas.height = rows.length * cell;
  rows.forEach((row, i) => row.forEach((v, j) => {
    const level = Math.round(30 + 225 * Math.max(0, Math.min(1, v)));
    ctx.fillStyle = `rgb(${level},${level},${level})`;
    ctx.fillRect(j * cell, i * cell, cell, cell);
  }));
}

function paragraph(id, text) {
  const p = document.createElement("p"); p.id = id; p.textContent = text; return p;
}

async function update() {
  showError(null);
  const position = Number(document.getElementById("position").value);
  const stride = Number(document.getElementById("stride").value);
  document.getElementById("position-value").textContent = position;
  const body = { position, stride };
  if (previous !== null && previous !== position) body.previous = previous;
  let data;
  try { data = await api("/api/equivariance", body); } catch (error) { showError(error); return; }
  if (Number(document.getElementById("position").value) !== position) return;  // a newer move is on its way
  previous = position;
  const inCanvas = document.getElementById("in-canvas"), outCanvas = document.getElementById("out-canvas");
  grey(inCanvas, data.input, 8);
  const cell = stride === 1 ? 8 : 16;
  heat(outCanvas, data.output, cell);
  const inCtx = inCanvas.getContext("2d"), outCtx = outCanvas.getContext("2d");
  box(inCtx, data.pattern.start, data.pattern.size, 8, "#4fc3f7", true);
  box(inCtx, data.window.start, data.window.size, 8, "#ffd600");
  data.peaks.slice(1).forEach(p => box(outCtx, p, [1, 1], cell, "#fff"));
  box(outCtx, data.peak, [1, 1], cell, "#ffd600");
  const [row, col] = data.peak;
  const peakText = `peak ${data.peak_value} at row ${row}, column ${col}`;
  const where = `the 5x5 corner pattern at row ${data.pattern.start[0]}, column ${data.pattern.start[1]}`;
  inCanvas.setAttribute("aria-label", `32x32 input with ${where}; the window of the ${peakText} is marked`);
  outCanvas.setAttribute("aria-label", `${data.output.length}x${data.output[0].length} Sobel-x map at stride ` +
    `${stride}; ${peakText} is marked` + (data.peaks.length > 1 ? `, with ${data.peaks.length - 1} tied values` : ""));
  const lines = [["pattern", `input: ${where} (its top-left pixel); stride ${stride}`], ["peak", peakText]];
  if (data.moved) {
    const [dr, dc] = data.moved.peak;
    lines.push(["moved", `since column ${data.moved.from}: the pattern moved ${data.moved.pattern} column(s); ` +
      `the peak moved ${dc} column(s) and ${dr} row(s)`]);
  }
  lines.push(["why-now", data.why]);
  document.getElementById("numbers").replaceChildren(...lines.map(([id, text]) => paragraph(id, text)));
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("position").addEventListener("input", update);
  document.getElementById("stride").addEventListener("change", () => { previous = null; update(); });
  update();
});
