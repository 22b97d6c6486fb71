// The stepper: every number comes from /api/stepper and /api/stepper/frame; this file draws.
const PRESETS = {
  lesson: ["1 2 0 0\n5 3 0 4\n2 1 3 1\n0 2 1 2", "1 0\n0 -1"],
  sobel: ["1 2 3 0 1\n0 1 2 3 4\n2 1 0 1 2\n3 0 1 2 3\n1 2 3 4 0", "-1 0 1\n-2 0 2\n-1 0 1"],
  rgb: ["1 0 1 0\n0 1 0 1\n1 0 1 0\n0 1 0 1\n\n0 0 1 1\n0 0 1 1\n1 1 0 0\n1 1 0 0\n\n2 2 2 2\n0 0 0 0\n2 2 2 2\n0 0 0 0",
        "0 1 0\n1 -4 1\n0 1 0"],
};
let setup = null, frame = 0, timer = null, request = null;

function randomPreset() {
  const rows = [];
  for (let i = 0; i < 6; i++) rows.push(Array.from({ length: 6 }, () => Math.floor(Math.random() * 5)).join(" "));
  return [rows.join("\n"), "1 0 -1\n1 0 -1\n1 0 -1"];
}

function loadPreset() {
  const [input, kernel] = document.getElementById("preset").value === "random" ? randomPreset()
    : PRESETS[document.getElementById("preset").value];
  document.getElementById("input").value = input;
  document.getElementById("kernel").value = kernel;
}

function readRequest() {
  return {
    input: parseGrid(document.getElementById("input").value),
    kernel: parseGrid(document.getElementById("kernel").value),
    stride: Number(document.getElementById("stride").value),
    padding: Number(document.getElementById("padding").value),
    padding_mode: document.getElementById("mode").value,
    dilation: Number(document.getElementById("dilation").value),
    flip: document.getElementById("flip").checked,
  };
}

function drawInput(highlight) {
  const p = setup.padding, first = setup.padded[0];
  drawTable(document.getElementById("input-grid"), first, (i, j) => {
    if (highlight && highlight.has(`${i},${j}`)) return "hl";
    return (i < p || j < p || i >= first.length - p || j >= first[0].length - p) ? "pad" : "";
  });
  document.getElementById("channel-note").textContent =
    setup.channels > 1 ? `(channel 0 of ${setup.channels}; the products cover all)` : "";
}

function drawOutput(filled, current) {
  const rows = setup.output.map((row, i) => row.map((v, j) => (filled.has(`${i},${j}`) ? v : null)));
  drawTable(document.getElementById("output-grid"), rows,
    (i, j) => (current === `${i},${j}` ? "current" : filled.has(`${i},${j}`) ? "filled" : ""));
}

let filled = new Set();

async function doSetup() {
  stop();
  showError(null);
  try {
    request = readRequest();
    setup = await api("/api/stepper", request);
  } catch (error) { showError(error); setup = null; return; }
  frame = 0; filled = new Set();
  drawInput(null); drawOutput(filled, null);
  document.getElementById("formula").textContent =
    "height:\n" + setup.explain.height + "\n\nwidth:\n" + setup.explain.width;
  document.getElementById("code").textContent = setup.code;
  document.getElementById("products").textContent = "";
  document.getElementById("sum").textContent = "";
}

async function doStep() {
  if (!setup) await doSetup();
  if (!setup) return;
  if (frame >= setup.frames) { frame = 0; filled = new Set(); }
  let data;
  try { data = await api("/api/stepper/frame", { ...request, index: frame }); }
  catch (error) { showError(error); stop(); return; }
  const here = new Set(data.cells.filter(c => c.channel === 0).map(c => `${c.row},${c.col}`));
  drawInput(here);
  filled.add(`${data.row},${data.col}`);
  drawOutput(filled, `${data.row},${data.col}`);
  document.getElementById("products").textContent = data.cells.map(c =>
    `${c.channel ? "c" + c.channel + " " : ""}${c.value} × ${c.weight} = ${c.product}`).join("\n");
  document.getElementById("products").style.whiteSpace = "pre";
  document.getElementById("sum").textContent = data.sum;
  frame += 1;
}

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  document.getElementById("play").textContent = "play";
}

function togglePlay() {
  if (timer) { stop(); return; }
  document.getElementById("play").textContent = "pause";
  timer = setInterval(doStep, Number(document.getElementById("speed").max) + 100
    - Number(document.getElementById("speed").value));
}

document.addEventListener("DOMContentLoaded", () => {
  loadPreset();
  document.getElementById("preset").addEventListener("change", () => { loadPreset(); doSetup(); });
  document.getElementById("setup").addEventListener("click", doSetup);
  document.getElementById("step").addEventListener("click", doStep);
  document.getElementById("play").addEventListener("click", togglePlay);
  for (const id of ["stride", "padding", "mode", "dilation", "flip"])
    document.getElementById(id).addEventListener("change", doSetup);
  doSetup();
});
