// Memory readings once garbage is collected, for the memory benchmarks (run with node --expose-gc).

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether this process can force collections: node --expose-gc. */
export const canCollect = gc !== undefined;

/**
 * process.memoryUsage() after three full GCs with pauses between them, in which V8's background threads finish
 * sweeping and free pages (and buffers, which are freed off the main thread). Without --expose-gc, after the pauses.
 */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return process.memoryUsage();
}
