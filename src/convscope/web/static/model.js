// The model page: /api/models lists what the lab serves, /api/model/layers traces one on an input,
// /api/model/maps and /api/model/unit compute a layer's maps and a unit's field when clicked; an
// upload or a drawing goes through /api/upload. This file only draws: every number comes from the library.
const $ = id => document.getElementById(id);
let state = { layer: null, start: 0, channels: 0, layers: null, models: [] };
let asked = 0;           // the latest request's number: an older answer that arrives late is dropped
const PAGE = 16, KERNELS_SHOWN = 16;
const INPUT = "(input)";  // what a layer's "inputs" call the model's input

function query(extra) {
  // read from the menus at each request, so a choice made while the page loads is never lost
  return new URLSearchParams({ model: $("model").value, input: $("input").value, ...extra }).toString();
}

async function computing(what, request) {
  // a slow layer (a big model's first click) says what it is doing after 300 ms
  const timer = setTimeout(() => { $("computing-what").textContent = what; $("computing").hidden = false; }, 300);
  try { return await request; } finally { clearTimeout(timer); $("computing").hidden = true; }
}

function drawInput(src, box, shape) {
  // the input picture, and (after a click) the strongest unit's receptive field on it
  const canvas = $("input-canvas"), ctx = canvas.getContext("2d"), image = new Image();
  image.onload = () => {
    canvas.width = 192; canvas.height = Math.round(192 * image.height / image.width);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    if (box && box.length === 2) {
      const sy = canvas.height / shape[2], sx = canvas.width / shape[3];
      ctx.strokeStyle = "#ffd400"; ctx.lineWidth = 3;
      ctx.strokeRect(box[1][0] * sx, box[0][0] * sy, (box[1][1] - box[1][0] + 1) * sx, (box[0][1] - box[0][0] + 1) * sy);
    }
  };
  image.src = src;
}

function cellRow(tag, values) {
  const tr = document.createElement("tr");
  values.forEach(v => { const td = document.createElement(tag); if (v instanceof Node) td.append(v); else td.textContent = v; tr.append(td); });
  return tr;
}

function drawSoftmax(prediction, labels) {
  // the classifier's top classes as bars (the probabilities are the model's softmax)
  const box = $("softmax");
  box.replaceChildren();
  if (!prediction) return;
  const caption = document.createElement("p");
  caption.className = "hint"; caption.textContent = "the model's answer (softmax of its output):";
  box.append(caption);
  prediction.top.forEach(([k, p]) => {
    const row = document.createElement("div"), track = document.createElement("span"), fill = document.createElement("span");
    row.className = "prob"; track.className = "track"; fill.style.width = `${(100 * p).toFixed(1)}%`;
    track.append(fill);
    const label = document.createElement("span"), value = document.createElement("span");
    label.textContent = labels ? labels[k] : `class ${k}`; value.textContent = `${(100 * p).toFixed(1)}%`;
    row.append(label, track, value); box.append(row);
  });
}

