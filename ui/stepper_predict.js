// Predict mode of the stepper (issue 14). ui/stepper.py puts this file before ui/stepper.js in one ES module;
// stepper.js calls predictMode() once per mount and predict.update(step) at the end of every render.
//
// With the "Predict" switch on, each step hides what it computes: the cell it writes shows "?", its products
// line and its operator texts are hidden, and the student types the value (Enter or Check), or, for a "where"
// step (max unpooling), clicks the cell where the value goes. Then the value, right or wrong and the products
// appear. All of it runs in the browser: no message goes to the server per guess. The running score
// ("right/answered") is kept in sessionStorage, shared by every stepper of the browser tab.
// Trace format: a step's "p" (ui/trace.py, Prediction).

const PREDICT_SCORE_KEY = "cnnlab.predict.score";
const PREDICT_SCORE_EVENT = "cnnlab-predict-score";
const predictScoreFallback = (window.__cnnlabPredictScore ||= { right: 0, answered: 0 });

// A typed answer as a number, NaN when it is none. Accepts "0.5", "0,5" (decimal comma), "-3", "−3",
// "1e-3", "1/3" and digit groups split by spaces ("1 000").
function parseAnswer(raw) {
  const s = String(raw)
    .trim()
    .replace(/[\u2212\u2012\u2013]/g, "-")
    .replace(/[\s\u00a0\u202f]/g, "");
  const fraction = s.match(/^([^/]+)\/([^/]+)$/);
  if (fraction) {
    const top = parseAnswer(fraction[1]);
    const bottom = parseAnswer(fraction[2]);
    return bottom ? top / bottom : NaN;
  }
  const plain = s.replace(",", ".");
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(plain) ? Number(plain) : NaN;
}

// Half a unit of the last digit a cell text shows: "0.333" -> 0.0005, "1.2e-05" -> 5e-7, "12" -> 0.5.
function halfUnit(text) {
  const s = String(text)
    .trim()
    .replace(/[\u2212]/g, "-")
    .replace(/[\s\u00a0\u202f]/g, "")
    .replace(",", ".");
  const m = s.match(/^[+-]?\d*(?:\.(\d+))?(?:e([+-]?\d+))?$/i);
  if (!m) return 0;
  return 0.5 * Math.pow(10, (m[2] ? parseInt(m[2], 10) : 0) - (m[1] ? m[1].length : 0));
}

// Right when the answer is the exact value (for a whole number, shown as such), else when it lies within half
// a unit of the last digit shown of the exact value or of the cell text (so "0.333" and "0.3333" are right for
// 1/3 shown as "0.333", "0.33" is not).
function answerIsRight(answer, exact, text) {
  const shown = parseAnswer(text);
  const value = typeof exact === "number" ? exact : shown;
  if (!Number.isFinite(answer) || !Number.isFinite(value)) return false;
  if (Number.isInteger(value) && !/[.,e]/i.test(String(text))) {
    return Math.abs(answer - value) <= 1e-9 * Math.max(1, Math.abs(value));
  }
  const tolerance = halfUnit(text) * (1 + 1e-9) + 1e-12;
  return Math.abs(answer - value) <= tolerance || Math.abs(answer - shown) <= tolerance;
}

function readPredictScore() {
  try {
    const saved = JSON.parse(window.sessionStorage.getItem(PREDICT_SCORE_KEY) || "null");
    if (saved && Number.isInteger(saved.right) && Number.isInteger(saved.answered)) return saved;
  } catch (e) {
    /* storage refused (a sandboxed page): the in-memory score below still counts */
  }
  return predictScoreFallback;
}

function addToPredictScore(right) {
  const score = readPredictScore();
  const next = { right: score.right + (right ? 1 : 0), answered: score.answered + 1 };
  Object.assign(predictScoreFallback, next);
  try {
    window.sessionStorage.setItem(PREDICT_SCORE_KEY, JSON.stringify(next));
  } catch (e) {
    /* kept in memory only */
  }
  window.dispatchEvent(new CustomEvent(PREDICT_SCORE_EVENT));
}

