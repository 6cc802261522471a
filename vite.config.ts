import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The web UI: src/ui, built into dist/ui beside the compiled server, which serves it. */
export default defineConfig({
  root: 'src/ui',
  plugins: [react()],
  build: {
    outDir: '../../dist/ui',
    emptyOutDir: true,
    // Pages that draw charts or graphs are loaded when opened (React.lazy): their libraries are chunks of their own.
    chunkSizeWarningLimit: 1200,
  },
});