function drawGraph(layers) {
  // one dot per layer row; a line from each layer it reads: straight from the row above, or an arc
  // on the left that jumps over the rows between (a branch), each arc in a lane of its own
  const svg = $("graph"), rows = [...$("layers").querySelectorAll("tr[data-layer]")];
  const index = new Map(layers.map((layer, i) => [layer.name, i]));
  const header = $("layers").querySelector("tr").getBoundingClientRect(), top = svg.getBoundingClientRect().top;
  const y = i => i < 0 ? header.bottom - top - 4 : rows[i].getBoundingClientRect().top - top + rows[i].offsetHeight / 2;
  const edges = [];
  layers.forEach((layer, i) => layer.inputs.forEach(source => {
    const from = source === INPUT ? -1 : index.get(source);
    if (from !== undefined) edges.push({ from, to: i, source, target: layer.name });
  }));
  const lanes = [];   // per lane, the [from, to] spans it holds
  edges.filter(e => e.to - e.from > 1).sort((a, b) => (a.to - a.from) - (b.to - b.from)).forEach(e => {
    let lane = lanes.findIndex(spans => spans.every(([a, b]) => e.to <= a || e.from >= b));
    if (lane < 0) { lane = lanes.length; lanes.push([]); }
    lanes[lane].push([e.from, e.to]); e.lane = lane;
  });
  const spine = 8 + 7 * lanes.length, ns = "http://www.w3.org/2000/svg";
  svg.setAttribute("width", spine + 6); svg.setAttribute("height", $("layers").offsetHeight);
  $("layers").style.marginLeft = `${spine + 6}px`;
  svg.replaceChildren();
  edges.forEach(e => {
    const path = document.createElementNS(ns, "path"), y1 = y(e.from), y2 = y(e.to);
    if (e.lane === undefined) path.setAttribute("d", `M${spine},${y1} L${spine},${y2}`);
    else {
      const x = spine - 7 * (e.lane + 1);
      path.setAttribute("d", `M${spine},${y1} Q${x},${y1} ${x},${y1 + 6} L${x},${y2 - 6} Q${x},${y2} ${spine},${y2}`);
      path.setAttribute("class", "branch");
    }
    path.dataset.from = e.source; path.dataset.to = e.target;
    svg.append(path);
  });
  rows.forEach((row, i) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", spine); dot.setAttribute("cy", y(i)); dot.setAttribute("r", 3);
    svg.append(dot);
  });
}

async function loadLayers() {
  showError(null);
  const mine = ++asked;
  try {
    const answer = await computing("the layers", api("/api/model/layers?" + query({})));
    if (mine !== asked) return;
    state.layers = answer;
    drawInput(answer.image, null, answer.input_shape);
    $("input-canvas").setAttribute("aria-label", `the input, ${answer.input_shape.join("x")}`);
    $("summary").textContent = `input ${answer.input_shape.join("x")}. convscope's engine recomputed its ` +
      `${answer.engine.layers} convolutions from their real inputs: largest difference from torch ` +
      `${answer.engine.max_abs_diff.toExponential(1)}.`;
    drawSoftmax(answer.prediction, answer.labels);
    const table = $("layers"), names = answer.layers.map(layer => layer.name);
    table.querySelectorAll("tr").forEach(tr => tr.remove());
    table.append(cellRow("th", ["layer", "kind", "output", "params", "field", "reads"]));
    answer.layers.forEach((layer, i) => {
      let name = layer.name;
      if (layer.maps) {
        name = document.createElement("button");
        name.type = "button"; name.textContent = layer.name; name.dataset.layer = layer.name;
        name.addEventListener("click", async () => {
          state.layer = layer.name; state.start = 0;
          await loadMaps();
          if (window.innerWidth < 700) $("maps-title").scrollIntoView();   // a phone: the maps are below the table
        });
      }
      // "reads" is blank when a layer reads only the row above; else it names every input (a branch)
      const simple = layer.inputs.length === 1 && layer.inputs[0] === (i ? names[i - 1] : INPUT);
      const reads = simple ? "" : layer.inputs.join(" + ");
      const row = cellRow("td", [name, layer.kind, layer.shape.join("x"), layer.params.toLocaleString("en"),
                                  layer.field ? layer.field.join("x") : "-", reads]);
      row.dataset.layer = layer.name;
      table.append(row);
    });
    drawGraph(answer.layers);
    const first = answer.layers.find(layer => layer.kind.startsWith("Conv") && layer.maps);
    if (first) { state.layer = first.name; state.start = 0; await loadMaps(); }
  } catch (error) { showError(error); }
}

