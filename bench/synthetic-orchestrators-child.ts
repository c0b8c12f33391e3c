// Child process of the memory benchmark: synthetic orchestrators 0..count-1 answering the GetOrchestrator calls the
// parent's ChildProcessOrchestrators forwards (see synthetic-orchestrators.ts); exits when the parent disconnects.
import { SyntheticAnswers, type AnswerMessage, type AskMessage } from "./synthetic-orchestrators.js";

const answers = new SyntheticAnswers(Number(process.argv[2] ?? "10000"));
process.on("message", ({ id, uri, request }: AskMessage) => {
  let message: AnswerMessage;
  try {
    message = { id, reply: answers.answer(uri, request) };
  } catch (err) {
    message = { id, error: (err as Error).message };
  }
  process.send?.(message);
});
process.on("disconnect", () => process.exit(0));
