// The stepper: every number comes from /api/stepper and /api/stepper/frame (already rounded as
// float32 shows them); stepper-draw.js draws them (as the notebook widget does), this file reads the
// set-up, moves the window and keeps the requests in order.
(() => {
const PRESETS = {
  lesson: ["1 2 0 0\n5 3 0 4\n2 1 3 1\n0 2 1 2", "1 0\n0 -1"],
  sobel: ["1 2 3 0 1\n0 1 2 3 4\n2 1 0 1 2\n3 0 1 2 3\n1 2 3 4 0", "-1 0 1\n-2 0 2\n-1 0 1"],
  rgb: ["1 0 1 0\n0 1 0 1\n1 0 1 0\n0 1 0 1\n\n0 0 1 1\n0 0 1 1\n1 1 0 0\n1 1 0 0\n\n2 2 2 2\n0 0 0 0\n2 2 2 2\n0 0 0 0",
        "0 1 0\n1 -4 1\n0 1 0\n\n1 0 -1\n1 0 -1\n1 0 -1\n\n0.5 0.5 0.5\n0 0 0\n-0.5 -0.5 -0.5"],
};
const $ = id => document.getElementById(id);
let setup = null, request = null, index = 0, timer = null, cell = 32;
let setups = 0, asks = 0;          // request counters: an answer older than the latest is dropped
const frames = new Map();          // this set-up's frames by index, so stepping back asks nothing
let parts = [];                    // per channel: the boards and boxes a frame fills (StepperDraw.channels)

function randomPreset() {
  const rows = [];
  for (let i = 0; i < 6; i++) rows.push(Array.from({ length: 6 }, () => Math.floor(Math.random() * 5)).join(" "));
  return [rows.join("\n"), "1 0 -1\n1 0 -1\n1 0 -1"];
}

function loadPreset() {
  const name = $("preset").value;
  [$("input").value, $("kernel").value] = name === "random" ? randomPreset() : PRESETS[name];
}

function readGrid(text, name) {
  // Tokens only; a blank box goes to the API as [] and comes back as its "empty" message.
  if (!text.trim()) return [];
  const channels = text.trim().split(/\n\s*\n/).map(block => block.trim().split("\n").map(line =>
    line.trim().split(/[\s,]+/).map(token => {
      const value = Number(token);
      if (!Number.isFinite(value)) {
        throw new Error(`the ${name} holds "${token}", which is not a number. Fix: type numbers separated by spaces`);
      }
      return value;
    })));
  return channels.length === 1 ? channels[0] : channels;
}

function readRequest() {
  return {
    input: readGrid($("input").value, "input"), kernel: readGrid($("kernel").value, "kernel"),
    stride: Number($("stride").value), padding_mode: $("mode").value,
    padding: /^\d+$/.test($("padding").value) ? Number($("padding").value) : $("padding").value,  // or "same_upper"
    dilation: Number($("dilation").value), flip: $("flip").checked, bias: Number($("bias").value || 0),
  };
}

function drawSetup() {
  cell = StepperDraw.cellSize(setup);
  $("results").style.setProperty("--cell", cell + "px");
  parts = StepperDraw.channels($("channels"), setup, { flip: request.flip, ids: true });
  const [oh, ow] = setup.output_shape;
  $("total-title").textContent = setup.channels > 1 ? "add the channels and the bias" : "add the bias";
  $("output-note").textContent = `(${oh} × ${ow})`;
  $("why-title").textContent = `Why is the output ${oh} × ${ow}?`;
  $("formula").textContent = StepperDraw.formula(setup);
  $("code").textContent = setup.code;
  $("scrub").max = String(setup.frames - 1);
}

function drawFrame(frame) {
  StepperDraw.drawFrame(parts, setup, frame, index, cell, { line: $("total-line"), output: $("output-board"), ids: true });
  $("scrub").value = String(index);
  $("scrub").setAttribute("aria-valuetext", `step ${index + 1} of ${setup.frames}: row ${frame.row}, column ${frame.col}`);
  $("readout").textContent = `Step ${index + 1} of ${setup.frames}: output row ${frame.row}, column ${frame.col} = ${frame.total}`;
  StepperDraw.markWide($("results"));
}

async function show(target) {
  if (!setup) return;
  index = Math.max(0, Math.min(setup.frames - 1, target));
  const mine = ++asks, wanted = index, forSetup = setups;
  let frame = frames.get(wanted);
  if (!frame) {
    try { frame = await api("/api/stepper/frame", { ...request, index: wanted }); }
    catch (error) { if (forSetup === setups) fail(error); return; }
    if (forSetup !== setups) return;
    frames.set(wanted, frame);
  }
  if (mine === asks) drawFrame(frame);
}

function enable(on) {
  for (const id of ["back", "step", "play", "scrub"]) $(id).disabled = !on;
  $("results").hidden = !on;
}

function fail(error) {
  // an error leaves nothing of the last grid on screen: what shows is what the message is about
  stop();
  setup = null;
  showError(error);
  enable(false);
  for (const id of ["readout", "formula", "code", "output-note"]) $(id).textContent = "";
  $("why-title").textContent = "Why is the output this size?";
}

async function doSetup() {
  stop();
  const mine = ++setups;
  let body, answer;
  try {
    body = readRequest();
    answer = await api("/api/stepper", body);
  } catch (error) { if (mine === setups) fail(error); return; }
  if (mine !== setups) return;
  showError(null);
  setup = answer; request = body; frames.clear();
  enable(true);
  drawSetup();
  await show(0);
}

function delay() { return 1700 - 150 * Number($("speed").value); }  // speed 1..10: 1.55 s .. 0.2 s a step

function stop() {
  clearTimeout(timer);
  timer = null;
  $("play").textContent = "play";
  $("play").setAttribute("aria-pressed", "false");
}

function schedule() {
  // read the speed at every step, so moving the slider during play takes effect at once
  clearTimeout(timer);
  $("results").style.setProperty("--slide", Math.min(400, delay() * 0.6) + "ms");
  timer = setTimeout(async () => {
    if (!setup || index >= setup.frames - 1) { stop(); return; }
    await show(index + 1);
    if (timer !== null) schedule();
  }, delay());
}

function togglePlay() {
  if (timer !== null) { stop(); return; }
  if (!setup) return;
  $("play").textContent = "pause";
  $("play").setAttribute("aria-pressed", "true");
  if (index >= setup.frames - 1) show(0);
  schedule();
}

function stepBy(delta) { stop(); show(index + delta); }

let typing = null;
function soon() { clearTimeout(typing); typing = setTimeout(doSetup, 350); }

document.addEventListener("DOMContentLoaded", () => {
  loadPreset();
  $("preset").addEventListener("change", () => { loadPreset(); doSetup(); });
  for (const id of ["input", "kernel", "bias"]) $(id).addEventListener("input", soon);
  for (const id of ["stride", "padding", "mode", "dilation", "flip"]) $(id).addEventListener("change", doSetup);
  $("back").addEventListener("click", () => stepBy(-1));
  $("step").addEventListener("click", () => stepBy(1));
  $("play").addEventListener("click", togglePlay);
  $("scrub").addEventListener("input", () => { stop(); show(Number($("scrub").value)); });
  $("speed").addEventListener("input", () => { if (timer !== null) schedule(); });
  $("output-board").addEventListener("click", event => {
    const square = event.target.closest(".cell");
    if (square) stepBy(Number(square.dataset.row) * setup.output_shape[1] + Number(square.dataset.col) - index);
  });
  document.addEventListener("keydown", event => {
    if (!setup || event.target.closest("textarea, input, select, [tabindex='0']")) return;  // they keep their keys
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: setup.frames - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    stop();
    show(moves[event.key]);
  });
  doSetup();
});
})();
