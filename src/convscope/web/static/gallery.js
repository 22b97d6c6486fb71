// The gallery: /api/filter filters and encodes, /api/filter/pixel works one output pixel out;
// this file edits the weights, shows the pictures and draws the numbers it is given.
const SIZE = 256;                  // the longer side the photo is filtered at
let image = "camera";
let presets = {};                  // name -> {weights, responds_to, signed}, from /api/kernels
let last = null;                   // the latest /api/filter answer
let probe = null;                  // {row, col} of the magnified output pixel
const $ = id => document.getElementById(id);

function fmt(value, digits = 3) {
  if (value === 0 || Object.is(value, -0)) return "0";
  return Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(digits)));
}

// --- the weights editor ------------------------------------------------------------------------

function buildGrid(weights) {
  const box = $("weights");
  box.replaceChildren();
  box.dataset.cols = weights[0].length;
  box.style.gridTemplateColumns = `repeat(${weights[0].length}, minmax(2.4em, 3.6em))`;
  weights.forEach((row, i) => row.forEach((w, j) => {
    const cell = document.createElement("input");
    cell.type = "text"; cell.inputMode = "decimal"; cell.autocomplete = "off";
    cell.value = fmt(w, 4); cell.dataset.exact = String(w);  // shown rounded, sent exact unless edited
    cell.setAttribute("aria-label", `weight row ${i + 1} column ${j + 1}`);
    cell.addEventListener("input", () => { delete cell.dataset.exact; edited(); });
    box.appendChild(cell);
  }));
  const size = weights.length === weights[0].length ? String(weights.length) : "";
  $("ksize").value = size;
  if ($("ksize").value !== size) $("ksize").selectedIndex = -1;   // a 1x2 preset: no square size fits
}

function readGrid() {
  // The cells as numbers. A blank cell is refused here: JSON has no "blank number" to send.
  const cells = [...$("weights").querySelectorAll("input")];
  const cols = Number($("weights").dataset.cols);
  const rows = [];
  cells.forEach((cell, k) => {
    const text = cell.dataset.exact ?? cell.value.trim();
    const value = text === "" ? NaN : Number(text);
    if (!Number.isFinite(value)) {
      throw new Error(`weight row ${Math.floor(k / cols) + 1}, column ${k % cols + 1} is ` +
        (text === "" ? "empty" : `"${text}", not a number`) + ". Fix: type a number such as -1, 0 or 0.25");
    }
    if (k % cols === 0) rows.push([]);
    rows[rows.length - 1].push(value);
  });
  return rows;
}

function resize() {
  // Keep the old weights centred in the new n x n grid (zeros around, or the middle cropped).
  const n = Number($("ksize").value);
  let old;
  try { old = readGrid(); } catch { old = [[0]]; }
  const di = Math.floor((n - old.length) / 2), dj = Math.floor((n - old[0].length) / 2);
  const grid = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => old[i - di]?.[j - dj] ?? 0));
  buildGrid(grid);
  edited();
}

let editTimer = 0;
function edited() {
  $("kernel").value = "custom";
  clearTimeout(editTimer);
  editTimer = setTimeout(applyKernel, 350);   // while typing "-0.5", filter once it is written
}

// --- filtering ----------------------------------------------------------------------------------

function filterRequest() {
  const body = { image, padding_mode: $("mode").value, size: SIZE };
  const choice = $("kernel").value;
  if (choice === "custom") body.weights = readGrid();
  else body.kernel = choice;
  return body;
}

function clearResults() {
  // after a refusal nothing on the page may still show the previous kernel's numbers
  last = null;
  for (const id of ["out-img", "colourbar", "bar-labels", "out-box", "in-box"]) $(id).hidden = true;
  $("range").textContent = ""; $("bar-note").textContent = ""; $("kernel-desc").textContent = "";
  $("magnifier").replaceChildren();
}

async function applyKernel() {
  showError(null);
  $("status").textContent = "filtering…";
  try {
    const body = filterRequest();
    const data = await api("/api/filter", body);
    last = { ...data, request: body };
    $("in-img").src = data.input; $("grad-img").src = data.gradient;
    $("out-img").src = data.output; $("out-img").hidden = false;
    // the photo is filtered at the size shown: a smaller copy has softer edges, so its range differs
    // from the full-size photo's (convscope filter works at full size)
    $("range").textContent = `range ${fmt(data.range[0])} … ${fmt(data.range[1])} at ${data.width}x${data.height} ` +
      "(the photo as shown; at full size the range differs)";
    describeKernel(data);
    colourBar(data);
    $("status").textContent = `${data.kernel.name} on a ${data.width} x ${data.height} photo`;
    if (probe) magnify(Math.min(probe.row, data.height - 1), Math.min(probe.col, data.width - 1));
  } catch (error) {
    clearResults();
    $("status").textContent = "";
    showError(error);
  }
}

