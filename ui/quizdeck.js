// CNN Lab quiz deck: a batch of questions rendered by the server (ui/quizdeck.py), shown one at a time on
// the projector. Revealing the answer and moving between questions happen here, with no server run.
// Keys anywhere on the page (except in a text field): Space or Enter shows/hides the answer, → / N / PageDown
// next question, ← / P / PageUp previous (a presenter's clicker sends PageDown and PageUp).
const store = (window.__cnnlabQuizDecks ||= {});

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const NEXT = new Set(["ArrowRight", "n", "N", "PageDown"]);
const PREV = new Set(["ArrowLeft", "p", "P", "PageUp"]);
const REVEAL = new Set([" ", "Enter"]);
const EDITABLE = /^(INPUT|TEXTAREA|SELECT|BUTTON|A)$/;

export default function ({ data, parentElement }) {
  // Streamlit runs this again when the data change (a new batch, another language): undo the last run first.
  if (parentElement.__cnnlabDispose) parentElement.__cnnlabDispose();
  const { questions, labels, lecture, sig, name: key } = data;
  const n = questions.length;
  const old = store[key];
  const state = old && old.sig === sig ? old : { sig, index: 0, revealed: false };
  state.index = Math.min(state.index, n - 1);
  store[key] = state;

  const root = el("div", "qd" + (lecture ? " qd-lecture" : ""));
  root.setAttribute("data-testid", "quiz-deck");
  root.setAttribute("tabindex", "0");
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", labels.aria);

  const bar = el("div", "qd-bar");
  const button = (name, title) => {
    const b = el("button", "qd-btn qd-" + name, title);
    b.type = "button";
    b.tabIndex = -1;
    b.dataset.action = name;
    b.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus (and the keys) on the deck
    bar.appendChild(b);
    return b;
  };
  const bPrev = button("prev", "◀ " + labels.prev);
  const bReveal = button("reveal", labels.reveal);
  const bNext = button("next", labels.next + " ▶");
  const position = el("span", "qd-position");
  position.setAttribute("data-testid", "quiz-position");
  position.setAttribute("aria-live", "polite");
  bar.appendChild(position);
  root.appendChild(bar);

  // The question on the left, the answer on the right (below it on a narrow screen), so that on a
  // 1280 × 720 projector revealing the answer does not push the question off the screen.
  const card = el("div", "qd-card");
  const question = el("div", "qd-question");
  const title = el("div", "qd-title");
  const prompt = el("div", "qd-prompt");
  prompt.setAttribute("data-testid", "quiz-prompt");
  const body = el("div", "qd-body");
  question.append(title, prompt, body);
  const side = el("div", "qd-side");
  const hidden = el("div", "qd-hidden", "?");
  hidden.title = labels.reveal;
  hidden.addEventListener("click", () => toggle());
  const answer = el("div", "qd-answer");
  answer.setAttribute("data-testid", "quiz-answer");
  const answerLabel = el("div", "qd-label", labels.answer);
  const answerBody = el("div", "qd-answer-body");
  const solutionLabel = el("div", "qd-label", labels.solution);
  const solution = el("div", "qd-solution");
  answer.append(answerLabel, answerBody, solutionLabel, solution);
  side.append(hidden, answer);
  card.append(question, side);
  root.appendChild(card);

  function render() {
    if (!n) return;
    const q = questions[state.index];
    title.textContent = q.title;
    prompt.textContent = q.prompt;
    body.innerHTML = q.body; // escaped on the server (ui/quizview.py)
    answerBody.innerHTML = q.answer;
    solution.innerHTML = q.solution;
    answer.hidden = !state.revealed;
    hidden.hidden = state.revealed;
    root.dataset.index = String(state.index + 1);
    root.dataset.revealed = String(state.revealed);
    bReveal.textContent = state.revealed ? labels.hide : labels.reveal;
    bReveal.setAttribute("aria-pressed", String(state.revealed));
    bPrev.disabled = state.index === 0;
    bNext.disabled = state.index === n - 1;
    position.textContent = labels.position.replace("{current}", state.index + 1).replace("{total}", n);
  }
  const go = (delta) => {
    const next = Math.max(0, Math.min(n - 1, state.index + delta));
    if (next !== state.index) {
      state.index = next;
      state.revealed = false;
      render();
    }
  };
  const toggle = () => {
    state.revealed = !state.revealed;
    render();
  };
  bPrev.addEventListener("click", () => go(-1));
  bNext.addEventListener("click", () => go(1));
  bReveal.addEventListener("click", toggle);

  function onKey(e) {
    if (!root.isConnected) return dispose();
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || !n) return;
    const target = e.composedPath()[0];
    if (target && target !== root && (target.isContentEditable || EDITABLE.test(target.tagName || ""))) return;
    if (target && target.closest && target.closest("[role=combobox],[role=listbox],[role=slider]")) return;
    if (REVEAL.has(e.key)) toggle();
    else if (NEXT.has(e.key)) go(1);
    else if (PREV.has(e.key)) go(-1);
    else return;
    e.preventDefault(); // no page scroll on Space or the arrows
  }
  window.addEventListener("keydown", onKey);
  function dispose() {
    window.removeEventListener("keydown", onKey);
    root.remove();
    if (parentElement.__cnnlabDispose === dispose) delete parentElement.__cnnlabDispose;
  }
  parentElement.__cnnlabDispose = dispose;

  parentElement.appendChild(root);
  render();
  // Take the keys after a rerun too (a new batch from the page's button), but never from a field being typed in.
  const focused = document.activeElement;
  if (!focused || focused === document.body || focused.tagName === "BUTTON") root.focus({ preventScroll: true });
  return dispose;
}
