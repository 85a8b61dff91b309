import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The API client reads dataset files from disk in Node (a dynamic import of node:fs); in the browser it is
// given a Blob instead, so those modules are empty here rather than externalised with a warning.
const nodeBuiltinsAbsent: Plugin = {
  name: 'llmops-node-builtins-absent',
  enforce: 'pre',
  resolveId: (id) => (id === 'node:fs' || id === 'node:path' ? `\0absent:${id}` : null),
  load: (id) => (id.startsWith('\0absent:') ? 'export default {};' : null),
};

// The console is served by the platform at `/`; `vite` (dev server) proxies the API to a local platform.
export default defineConfig({
  root,
  base: '/',
  plugins: [nodeBuiltinsAbsent, vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // scripts/ensure-build.mjs reads it to report the initial JavaScript size.
    manifest: true,
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { '/llm-ops': process.env.LLMOPS_URL ?? 'http://127.0.0.1:8000' } },
});
