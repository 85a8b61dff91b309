import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, signedInPage, type Browser } from './browser.ts';

// The console's training and experiment pages against the running platform: a job submitted through the
// form (the server's rule errors shown next to the fields as one types) runs to SUCCEEDED while the job
// page follows it live; two runs compared side by side.

const stack = inject('consoleStack');
let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await signedInPage(browser, stack.token);
});
afterAll(async () => {
  await browser?.close();
});

describe('training in the console', () => {
  it('submits a job through the form and watches it succeed', async () => {
    await page.goto(`${stack.url}/getting-started`);
    await page.getByRole('link', { name: 'Open the submit form' }).click();
    await page.waitForURL(/\/training\/jobs\/new$/);

    // GPU types come from the API.
    await page.locator('[data-testid=gpu-type-select]').click();
    const gpuOptions = await page.locator('.n-base-select-option').allTextContents();
    expect(gpuOptions.length).toBeGreaterThan(0);
    expect(gpuOptions.join(' ')).toContain('GiB');
    await page.keyboard.press('Escape');

    await page.locator('[data-testid=dataset-select]').click();
    await page.locator('.n-base-select-option', { hasText: 'corpus v1 (pretrain_corpus)' }).click();

    // No output name yet: the server's rule shows next to that field, and goes once it is typed.
    const artifactError = page.locator('[data-field=artifact_name]');
    await artifactError.first().waitFor({ timeout: 15_000 });
    await page.fill('#f-artifact', 'console-tiny');
    await artifactError.first().waitFor({ state: 'detached', timeout: 15_000 });
    await page.locator('[data-testid=spec-valid]').waitFor({ timeout: 15_000 });

    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/\/training\/jobs\/[0-9a-f-]{8,}$/);
    // Live status without a reload: the tag turns SUCCEEDED by itself.
    await page.locator('[data-testid=job-status][data-status=SUCCEEDED]').waitFor({ timeout: 150_000 });
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain('SUCCEEDED');
    await expect.poll(() => page.locator('[data-testid=job-log]').textContent()).toContain('attempt 1');
  });

  it('keeps what was typed and shows a clear message when the server refuses a submission', async () => {
    await page.goto(`${stack.url}/training/jobs/new`);
    await page.locator('[data-testid=dataset-select]').click();
    await page.locator('.n-base-select-option', { hasText: 'corpus v1 (pretrain_corpus)' }).click();
    await page.fill('#f-artifact', 'kept-name');
    await page.fill('#f-family', 'not-a-family');
    await page.locator('[data-field=model_family]').first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.locator('[role=alert]').first().waitFor();
    expect(page.url()).toMatch(/\/training\/jobs\/new$/);
    expect(await page.inputValue('#f-artifact')).toBe('kept-name');
    expect(await page.inputValue('#f-family')).toBe('not-a-family');
  });
});

describe('experiments in the console', () => {
  it('compares two runs: parameter differences highlighted, metric curves overlaid', async () => {
    await page.goto(`${stack.url}/experiments`);
    for (const id of stack.seeded.runIds) await page.locator(`input[data-run-id="${id}"]`).check();
    await page.locator('[data-testid=compare-selected]').click();
    await page.waitForURL(/\/experiments\/compare\?runs=/);
    const differing = page.locator('[data-testid=param-table] tr[data-differs=true]');
    await differing.first().waitFor();
    expect((await differing.allTextContents()).join(' ')).toContain('0.003');
    await page.locator('[data-testid=metric-charts] canvas').first().waitFor({ timeout: 15_000 });
  });
});
