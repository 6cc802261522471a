import { randomUUID } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { decodeArrowBatches, type Int64As, type SqlResult } from './arrow.js';
import { errorInfoOf, isServiceError, sparkEngineError } from './errors.js';
import { executePlan } from './execute.js';
import type { ExecutePlanResponse__Output } from './generated/spark/connect/ExecutePlanResponse.js';
import type { Plan } from './generated/spark/connect/Plan.js';
import type { SparkConnectServiceClient } from './generated/spark/connect/SparkConnectService.js';
import { sparkConnectGrpc } from './proto-loader.js';
import { parseSparkRemote, type SparkRemote } from './remote.js';
import { sessionFields, type SessionContext } from './session.js';

export type { Int64As, SqlColumn, SqlResult, SqlValue } from './arrow.js';
export { SparkEngineError } from './errors.js';

export interface SparkConnectOptions {
  /** The connection string, e.g. sc://127.0.0.1:15002 or sc://host:443/;use_ssl=true;token=… */
  remote: string;
  /** Overrides the connection string's user_id (default: the OS user name is not sent; "medallion"). */
  userId?: string;
  /** Joins an existing session (a UUID) instead of starting one; default: the string's session_id, else new. */
  sessionId?: string;
  /** Session settings applied at connect, e.g. { 'spark.sql.session.timeZone': 'UTC' }. */
  config?: Record<string, string>;
  /** A tag put on every operation of this client, for `interrupt({ tag })` from elsewhere. */
  tag?: string;
  /** BIGINTs as numbers when exact, else text (default), or always as text ('string', as the engine port wants). */
  int64As?: Int64As;
  /** How long connect waits for the server to answer its first call (ms; default 30 s). */
  connectTimeoutMs?: number;
}

export interface ExecutionOptions {
  /** Extra tags for this operation (Interrupt by tag). */
  tags?: string[];
}

/**
 * A stage the server reported while a statement ran. Spark Connect's protocol reports stages only: no message
 * names the jobs an operation ran (their ids are in the driver's UI and its REST API, tagged with the operation).
 */
export interface StageProgress {
  stageId: number;
  numTasks: number;
  numCompletedTasks: number;
  inputBytesRead: number;
  done: boolean;
}

export interface QueryResult extends SqlResult {
  /** The operation's id on the server (Interrupt and the Spark UI's SQL tab know it). */
  operationId: string;
  /** Stages seen in the server's progress reports (sent every few seconds for longer operations only). */
  stages: StageProgress[];
}

export interface ApplicationInfo {
  sparkVersion: string;
  appId: string;
  appName: string;
  master: string;
  /** The driver's web UI, when it runs one. */
  uiUrl: string | undefined;
}

/** The largest message accepted from the server: Arrow batches of wide rows can pass gRPC's 4 MB default. */
const MAX_RECEIVE_BYTES = 128 * 1024 * 1024;
const CLIENT_TYPE = 'medallion/node';

/**
 * A client of one Spark Connect session: SQL commands and queries (results decoded from Arrow), session
 * settings, interrupts. One client per session; calls may overlap.
 */
export class SparkConnectClient {
  private planIds = 0;
  /** Every stage the session's operations reported, in the order first seen. */
  private readonly stagesSeen = new Set<number>();

  private constructor(
    private readonly stub: SparkConnectServiceClient,
    private readonly session: SessionContext,
    private readonly tags: string[],
    private readonly int64As: Int64As,
  ) {}

  /** The endpoint without secrets, e.g. sc://127.0.0.1:15002. */
  get endpoint(): string {
    return this.session.endpoint;
  }

  get sessionId(): string {
    return this.session.sessionId;
  }

  /** Opens a session and applies `config`; fails with a SparkEngineError naming the endpoint if it is down. */
  static async connect(options: SparkConnectOptions): Promise<SparkConnectClient> {
    const remote = parseSparkRemote(options.remote);
    const grpc = sparkConnectGrpc();
    const stub = new grpc.spark.connect.SparkConnectService(
      `${remote.host}:${remote.port}`,
      remote.useSsl ? credentials.createSsl() : credentials.createInsecure(),
      {
        'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
        'grpc.max_send_message_length': MAX_RECEIVE_BYTES,
        // Long queries send nothing for minutes: keepalive pings keep NATs and proxies from dropping the stream.
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_permit_without_calls': 0,
        ...(remote.userAgent ? { 'grpc.primary_user_agent': remote.userAgent } : {}),
      },
    );
    const session = sessionContext(stub, remote, {
      sessionId: options.sessionId ?? remote.sessionId ?? randomUUID(),
      userId: options.userId ?? remote.userId ?? 'medallion',
    });
    const client = new SparkConnectClient(
      stub,
      session,
      options.tag ? [options.tag] : [],
      options.int64As ?? 'number',
    );
    try {
      // A Config call creates the session on the server and proves it answers. A refused connection fails it
      // at once (gRPC's wait-for-ready is off); a server that accepts but does not answer meets the deadline.
      await client.setConfig(options.config ?? {}, Date.now() + (options.connectTimeoutMs ?? 30_000));
    } catch (error) {
      stub.close();
      throw error;
    }
    return client;
  }

