/**
 * Vite for the web app. `npm run build:web` writes web/dist; `npm run dev:web` serves with hot
 * reload and forwards /config.json and /_local/* to the app server of a running `npm start`
 * (APP_URL, default http://127.0.0.1:3003), so dev mode talks to the running stack.
 */
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const appServer = process.env.APP_URL ?? 'http://127.0.0.1:3003';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    fs: { allow: ['..'] },
    proxy: { '/config.json': appServer, '/_local': appServer },
  },
});
