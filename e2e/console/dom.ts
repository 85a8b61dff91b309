// The few browser globals the tests touch inside page.evaluate(), declared here so that the Node test
// code does not pull the whole DOM library into the repository's type check.
export interface BrowserGlobals {
  window: { localStorage: { setItem(key: string, value: string): void; clear(): void } };
  document: {
    documentElement: { scrollWidth: number; clientWidth: number };
    activeElement: { textContent: string | null } | null;
    querySelector(selector: string): unknown;
  };
}
