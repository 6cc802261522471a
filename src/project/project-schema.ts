/** The project file's schema (see project-file.ts): every key, with what it accepts. */
import { z } from 'zod';
import { queueNameSchema } from '../core/queues.js';
import { retentionSchema } from '../core/retention.js';

const location = z.string().trim().min(1, 'a directory (relative to this file) or an s3:// URL');
const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'use lower_snake_case: letters, digits and _');
const memorySize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'a size such as 512MB or 2GB');
const positiveInteger = z.number().int().positive();
const engineKind = z.enum(['duckdb', 'spark']);
/** A Spark Connect server: where a run's tables on Spark are computed. */
const sparkServer = z
  .object({
    remote: z
      .string()
      .trim()
      .regex(/^sc:\/\/[^/\s]+/, 'a Spark Connect address such as sc://spark-host:15002')
      // Runs record the address: a secret in it would be stored and shown with every run.
      .refine(
        (remote) => !/;token=/i.test(remote),
        'no token in the address: set MEDALLION_SPARK_TOKEN instead',
      ),
    /** The Spark UI's address, for links from the run page. */
    uiUrl: z.string().url().optional(),
  })
  .strict();
/** Which engine runs a pipeline's silver and gold tables: `spark` given alone means Spark. */
const engineChoice = { default: engineKind.optional(), spark: sparkServer.optional() };

const pipelineEntry = z
  .object({
    /** A pipeline module (relative to this file); absent: the shipped pipeline of that name. */
    module: z.string().min(1).optional(),
    source: location.optional(),
    lake: location.optional(),
    engine: z.object(engineChoice).strict().optional(),
    /** What the retention task of this pipeline's runs deletes, key by key over the file's `retention`. */
    retention: retentionSchema.optional(),
  })
  .strict();

export const projectSchema = z
  .object({
    $schema: z.string().optional(),
    /** sqlite:PATH (relative to this file) or postgres://… */
    database: z.string().trim().min(1).optional(),
    /** Defaults for every pipeline that does not set its own. */
    source: location.optional(),
    lake: location.optional(),
    pipelines: z.record(identifier, pipelineEntry).optional(),
    engine: z
      .object({
        memoryLimit: memorySize.optional(),
        threads: positiveInteger.optional(),
        scratchDir: z.string().min(1).optional(),
        ...engineChoice,
      })
      .strict()
      .optional(),
    /** How long each part of the lake keeps what its current state no longer needs (see core/retention.ts). */
    retention: retentionSchema.optional(),
    /** An alert configuration file (relative to this file), or the configuration itself. */
    alerts: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    scheduler: z
      .object({
        slots: positiveInteger.optional(),
        pollMs: positiveInteger.optional(),
        heartbeatMs: positiveInteger.optional(),
        staleAfterMs: positiveInteger.optional(),
        /** How long a stopping process lets its running tries finish before handing them back. */
        drainGraceMs: z.number().int().min(0).optional(),
        /** The queues this project's workers (and schedulers) claim from by default. */
        queues: z.array(queueNameSchema).min(1).optional(),
        /** Every process runs on one machine: SQLite metadata and local lakes are fine for workers. */
        singleHost: z.boolean().optional(),
      })
      .strict()
      .optional(),
    serve: z
      .object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
