// CNN Lab stepper: replays a trace (ui/trace.py) in the browser. Stepping, playing, the speed and
// jumping never talk to the server; the current step lives here and in the URL (?<key>=<step>).
const store = (window.__cnnlabSteppers ||= {});
const timings = (window.__cnnlabStepperTimings ||= []);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function windowCells(windows) {
  const out = new Map(); // grid -> Set("r,c")
  for (const w of windows || []) {
    const set = out.get(w[0]) || new Set();
    if (w.length === 2) {
      for (let k = 0; k < w[1].length; k += 2) set.add(w[1][k] + "," + w[1][k + 1]);
    } else {
      const [, r0, c0, h, wd, dr, dc] = w;
      for (let a = 0; a < h; a++) for (let b = 0; b < wd; b++) set.add(r0 + a * dr + "," + (c0 + b * dc));
    }
    out.set(w[0], set);
  }
  return out;
}

function urlStep(key, n) {
  const v = parseInt(new URLSearchParams(window.location.search).get(key), 10);
  return v >= 1 && v <= n ? v : 1;
}

export default function ({ data, parentElement }) {
  const { trace, sig, labels, legend, lecture, name: key } = data;
  const SPEEDS = data.speeds; // seconds per step, as in the GIF export
  // Streamlit runs this again when the data change (other numbers, another language): end the
  // previous run's timer, observer and markup first, whether or not its cleanup was called.
  if (parentElement.__cnnlabDispose) parentElement.__cnnlabDispose();
  const steps = trace.steps;
  const n = steps.length;
  const old = store[key];
  const state = {
    sig,
    step: old ? (old.sig === sig ? Math.min(old.step, n) : 1) : urlStep(key, n),
    speed: old ? old.speed : "normal",
  };
  store[key] = state;
  let timer = null;

  const root = el("div", "stp" + (lecture ? " stp-lecture" : ""));
  root.dataset.testid = "stepper";
  root.setAttribute("data-testid", "stepper");
  root.setAttribute("tabindex", "0");
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", labels.aria);
  root.dataset.steps = String(n);
  root.dataset.key = key;

  // --- controls -------------------------------------------------------------------------
  const bar = el("div", "stp-bar");
  const button = (name, text, title) => {
    const b = el("button", "stp-btn stp-" + name, text);
    b.type = "button";
    b.tabIndex = -1;
    b.title = title;
    b.setAttribute("aria-label", title);
    b.dataset.action = name;
    bar.appendChild(b);
    return b;
  };
  const bFirst = button("first", "|◀", labels.first);
  const bPrev = button("prev", "◀", labels.prev);
  const bPlay = button("play", "▶ " + labels.play, labels.play);
  const bNext = button("next", "▶", labels.next);
  const bLast = button("last", "▶|", labels.last);
  const speedBox = el("span", "stp-speed");
  speedBox.appendChild(el("span", "stp-label", labels.speed));
  const speedButtons = {};
  for (const s of Object.keys(SPEEDS)) {
    const b = el("button", "stp-btn stp-speed-" + s, labels["speed_" + s]);
    b.type = "button";
    b.tabIndex = -1;
    b.dataset.speed = s;
    speedButtons[s] = b;
    speedBox.appendChild(b);
  }
  bar.appendChild(speedBox);
  const slider = el("input", "stp-slider");
  slider.type = "range";
  slider.min = "1";
  slider.max = String(n);
  slider.tabIndex = -1;
  slider.setAttribute("aria-label", labels.jump);
  slider.disabled = n === 1;
  bar.appendChild(slider);
  const position = el("span", "stp-position");
  position.setAttribute("aria-live", "polite");
  bar.appendChild(position);
  const tools = el("span", "stp-tools");
  const bLink = el("button", "stp-btn stp-link", labels.copy);
  const bPng = el("button", "stp-btn stp-png", "PNG");
  for (const b of [bLink, bPng]) {
    b.type = "button";
    b.tabIndex = -1;
    tools.appendChild(b);
  }
  bPng.title = labels.png;
  bar.appendChild(tools);
  root.appendChild(bar);

  // --- legend and matrices --------------------------------------------------------------
  if (legend && legend.length) {
    const lg = el("div", "cl-legend");
    for (const [role, text] of legend) lg.appendChild(el("span", "cl-" + role, text));
    root.appendChild(lg);
  }
  const body = el("div", "stp-body");
  const cells = []; // cells[g][r][c] = td
  const base = []; // base[g][r][c] = role class
  const texts = trace.grids.map((g) => g.v.map((row) => row.slice()));
  const ops = {};
  const pictures = []; // pictures[p] = {rects: [svg rect], tags: [svg text], image: HTMLImageElement}
  trace.grids.forEach((g, gi) => {
    base[gi] = g.v.map((row, r) => row.map((_, c) => "cl-" + (typeof g.r === "string" ? g.r : g.r[r][c])));
  });
  // rows: lists of grid indexes, operators, {op: id} texts that change per step, and {stack: rows}
  // (rows drawn one above the other inside a row, e.g. three channels feeding one feature map).
  const addRow = (row, parent) => {
    const line = el("div", "cl-row");
    for (const item of row) {
      if (typeof item === "number") {
        const g = trace.grids[item];
        const box = el("div", "cl-matrix");
        box.dataset.matrix = g.n;
        box.appendChild(el("div", "cl-caption", g.c));
        const table = el("table");
        cells[item] = g.v.map((vals) => {
          const tr = el("tr");
          const tds = vals.map(() => tr.appendChild(el("td")));
          table.appendChild(tr);
          return tds;
        });
        box.appendChild(table);
        line.appendChild(box);
      } else if (typeof item === "string") {
        line.appendChild(el("div", "cl-op", item));
      } else if (item.pic !== undefined) {
        line.appendChild(pictureBox(item.pic));
      } else if (item.stack) {
        const column = el("div", "cl-stack");
        for (const sub of item.stack) addRow(sub, column);
        line.appendChild(column);
      } else {
        ops[item.op] = line.appendChild(el("div", "cl-op", ""));
      }
    }
    parent.appendChild(line);
  };
  // A photo with boxes over it (object detection): an SVG whose rectangles each step shows or hides.
  function pictureBox(index) {
    const p = trace.pictures[index];
    const NS = "http://www.w3.org/2000/svg";
    const box = el("div", "cl-matrix cl-picture");
    box.dataset.picture = p.n;
    box.appendChild(el("div", "cl-caption", p.c));
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${p.w} ${p.h}`);
    svg.setAttribute("width", p.w);
    svg.classList.add("cl-picture-svg");
    const img = document.createElementNS(NS, "image");
    img.setAttribute("href", p.src);
    img.setAttribute("width", p.w);
    img.setAttribute("height", p.h);
    svg.appendChild(img);
    const rects = [];
    const tags = [];
    p.b.forEach(([x1, y1, x2, y2], k) => {
      const r = document.createElementNS(NS, "rect");
      r.setAttribute("x", x1);
      r.setAttribute("y", y1);
      r.setAttribute("width", Math.max(0.5, x2 - x1));
      r.setAttribute("height", Math.max(0.5, y2 - y1));
      r.setAttribute("class", "bx bx-off");
      svg.appendChild(r);
      rects.push(r);
      const tag = document.createElementNS(NS, "text");
      tag.setAttribute("x", x1 + 2);
      tag.setAttribute("y", Math.max(11, y1 - 3));
      tag.setAttribute("class", "bx-tag bx-off");
      tag.textContent = p.l[k] || "";
      svg.appendChild(tag);
      tags.push(tag);
    });
    box.appendChild(svg);
    const image = new Image();
    image.src = p.src; // for the PNG export, which draws on a canvas
    pictures[index] = { rects, tags, image, svg };
    return box;
  }
  const boxStyles = (s) => {
    const out = new Map(); // picture -> Map(box -> style)
    for (const [pi, flat] of s.x || []) {
      const m = new Map();
      for (let k = 0; k < flat.length; k += 2) m.set(flat[k], flat[k + 1]);
      out.set(pi, m);
    }
    return out;
  };
  for (const row of trace.rows) addRow(row, body);
  root.appendChild(body);
  const code = el("pre", "stp-line");
  const note = el("div", "stp-note");
  const final = el("div", "stp-final");
  root.appendChild(note);
  root.appendChild(code);
  root.appendChild(final);
  parentElement.appendChild(root);

  // --- state -> DOM ---------------------------------------------------------------------
  let applied = 0; // number of steps whose cell changes are in `texts`
  const apply = (upTo) => {
    if (upTo < applied) {
      trace.grids.forEach((g, gi) => g.v.forEach((row, r) => row.forEach((v, c) => (texts[gi][r][c] = v))));
      applied = 0;
    }
    for (; applied < upTo; applied++) for (const [g, r, c, t] of steps[applied].s) texts[g][r][c] = t;
  };
  const shown = trace.grids.map((g) => g.v.map((row) => row.map(() => null)));
  // Predict mode (ui/stepper_predict.js): its switch, answer box and score; update() runs after each render.
  const predict = predictMode({
    trace, labels, state, old, root, bar, tools, cells, shown, texts, ops, note, code, bPlay,
    render: () => render(),
    stop: () => stop(),
    refit: () => fit(),
    view: () => bringIntoView(),
  });

  function render() {
    const i = state.step;
    const s = steps[i - 1];
    apply(i);
    const win = windowCells(s.w);
    trace.grids.forEach((g, gi) => {
      if (!cells[gi]) return;
      const w = win.get(gi);
      for (let r = 0; r < cells[gi].length; r++) {
        for (let c = 0; c < cells[gi][r].length; c++) {
          const t = texts[gi][r][c];
          const inWin = w ? w.has(r + "," + c) : false;
          let cls = t === "" ? "cl-pending" : base[gi][r][c];
          if (inWin) cls += " cl-hl";
          if (g.d && w && !inWin) cls += " cl-dim";
          const key = cls + "|" + t;
          if (shown[gi][r][c] !== key) {
            const td = cells[gi][r][c];
            td.className = cls;
            td.textContent = t;
            shown[gi][r][c] = key;
          }
        }
      }
    });
    for (const [id, e] of Object.entries(ops)) e.textContent = (s.o && s.o[id]) || "";
    const styles = boxStyles(s);
    pictures.forEach((pic, pi) => {
      if (!pic) return;
      const m = styles.get(pi) || new Map();
      pic.rects.forEach((r, k) => {
        const style = m.get(k);
        r.setAttribute("class", style ? "bx bx-" + style : "bx bx-off");
        const named = style === "taken" || style === "kept" || style === "object";
        pic.tags[k].setAttribute("class", named ? "bx-tag bx-tag-" + style : "bx-tag bx-off");
      });
      // SVG draws in document order: kept boxes, then the one taken, go on top of the others
      for (const top of ["kept", "object", "taken"])
        for (const [k, style] of m) if (style === top) pic.svg.append(pic.rects[k], pic.tags[k]);
    });
    code.textContent = s.t || "";
    code.style.display = s.t ? "" : "none";
    note.textContent = s.n || "";
    const last = i === n;
    final.textContent = last && trace.final ? trace.final.x : "";
    final.className = "stp-final" + (last && trace.final ? " stp-" + trace.final.k : "");
    root.dataset.step = String(i);
    position.textContent = labels.position.replace("{current}", i).replace("{total}", n);
    slider.value = String(i);
    bFirst.disabled = bPrev.disabled = i === 1;
    bNext.disabled = bLast.disabled = i === n;
    bPlay.disabled = n === 1;
    bPlay.textContent = timer ? "❚❚ " + labels.pause : "▶ " + labels.play;
    root.dataset.playing = timer ? "true" : "false";
    for (const [s2, b] of Object.entries(speedButtons)) b.classList.toggle("stp-on", s2 === state.speed);
    root.dataset.speed = state.speed;
    predict.update(i);
  }

  function writeUrl() {
    try {
      const url = new URL(window.location.href);
      if (state.step > 1) url.searchParams.set(key, String(state.step));
      else url.searchParams.delete(key);
      if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
    } catch (e) {
      /* a sandboxed page may refuse; the stepper still works */
    }
  }

  function go(target) {
    const to = Math.min(Math.max(target, 1), n);
    if (to === state.step) return render();
    state.step = to;
    render();
    writeUrl();
  }

  function stop() {
    clearTimeout(timer);
    timer = null;
    render();
  }

  function tick() {
    if (state.step >= n) return stop();
    timer = setTimeout(tick, SPEEDS[state.speed] * 1000);
    go(state.step + 1);
    if (state.step >= n) stop();
  }

  function togglePlay() {
    if (timer) return stop();
    if (n === 1 || !predict.playable()) return;
    if (state.step >= n) go(1);
    timer = setTimeout(tick, SPEEDS[state.speed] * 1000);
    render();
  }

  // --- exports and link -----------------------------------------------------------------
  async function copyLink() {
    writeUrl();
    const href = window.location.href;
    let ok = false;
    try {
      await navigator.clipboard.writeText(href);
      ok = true;
    } catch (e) {
      const field = el("textarea");
      field.value = href;
      root.appendChild(field);
      field.select();
      try {
        ok = document.execCommand("copy");
      } catch (e2) {
        ok = false;
      }
      field.remove();
    }
    bLink.textContent = ok ? "✓ " + labels.copied : href;
    root.dataset.copiedLink = href;
    setTimeout(() => (bLink.textContent = labels.copy), 2500);
  }

  // The current frame as a PNG, drawn from the laid-out cells, so it looks as on screen.
  function savePng() {
    const scale = 2;
    const box = body.getBoundingClientRect();
    const extra = [note, code].filter((e) => e.textContent);
    let height = box.height;
    for (const e of extra) height += e.getBoundingClientRect().height + 8;
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(box.width * scale);
    canvas.height = Math.ceil(height * scale);
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, box.width, height);
    const text = (e, align) => {
      const r = e.getBoundingClientRect();
      const st = getComputedStyle(e);
      ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
      ctx.fillStyle = st.color;
      ctx.textAlign = align;
      ctx.textBaseline = "middle";
      const x = align === "center" ? r.left + r.width / 2 - box.left : r.left - box.left;
      ctx.fillText(e.textContent, x, r.top + r.height / 2 - box.top);
    };
    for (const e of body.querySelectorAll(".cl-caption")) text(e, "left");
    pictures.forEach((pic) => {
      if (!pic) return;
      const r = pic.svg.getBoundingClientRect();
      const k = r.width / pic.svg.viewBox.baseVal.width;
      ctx.drawImage(pic.image, r.left - box.left, r.top - box.top, r.width, r.height);
      pic.rects.forEach((rect) => {
        const st = getComputedStyle(rect);
        if (st.display === "none") return;
        ctx.strokeStyle = st.stroke;
        ctx.lineWidth = parseFloat(st.strokeWidth) || 2;
        ctx.setLineDash(st.strokeDasharray && st.strokeDasharray !== "none" ? [6, 4] : []);
        const b = rect.getBBox();
        ctx.strokeRect(r.left - box.left + b.x * k, r.top - box.top + b.y * k, b.width * k, b.height * k);
        ctx.setLineDash([]);
      });
    });
    for (const e of body.querySelectorAll(".cl-op")) text(e, "center");
    for (const td of body.querySelectorAll("td")) {
      const r = td.getBoundingClientRect();
      const st = getComputedStyle(td);
      ctx.globalAlpha = parseFloat(st.opacity);
      ctx.fillStyle = st.backgroundColor;
      ctx.fillRect(r.left - box.left, r.top - box.top, r.width, r.height);
      ctx.strokeStyle = "#adb5bd";
      ctx.lineWidth = 1;
      ctx.strokeRect(r.left - box.left, r.top - box.top, r.width, r.height);
      text(td, "center");
      ctx.globalAlpha = 1;
      if (td.classList.contains("cl-hl")) {
        ctx.strokeStyle = "#e03131";
        ctx.lineWidth = 4;
        ctx.strokeRect(r.left - box.left + 2, r.top - box.top + 2, r.width - 4, r.height - 4);
      }
    }
    let y = box.height + 8;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillStyle = "#111";
    for (const e of extra) {
      const st = getComputedStyle(e);
      ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
      for (const lineText of e.textContent.split("\n")) {
        ctx.fillText(lineText, 0, y, box.width);
        y += parseFloat(st.fontSize) * 1.3;
      }
    }
    const link = el("a");
    link.download = `${key}-step-${state.step}.png`;
    link.href = canvas.toDataURL("image/png");
    root.dataset.pngBytes = String(Math.round((link.href.length - 22) * 0.75));
    link.click();
  }

  // --- events ---------------------------------------------------------------------------
  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b || b.disabled) return;
    const t0 = performance.now();
    if (b === bFirst) go(1);
    else if (b === bPrev) go(state.step - 1);
    else if (b === bNext) go(state.step + 1);
    else if (b === bLast) go(n);
    else if (b === bPlay) togglePlay();
    else if (b === bLink) copyLink();
    else if (b === bPng) savePng();
    else if (b.dataset.speed) {
      state.speed = b.dataset.speed;
      if (timer) {
        clearTimeout(timer);
        timer = setTimeout(tick, SPEEDS[state.speed] * 1000);
      }
      render();
    }
    record(t0);
  });
  slider.addEventListener("input", () => go(parseInt(slider.value, 10)));
  root.addEventListener("click", () => {
    root.focus({ preventScroll: true });
    bringIntoView();
  });
  root.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const t0 = performance.now();
    if (e.key === "ArrowRight") go(state.step + 1);
    else if (e.key === "ArrowLeft") go(state.step - 1);
    else if (e.key === " " || e.key === "Spacebar") togglePlay();
    else if (e.key === "Home") go(1);
    else if (e.key === "End") go(n);
    else return;
    e.preventDefault();
    e.stopPropagation();
    record(t0);
  });

  // Time from the event to the frame on screen (after the next paint), for the benchmark.
  function record(t0) {
    requestAnimationFrame(() =>
      setTimeout(() => {
        const ms = performance.now() - t0;
        timings.push(ms);
        if (timings.length > 1000) timings.shift();
        root.dataset.lastFrameMs = ms.toFixed(2);
      }, 0),
    );
  }

  // Lecture layout: shrink the matrices until the controls and the result fit in one screen below
  // Streamlit's header; clicking the stepper brings it there (CSS scroll-margin keeps the header clear).
  const HEADER = 72;
  function fit() {
    if (!lecture) return;
    let font = 1.5;
    root.style.setProperty("--cl-font", font + "rem");
    const limit = window.innerHeight - HEADER - 8;
    for (let k = 0; k < 5; k++) {
      const h = root.getBoundingClientRect().height;
      if (h <= limit || font <= 0.6) break;
      font = Math.max(0.6, font * Math.max(0.5, (limit / h) * 0.98));
      root.style.setProperty("--cl-font", font.toFixed(3) + "rem");
    }
    root.dataset.font = font.toFixed(3);
  }
  function bringIntoView() {
    if (!lecture) return;
    const r = root.getBoundingClientRect();
    if (r.top < HEADER || r.bottom > window.innerHeight) root.scrollIntoView({ block: "start" });
  }

  render();
  writeUrl();
  // Refit when the width changes: a window resize, or a hidden tab becoming visible.
  let fittedWidth = -1;
  const observer = new ResizeObserver(() => {
    const width = Math.round(root.getBoundingClientRect().width);
    if (width !== fittedWidth) {
      fittedWidth = width;
      fit();
    }
  });
  observer.observe(root);
  const dispose = () => {
    clearTimeout(timer);
    observer.disconnect();
    predict.dispose();
    root.remove();
    parentElement.__cnnlabDispose = null;
  };
  parentElement.__cnnlabDispose = dispose;
  return dispose;
}
