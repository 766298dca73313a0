// Polls probe until it gives a value, or fails the test after ms with what it was waiting for.
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
