import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from './env.ts';
import { ENV_EXAMPLE_PATH, ENV_SECTIONS, renderEnvExample } from './env-example.ts';

describe('.env.example', () => {
  it('matches envSchema (regenerate with: npx tsx packages/config/src/write-env-example.ts)', () => {
    expect(readFileSync(ENV_EXAMPLE_PATH, 'utf8')).toBe(renderEnvExample());
  });

  it('places every variable in exactly one section', () => {
    const placed = ENV_SECTIONS.flatMap((section) => section.names);
    expect([...placed].sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it('documents every variable with a one-line description', () => {
    for (const [name, schema] of Object.entries(envSchema.shape)) {
      expect(schema.description, name).toMatch(/^[^\n]+\.$/);
    }
  });

  it('shows each default as it would be written in a .env file', () => {
    const text = renderEnvExample();
    expect(text).toContain('\n# PORT=8000\n');
    expect(text).toContain('\n# ENVIRONMENT=dev\n');
    expect(text).toContain('One of: dev, stg, prod.');
    expect(text).toContain('\n# DATABASE_URL=\n');
    expect(text).toContain('\n# EXPERIMENT_TRACKING_ENABLED=true\n');
  });
});
