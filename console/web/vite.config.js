// Builds the console to ../dist, which is committed and embedded in the
// warden binary (package console, go:embed). Everything the page loads
// is an external file under /console/: no inline script or style (the
// console's CSP is script-src 'self'; style-src 'self'), no CDN.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    // No data: URLs and no inline module-preload polyfill.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` against `npm run mock` (or a warden serve on 8790).
    proxy: { '/console/api': 'http://127.0.0.1:8790' },
  },
});
