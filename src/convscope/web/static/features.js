// Draw; send the 32x32 canvas values to /api/digit; show the prediction and the feature maps. The
// server computes everything (blank check, maps, strongest units, receptive fields, kernels): this file draws.
// In a function of its own: lab.js and the other scripts share the page's global names.
(() => {
  const BRUSH = 28;        // stroke width in canvas pixels (of 256): about 3.5 of the 32 cells the API reads
  let ready = false;       // the model answered "ready" to /api/digit/status
  let pending = false;     // a drawing is waiting for the model to finish training
  let reading = null;      // the last /api/digit answer, for the map detail
  let last = null;         // where the pointer was, to draw a line rather than dots

  const byId = id => document.getElementById(id);

  async function pollStatus() {
    let status;
    try { status = await api("/api/digit/status"); } catch (error) { showError(error); return; }
    byId("model-status").textContent = status.message;
    byId("model-progress").value = status.progress;
    byId("model-progress").hidden = status.state !== "training";
    ready = status.state === "ready";
    if (status.state === "training") setTimeout(pollStatus, 300);
    else if (ready && pending) { pending = false; read(); }
  }

  function point(canvas, event) {
    // CSS may shrink the canvas (a phone): map the pointer to the canvas's own pixels
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  }

  function stroke(canvas, event) {
    const ctx = canvas.getContext("2d");
    const [x, y] = point(canvas, event);
    const [fromX, fromY] = last || [x, y];
    ctx.strokeStyle = "#fff"; ctx.lineWidth = BRUSH; ctx.lineCap = "round";
    ctx.beginPath(); ctx.moveTo(fromX, fromY); ctx.lineTo(x, y); ctx.stroke();
    last = [x, y];
  }

  function pixels(canvas) {
    // the canvas as a 32x32 grid of brightness (mean of each 8x8 block of screen pixels)
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const block = canvas.width / 32, grid = [];
    for (let i = 0; i < 32; i++) {
      const row = [];
      for (let j = 0; j < 32; j++) {
        let total = 0;
        for (let y = i * block; y < (i + 1) * block; y++)
          for (let x = j * block; x < (j + 1) * block; x++) total += data[(y * canvas.width + x) * 4];
        row.push(total / (block * block * 255));
      }
      grid.push(row);
    }
    return grid;
  }

  function grey(canvas, rows, cell) {
    // values in [0, 1] as grey levels, white = ink (as drawn)
    const ctx = canvas.getContext("2d");
    canvas.width = rows[0].length * cell; canvas.height = rows.length * cell;
    rows.forEach((row, i) => row.forEach((v, j) => {
      const level = Math.round(Math.min(1, Math.max(0, v)) * 255);
      ctx.fillStyle = `rgb(${level},${level},${level})`;
      ctx.fillRect(j * cell, i * cell, cell, cell);
    }));
  }

  function signedColour(t) {
    // t in [-1, 1]: blue below 0, grey at 0, red above (the palette of lab.js's heat)
    const c = t >= 0 ? [128 + t * 50, 128 - t * 104, 128 - t * 85] : [128 + t * 95, 128 + t * 26, 128 - t * 44];
    return `rgb(${c.map(Math.round).join(",")})`;
  }

  function clearResults() {
    reading = null;
    byId("prediction").textContent = "-";
    byId("probs").replaceChildren();
    byId("small").getContext("2d").clearRect(0, 0, byId("small").width, byId("small").height);
    byId("maps").replaceChildren();
    byId("detail").hidden = true;
  }

  async function read() {
    showError(null);
    if (!ready) { pending = true; }
    byId("prediction").textContent = "…";
    try {
      render(await api("/api/digit", { pixels: pixels(byId("draw")) }));
    } catch (error) {
      clearResults();
      showError(error);
    }
  }

  function render(data) {
    reading = data;
    byId("prediction").textContent = data.prediction;
    byId("probs").replaceChildren(...data.probabilities.map((p, k) => {
      const line = document.createElement("div");
      line.className = "prob";
      const bar = document.createElement("span");
      bar.className = "bar"; bar.style.width = `${p * 100}%`;
      const track = document.createElement("span");
      track.className = "track"; track.appendChild(bar);
      line.append(`${k} `, track, ` ${(p * 100).toFixed(1)}%`);
      return line;
    }));
    grey(byId("small"), data.input, 16);
    const maps = byId("maps");
    maps.replaceChildren();
    data.feature_maps.forEach((layer, l) => {
      const title = document.createElement("h3");
      const [count, h, w] = layer.shape;
      title.textContent = `${layer.layer}: ${count} maps of ${h}x${w}; each unit sees a ` +
        `${layer.field.size}x${layer.field.size} patch of the input`;
      const row = document.createElement("div");
      row.className = "map-row";
      layer.maps.forEach((map, m) => {
        const button = document.createElement("button");
        button.type = "button"; button.className = "map"; button.dataset.layer = l + 1; button.dataset.map = m;
        button.setAttribute("aria-label", `${layer.layer} map ${m}: show its kernels`);
        button.setAttribute("aria-pressed", "false");
        const img = new Image(); img.src = map.image; img.alt = "";
        const ring = document.createElement("span");
        ring.className = "peak";
        ring.style.left = `${(map.peak[1] + 0.5) / w * 100}%`; ring.style.top = `${(map.peak[0] + 0.5) / h * 100}%`;
        button.append(img, ring);
        button.addEventListener("click", () => showMap(l + 1, m));
        row.appendChild(button);
      });
      maps.append(title, row);
    });
    byId("detail").hidden = true;
  }

  function kernelTable(weights, scale) {
    const table = document.createElement("table");
    table.className = "kernel";
    for (const row of weights) {
      const tr = table.insertRow();
      for (const w of row) {
        const td = tr.insertCell();
        // a tiny negative weight is shown as 0.00, not -0.00
        td.textContent = (Math.abs(w) < 0.005 ? 0 : w).toFixed(2); td.dataset.value = w; td.title = String(w);
        td.style.background = signedColour(w / scale);
        if (Math.abs(w / scale) > 0.6) td.style.color = "#fff";
      }
    }
    return table;
  }

  async function showMap(layer, index) {
    const data = reading;
    const map = data.feature_maps[layer - 1].maps[index];
    for (const b of document.querySelectorAll("#maps .map"))
      b.setAttribute("aria-pressed", String(Number(b.dataset.layer) === layer && Number(b.dataset.map) === index));
    let kernel;
    try { kernel = await api(`/api/digit/kernel?layer=${layer}&map=${index}`); }
    catch (error) { showError(error); return; }
    if (reading !== data) return;  // a newer drawing came in meanwhile
    byId("detail").hidden = false;
    byId("detail-title").textContent = `${kernel.layer}, map ${index}`;
    // where it fired: the input, and a box over the rows and columns the strongest unit sees
    const field = byId("field"), cell = 20;
    grey(field, data.input, cell);
    const [top, left, bottom, right] = map.box, ctx = field.getContext("2d");
    ctx.strokeStyle = "#ffb300"; ctx.lineWidth = 3;
    ctx.strokeRect(left * cell + 1.5, top * cell + 1.5, (right - left + 1) * cell - 3, (bottom - top + 1) * cell - 3);
    const side = data.input.length;
    const padded = map.rows[0] < 0 || map.cols[0] < 0 || map.rows[1] >= side || map.cols[1] >= side;
    byId("field-note").textContent = `Its strongest unit is at row ${map.peak[0]}, column ${map.peak[1]} of the map ` +
      `(value ${map.value.toFixed(2)}). It sees input rows ${map.rows[0]} to ${map.rows[1]} and columns ` +
      `${map.cols[0]} to ${map.cols[1]}: its receptive field, boxed` +
      (padded ? ` (the part outside 0-${side - 1} is zero padding).` : ".") +
      (map.value <= 0 ? " Every unit is below 0 here: after the ReLU this map is all 0 for your drawing." : "");
    byId("kernel-note").textContent = `One 3x3 kernel per input channel; it reads ${kernel.reads}. ` +
      `The map is the sum of the ${kernel.kernels.length} slid products, plus the bias ${kernel.bias.toFixed(3)}.`;
    byId("detail").scrollIntoView({ block: "nearest" });
    const scale = Math.max(1e-9, ...kernel.kernels.flat(2).map(Math.abs));
    byId("kernels").replaceChildren(...kernel.kernels.map((weights, c) => {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = layer === 1 ? "on the drawing" : `on map ${c}`;
      figure.append(kernelTable(weights, scale), caption);
      return figure;
    }));
  }

  function loadSample() {
    showError(null);
    api(`/api/digit/sample?digit=${byId("sample").value}`).then(sample => {
      const canvas = byId("draw"), cell = canvas.width / 32;
      grey(canvas, sample.pixels, cell);
      read();
    }).catch(showError);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const canvas = byId("draw");
    canvas.addEventListener("pointerdown", e => {
      canvas.setPointerCapture(e.pointerId);
      last = null; stroke(canvas, e);
    });
    canvas.addEventListener("pointermove", e => { if (last) stroke(canvas, e); });
    const lift = () => { if (last) { last = null; read(); } };
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", () => { last = null; });
    byId("read").addEventListener("click", read);
    byId("load-sample").addEventListener("click", loadSample);
    byId("clear").addEventListener("click", () => {
      canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      pending = false;
      showError(null);
      clearResults();
    });
    pollStatus();
  });
})();
