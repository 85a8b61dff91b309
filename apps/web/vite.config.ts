import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The console is served by the platform at `/`; `vite` (dev server) proxies the API to a local platform.
export default defineConfig({
  root,
  base: '/',
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // scripts/ensure-build.mjs reads it to report the initial JavaScript size.
    manifest: true,
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { '/llm-ops': process.env.LLMOPS_URL ?? 'http://127.0.0.1:8000' } },
});
