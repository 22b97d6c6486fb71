// Questions from /api/quiz (no key); each click is checked by /api/quiz/answer.
let right = 0, answered = 0;

async function newQuiz() {
  showError(null);
  right = 0; answered = 0;
  document.getElementById("score").textContent = "";
  const difficulty = document.getElementById("difficulty").value;
  try {
    const questions = await api(`/api/quiz?difficulty=${difficulty}&n=5&seed=${Math.floor(Math.random() * 1e9)}`);
    const box = document.getElementById("questions");
    box.replaceChildren(...questions.map(render));
  } catch (error) { showError(error); }
}

function render(q, number) {
  const block = document.createElement("div");
  block.className = "question";
  const text = document.createElement("pre");
  text.textContent = `${number + 1}. (${q.difficulty}, ${q.topic.replaceAll("_", " ")})\n${q.question}`;
  block.appendChild(text);
  q.choices.forEach((choice, index) => {
    const button = document.createElement("button");
    button.className = "choice";
    button.textContent = "ABCD"[index] + ") " + choice;
    button.addEventListener("click", () => choose(q, index, block));
    block.appendChild(button);
  });
  return block;
}

async function choose(q, index, block) {
  if (block.dataset.done) return;
  try {
    const result = await api("/api/quiz/answer", { id: q.id, choice: index });
    block.dataset.done = "1";
    const buttons = block.querySelectorAll(".choice");
    buttons[result.answer_index].classList.add("right");
    if (!result.correct) buttons[index].classList.add("wrong");
    const note = document.createElement("div");
    note.className = "explanation";
    note.textContent = result.explanation;
    block.appendChild(note);
    answered += 1; right += result.correct ? 1 : 0;
    document.getElementById("score").textContent = `score: ${right} of ${answered}`;
  } catch (error) { showError(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("new").addEventListener("click", newQuiz);
  newQuiz();
});
