// For long pieces of work on the event loop (a listing of every orchestrator): done a slice at a time, with whatever
// else is waiting (routing decisions, I/O) let through in between.
import { setImmediate } from "node:timers/promises";

/** Items per slice by default: for a listing, about ten milliseconds of work. */
const ITEMS_PER_SLICE = 8;

/** `each` of every item in order, as map does, letting other work run after every `perSlice` items. */
export async function mapInSlices<T, R>(items: readonly T[], each: (item: T) => R, perSlice = ITEMS_PER_SLICE): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % perSlice === 0) await setImmediate();
    results.push(each(items[i] as T));
  }
  return results;
}
