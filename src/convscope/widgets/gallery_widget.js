// The notebook's gallery (convscope.widgets.Gallery): menus that set the model's kernel, padding mode
// and flip; Python filters and sends the pictures (data: URLs), the range and the weights, drawn here.
// The web gallery's script is bound to its page (ids, fetches, the magnifier), so this is its own small
// file; the number format is the web gallery's (fmt), so both print a range alike.

function fmt(value, digits = 3) {
  if (value === 0 || Object.is(value, -0)) return "0";
  return Math.abs(value) >= 1000 ? value.toFixed(0) : String(Number(value.toPrecision(digits)));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function select(label, options, value) {
  const box = el("label", "", label + " ");
  const menu = el("select");
  for (const name of options) menu.add(new Option(name, name, name === value, name === value));
  box.append(menu);
  return [box, menu];
}

function figure(caption, alt) {
  const fig = el("figure", "picture");
  const img = el("img");
  img.alt = alt;
  fig.append(img, el("figcaption", "", caption));
  return [fig, img];
}

const rgb = c => `rgb(${c.join(",")})`;

function render({ model, el: host }) {
  const root = el("div", "convscope-gallery");
  const [kernelBox, kernel] = select("kernel", model.get("names"), model.get("kernel"));
  const [modeBox, mode] = select("padding mode", model.get("modes"), model.get("padding_mode"));
  const flipBox = el("label", "check");
  const flip = el("input");
  flip.type = "checkbox";
  flipBox.append(flip, " true convolution (turn the kernel 180° first)");
  const controls = el("div", "controls");
  controls.append(kernelBox, modeBox, flipBox);
  const about = el("p", "about");
  const [inFig, inImg] = figure("input", "the input photo");
  const [outFig, outImg] = figure("output", "the filtered photo");
  const bar = el("div", "colourbar"), range = el("p", "range");
  outFig.append(bar, range);
  const weights = el("table", "weights");
  weights.createCaption().textContent = "weights";
  const pictures = el("div", "pictures");
  pictures.append(inFig, outFig, weights);
  root.append(controls, about, pictures);
  host.append(root);

  function draw() {
    const r = model.get("result");
    kernel.value = model.get("kernel"); mode.value = model.get("padding_mode"); flip.checked = model.get("flip");
    inImg.src = model.get("input_png");
    outImg.src = r.output;
    outImg.alt = `the photo filtered by ${r.name}`;
    about.replaceChildren(el("b", "", r.name), `: responds to ${r.responds_to}. ` + (r.signed
      ? "A detector: its weights sum to 0, so a flat patch gives 0 (grey); below 0 is blue, above red."
      : `Image-like: its weights sum to ${fmt(r.sum, 4)}.`));
    range.textContent = `range ${fmt(r.low)} … ${fmt(r.high)}`;
    range.dataset.low = String(r.low); range.dataset.high = String(r.high);
    const c = r.colours;
    bar.style.background = r.signed ? `linear-gradient(to right, ${rgb(c.below)}, ${rgb(c.zero)}, ${rgb(c.above)})`
      : "linear-gradient(to right, #000, #fff)";
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", r.signed ? `colour scale: −${fmt(r.scale)} blue, 0 grey, ${fmt(r.scale)} red`
      : `colour scale: ${fmt(r.low)} black to ${fmt(r.high)} white`);
    while (weights.rows.length) weights.deleteRow(0);
    for (const row of r.weights) {
      const tr = weights.insertRow();
      for (const w of row) {
        const td = tr.insertCell();
        td.textContent = fmt(w, 4);
        td.className = w > 0 ? "pos" : w < 0 ? "neg" : "";
      }
    }
  }

  const send = (name, value) => { model.set(name, value); model.save_changes(); };
  kernel.addEventListener("change", () => send("kernel", kernel.value));
  mode.addEventListener("change", () => send("padding_mode", mode.value));
  flip.addEventListener("change", () => send("flip", flip.checked));
  model.on("change:result", draw);
  model.on("change:input_png", draw);
  draw();
  return () => { model.off("change:result", draw); model.off("change:input_png", draw); };
}

export default { render };
