import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../apps/platform/src/testing/platform-process.ts';
import type { BrowserGlobals } from './dom.ts';
import { horizontalOverflow, launchChromium, signedInPage, type Browser } from './browser.ts';

// The navigation of FR-014…FR-016 in Chromium against the running platform: every menu page within two
// clicks of the home page, the right group and item highlighted on a direct visit to every route (the
// dynamic ones included), the hamburger menu at 320 px, and every page at four widths without sideways
// scrolling, with a screenshot of each.

const stack = inject('consoleStack');
const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots');
const WIDTHS = [320, 768, 1440, 2560];

let browser: Browser;
let page: Page;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
  page = await signedInPage(browser, stack.token);
});
afterAll(async () => {
  await browser?.close();
});

const MENU: [group: string | null, item: string, path: string][] = [
  [null, 'Getting Started', '/getting-started'],
  ['Catalog', 'Models', '/catalog/models'],
  ['Catalog', 'Datasets', '/catalog/datasets'],
  ['ML Operations', 'Training', '/training/jobs'],
  ['ML Operations', 'Experiments', '/experiments'],
  ['ML Operations', 'Serving', '/serving/endpoints'],
  ['Governance', 'Policies', '/governance/policies'],
  ['Governance', 'Audit', '/governance/audit'],
  ['Governance', 'Costs', '/governance/costs'],
  ['Admin', 'Integrations', '/admin/integrations'],
];

/** Every route of the console with the group and item it belongs to, dynamic ones with seeded ids. */
function allRoutes(): [group: string | null, item: string, path: string][] {
  const s = stack.seeded;
  return [
    ...MENU,
    ['Catalog', 'Models', `/catalog/models/${s.modelId}`],
    ['Catalog', 'Datasets', `/catalog/datasets/${s.datasetId}`],
    ['ML Operations', 'Training', '/training/jobs/new'],
    ['ML Operations', 'Training', `/training/jobs/${s.jobIds[0]}`],
    ['ML Operations', 'Experiments', `/experiments/compare?runs=${s.runIds.join(',')}`],
    ['ML Operations', 'Serving', '/serving/endpoints/new'],
    ['ML Operations', 'Serving', `/serving/endpoints/${s.endpointId ?? 'no-such-endpoint'}`],
  ];
}

/** A stable file name per route: seeded ids become "id", so later runs overwrite the same files. */
function screenshotName(path: string): string {
  let p = path.replace(/\?.*$/, '');
  const s = stack.seeded;
  for (const id of [s.modelId, s.datasetId, ...s.jobIds, s.endpointId ?? 'no-such-endpoint'])
    p = p.replace(id, 'id');
  return p.replace(/[^\w]+/g, '_').replace(/^_|_$/g, '');
}

async function highlighted(p: Page) {
  return {
    group: (await p.locator('#main-nav .group.active > .group-toggle').allTextContents()).map((t) =>
      t.replace('▾', '').trim(),
    ),
    item: (await p.locator('#main-nav [aria-current="page"]').allTextContents()).map((t) => t.trim()),
  };
}

describe('console navigation in Chromium', () => {
  it('signs in with the token and shows the role', async () => {
    const fresh = await browser.context.newPage();
    await fresh.goto(`${stack.url}/training/jobs`);
    await fresh.evaluate(() => (globalThis as unknown as BrowserGlobals).window.localStorage.clear());
    await fresh.goto(`${stack.url}/training/jobs`);
    await fresh.waitForURL(/\/sign-in\?next=/);
    await fresh.fill('#token', 'not-a-valid-token-at-all');
    await fresh.click('button[type=submit]');
    await expect.poll(() => fresh.locator('[role=alert]').textContent()).toContain('Signed out');
    await fresh.fill('#token', stack.token);
    await fresh.click('button[type=submit]');
    await fresh.waitForURL(/\/training\/jobs$/);
    await expect.poll(() => fresh.locator('[data-testid=role]').textContent()).toContain('admin');
    await fresh.close();
  });

  it('reaches every menu page from the home page in at most two clicks', async () => {
    for (const [group, item, path] of MENU) {
      await page.goto(`${stack.url}/`);
      await page.waitForURL(/\/getting-started$/);
      let clicks = 0;
      if (group) {
        await page.getByRole('button', { name: group }).click();
        clicks++;
      }
      await page.locator('#main-nav').getByRole('link', { name: item, exact: true }).click();
      clicks++;
      await page.waitForURL(`${stack.url}${path}`);
      expect(clicks, item).toBeLessThanOrEqual(2);
      expect(await highlighted(page), path).toEqual({ group: group ? [group] : [], item: [item] });
    }
  });

  it('highlights the right group and item on a direct visit to every route, dynamic ones included', async () => {
    for (const [group, item, path] of allRoutes()) {
      await page.goto(`${stack.url}${path}`);
      await page.locator('#main-nav').waitFor({ state: 'attached' });
      expect(await highlighted(page), path).toEqual({ group: group ? [group] : [], item: [item] });
      if (group) {
        const sub = page.locator('.subnav a[aria-current="page"]');
        expect((await sub.textContent())?.trim(), path).toBe(item);
      }
    }
  });

  it('opens the menu from the keyboard', async () => {
    await page.goto(`${stack.url}/getting-started`);
    await page.locator('#toggle-catalog').focus();
    await page.keyboard.press('ArrowDown');
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as BrowserGlobals).document.activeElement?.textContent?.trim(),
      ),
    ).toBe('Models');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/catalog\/datasets$/);
  });

  it('becomes a hamburger menu at 320 px that keeps the groups', async () => {
    await page.setViewportSize({ width: 320, height: 740 });
    try {
      await page.goto(`${stack.url}/catalog/models/${stack.seeded.modelId}`);
      const burger = page.getByRole('button', { name: 'Menu' });
      await burger.waitFor();
      expect(await page.locator('#main-nav').isVisible()).toBe(false);
      await burger.click();
      expect(await page.locator('#main-nav').isVisible()).toBe(true);
      // The current group is open in the panel; the other groups are there to open.
      expect(await page.locator('#menu-catalog').isVisible()).toBe(true);
      for (const g of ['Catalog', 'ML Operations', 'Governance', 'Admin'])
        expect(await page.getByRole('button', { name: g }).isVisible(), g).toBe(true);
      await page.getByRole('button', { name: 'Governance' }).click();
      await page.locator('#menu-governance').getByRole('link', { name: 'Audit' }).click();
      await page.waitForURL(/\/governance\/audit$/);
      expect(await page.locator('#main-nav').isVisible()).toBe(false);
      expect(await highlighted(page)).toEqual({ group: ['Governance'], item: ['Audit'] });
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('fits every page at 320, 768, 1440 and 2560 px without sideways scrolling (screenshots kept)', async () => {
    const overflowing: string[] = [];
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      for (const [, item, path] of allRoutes()) {
        await page.goto(`${stack.url}${path}`);
        await page.locator('main').first().waitFor();
        // Loaded: no section still waiting for its first answer.
        await page
          .waitForFunction(
            () => !(globalThis as unknown as BrowserGlobals).document.querySelector('[aria-busy="true"]'),
            null,
            { timeout: 10_000 },
          )
          .catch(() => undefined);
        const name = `${screenshotName(path)}-${width}.png`;
        await page.screenshot({ path: join(SHOTS, name), fullPage: true });
        const { scrollWidth, clientWidth } = await horizontalOverflow(page);
        if (scrollWidth > clientWidth)
          overflowing.push(`${item} ${path} at ${width}px: ${scrollWidth} > ${clientWidth}`);
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    expect(overflowing).toEqual([]);
  });
});
