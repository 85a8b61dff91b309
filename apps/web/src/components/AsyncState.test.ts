// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, h, nextTick, type App } from 'vue';
import { ApiError } from '@llmops/client';
import AsyncState from './AsyncState.vue';

let app: App | null = null;
afterEach(() => {
  app?.unmount();
  app = null;
});

async function render(props: { loading: boolean; error: unknown; empty?: boolean; emptyText?: string }) {
  const host = document.createElement('div');
  document.body.replaceChildren(host);
  app = createApp({
    render: () => h(AsyncState, props, { default: () => h('p', { class: 'content' }, 'data') }),
  });
  app.mount(host);
  await nextTick();
  return host;
}

describe('AsyncState', () => {
  it('shows a loading state until the first answer', async () => {
    const host = await render({ loading: true, error: null });
    expect(host.querySelector('[aria-busy=true]')?.textContent).toContain('Loading');
    expect(host.querySelector('.content')).toBeNull();
  });

  it('says the platform does not answer when the server is down', async () => {
    const down = new ApiError({
      status: 0,
      code: 'UNAVAILABLE',
      message: 'Cannot reach the platform at http://x',
    });
    const host = await render({ loading: false, error: down });
    expect(host.textContent).toContain('The platform does not answer');
    expect(host.textContent).toContain('Cannot reach the platform');
  });

  it('explains a 403 in place', async () => {
    const refused = new ApiError({ status: 403, code: 'FORBIDDEN', message: 'Requires the admin role' });
    const host = await render({ loading: false, error: refused });
    expect(host.querySelector('[role=alert]')?.textContent).toContain('Not allowed for your role');
    expect(host.textContent).toContain('Requires the admin role');
  });

  it('keeps showing the last data next to an error of a later refresh', async () => {
    const host = await render({ loading: false, error: new Error('timeout'), empty: false });
    expect(host.querySelector('.content')).not.toBeNull();
    expect(host.textContent).toContain('timeout');
  });

  it('shows the empty text when there is nothing', async () => {
    const host = await render({ loading: false, error: null, empty: true, emptyText: 'No jobs yet.' });
    expect(host.textContent).toContain('No jobs yet.');
    expect(host.querySelector('.content')).toBeNull();
  });
});
