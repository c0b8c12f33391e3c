// For long pieces of work on the event loop (a listing of every orchestrator): awaited between slices, it lets
// whatever else is waiting (routing decisions, I/O) run first.
import { setImmediate } from "node:timers/promises";

export function letOthersRun(): Promise<void> {
  return setImmediate();
}
