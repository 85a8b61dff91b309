import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, signedInPage, type Browser } from './browser.ts';

// Governance and admin pages against the running platform, and what a viewer sees.

const stack = inject('consoleStack');
let browser: Browser;
let page: Page;

async function api<T>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${stack.url}/llm-ops/v1${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
  return (JSON.parse(text) as { data: T }).data;
}

beforeAll(async () => {
  browser = await launchChromium();
  page = await signedInPage(browser, stack.token);
});
afterAll(async () => {
  await browser?.close();
});

describe('governance and admin pages', () => {
  it('shows the configured policy limits', async () => {
    await page.goto(`${stack.url}/governance/policies`);
    const text = await page.locator('[data-testid=policies]').textContent();
    expect(text).toMatch(/GPUs per job\s*at most \d+/);
  });

  it('shows GPU prices from the API and no invented budget figures', async () => {
    await page.goto(`${stack.url}/governance/costs`);
    await page.locator('[data-testid=gpu-prices] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=gpu-prices]').textContent()).toMatch(/\$\d+\.\d\d/);
    expect(await page.locator('[data-testid=budgets-empty]').textContent()).toContain('Not built yet');
  });

  it('verifies the audit chain', async () => {
    await page.goto(`${stack.url}/governance/audit`);
    await page.locator('[data-testid=audit-table] tbody tr').first().waitFor();
    await page.locator('[data-testid=verify-chain]').click();
    await expect
      .poll(() => page.locator('[data-testid=verify-result]').textContent())
      .toContain('Chain intact');
  });

  it('shows Temporal reachable, the components it does not probe, and the feature flags', async () => {
    await page.goto(`${stack.url}/admin/integrations`);
    const temporal = page.locator('[data-component=temporal]');
    await temporal.locator('[data-status=ok]').waitFor();
    expect(await temporal.textContent()).toMatch(/127\.0\.0\.1:\d+/);
    expect(await page.locator('[data-component=kubernetes]').textContent()).toContain('disabled');
    expect(await page.locator('[data-testid=feature-flags]').textContent()).toContain('experiment_tracking');
  });
});

describe('catalog and projects', () => {
  it('uploads a dataset with progress and shows its validation report; a bad file is refused in place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmops-upload-'));
    try {
      const good = join(dir, 'pairs.jsonl');
      const bad = join(dir, 'broken.jsonl');
      await writeFile(good, '{"instruction":"Say hi","output":"Hi!"}\n{"prompt":"2+2?","completion":"4"}\n');
      await writeFile(bad, '{"text":"no pair here"}\n');
      await page.goto(`${stack.url}/catalog/datasets`);
      await page.getByLabel('Dataset name').fill('pairs-from-console');

      await page.locator('[data-testid=dataset-file]').setInputFiles(bad);
      await page.getByRole('button', { name: 'Upload' }).click();
      const alert = page.locator('.upload [role=alert]');
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/row|sft_pair|instruction|output/i);
      expect(await page.getByLabel('Dataset name').inputValue()).toBe('pairs-from-console');

      await page.locator('[data-testid=dataset-file]').setInputFiles(good);
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.locator('[data-testid=upload-progress]').waitFor();
      await page.getByRole('link', { name: 'See its validation report' }).click();
      await page.waitForURL(/\/catalog\/datasets\/[0-9a-f-]+$/);
      expect(await page.locator('[data-testid=validation-report]').textContent()).toMatch(
        /2\s+of\s+2\s+rows are valid/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('switches project: the lists show the other project, and the choice is kept', async () => {
    await api('/projects', { slug: 'e2e-other', name: 'Other team' });
    await page.goto(`${stack.url}/catalog/models`);
    await page.locator('[data-testid=models-table] tbody tr').first().waitFor();
    await page.locator('[data-testid=project-switcher]').click();
    await page.locator('.n-base-select-option', { hasText: '(e2e-other)' }).click();
    await page.getByText('No models yet').waitFor();
    await page.reload();
    await page.getByText('No models yet').waitFor();
    await page.locator('[data-testid=project-switcher]').click();
    await page.locator('.n-base-select-option', { hasText: '(default)' }).click();
    await page.locator('[data-testid=models-table] tbody tr').first().waitFor();
  });
});

describe('a viewer', () => {
  it('sees the role, cannot submit, and gets the 403 in place on the audit trail', async () => {
    const member = await api<{ userId: string }>('/members', { name: 'vera-viewer', role: 'viewer' });
    const { token } = await api<{ token: string }>('/tokens', {
      name: 'vera-browser',
      userId: member.userId,
    });
    const viewer = await signedInPage(browser, token);
    try {
      await viewer.goto(`${stack.url}/training/jobs/new`);
      await expect.poll(() => viewer.locator('[data-testid=role]').textContent()).toContain('viewer');
      await viewer.getByText('Read-only role').waitFor();
      expect(await viewer.getByRole('button', { name: 'Submit job' }).isDisabled()).toBe(true);
      await viewer.goto(`${stack.url}/governance/audit`);
      const alert = viewer.locator('[role=alert]').first();
      await alert.waitFor();
      expect(await alert.textContent()).toContain('Not allowed for your role');
      expect(await alert.textContent()).toContain('viewer');
    } finally {
      await viewer.close();
    }
  });
});
