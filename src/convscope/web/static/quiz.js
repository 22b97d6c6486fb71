// Questions from /api/quiz (without the key); each answer is checked by /api/quiz/answer, which sends
// back whether it was right, the right choice and the explanation.
let right = 0, answered = 0;

async function newQuiz() {
  showError(null);
  right = 0; answered = 0;
  document.getElementById("score").textContent = "";
  const difficulty = document.getElementById("difficulty").value;
  try {
    const questions = await api(`/api/quiz?difficulty=${encodeURIComponent(difficulty)}&n=5` +
                                `&seed=${Math.floor(Math.random() * 1e9)}`);
    document.getElementById("questions").replaceChildren(...questions.map(render));
  } catch (error) { showError(error); }
}

function render(q, number) {
  const block = document.createElement("section");
  block.className = "question";
  const id = `q${number + 1}`;
  const meta = document.createElement("h2");
  meta.className = "meta";
  meta.textContent = `Question ${number + 1} (${q.difficulty}, ${q.topic.replaceAll("_", " ")})`;
  const text = document.createElement("p");
  text.className = "text"; text.id = id;
  text.textContent = q.question;
  const choices = document.createElement("div");
  choices.setAttribute("role", "group");
  choices.setAttribute("aria-labelledby", id);
  q.choices.forEach((choice, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice";
    button.textContent = "ABCD"[index] + ") " + choice;
    button.addEventListener("click", () => choose(q, index, block));
    choices.appendChild(button);
  });
  const feedback = document.createElement("div");
  feedback.className = "feedback";
  feedback.setAttribute("aria-live", "polite");
  block.append(meta, text, choices, feedback);
  return block;
}

async function choose(q, index, block) {
  if (block.dataset.done) return;
  showError(null);
  block.dataset.done = "1";  // one answer per question, even while the check is on its way
  try {
    const result = await api("/api/quiz/answer", { id: q.id, choice: index });
    const buttons = block.querySelectorAll(".choice");
    buttons[result.answer_index].classList.add("right");
    buttons[result.answer_index].textContent += "  (right answer)";
    if (!result.correct) {
      buttons[index].classList.add("wrong");
      buttons[index].textContent += "  (your answer)";
    }
    buttons.forEach(button => button.setAttribute("aria-disabled", "true"));
    const note = document.createElement("p");
    note.className = "explanation";
    note.textContent = result.explanation;
    block.querySelector(".feedback").replaceChildren(note);
    answered += 1; right += result.correct ? 1 : 0;
    document.getElementById("score").textContent = `score: ${right} of ${answered}`;
  } catch (error) {
    delete block.dataset.done;
    block.querySelector(".feedback").textContent = String(error.message || error);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("new").addEventListener("click", newQuiz);
  newQuiz();
});
