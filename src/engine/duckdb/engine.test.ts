import { describeEngineConformance } from '../engine.conformance.js';
import { DuckDbEngine } from './engine.js';

describeEngineConformance('DuckDB', {
  open: (scratchDir) => DuckDbEngine.create({ scratchDir, memoryLimit: '512MB', threads: 2 }),
  close: async (engine) => engine.close(),
});