function describeKernel(data) {
  const k = data.kernel;
  const kind = k.signed
    ? "signed: a detector, its weights sum to 0, so a flat patch gives 0 (grey); below 0 is blue, above red"
    : `image-like: its weights sum to ${fmt(k.sum, 4)}`;
  $("kernel-desc").replaceChildren(Object.assign(document.createElement("b"), { textContent: k.name }),
    k.name === "custom" ? ": your own weights. " : `: responds to ${k.responds_to}. `, Object.assign(document.createElement("span"),
      { className: k.signed ? "badge signed" : "badge", textContent: kind }));
}

function rgb(c) { return `rgb(${c.join(",")})`; }

function paint(td, colour) {
  // a cell's background, and black or white text, whichever keeps WCAG's 4.5:1 contrast
  const lin = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const luminance = 0.2126 * lin(colour[0]) + 0.7152 * lin(colour[1]) + 0.0722 * lin(colour[2]);
  td.style.background = rgb(colour);
  td.style.color = 1.05 / (luminance + 0.05) >= 4.5 ? "#fff" : "#000";
}

function colourBar(data) {
  // The same colours the output uses (the API sends its three anchors): blue - grey - red when
  // signed; black - white otherwise.
  const bar = $("colourbar"), labels = $("bar-labels").children;
  const [low, high] = data.range;
  bar.hidden = false; $("bar-labels").hidden = false;
  if (data.signed) {
    const c = data.colours;
    bar.style.background = `linear-gradient(to right, ${rgb(c.below)}, ${rgb(c.zero)}, ${rgb(c.above)})`;
    [labels[0].textContent, labels[1].textContent, labels[2].textContent] = [`−${fmt(data.scale)}`, "0", fmt(data.scale)];
    $("bar-note").textContent = `blue below 0, grey at 0, red above. The full range is ${fmt(low)} … ${fmt(high)};` +
      ` the rare values beyond ±${fmt(data.scale)} show at full colour.`;
  } else {
    bar.style.background = "linear-gradient(to right, #000, #fff)";
    const ends = data.colour ? ["0", "1"] : [fmt(low), fmt(high)];
    [labels[0].textContent, labels[1].textContent, labels[2].textContent] = [ends[0], "", ends[1]];
    $("bar-note").textContent = data.colour
      ? `each colour channel from 0 (dark) to 1 (full); values outside are clipped (range ${fmt(low)} … ${fmt(high)}).`
      : `dark is the lowest value (${fmt(low)}), white the highest (${fmt(high)}).`;
  }
  bar.setAttribute("aria-label", `colour scale: ${labels[0].textContent} to ${labels[2].textContent}`);
}

async function uploadFile() {
  const file = $("upload").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  showError(null);
  $("status").textContent = "uploading…";
  try {
    const data = await api("/api/upload", form);
    const select = $("sample");
    let group = select.querySelector("optgroup");
    if (!group) { group = document.createElement("optgroup"); group.label = "your images"; select.prepend(group); }
    group.appendChild(new Option(data.name, data.id, true, true));
    select.value = data.id;
    image = data.id; probe = null;
    await applyKernel();
  } catch (error) {
    clearResults();
    $("status").textContent = "";
    showError(error);
  }
}

// --- the magnifier ------------------------------------------------------------------------------

let busy = false, wanted = null;
function magnify(row, col) {
  // one request at a time, always for the latest pixel asked for (a moving mouse asks often)
  wanted = { row, col };
  if (!busy) pump();
}

async function pump() {
  busy = true;
  while (wanted && last) {
    const { row, col } = wanted;
    wanted = null;
    try { showPixel(await api("/api/filter/pixel", { ...last.request, row, col })); }
    catch (error) { showError(error); }
  }
  busy = false;
}

function table(grid, caption, cellStyle) {
  const t = document.createElement("table");
  t.className = "grid mag";
  t.createCaption().textContent = caption;
  grid.forEach((row, i) => {
    const tr = t.insertRow();
    row.forEach((v, j) => {
      const td = tr.insertCell();
      td.textContent = fmt(v);
      cellStyle?.(td, v, i, j);
    });
  });
  return t;
}

