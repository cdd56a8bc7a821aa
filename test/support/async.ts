/** The error a promise rejects with (fails the test when it resolves), for asserting on its fields. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/** An attempt function for a retry loop: throws the scripted errors in turn, then returns 'ok'. */
export function failing(...errors: unknown[]) {
  const attempts: number[] = [];
  const fn = async (attempt: number) => {
    attempts.push(attempt);
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { fn, attempts };
}