async function loadMaps() {
  showError(null);
  const mine = ++asked;
  try {
    const answer = await computing(`the maps of ${state.layer}`,
      api("/api/model/maps?" + query({ layer: state.layer, start: state.start, count: PAGE })));
    if (mine !== asked) return;
    state.channels = answer.channels;
    document.querySelectorAll("#layers tr").forEach(tr => tr.classList.toggle("here", tr.dataset.layer === state.layer));
    $("maps-title").textContent = `feature maps of ${answer.layer} (${answer.kind}, ${answer.channels} channels)`;
    const box = $("maps");
    box.replaceChildren();
    answer.maps.forEach(map => {
      const button = document.createElement("button");
      button.type = "button"; button.setAttribute("aria-pressed", "false"); button.dataset.channel = map.channel;
      const image = document.createElement("img");
      image.src = map.image; image.alt = `channel ${map.channel}: ${map.shape.join("x")}, max ${map.max.toFixed(2)}`;
      const label = document.createElement("span");
      label.textContent = `${map.channel}: max ${map.max.toFixed(2)}`;
      button.append(image, label);
      button.addEventListener("click", () => {
        box.querySelectorAll("button").forEach(b => b.setAttribute("aria-pressed", String(b === button)));
        loadUnit(map.channel);
      });
      box.append(button);
    });
    const last = Math.min(state.start + PAGE, answer.channels);
    $("page").textContent = `channels ${state.start}-${last - 1} of ${answer.channels}`;
    $("previous").disabled = state.start === 0;
    $("next").disabled = last >= answer.channels;
    $("unit").replaceChildren();
  } catch (error) { showError(error); }
}

function drawKernels(box, unit) {
  // one small picture per input channel, all on one colour scale (so a channel that matters stands
  // out), then the first channel's numbers
  const kernels = unit.kernels.map(k => Array.isArray(k[0]) ? k : [k]);   // a 1-d kernel as one row
  const scale = Math.max(1e-9, ...kernels.flat(2).map(Math.abs));
  const caption = document.createElement("p");
  caption.textContent = `its kernels, one per input channel (${kernels.length}` +
    `${kernels.length > KERNELS_SHOWN ? `, the first ${KERNELS_SHOWN} shown` : ""}), bias ` +
    `${unit.bias === null ? "none" : unit.bias.toFixed(3)}; red adds, blue subtracts:`;
  const strip = document.createElement("div");
  strip.className = "kernels";
  kernels.slice(0, KERNELS_SHOWN).forEach((kernel, c) => {
    const figure = document.createElement("figure"), canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `kernel for input channel ${c}: ${kernel.map(r => r.map(v => v.toFixed(2)).join(" ")).join(" / ")}`);
    heat(canvas, kernel, Math.max(4, Math.floor(36 / kernel[0].length)), scale);
    const label = document.createElement("figcaption");
    label.textContent = `in ${c}`;
    figure.append(canvas, label); strip.append(figure);
  });
  const numbers = document.createElement("p");
  numbers.textContent = "input channel 0's weights:";
  const grid = document.createElement("div");
  drawTable(grid, kernels[0].map(row => row.map(v => Number(v).toFixed(2))));
  box.append(caption, strip, numbers, grid);
}

async function loadUnit(channel) {
  showError(null);
  const mine = ++asked;
  try {
    const unit = await computing(`channel ${channel}`, api("/api/model/unit?" + query({ layer: state.layer, channel })));
    if (mine !== asked) return;
    const box = $("unit");
    box.replaceChildren();
    const text = document.createElement("p");
    const field = unit.field ? ` It sees input rows ${unit.field.rows ? unit.field.rows.join("-") + ", columns " : ""}` +
      `${(unit.field.cols || []).join("-")} (the yellow box on the input; outside the image is padding).` : "";
    text.textContent = `Channel ${channel}: strongest unit at ${unit.peak.join(", ")} = ${unit.value.toFixed(3)}; ` +
      `mean ${unit.stats.mean.toFixed(3)}, ${(100 * unit.stats.positive).toFixed(0)}% above 0.${field}`;
    text.id = "unit-text";
    box.append(text);
    if (unit.patch) {
      const patch = document.createElement("img");
      patch.src = unit.patch; patch.alt = "the input patch under the strongest unit";
      box.append(patch);
    }
    if (unit.kernels) drawKernels(box, unit);
    if (state.layers) drawInput(state.layers.image, unit.box, state.layers.input_shape);
  } catch (error) { showError(error); }
}
