// Vite builds the dashboard to plain files. `base: './'` keeps every asset URL relative,
// so the same build works at `/` under `reckon serve` and under any bucket prefix.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    target: 'es2022',
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev` proxies the API to a local `reckon serve`, and the server-events day
    // listing (`GET /events?ts_day=`), which lives at the root.
    proxy: { '/api': 'http://127.0.0.1:8080', '/events': 'http://127.0.0.1:8080' },
  },
  test: {
    environment: 'happy-dom',
    include: ['test/**/*.test.ts'],
  },
});