  /** Sets session settings (spark.sql.*; static and cluster settings are refused by Spark). */
  async setConfig(config: Record<string, string>, deadline?: number): Promise<void> {
    const pairs = Object.entries(config).map(([key, value]) => ({ key, value }));
    await this.unary<unknown>((metadata, done) =>
      this.stub.Config(
        { ...sessionFields(this.session), operation: { set: { pairs } } },
        metadata,
        deadline === undefined ? {} : { deadline },
        done,
      ),
    );
  }

  /** The session's values of `keys` (undefined for a setting that has none). */
  async getConfig(keys: string[]): Promise<Record<string, string | undefined>> {
    const response = await this.unary<{ pairs: { key: string; value?: string }[] }>((metadata, done) =>
      this.stub.Config(
        { ...sessionFields(this.session), operation: { get_option: { keys } } },
        metadata,
        done,
      ),
    );
    return Object.fromEntries(keys.map((key) => [key, response.pairs.find((p) => p.key === key)?.value]));
  }

  /**
   * Runs a SQL command: DDL, SET, CREATE TEMP VIEW, INSERT, INSERT OVERWRITE DIRECTORY… — Spark runs commands
   * eagerly. A query (SELECT) given here is only analyzed, not run: use `query` for it.
   */
  async sql(statement: string, options: ExecutionOptions = {}): Promise<void> {
    const plan: Plan = {
      command: {
        sql_command: { input: { common: { plan_id: this.nextPlanId() }, sql: { query: statement } } },
      },
    };
    await this.run(plan, options);
  }

  /**
   * Makes files readable as the temporary view `name` (replacing one so named): `format` files at `paths`, read
   * with `schema` (Spark DDL, e.g. "a BIGINT, b STRING"), so a file lacking a column reads it as NULL.
   */
  async createFileView(
    name: string,
    source: { format: string; schema: string; paths: readonly string[]; options?: Record<string, string> },
  ): Promise<void> {
    const read = {
      common: { plan_id: this.nextPlanId() },
      read: {
        data_source: {
          format: source.format,
          schema: source.schema,
          paths: [...source.paths],
          options: source.options ?? {},
        },
      },
    };
    await this.run(
      { command: { create_dataframe_view: { input: read, name, is_global: false, replace: true } } },
      {},
    );
  }

  /** Writes a query's rows as `format` files under `path` (replacing what is there), partitioned as asked. */
  async writeFiles(
    query: string,
    target: {
      format: string;
      path: string;
      partitionBy?: readonly string[];
      options?: Record<string, string>;
    },
  ): Promise<void> {
    await this.run(
      {
        command: {
          write_operation: {
            input: { common: { plan_id: this.nextPlanId() }, sql: { query } },
            source: target.format,
            path: target.path,
            mode: 'SAVE_MODE_OVERWRITE',
            partitioning_columns: [...(target.partitionBy ?? [])],
            options: target.options ?? {},
          },
        },
      },
      {},
    );
  }

  /** Runs a query and returns all its rows, decoded from Arrow into JSON-safe values. */
  async query(statement: string, options: ExecutionOptions = {}): Promise<QueryResult> {
    // A SQL relation as the plan's root: one round trip (pyspark sends a SqlCommand first, then executes the
    // relation it returns).
    const plan: Plan = { root: { common: { plan_id: this.nextPlanId() }, sql: { query: statement } } };
    return this.run(plan, options);
  }

  /**
   * Runs a query and yields its rows batch by batch as Arrow batches arrive (a few MB each), for results too big
   * to hold at once. Stopping the iteration early releases the operation, which stops it on the server.
   */
  async *queryBatches(statement: string, options: ExecutionOptions = {}): AsyncGenerator<SqlResult> {
    const plan: Plan = { root: { common: { plan_id: this.nextPlanId() }, sql: { query: statement } } };
    const responses = executePlan(this.session, plan, { tags: [...this.tags, ...(options.tags ?? [])] });
    for await (const response of responses) {
      if (response.response_type === 'arrow_batch' && response.arrow_batch) {
        yield decodeArrowBatches([response.arrow_batch.data], this.int64As);
      }
      this.noteStages(response);
    }
  }

  /**
   * Interrupts running operations of this session: all of them by default, or those with a tag, or one by id.
   * Each fails with a SparkEngineError whose `cancelled` is true. Returns the ids of the interrupted operations.
   */
  async interrupt(target: { tag?: string; operationId?: string } = {}): Promise<string[]> {
    const request =
      target.operationId !== undefined
        ? { interrupt_type: 'INTERRUPT_TYPE_OPERATION_ID' as const, operation_id: target.operationId }
        : target.tag !== undefined
          ? { interrupt_type: 'INTERRUPT_TYPE_TAG' as const, operation_tag: target.tag }
          : { interrupt_type: 'INTERRUPT_TYPE_ALL' as const };
    const response = await this.unary<{ interrupted_ids: string[] }>((metadata, done) =>
      this.stub.Interrupt({ ...sessionFields(this.session), ...request }, metadata, done),
    );
    return response.interrupted_ids;
  }

