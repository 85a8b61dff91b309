import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { guideSteps } from './guide.ts';

// The guide's curl commands must name routes the API really has (the committed OpenAPI document).
const openapi = JSON.parse(
  readFileSync(new URL('../../../../../docs/api/openapi.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, unknown>> };

function routeExists(method: string, path: string): boolean {
  return Object.entries(openapi.paths).some(([template, ops]) => {
    if (!(method.toLowerCase() in ops)) return false;
    const pattern = new RegExp(
      `^${template
        .replace('{*}', '.+')
        .replace(/\{[^}]+\}/g, '[^/]+')
        .replace(/\//g, '\\/')}$`,
    );
    return pattern.test(`/llm-ops/v1${path}`);
  });
}

describe('Getting Started commands', () => {
  const steps = guideSteps('http://localhost:8000');

  it('walks dataset, job, watch, deploy in that order, each a click from home', () => {
    expect(steps.map((s) => s.link.to)).toEqual([
      '/catalog/datasets',
      '/training/jobs/new',
      '/training/jobs',
      '/serving/endpoints/new',
    ]);
  });

  it('calls only routes the API has', () => {
    const calls = steps.flatMap((s) =>
      [...s.curl.matchAll(/curl -s[N]?(?: -X (POST|GET|PATCH))? \$API(\/[^\s]+)/g)].map((m) => [
        m[1] ?? 'GET',
        m[2]!.replace(/<\w+>/g, 'x'),
      ]),
    );
    expect(calls.length).toBeGreaterThanOrEqual(6);
    for (const [method, path] of calls) expect(routeExists(method!, path!), `${method} ${path}`).toBe(true);
  });

  it('ends with a question to the deployed endpoint, from the CLI and with curl', () => {
    const last = steps[3]!;
    expect(last.cli).toContain("llmops -- chat /tiny-llama -m 'Hello'");
    expect(last.curl).toContain('/serving/routes/tiny-llama/v1/chat/completions');
  });

  it('uses the platform the console is served from', () => {
    expect(steps[0]!.curl).toContain('export API=http://localhost:8000/llm-ops/v1');
    expect(steps[0]!.cli).toContain('export LLMOPS_URL=http://localhost:8000');
  });

  it('sends job and endpoint bodies that are valid JSON', () => {
    for (const s of steps.slice(1, 4)) {
      for (const m of s.curl.matchAll(/-d '([^']+)'/g)) expect(() => JSON.parse(m[1]!)).not.toThrow();
    }
  });
});
