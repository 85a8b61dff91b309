import { isApiError } from '@llmops/client';
import type { Dataset, DatasetType } from '@llmops/client';
import { ApiError } from '@llmops/client';
import { session } from './session.ts';

export interface UploadInput {
  file: File;
  name: string;
  version: string;
  type: DatasetType;
}

/**
 * POST /catalog/datasets as multipart through XMLHttpRequest, the one browser API that reports upload
 * progress. Errors are the same ApiError the client throws, with the server's violations.
 */
export function uploadDataset(input: UploadInput, onProgress: (fraction: number) => void): Promise<Dataset> {
  const form = new FormData();
  // The server needs the fields before the file part.
  form.append('name', input.name);
  form.append('version', input.version);
  form.append('type', input.type);
  form.append('file', input.file, input.file.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/llm-ops/v1/catalog/datasets');
    if (session.token) xhr.setRequestHeader('authorization', `Bearer ${session.token}`);
    if (session.project) xhr.setRequestHeader('x-project', session.project);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () =>
      reject(
        new ApiError({ status: 0, code: 'UNAVAILABLE', message: 'The upload could not reach the platform' }),
      );
    xhr.onload = () => {
      let body: { status?: string; message?: string; data?: Record<string, unknown> } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not the API's envelope: reported below with the HTTP status.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body.status === 'success') {
        onProgress(1);
        resolve(body.data as unknown as Dataset);
        return;
      }
      const data = body.data ?? {};
      reject(
        new ApiError({
          status: xhr.status,
          code: (typeof data.code === 'string' ? data.code : 'INTERNAL') as ApiError['code'],
          message: body.message ?? `Upload failed with HTTP ${xhr.status}`,
          violations: Array.isArray(data.violations) ? data.violations : [],
          details:
            typeof data.details === 'object' && data.details
              ? (data.details as Record<string, unknown>)
              : undefined,
        }),
      );
    };
    xhr.send(form);
  });
}

export { isApiError };
