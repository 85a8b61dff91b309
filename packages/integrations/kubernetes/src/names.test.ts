import { describe, expect, it } from 'vitest';
import { ConversionError } from './errors.ts';
import { isDns1035, MAX_NAME_LENGTH, toDns1035 } from './names.ts';

describe('toDns1035', () => {
  it.each([
    ['Chat (prod)', 'chat-prod'],
    ['llama_3.8B--SFT', 'llama-3-8b-sft'],
    ['42-answers', 'ep-42-answers'],
    ['Café Crème', 'cafe-creme'],
    ['0b7c1e9e-3f4a-4a57-9a53-2f0d1c6c1a11', 'ep-0b7c1e9e-3f4a-4a57-9a53-2f0d1c6c1a11'],
  ])('%s → %s', (source, expected) => {
    expect(toDns1035(source)).toBe(expected);
    expect(isDns1035(expected)).toBe(true);
  });

  it('cuts long names and keeps them apart with a hash of the source', () => {
    const a = toDns1035('a'.repeat(100));
    const b = toDns1035(`${'a'.repeat(99)}b`);
    expect(a.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(isDns1035(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(toDns1035('a'.repeat(100))).toBe(a);
  });

  it('throws a ConversionError naming the field when nothing usable is left', () => {
    expect(() => toDns1035('!!! ???', 'name')).toThrow(ConversionError);
    try {
      toDns1035('日本語', 'name');
    } catch (e) {
      expect((e as ConversionError).field).toBe('name');
      expect((e as ConversionError).code).toBe('NAME_NOT_DNS_1035');
    }
  });
});
