import type { DatasetUpload } from './types.ts';

const CONTENT_TYPES: Record<string, string> = {
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
  json: 'application/json',
};

function contentTypeOf(filename: string): string {
  const ext = filename.split('.').pop()?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * A Blob backed by the file on disk: fetch reads it while sending, so a dataset larger than memory still
 * uploads. node:fs is loaded on demand so that browsers, which pass a Blob instead, never need it.
 */
async function fileBlob(path: string): Promise<{ blob: Blob; filename: string }> {
  const fs = await import('node:fs');
  const { basename } = await import('node:path');
  let info;
  try {
    info = await fs.promises.stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `Cannot read dataset file '${path}': ${code === 'ENOENT' ? 'no such file' : String(code ?? e)}`,
    );
  }
  if (!info.isFile()) throw new Error(`Cannot read dataset file '${path}': not a regular file`);
  const filename = basename(path);
  return { blob: await fs.openAsBlob(path, { type: contentTypeOf(filename) }), filename };
}

/** The multipart body of POST /catalog/datasets: the server needs the fields before the file part. */
export async function datasetForm(upload: DatasetUpload): Promise<FormData> {
  let blob: Blob;
  let filename: string;
  if (typeof upload.file === 'string') {
    ({ blob, filename } = await fileBlob(upload.file));
  } else {
    if (!upload.filename) throw new TypeError('datasets.upload: a Blob needs a filename (e.g. data.jsonl)');
    blob = upload.file;
    filename = upload.filename;
  }
  const form = new FormData();
  form.append('name', upload.name);
  form.append('version', upload.version);
  form.append('type', upload.type);
  form.append('file', blob, upload.filename ?? filename);
  return form;
}