function showPixel(d) {
  probe = { row: d.row, col: d.col };
  Object.assign($("magnifier").dataset, { row: d.row, col: d.col });   // which pixel, for tests and styles
  placeBoxes(d);
  const out = [];
  const head = document.createElement("p");
  head.textContent = `output pixel row ${d.row}, column ${d.col}: the ${d.weights.length}x${d.weights[0].length} ` +
    `patch of the input around it, times the weights, summed.` +
    (d.signed ? " A detector runs on the photo's brightness (grey), one channel." : "");
  out.push(head);
  const c = last.colours;
  for (const ch of d.channels) {
    const box = document.createElement("div");
    box.className = "channel";
    if (d.channels.length > 1) box.appendChild(Object.assign(document.createElement("h3"), { textContent: ch.name }));
    const top = Math.max(1e-12, ...ch.products.flat().map(Math.abs));
    const row = document.createElement("div");
    row.className = "equation";
    row.append(
      table(ch.patch, "input patch", (td, v, i, j) => {
        const g = Math.round(255 * Math.min(1, Math.max(0, v)));
        paint(td, [g, g, g]);
        if (!d.inside[i][j]) { td.classList.add("padcell"); td.title = `border (${d.padding_mode})`; }
      }), sign("×"),
      table(d.weights, "weights"), sign("="),
      table(ch.products, "products", (td, v) => {
        const t = Math.abs(v) / top, end = v < 0 ? c.below : c.above;
        paint(td, c.zero.map((z, k) => Math.round(z + t * (end[k] - z))));
      }));
    box.appendChild(row);
    const sum = document.createElement("p");
    sum.className = "sum";
    sum.innerHTML = `sum of the ${ch.products.flat().length} products = <b class="mag-sum"></b>; ` +
      `the output pixel the filter computed = <b class="mag-output"></b>`;
    sum.querySelector(".mag-sum").textContent = fmt(ch.sum, 5);
    sum.querySelector(".mag-output").textContent = fmt(ch.output, 5);
    box.appendChild(sum);
    out.push(box);
  }
  if (d.inside.flat().includes(false)) {
    out.push(Object.assign(document.createElement("p"), { className: "note",
      textContent: `dashed cells lie beyond the photo's edge: the "${d.padding_mode}" border fills them.` }));
  }
  $("magnifier").replaceChildren(...out);
}

function sign(text) { return Object.assign(document.createElement("span"), { className: "op", textContent: text }); }

function placeBoxes(d) {
  // the kernel's footprint on the input, and the one pixel it makes on the output (in % of the picture)
  const place = (el, top, left, h, w) => Object.assign(el.style, { top: `${100 * top / last.height}%`,
    left: `${100 * left / last.width}%`, height: `${100 * h / last.height}%`, width: `${100 * w / last.width}%` });
  place($("in-box"), d.patch_rows[0], d.patch_cols[0], d.patch_rows.length, d.patch_cols.length);
  place($("out-box"), d.row, d.col, 1, 1);
  $("in-box").hidden = false; $("out-box").hidden = false;
}

function pixelAt(event) {
  // the picture's content box (inside its border), scaled back to the photo's own pixels
  const img = $("out-img"), rect = img.getBoundingClientRect();
  const col = Math.floor((event.clientX - rect.left - img.clientLeft) / img.clientWidth * img.naturalWidth);
  const row = Math.floor((event.clientY - rect.top - img.clientTop) / img.clientHeight * img.naturalHeight);
  return [Math.min(Math.max(row, 0), img.naturalHeight - 1), Math.min(Math.max(col, 0), img.naturalWidth - 1)];
}

function onKey(event) {
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  if (!moves[event.key] || !last) return;
  event.preventDefault();
  const step = event.shiftKey ? 10 : 1;
  const at = probe || { row: Math.floor(last.height / 2), col: Math.floor(last.width / 2) };
  const row = Math.min(Math.max(at.row + moves[event.key][0] * step, 0), last.height - 1);
  const col = Math.min(Math.max(at.col + moves[event.key][1] * step, 0), last.width - 1);
  magnify(row, col);
}

// --- start --------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  try {
    const [samples, kernels] = await Promise.all([api("/api/samples"), api("/api/kernels")]);
    for (const name of samples) $("sample").add(new Option(name, name, name === "camera", name === "camera"));
    for (const k of kernels) {
      presets[k.name] = k;
      $("kernel").add(new Option(`${k.name}${k.signed ? " (signed)" : ""}`, k.name, k.name === "sobel_x", k.name === "sobel_x"));
    }
    $("kernel").add(new Option("custom (your weights)", "custom"));
    buildGrid(presets.sobel_x.weights);
  } catch (error) { showError(error); return; }
  $("sample").addEventListener("change", () => { image = $("sample").value; applyKernel(); });
  $("kernel").addEventListener("change", () => {
    if ($("kernel").value !== "custom") buildGrid(presets[$("kernel").value].weights);
    applyKernel();
  });
  $("ksize").addEventListener("change", resize);
  $("mode").addEventListener("change", applyKernel);
  $("upload").addEventListener("change", uploadFile);
  const out = $("out-img");
  out.addEventListener("pointermove", e => { if (e.pointerType === "mouse") magnify(...pixelAt(e)); });
  out.addEventListener("pointerdown", e => magnify(...pixelAt(e)));
  out.addEventListener("keydown", onKey);
  applyKernel();
});
