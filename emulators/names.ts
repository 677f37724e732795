/** Resource-name checks and list pagination shared by the emulators. */
import { fail, Status } from './grpc.js';

const PUBSUB_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** Splits `projects/{p}/{kind}/{id}`, failing with INVALID_ARGUMENT as Pub/Sub does. */
export function pubsubName(
  name: string,
  kind: 'topics' | 'subscriptions' | 'snapshots',
): { project: string; id: string } {
  const parts = (name ?? '').split('/');
  if (parts.length !== 4 || parts[0] !== 'projects' || !parts[1] || parts[2] !== kind) {
    fail(
      Status.INVALID_ARGUMENT,
      `Invalid resource name given (name=${name}). Refer to https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more information.`,
    );
  }
  const id = parts[3];
  if (!PUBSUB_ID.test(id) || id.startsWith('goog'))
    fail(Status.INVALID_ARGUMENT, `Invalid [${kind}] name: (name=${name})`);
  return { project: parts[1], id };
}

/** One page of `items`: the page token is the offset as a decimal string. */
export function paginate<T>(
  items: T[],
  pageSize: number,
  pageToken: string,
): { page: T[]; nextPageToken: string } {
  const start = pageToken ? Number(pageToken) : 0;
  if (!Number.isInteger(start) || start < 0)
    fail(Status.INVALID_ARGUMENT, `invalid page token ${pageToken}`);
  const size = pageSize > 0 ? pageSize : items.length || 1;
  const page = items.slice(start, start + size);
  return { page, nextPageToken: start + size < items.length ? String(start + size) : '' };
}