// ctx: the stepper's parts { trace, labels, state, old (the state of the previous mount), root, bar, tools,
// cells, shown, texts, ops, note, code, bPlay, render(), stop(), refit(), view() }.
// Returns { update(step), playable(), dispose() }.
function predictMode(ctx) {
  const { trace, labels, state, root, cells, shown, texts, ops, note, code, bPlay } = ctx;
  const steps = trace.steps;
  const any = steps.some((s) => s.p);
  const before = ctx.old && ctx.old.predict;
  // The switch survives a rerun (another language, other numbers); the answers only while the numbers stay.
  const P = {
    on: !!(before && before.on) && any,
    answers: before && ctx.old.sig === state.sig ? before.answers : {},
    // The answer box takes the focus on each new step until Escape; then the keys step freely and Enter on
    // the stepper (or a click) goes back into the box.
    typing: true,
  };
  state.predict = P;
  if (!any) return { update() {}, playable: () => true, dispose() {} };

  const make = (tag, cls, text) => {
    const e = document.createElement(tag);
    e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const box = make("span", "stp-predict-box");
  const toggle = make("button", "stp-btn stp-predict", labels.predict);
  toggle.type = "button";
  toggle.tabIndex = -1;
  toggle.title = labels.predict_help;
  const score = make("span", "stp-score");
  score.setAttribute("aria-live", "polite");
  box.append(toggle, score);
  ctx.bar.insertBefore(box, ctx.tools);

  const row = make("div", "stp-ask");
  const prompt = make("label", "stp-ask-prompt");
  const input = make("input", "stp-answer");
  input.type = "text";
  // no inputMode="decimal": phones' decimal pads have no minus sign
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = "?";
  input.title = labels.answer_hint;
  input.setAttribute("aria-label", labels.predict_prompt + " — " + labels.answer_hint);
  const check = make("button", "stp-btn stp-check", labels.check);
  check.type = "button";
  const verdict = make("span", "stp-verdict");
  verdict.setAttribute("aria-live", "polite");
  row.append(prompt, input, check, verdict);
  root.insertBefore(row, code);

  const cellText = ([g, r, c]) => texts[g][r][c];
  const td = ([g, r, c]) => (cells[g] && cells[g][r] ? cells[g][r][c] : null);
  const stepperHasFocus = () => root.getRootNode().activeElement === root;

  // The text a cell showed before step i (what a "where" step must not give away).
  function textBefore(i, [g, r, c]) {
    for (let k = i - 2; k >= 0; k--) {
      for (const [g2, r2, c2, t] of steps[k].s) if (g2 === g && r2 === r && c2 === c) return t;
    }
    return trace.grids[g].v[r][c];
  }

  // Scroll just enough to show e: a tall step-through (three RGB channels in the lecture layout) does not fit
  // one screen with its answer box.
  function keepVisible(e) {
    const r = e.getBoundingClientRect();
    if (r.height && (r.bottom > window.innerHeight || r.top < 0)) e.scrollIntoView({ block: "nearest" });
  }

  function showScore() {
    const s = readPredictScore();
    score.textContent = labels.score.replace("{right}", s.right).replace("{answered}", s.answered);
    root.dataset.score = s.right + "/" + s.answered;
  }

  function update(i) {
    const s = steps[i - 1];
    const p = s.p;
    toggle.classList.toggle("stp-on", P.on);
    toggle.setAttribute("aria-pressed", P.on ? "true" : "false");
    score.style.display = P.on ? "" : "none";
    showScore();
    root.dataset.predict = P.on ? "on" : "off";
    bPlay.title = P.on ? labels.play_predict : labels.play;
    row.style.display = P.on && p ? "" : "none";
    row.dataset.verdict = "";
    if (!P.on) return;
    bPlay.disabled = true; // every step waits for an answer: playing would only be "next"
    if (!p) return;
    const where = p.k === "where";
    const asked = p.c[0];
    prompt.textContent = where ? p.q || "" : labels.predict_prompt;
    const answer = P.answers[i];
    input.style.display = where ? "none" : "";
    check.style.display = where || answer ? "none" : "";
    verdict.className = "stp-verdict";
    if (!answer) {
      for (const cell of p.c) {
        const e = td(cell);
        if (!e) continue;
        if (where) {
          e.textContent = textBefore(i, cell);
          e.classList.remove("cl-hl");
        } else {
          e.textContent = "?";
          e.classList.add("cl-ask");
        }
        shown[cell[0]][cell[1]][cell[2]] = null; // the next render draws this cell afresh
      }
      if (s.o) for (const e of Object.values(ops)) e.textContent = "?";
      code.style.display = "none";
      if (where) {
        note.textContent = "";
        (cells[asked[0]] || []).forEach((tds, r) =>
          tds.forEach((e, c) => {
            e.classList.add("cl-pick"); // a pointer over the cells to click
            shown[asked[0]][r][c] = null;
          }),
        );
      }
      input.value = "";
      input.disabled = false;
      verdict.textContent = "";
      if (stepperHasFocus()) {
        if (!where && P.typing) input.focus({ preventScroll: true });
        keepVisible(row);
      }
      return;
    }
    row.dataset.verdict = answer.ok ? "right" : "wrong";
    verdict.classList.add(answer.ok ? "stp-verdict-right" : "stp-verdict-wrong");
    if (where) {
      verdict.textContent = answer.ok ? labels.right_cell : labels.wrong_cell;
      const miss = !answer.ok && td([asked[0], answer.a[0], answer.a[1]]);
      if (miss) {
        miss.classList.add("cl-miss");
        shown[asked[0]][answer.a[0]][answer.a[1]] = null;
      }
    } else {
      for (const cell of p.c) {
        const e = td(cell);
        if (!e) continue;
        e.classList.add("cl-ask"); // the asked cell stays marked, now with its value
        shown[cell[0]][cell[1]][cell[2]] = null;
      }
      input.value = answer.a;
      input.disabled = true;
      const shownText = td(asked) ? td(asked).textContent : cellText(asked); // as drawn (the language's decimals)
      verdict.textContent = (answer.ok ? labels.right : labels.wrong).replace("{value}", shownText);
    }
    const line = p.t || s.t || "";
    code.textContent = line;
    code.style.display = line ? "" : "none";
  }

  function record(ok, given) {
    P.answers[state.step] = { a: given, ok };
    P.typing = true;
    addToPredictScore(ok);
    root.focus({ preventScroll: true });
    ctx.render();
    keepVisible(code.style.display === "none" ? row : code); // the products line may reach below the screen
  }

  function checkTyped() {
    const p = steps[state.step - 1].p;
    if (!P.on || !p || p.k === "where" || P.answers[state.step]) return;
    const answer = parseAnswer(input.value);
    if (Number.isNaN(answer)) {
      verdict.className = "stp-verdict stp-verdict-bad";
      verdict.textContent = labels.not_number;
      return;
    }
    record(answerIsRight(answer, p.v, cellText(p.c[0])), input.value.trim());
  }

  function pickCell(e) {
    const p = steps[state.step - 1].p;
    if (!P.on || !p || p.k !== "where" || P.answers[state.step]) return;
    const hit = e.target.closest("td");
    const grid = cells[p.c[0][0]];
    if (!hit || !grid) return;
    for (let r = 0; r < grid.length; r++) {
      const c = grid[r].indexOf(hit);
      if (c >= 0) return record(r === p.c[0][1] && c === p.c[0][2], [r, c]);
    }
  }

  toggle.addEventListener("click", (e) => {
    e.stopPropagation();
    P.on = !P.on;
    P.typing = true;
    root.focus({ preventScroll: true });
    ctx.stop(); // ends playing, then draws the step with or without its "?"
    ctx.refit();
    ctx.view();
    if (P.on) keepVisible(row);
  });
  // Keys typed in the box are the student's, not the stepper's (nor Streamlit's, beyond the shadow root).
  const own = (e) => e.stopPropagation();
  input.addEventListener("keydown", (e) => {
    e.stopPropagation();
    if (e.key === "Enter") {
      e.preventDefault();
      checkTyped();
    } else if (e.key === "Escape") {
      e.preventDefault();
      P.typing = false;
      root.focus({ preventScroll: true });
    }
  });
  input.addEventListener("focus", () => (P.typing = true));
  root.addEventListener("keydown", (e) => {
    const p = steps[state.step - 1].p;
    if (e.key !== "Enter" || e.target !== root || !P.on || !p || p.k === "where" || P.answers[state.step]) return;
    e.preventDefault();
    input.focus({ preventScroll: true });
  });
  input.addEventListener("keyup", own);
  input.addEventListener("keypress", own);
  row.addEventListener("click", own); // the stepper's click would take the focus away from the box
  check.addEventListener("click", checkTyped);
  root.addEventListener("click", pickCell);
  window.addEventListener(PREDICT_SCORE_EVENT, showScore);

  return {
    update,
    playable: () => !P.on,
    dispose: () => window.removeEventListener(PREDICT_SCORE_EVENT, showScore),
  };
}
