// The stepper's drawing, shared by the lab's page (stepper.js) and the notebook widget
// (convscope.widgets.Stepper, whose ES module is this file's text followed by its glue): so the page and
// the notebook draw the same grids. It draws the numbers it is given and computes none of them.
// A classic script with one name, StepperDraw; it touches no element by id unless asked (ids: true),
// because a notebook may hold several steppers at once.
var StepperDraw = (() => {
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sign(value) { return value > 0 ? "pos" : value < 0 ? "neg" : "zero"; }

  function term(value) { return value < 0 ? `(${value})` : String(value); }

  function drawBoard(target, rows, classFor) {
    target.replaceChildren();
    target.style.gridTemplateColumns = `repeat(${rows[0].length}, var(--cell))`;
    rows.forEach((row, i) => row.forEach((value, j) => {
      const square = el("div", "cell " + (classFor ? classFor(i, j, value) : ""), value === null ? "" : String(value));
      square.dataset.row = i; square.dataset.col = j;
      target.appendChild(square);
    }));
  }

  function kernelCard(title, rows) {
    const card = el("figure", "kernel-card");
    const grid = el("div", "board small");
    grid.setAttribute("role", "group"); grid.setAttribute("aria-label", title);
    drawBoard(grid, rows, (i, j, value) => sign(value));
    card.append(grid, el("figcaption", "", title));
    return card;
  }

  function cellSize(setup) {
    // one cell size for every grid: wide enough for the longest number sent
    const longest = Math.max(...[setup.padded, setup.output, setup.weights].flat(3).map(v => String(v).length));
    return Math.max(30, 7 * longest + 12);
  }

  // One card per input channel: its padded input, its kernel (and the turned one when flipped), the
  // products of this window and the channel's subtotal. Returns, per channel, the parts a frame fills.
  function channels(target, setup, { flip = false, ids = false } = {}) {
    target.replaceChildren();
    const [[top, bottom], [left, right]] = setup.padding;  // per side: TensorFlow's "same" may pad one side more
    return setup.padded.map((grid, c) => {
      const card = el("section", "channel-card");
      card.append(el("h3", "", setup.channels > 1 ? `channel ${c}` : "input, padded"));
      const row = el("div", "channel-row");
      const scroll = el("div", "scroll");
      scroll.setAttribute("aria-label", `channel ${c} of the input`);
      const input = el("div", "board");
      input.setAttribute("role", "group");
      input.setAttribute("aria-label", `channel ${c} of the input, padded by ${top} above, ${bottom} below, ` +
        `${left} left, ${right} right`);
      drawBoard(input, grid, (i, j) =>
        (i < top || j < left || i >= grid.length - bottom || j >= grid[0].length - right ? "pad" : ""));
      scroll.append(input);
      const kernels = el("div", "kernels");
      kernels.append(kernelCard(setup.channels > 1 ? `kernel, channel ${c}` : "kernel", setup.kernel[c]));
      if (flip) kernels.append(kernelCard("turned 180°: this slides", setup.weights[c]));
      const products = el("div", "products");
      const subtotal = el("p", "subtotal");
      subtotal.append(setup.channels > 1 ? `channel ${c} subtotal = ` : "sum of the products = ");
      const value = el("b", "subtotal-value");
      subtotal.append(value);
      const arith = el("div", "arith");
      arith.append(el("h4", "", "this window: value × weight"), products, subtotal);
      row.append(scroll, kernels, arith);
      card.append(row);
      target.append(card);
      if (ids) { input.id = `input-${c}`; products.id = `products-${c}`; value.id = `subtotal-${c}`; }
      return { board: input, products, subtotal: value, width: setup.weights[c][0].length, taps: [] };
    });
  }

  function placeTaps(part, cells, cell) {
    while (part.taps.length < cells.length) {
      const tap = el("div", "tap");
      tap.setAttribute("aria-hidden", "true");
      tap.append(el("span", "weight"));
      part.board.append(tap);
      part.taps.push(tap);
    }
    cells.forEach((item, k) => {
      // a new square appears in place; a moved one glides (the CSS transition on transform)
      part.taps[k].style.transform = `translate(${item.col * cell}px, ${item.row * cell}px)`;
      part.taps[k].firstChild.textContent = "×" + item.weight;
    });
  }

  function drawProducts(part, cells) {
    part.products.style.gridTemplateColumns = `repeat(${part.width}, auto)`;
    part.products.replaceChildren(...cells.map(item => {
      const square = el("div", "product");
      square.append(el("span", "", `${item.value} × ${item.weight}`), el("b", "", String(item.product)));
      return square;
    }));
  }

  // One frame: the window on every channel, its products and subtotals, the total line and the output
  // grid filled up to this step. Returns the element that holds the total.
  function drawFrame(parts, setup, frame, index, cell, { line, output, ids = false }) {
    parts.forEach((part, c) => {
      const cells = frame.cells.filter(item => item.channel === c);
      placeTaps(part, cells, cell);
      drawProducts(part, cells);
      part.subtotal.textContent = String(frame.subtotals[c]);
    });
    line.replaceChildren((setup.channels > 1 ? "subtotals " : "sum ") + frame.subtotals.map(term).join(" + ") +
      ` + bias ${term(frame.bias)} = `);
    const total = el("b", "current-text total", String(frame.total));
    if (ids) total.id = "total";
    line.append(total, ` → output row ${frame.row}, column ${frame.col}`);
    const ow = setup.output_shape[1];
    drawBoard(output, setup.output.map((row, i) => row.map((v, j) => (i * ow + j <= index ? v : null))),
      (i, j) => (i * ow + j === index ? "current" : i * ow + j < index ? "done" : "todo"));
    return total;
  }

  function formula(setup) {
    return `height (${setup.input_shape[1]} rows in):\n${setup.explain.height}\n\n`
      + `width (${setup.input_shape[2]} columns in):\n${setup.explain.width}`;
  }

  function markWide(root) {
    // a grid wider than its box scrolls inside it: such a box takes the focus, so keys can scroll it
    for (const scroll of root.querySelectorAll(".scroll")) {
      if (scroll.scrollWidth > scroll.clientWidth) { scroll.tabIndex = 0; scroll.setAttribute("role", "region"); }
      else { scroll.removeAttribute("tabindex"); scroll.removeAttribute("role"); }
    }
  }

  return { el, sign, term, drawBoard, kernelCard, cellSize, channels, placeTaps, drawProducts, drawFrame, formula,
           markWide };
})();
