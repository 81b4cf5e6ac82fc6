/**
 * Runs tasks that share a key one after another, in the order they came, and tasks of different keys at once.
 * For read-modify-write sequences on one record (a number's history) that would otherwise interleave: the
 * second would read the state before the first saved its own, and a change would be lost or counted twice.
 */
export class OneAtATimePerKey {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    // A failed task must not stop the next one: it waits for the previous to settle, whatever the outcome.
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // The map holds only keys with work queued: the last task of a key removes it.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work running or queued (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
