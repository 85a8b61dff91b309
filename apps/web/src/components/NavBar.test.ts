// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, defineComponent, h, nextTick, type App } from 'vue';
import { createMemoryHistory, createRouter, RouterView } from 'vue-router';
import NavBar from './NavBar.vue';

const Page = defineComponent({ render: () => h('main', 'page') });
let app: App | null = null;

async function mountAt(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:rest(.*)*', component: Page }],
  });
  await router.push(path);
  await router.isReady();
  const host = document.createElement('div');
  document.body.replaceChildren(host);
  app = createApp({ render: () => [h(NavBar), h(RouterView)] });
  app.use(router).mount(host);
  await nextTick();
  return { host, router };
}

afterEach(() => {
  app?.unmount();
  app = null;
});

const activeGroup = (host: HTMLElement) =>
  host.querySelector('.group.active .group-toggle')?.textContent?.trim();
const current = (host: HTMLElement) =>
  Array.from(host.querySelectorAll('#main-nav [aria-current="page"]')).map((a) => a.textContent?.trim());

describe('NavBar', () => {
  it('highlights the group and item of a dynamic route opened directly', async () => {
    const { host } = await mountAt('/catalog/models/9c1f');
    expect(activeGroup(host)).toContain('Catalog');
    expect(current(host)).toEqual(['Models']);
    // The group's pages stay one click away below the bar.
    const sub = Array.from(host.querySelectorAll('.subnav a')).map((a) => a.textContent?.trim());
    expect(sub).toEqual(['Models', 'Datasets']);
    expect(host.querySelector('.subnav a[aria-current="page"]')?.textContent).toBe('Models');
  });

  it('marks Getting Started alone at the home page', async () => {
    const { host } = await mountAt('/getting-started');
    expect(activeGroup(host)).toBeUndefined();
    expect(current(host)).toEqual(['Getting Started']);
    expect(host.querySelector('.subnav')).toBeNull();
  });

  it('opens a group with the keyboard, moves through it and closes it with Escape', async () => {
    const { host } = await mountAt('/getting-started');
    const toggle = host.querySelector<HTMLButtonElement>('#toggle-ml-operations')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    toggle.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    await nextTick();
    await nextTick();
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement?.textContent).toBe('Training');
    document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement?.textContent).toBe('Experiments');
    document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
    document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
    expect(document.activeElement?.textContent).toBe('Serving');
    document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await nextTick();
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(document.activeElement).toBe(toggle);
  });

  it('closes the open dropdown after navigating, and the new page is highlighted', async () => {
    const { host, router } = await mountAt('/getting-started');
    host.querySelector<HTMLButtonElement>('#toggle-governance')!.click();
    await nextTick();
    expect(host.querySelector('#menu-governance')!.getAttribute('style') ?? '').not.toContain(
      'display: none',
    );
    await router.push('/governance/audit');
    await nextTick();
    expect(host.querySelector('#toggle-governance')!.getAttribute('aria-expanded')).toBe('false');
    expect(current(host)).toEqual(['Audit']);
  });

  it('opens the hamburger panel with the current group expanded', async () => {
    const { host } = await mountAt('/serving/endpoints/e1');
    const burger = host.querySelector<HTMLButtonElement>('.hamburger')!;
    burger.click();
    await nextTick();
    expect(burger.getAttribute('aria-expanded')).toBe('true');
    expect(host.querySelector('#main-nav')!.classList.contains('mobile-open')).toBe(true);
    expect(host.querySelector('#toggle-ml-operations')!.getAttribute('aria-expanded')).toBe('true');
  });
});
