import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { renderManifest } from './serving.ts';

describe('renderManifest', () => {
  it('prints the manifest as a YAML document after a comment naming kind and backend', () => {
    const manifest = {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'chat' },
    };
    const out = renderManifest({ backend: 'kserve', kind: 'InferenceService', manifest, error: null });
    expect(out.split('\n')[0]).toBe("# InferenceService for the 'kserve' serving backend");
    expect(YAML.parseAllDocuments(out).map((d) => d.toJS())).toEqual([manifest]);
  });

  it('says why there is no manifest, as a YAML comment', () => {
    const err = renderManifest({
      backend: 'ray',
      kind: 'RayService',
      manifest: null,
      error: { code: 'STORAGE_URI_MISSING', field: 'storageUri', message: 'storageUri: no storage URI' },
    });
    expect(err).toBe("# No RayService for the 'ray' serving backend: storageUri: no storage URI\n");
    expect(renderManifest({ backend: 'local', kind: null, manifest: null, error: null })).toMatch(
      /^# Serving backend 'local': .*no Kubernetes manifest/,
    );
    expect(renderManifest(undefined)).toBe('');
  });
});
