import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

/**
 * Local artifact store with an S3-compatible layout: `<root>/<bucket>/<key>`, addressed as `s3://bucket/key`,
 * so moving to MinIO/S3 later changes the root, not the URIs.
 */
export interface ArtifactStore {
  /** Moves a fully written temporary file into place; returns its URI. */
  commit(tmpPath: string, bucket: string, key: string): Promise<string>;
  tmpPath(name: string): Promise<string>;
  exists(bucket: string, key: string): Promise<boolean>;
  open(bucket: string, key: string): NodeJS.ReadableStream;
  uri(bucket: string, key: string): string;
  discard(tmpPath: string): Promise<void>;
}

const SAFE_SEGMENT = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

export function createLocalArtifactStore(root: string): ArtifactStore {
  const base = resolve(root);
  const pathOf = (bucket: string, key: string) => {
    const segments = [bucket, ...key.split('/')];
    for (const s of segments)
      if (!SAFE_SEGMENT.test(s)) throw new Error(`unsafe artifact path segment '${s}'`);
    const p = resolve(base, ...segments);
    if (!p.startsWith(base + sep)) throw new Error('artifact path escapes the store');
    return p;
  };
  return {
    async tmpPath(name) {
      const dir = join(base, '.tmp');
      await mkdir(dir, { recursive: true });
      return join(
        dir,
        `${Date.now()}-${Math.random().toString(36).slice(2)}-${name.replace(/[^a-zA-Z0-9._-]/g, '_')}`,
      );
    },
    async commit(tmp, bucket, key) {
      const dest = pathOf(bucket, key);
      await mkdir(dirname(dest), { recursive: true });
      await rename(tmp, dest);
      return `s3://${bucket}/${key}`;
    },
    async exists(bucket, key) {
      return stat(pathOf(bucket, key)).then(
        () => true,
        () => false,
      );
    },
    open(bucket, key) {
      return createReadStream(pathOf(bucket, key));
    },
    uri: (bucket, key) => `s3://${bucket}/${key}`,
    async discard(tmp) {
      await rm(tmp, { force: true });
    },
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
