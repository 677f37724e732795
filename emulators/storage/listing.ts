/** objects.list: prefix, delimiter (with prefixes), startOffset/endOffset and page tokens. */
import { HttpError, type BucketRecord } from './store.js';

export function listObjects(bucket: BucketRecord, q: URLSearchParams): Record<string, unknown> {
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const startOffset = q.get('startOffset') ?? '';
  const endOffset = q.get('endOffset') ?? '';
  const maxResults = q.has('maxResults') ? Number(q.get('maxResults')) : 1000;
  if (!Number.isInteger(maxResults) || maxResults < 0)
    throw new HttpError(400, `Invalid maxResults: ${q.get('maxResults')}`);
  const limit = Math.min(maxResults || 1000, 1000);
  const after = q.get('pageToken')
    ? Buffer.from(q.get('pageToken')!, 'base64url').toString()
    : undefined;
  const names = [...bucket.objects.keys()]
    .filter((n) => n.startsWith(prefix) && n >= startOffset && (!endOffset || n < endOffset))
    .sort();
  const items: unknown[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let more = false;
  for (const name of names) {
    if (
      after !== undefined &&
      (name <= after || (after.endsWith(delimiter) && delimiter && name.startsWith(after)))
    )
      continue;
    const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
    const key = cut >= 0 ? name.slice(0, cut + delimiter.length) : name;
    if (key === last) continue;
    if (items.length + prefixes.length >= limit) {
      more = true;
      break;
    }
    if (cut >= 0) prefixes.push(key);
    else items.push(bucket.objects.get(name)!.meta);
    last = key;
  }
  return {
    kind: 'storage#objects',
    ...(items.length ? { items } : {}),
    ...(prefixes.length ? { prefixes } : {}),
    ...(more && last ? { nextPageToken: Buffer.from(last).toString('base64url') } : {}),
  };
}
