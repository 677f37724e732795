/**
 * In-memory GCS state: buckets, their objects (one live generation each), notification configs,
 * and the JSON API resources built from them. Preconditions follow GCS: a generation or
 * metageneration mismatch is 412, and ifGenerationMatch=0 means "only if absent".
 */
import { crc32cBase64, md5Base64 } from './hashes.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason = 'invalid',
  ) {
    super(message);
  }
}

export interface ObjectMetadata {
  kind: 'storage#object';
  id: string;
  selfLink: string;
  mediaLink: string;
  name: string;
  bucket: string;
  generation: string;
  metageneration: string;
  contentType: string;
  storageClass: string;
  size: string;
  md5Hash: string;
  crc32c: string;
  etag: string;
  timeCreated: string;
  updated: string;
  timeStorageClassUpdated: string;
  metadata?: Record<string, string>;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  customTime?: string;
}

export interface StoredObject {
  meta: ObjectMetadata;
  data: Buffer;
}

export interface NotificationConfig {
  kind: 'storage#notification';
  id: string;
  selfLink: string;
  topic: string;
  payload_format: 'JSON_API_V1' | 'NONE';
  event_types?: string[];
  custom_attributes?: Record<string, string>;
  object_name_prefix?: string;
  etag: string;
}

export interface BucketRecord {
  meta: Record<string, unknown> & { name: string };
  objects: Map<string, StoredObject>;
  notifications: Map<string, NotificationConfig>;
}

/** Writable object fields a client may set through metadata or PATCH. */
export const WRITABLE_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'metadata',
  'customTime',
] as const;

