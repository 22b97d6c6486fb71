// The model page: /api/models lists what the lab serves, /api/model/layers traces one on an input,
// /api/model/maps and /api/model/unit compute a layer's maps and a unit's field when clicked. This file
// only draws: every number comes from the library.
const $ = id => document.getElementById(id);
let state = { layer: null, start: 0, channels: 0, layers: null };
let asked = 0;           // the latest request's number: an older answer that arrives late is dropped
const PAGE = 16;

function query(extra) {
  // read from the menus at each request, so a choice made while the page loads is never lost
  return new URLSearchParams({ model: $("model").value, input: $("input").value, ...extra }).toString();
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

async function loadLayers() {
  showError(null);
  const mine = ++asked;
  try {
    const answer = await api("/api/model/layers?" + query({}));
    if (mine !== asked) return;
    state.layers = answer;
    drawInput(answer.image, null, answer.input_shape);
    const top = answer.prediction ? " Top classes: " + answer.prediction.top.slice(0, 3)
      .map(([k, p]) => `${k} (${(100 * p).toFixed(1)}%)`).join(", ") + "." : "";
    $("input-canvas").setAttribute("aria-label", `the input, ${answer.input_shape.join("x")}`);
    $("summary").textContent = `input ${answer.input_shape.join("x")}.${top} convscope's engine recomputed its ` +
      `${answer.engine.layers} convolutions from their real inputs: largest difference from torch ` +
      `${answer.engine.max_abs_diff.toExponential(1)}.`;
    const table = $("layers");
    table.querySelectorAll("tr").forEach(tr => tr.remove());
    table.append(cellRow("th", ["layer", "kind", "output", "params", "field"]));
    answer.layers.forEach(layer => {
      let name = layer.name;
      if (layer.maps) {
        name = document.createElement("button");
        name.type = "button"; name.textContent = layer.name; name.dataset.layer = layer.name;
        name.addEventListener("click", () => { state.layer = layer.name; state.start = 0; loadMaps(); });
      }
      const row = cellRow("td", [name, layer.kind, layer.shape.join("x"), layer.params.toLocaleString("en"),
                                  layer.field ? layer.field.join("x") : "-"]);
      row.dataset.layer = layer.name;
      table.append(row);
    });
    const first = answer.layers.find(layer => layer.kind.startsWith("Conv") && layer.maps);
    if (first) { state.layer = first.name; state.start = 0; await loadMaps(); }
  } catch (error) { showError(error); }
}

async function loadMaps() {
  showError(null);
  const mine = ++asked;
  try {
    const answer = await api("/api/model/maps?" + query({ layer: state.layer, start: state.start, count: PAGE }));
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

async function loadUnit(channel) {
  showError(null);
  const mine = ++asked;
  try {
    const unit = await api("/api/model/unit?" + query({ layer: state.layer, channel }));
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
    if (unit.kernels) {
      const caption = document.createElement("p");
      caption.textContent = `its kernel for input channel 0 (of ${unit.kernels.length}), bias ` +
        `${unit.bias === null ? "none" : unit.bias.toFixed(3)}:`;
      const grid = document.createElement("div");
      const kernel = Array.isArray(unit.kernels[0][0]) ? unit.kernels[0] : [unit.kernels[0]];
      drawTable(grid, kernel.map(row => row.map(v => Number(v).toFixed(2))));
      box.append(caption, grid);
    }
    if (state.layers) drawInput(state.layers.image, unit.box, state.layers.input_shape);
  } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", async () => {
  try {
    const served = await api("/api/models");
    const ready = served.models.filter(m => m.ready);
    $("model").replaceChildren(...ready.map(m => new Option(`${m.name} (${m.source.replace(/^your file .*\//, "your file ")})`, m.name)));
    $("input").replaceChildren(...["random", "camera", "astronaut", "coins", "coffee", "chelsea"]
      .map(name => new Option(name === "random" ? "random numbers" : `photo: ${name}`, name)));
    $("model").addEventListener("change", loadLayers);
    $("input").addEventListener("change", loadLayers);
    $("previous").addEventListener("click", () => { state.start = Math.max(0, state.start - PAGE); loadMaps(); });
    $("next").addEventListener("click", () => { state.start += PAGE; loadMaps(); });
    if (ready.length) await loadLayers();
    else showError("no model is ready yet: the digit CNN is still training; reload in a few seconds");
  } catch (error) { showError(error); }
});