  /** The Spark version, application id and name, master and driver UI of the server's SparkContext. */
  async applicationInfo(): Promise<ApplicationInfo> {
    const keys = ['spark.app.id', 'spark.app.name', 'spark.master', 'spark.ui.enabled', 'spark.driver.host'];
    const [versionResult, config] = await Promise.all([
      this.query('SELECT version() AS version'),
      this.getConfig([...keys, 'spark.ui.port']),
    ]);
    // version() answers "4.2.0 <git hash>".
    const sparkVersion = String(versionResult.rows[0]?.version ?? '').split(' ')[0] ?? '';
    const uiEnabled = config['spark.ui.enabled'] !== 'false';
    return {
      sparkVersion,
      appId: config['spark.app.id'] ?? '',
      appName: config['spark.app.name'] ?? '',
      master: config['spark.master'] ?? '',
      uiUrl:
        uiEnabled && config['spark.ui.port']
          ? `http://${config['spark.driver.host'] ?? '127.0.0.1'}:${config['spark.ui.port']}`
          : undefined,
    };
  }

  /** The ids of the stages this session's operations ran (failed ones included), in the order first reported. */
  stageIds(): number[] {
    return [...this.stagesSeen];
  }

  /** Ends the session on the server (its temp views go) and closes the channel. */
  async close(): Promise<void> {
    try {
      await this.unary<unknown>((metadata, done) =>
        this.stub.ReleaseSession(
          sessionFields(this.session),
          metadata,
          { deadline: Date.now() + 10_000 },
          done,
        ),
      );
    } catch {
      // The server may be gone already: nothing left to release.
    } finally {
      this.stub.close();
    }
  }

  private async run(plan: Plan, options: ExecutionOptions): Promise<QueryResult> {
    const operationId = randomUUID();
    const batches: Uint8Array[] = [];
    const stages = new Map<number, StageProgress>();
    const responses = executePlan(this.session, plan, {
      operationId,
      tags: [...this.tags, ...(options.tags ?? [])],
    });
    for await (const response of responses) {
      if (response.response_type === 'arrow_batch' && response.arrow_batch) {
        batches.push(response.arrow_batch.data);
      }
      this.noteStages(response, stages);
    }
    return { ...decodeArrowBatches(batches, this.int64As), operationId, stages: [...stages.values()] };
  }

  /** Keeps the progress a response reports: in the operation's `stages`, and the stage ids in the session's. */
  private noteStages(response: ExecutePlanResponse__Output, stages?: Map<number, StageProgress>): void {
    if (response.response_type !== 'execution_progress' || !response.execution_progress) return;
    for (const stage of response.execution_progress.stages) {
      const stageId = Number(stage.stage_id);
      this.stagesSeen.add(stageId);
      stages?.set(stageId, {
        stageId,
        numTasks: Number(stage.num_tasks),
        numCompletedTasks: Number(stage.num_completed_tasks),
        inputBytesRead: Number(stage.input_bytes_read),
        done: stage.done,
      });
    }
  }

  private nextPlanId(): string {
    this.planIds += 1;
    return String(this.planIds);
  }

  private async unary<T>(
    call: (metadata: Metadata, done: (error: ServiceError | null, response?: T) => void) => void,
  ): Promise<T> {
    try {
      return await new Promise<T>((resolve, reject) =>
        call(this.session.metadata(), (error, response) =>
          error || response === undefined ? reject(error ?? new Error('empty response')) : resolve(response),
        ),
      );
    } catch (error) {
      throw await this.session.failure(error);
    }
  }
}

function sessionContext(
  stub: SparkConnectServiceClient,
  remote: SparkRemote,
  ids: { sessionId: string; userId: string },
): SessionContext {
  const session: SessionContext = {
    stub,
    endpoint: remote.display,
    sessionId: ids.sessionId,
    userContext: { user_id: ids.userId, user_name: ids.userId },
    clientType: CLIENT_TYPE,
    metadata() {
      const metadata = new Metadata();
      if (remote.token !== undefined) metadata.set('authorization', `Bearer ${remote.token}`);
      return metadata;
    },
    async failure(error) {
      return sparkEngineError(error, remote.display, await fullMessage(session, error));
    },
  };
  return session;
}

/**
 * Spark's complete message for a failed call: the status message is cut to fit a header, FetchErrorDetails has
 * all of it. Undefined when there is nothing more to fetch or the server cannot say.
 */
async function fullMessage(session: SessionContext, error: unknown): Promise<string | undefined> {
  if (!isServiceError(error)) return undefined;
  const errorId = errorInfoOf(error).errorId;
  if (errorId === undefined) return undefined;
  return new Promise((resolve) => {
    session.stub.FetchErrorDetails(
      { ...sessionFields(session), error_id: errorId },
      session.metadata(),
      { deadline: Date.now() + 10_000 },
      (fetchError, response) => {
        const root = response?.root_error_idx;
        const details = root === undefined || root === null ? undefined : response?.errors[root];
        resolve(fetchError ? undefined : details?.message || undefined);
      },
    );
  });
}
