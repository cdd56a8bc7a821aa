/**
 * How handlers build what they need once per Lambda instance.
 */

/**
 * `create` run once and its result reused by every later call. A failure is not kept: the next call
 * runs `create` again, so a transient error (e.g. reading a secret) does not break the instance for good.
 */
export function reuseUntilFailure<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * A Lambda entry point. In Lambda it is built at init, so a bad setting fails the cold start with a
 * ConfigError naming it; elsewhere (tests and the local runner import the module) on its first call,
 * never at import.
 */
export function lambdaEntryPoint<H extends (...args: never[]) => unknown>(build: () => H): H {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) return build();
  let built: H | undefined;
  return ((...args: Parameters<H>) => (built ??= build())(...args)) as H;
}
