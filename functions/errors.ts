/**
 * Error classification, deliberate rather than by default: an error is transient (worth a retry)
 * only when it is a network failure, a quota or rate limit, a server-side 5xx, a dependency's
 * deadline, or our own invocation deadline; everything else, and everything about the input, is
 * permanent and dead-lettered at once with its reason and the stage it happened in.
 */

/** gRPC status codes worth a retry: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const TRANSIENT_GRPC = new Set([4, 8, 10, 13, 14]);
/** Node's network and descriptor errors. */
const TRANSIENT_ERRNO = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EMFILE',
  'ENFILE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Messages of client libraries that wrap network failures without a code. */
const TRANSIENT_MESSAGE =
  /socket hang up|network (error|timeout)|fetch failed|worker .*(exited|terminated)|Total timeout of API .* exceeded/i;

/** Our own deadline for one invocation ran out (the platform would kill the instance soon after). */
export class DeadlineError extends Error {
  constructor(
    readonly stage: string,
    seconds: number,
  ) {
    super(`did not finish within the ${seconds} s invocation deadline (in stage ${stage})`);
    this.name = 'DeadlineError';
  }
}

/** Another delivery holds the image's record: this one is retried later (the message is nacked). */
export class BusyError extends Error {
  constructor(key: string, until: string) {
    super(`${key} is being processed by another delivery (lease until ${until}); retry later`);
    this.name = 'BusyError';
  }
}

export function isTransient(err: unknown): boolean {
  if (err instanceof DeadlineError || err instanceof BusyError) return true;
  if (!err || typeof err !== 'object') return false;
  const e = err as {
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    name?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  const http = [
    e.status,
    e.response?.status,
    typeof e.code === 'number' && e.code >= 100 ? e.code : undefined,
  ].find((v) => typeof v === 'number') as number | undefined;
  if (http !== undefined && (http === 429 || http === 408 || http >= 500)) return true;
  if (typeof e.code === 'number' && e.code < 100 && TRANSIENT_GRPC.has(e.code)) return true;
  if (typeof e.code === 'string' && TRANSIENT_ERRNO.has(e.code)) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.name === 'FetchError') return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isTransient(e.cause);
}

/** `work` raced against the deadline `at` (ms since 1970); `stage()` names where it stood. */
export async function withDeadline<T>(
  work: Promise<T>,
  at: number,
  seconds: number,
  stage: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(stage(), seconds)),
      Math.max(0, at - Date.now()),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
