import { describe, expect, it } from 'vitest';
import { deepMerge, filesForPath, formatPath } from './merge.ts';

describe('deepMerge', () => {
  it('merges mappings key by key and keeps keys only the base has', () => {
    expect(deepMerge({ a: { x: 1, y: 2 }, b: 1 }, { a: { y: 3, z: 4 } })).toEqual({
      a: { x: 1, y: 3, z: 4 },
      b: 1,
    });
  });

  it('replaces lists instead of concatenating them', () => {
    expect(deepMerge({ list: [1, 2, 3] }, { list: [9] })).toEqual({ list: [9] });
  });

  it('removes a key set to null and ignores null for keys the base lacks', () => {
    expect(deepMerge({ keep: 1, drop: { deep: true } }, { drop: null, absent: null })).toEqual({ keep: 1 });
  });

  it('lets a scalar replace a mapping and a mapping replace a scalar', () => {
    expect(deepMerge({ a: { x: 1 }, b: 2 }, { a: 'flat', b: { y: 1 } })).toEqual({ a: 'flat', b: { y: 1 } });
  });

  it('does not modify its inputs', () => {
    const base = { a: { x: 1 } };
    deepMerge(base, { a: { x: 2 } });
    expect(base).toEqual({ a: { x: 1 } });
  });
});

describe('filesForPath', () => {
  const layers = [
    { file: 'base', data: { images: { SFT: { gpu: 'g', cpu: 'c' } }, list: [{ a: 1 }], only: 1 } },
    { file: 'overlay', data: { images: { SFT: { gpu: 'g2' } }, list: [{ b: 1 }] } },
  ];

  it.each([
    [['images', 'SFT', 'gpu'], ['overlay']],
    [['images', 'SFT', 'cpu'], ['base']],
    [
      ['images', 'SFT', 'missing'],
      ['base', 'overlay'],
    ],
    [
      ['images', 'SFT'],
      ['base', 'overlay'],
    ],
    [['list', 0, 'a'], ['overlay']],
    [['only'], ['base']],
    [[], ['base', 'overlay']],
  ] as const)('attributes %j to %j', (path, files) => {
    expect(filesForPath(layers, path)).toEqual(files);
  });
});

describe('formatPath', () => {
  it.each([
    [[], '(root)'],
    [['images', 'train', 'SFT', 'cpu'], 'images.train.SFT.cpu'],
    [['gpu_types', 'dev', 2, 'name'], 'gpu_types.dev[2].name'],
  ] as const)('formats %j as %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });
});