export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export class StorageStore {
  readonly buckets = new Map<string, BucketRecord>();
  /** Called after every change of a bucket (its metadata or notifications) or of one object. */
  onChange?: (bucket: string, object?: string) => void;
  private generationClock = 0;

  nextGeneration(): string {
    // Microseconds since the epoch, strictly increasing, like GCS generations.
    this.generationClock = Math.max(this.generationClock + 1, Date.now() * 1000);
    return String(this.generationClock);
  }

  createBucket(meta: Record<string, unknown>, project: string): BucketRecord {
    const name = typeof meta.name === 'string' ? meta.name : '';
    if (!BUCKET_NAME.test(name) || name.includes('..'))
      throw new HttpError(400, `Invalid bucket name: '${name}'`, 'invalid');
    if (this.buckets.has(name))
      throw new HttpError(
        409,
        'Your previous request to create the named bucket succeeded and you already own it.',
        'conflict',
      );
    const now = new Date().toISOString();
    const record: BucketRecord = {
      meta: {
        location: 'US',
        storageClass: 'STANDARD',
        ...meta,
        kind: 'storage#bucket',
        id: name,
        name,
        projectNumber: project,
        timeCreated: now,
        updated: now,
        metageneration: '1',
        etag: 'CAE=',
      },
      objects: new Map(),
      notifications: new Map(),
    };
    this.buckets.set(name, record);
    this.onChange?.(name);
    return record;
  }

  bucket(name: string): BucketRecord {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new HttpError(404, 'The specified bucket does not exist.', 'notFound');
    return bucket;
  }

  deleteBucket(name: string): void {
    if (this.bucket(name).objects.size > 0)
      throw new HttpError(409, 'The bucket you tried to delete is not empty.', 'conflict');
    this.buckets.delete(name);
    this.onChange?.(name);
  }

  /** The live object, after checking preconditions; 404 if absent. */
  getObject(bucket: string, name: string, pre: Preconditions, reading = true): StoredObject {
    const existing = this.bucket(bucket).objects.get(name);
    checkPreconditions(existing, pre, reading);
    if (!existing) throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
    return existing;
  }

  /** Writes a new generation; returns it and the generation it replaced, if any. */
  putObject(
    bucket: string,
    name: string,
    data: Buffer,
    fields: Partial<ObjectMetadata>,
    pre: Preconditions,
    baseUrl: string,
  ): { object: StoredObject; replaced?: StoredObject } {
    validateObjectName(name);
    const record = this.bucket(bucket);
    const existing = record.objects.get(name);
    checkPreconditions(existing, pre, false);
    const crc32c = crc32cBase64(data);
    const md5Hash = md5Base64(data);
    if (fields.crc32c && fields.crc32c !== crc32c)
      throw new HttpError(
        400,
        'Provided CRC32C "' +
          fields.crc32c +
          '" doesn\'t match calculated CRC32C "' +
          crc32c +
          '".',
      );
    if (fields.md5Hash && fields.md5Hash !== md5Hash)
      throw new HttpError(
        400,
        'Provided MD5 hash "' +
          fields.md5Hash +
          '" doesn\'t match calculated MD5 hash "' +
          md5Hash +
          '".',
      );
    const generation = this.nextGeneration();
    const now = new Date().toISOString();
    const encoded = encodeURIComponent(name);
    const meta: ObjectMetadata = {
      kind: 'storage#object',
      id: `${bucket}/${name}/${generation}`,
      selfLink: `${baseUrl}/storage/v1/b/${bucket}/o/${encoded}`,
      mediaLink: `${baseUrl}/download/storage/v1/b/${bucket}/o/${encoded}?generation=${generation}&alt=media`,
      name,
      bucket,
      generation,
      metageneration: '1',
      contentType: 'application/octet-stream',
      storageClass: 'STANDARD',
      size: String(data.length),
      md5Hash,
      crc32c,
      etag: Buffer.from(generation).toString('base64'),
      timeCreated: now,
      updated: now,
      timeStorageClassUpdated: now,
    };
    for (const field of WRITABLE_FIELDS)
      if (fields[field] !== undefined && fields[field] !== null)
        Object.assign(meta, { [field]: fields[field] });
    const object = { meta, data };
    record.objects.set(name, object);
    this.onChange?.(bucket, name);
    return { object, replaced: existing };
  }

  patchObject(
    bucket: string,
    name: string,
    fields: Record<string, unknown>,
    pre: Preconditions,
    replace: boolean,
  ): StoredObject {
    const object = this.getObject(bucket, name, pre, false);
    const meta = object.meta as unknown as Record<string, unknown>;
    for (const field of WRITABLE_FIELDS) {
      if (field in fields) {
        const value = fields[field];
        if (field === 'metadata' && value && !replace) {
          const merged = {
            ...(object.meta.metadata ?? {}),
            ...(value as Record<string, string | null>),
          };
          for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
          meta.metadata = merged;
        } else if (value === null) delete meta[field];
        else meta[field] = value;
      } else if (replace && field !== 'contentType') delete meta[field];
    }
    object.meta.metageneration = String(Number(object.meta.metageneration) + 1);
    object.meta.updated = new Date().toISOString();
    this.onChange?.(bucket, name);
    return object;
  }

  deleteObject(bucket: string, name: string, pre: Preconditions): StoredObject {
    const object = this.getObject(bucket, name, pre, false);
    this.bucket(bucket).objects.delete(name);
    this.onChange?.(bucket, name);
    return object;
  }
}

export function validateObjectName(name: string): void {
  if (!name) throw new HttpError(400, 'Object name is required.', 'required');
  if (Buffer.byteLength(name) > 1024 || name === '.' || name === '..' || /[\r\n]/.test(name)) {
    throw new HttpError(400, `The object name '${name.slice(0, 64)}' is invalid.`);
  }
}

/** GCS answers a failed *NotMatch with 304 on reads and 412 on writes. */
function checkPreconditions(
  existing: StoredObject | undefined,
  pre: Preconditions,
  reading: boolean,
): void {
  const generation = existing?.meta.generation ?? '0';
  const metageneration = existing?.meta.metageneration;
  const notModified = () =>
    reading ? new HttpError(304, 'Not Modified', 'notModified') : failed();
  const failed = () =>
    new HttpError(
      412,
      'At least one of the pre-conditions you specified did not hold.',
      'conditionNotMet',
    );
  if (pre.ifGenerationMatch !== undefined && pre.ifGenerationMatch !== generation) throw failed();
  if (pre.ifGenerationNotMatch !== undefined && pre.ifGenerationNotMatch === generation)
    throw notModified();
  if (pre.ifMetagenerationMatch !== undefined && pre.ifMetagenerationMatch !== metageneration)
    throw failed();
  if (pre.ifMetagenerationNotMatch !== undefined && pre.ifMetagenerationNotMatch === metageneration)
    throw notModified();
}
