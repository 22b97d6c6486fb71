// The notebook's stepper (convscope.widgets.Stepper). This module's text starts with the lab page's
// stepper-draw.js, so StepperDraw above is the very code the web stepper draws with. Python holds the
// state and computes every number (setup, index, frame); this file draws them, asks for another step
// by setting index, and times play: it never works out a product itself.
const D = StepperDraw;

function button(text, label) {
  const node = D.el("button", "", text);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  return node;
}

function labelled(text, control) {
  const label = D.el("label", "", text + " ");
  label.append(control);
  return label;
}

function range(min, max, value) {
  const node = D.el("input");
  Object.assign(node, { type: "range", min: String(min), max: String(max), value: String(value) });
  return node;
}

function render({ model, el }) {
  const root = D.el("div", "convscope-stepper");
  const back = button("◀ back", "step back"), step = button("step ▶", "step forward"), play = button("play");
  play.classList.add("play");
  const scrub = range(0, 0, 0), speed = range(1, 10, 5);
  const transport = D.el("div", "transport");
  transport.setAttribute("role", "group");
  transport.setAttribute("aria-label", "step through the windows");
  const position = labelled("position", scrub);
  position.classList.add("grow");
  transport.append(back, step, play, position, labelled("speed", speed));
  const readout = D.el("p", "readout");
  readout.setAttribute("aria-live", "polite");

  const results = D.el("div", "results");
  const channels = D.el("div", "channels");
  const totalTitle = D.el("h3"), line = D.el("p", "total-line");
  const totalCard = D.el("div", "total-card");
  totalCard.append(totalTitle, line);
  const outputTitle = D.el("h3"), output = D.el("div", "board output-board");
  output.setAttribute("role", "group"); output.setAttribute("aria-label", "output grid");
  const outputScroll = D.el("div", "scroll");
  outputScroll.append(output);
  const outputCard = D.el("div", "output-card");
  outputCard.append(outputTitle, outputScroll);
  const sums = D.el("div", "sum-row");
  sums.append(totalCard, outputCard);
  results.append(channels, sums);
  const why = D.el("details", "why"), whyTitle = D.el("summary"), formula = D.el("pre", "formula");
  why.append(whyTitle, formula);
  root.append(transport, readout, results, why);
  el.append(root);

  let parts = [], cell = 32, timer = null;

  function drawSetup() {
    const setup = model.get("setup");
    cell = D.cellSize(setup);
    results.style.setProperty("--cell", cell + "px");
    parts = D.channels(channels, setup, { flip: setup.flip });
    const [oh, ow] = setup.output_shape;
    totalTitle.textContent = setup.channels > 1 ? "add the channels and the bias" : "add the bias";
    outputTitle.textContent = `output (${oh} × ${ow})`;
    whyTitle.textContent = `Why is the output ${oh} × ${ow}?`;
    formula.textContent = D.formula(setup);
    scrub.max = String(setup.frames - 1);
  }

  function drawFrame() {
    const setup = model.get("setup"), frame = model.get("frame");
    if (!frame || !frame.cells) return;
    D.drawFrame(parts, setup, frame, frame.index, cell, { line, output });
    scrub.value = String(frame.index);
    const where = `output row ${frame.row}, column ${frame.col}`;
    scrub.setAttribute("aria-valuetext", `step ${frame.index + 1} of ${setup.frames}: ${where}`);
    readout.textContent = `Step ${frame.index + 1} of ${setup.frames}: ${where} = ${frame.total}`;
    D.markWide(root);
    if (model.get("playing")) schedule();   // the next step once this one is drawn: play never outruns Python
  }

  function go(target, playing = false) {
    // Python checks the index; this keeps it in range so a click never asks for a step that is not there
    const index = Math.max(0, Math.min(model.get("frames") - 1, target));
    if (model.get("playing") !== playing) model.set("playing", playing);
    if (index !== model.get("index")) model.set("index", index);
    model.save_changes();
  }

  function schedule() {
    clearTimeout(timer);
    const delay = model.get("interval");
    results.style.setProperty("--slide", Math.min(400, delay * 0.6) + "ms");
    timer = setTimeout(() => {
      timer = null;
      const index = model.get("index");
      go(index + 1, index + 1 < model.get("frames") - 1);   // stops on the last step
    }, delay);
  }

  function drawPlaying() {
    const on = model.get("playing");
    play.textContent = on ? "pause" : "play";
    play.setAttribute("aria-pressed", String(on));
    clearTimeout(timer);
    timer = null;
    if (on) schedule();
  }

  back.addEventListener("click", () => go(model.get("index") - 1));
  step.addEventListener("click", () => go(model.get("index") + 1));
  play.addEventListener("click", () => {
    if (model.get("playing")) { go(model.get("index")); return; }
    const index = model.get("index"), last = model.get("frames") - 1;
    if (last > 0) go(index >= last ? 0 : index, true);   // from the end, play starts again
  });
  scrub.addEventListener("input", () => go(Number(scrub.value)));
  speed.value = String(Math.round((1700 - model.get("interval")) / 150));
  speed.addEventListener("input", () => { model.set("interval", 1700 - 150 * Number(speed.value)); model.save_changes(); });
  output.addEventListener("click", event => {
    const square = event.target.closest(".cell");
    if (square) go(Number(square.dataset.row) * model.get("setup").output_shape[1] + Number(square.dataset.col));
  });
  root.addEventListener("keydown", event => {
    if (event.target.closest("input, select, [tabindex='0']")) return;  // they keep their keys
    const index = model.get("index");
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: model.get("frames") - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation();   // Jupyter's own shortcuts should not also take the key
    go(moves[event.key]);
  });

  const onSetup = () => { drawSetup(); drawFrame(); };
  model.on("change:setup", onSetup);
  model.on("change:frame", drawFrame);
  model.on("change:playing", drawPlaying);
  drawSetup();
  drawFrame();
  drawPlaying();
  return () => {
    clearTimeout(timer);
    model.off("change:setup", onSetup);
    model.off("change:frame", drawFrame);
    model.off("change:playing", drawPlaying);
  };
}

export default { render };
