import type { Metadata } from '@grpc/grpc-js';
import type { SparkEngineError } from './errors.js';
import type { SparkConnectServiceClient } from './generated/spark/connect/SparkConnectService.js';
import type { UserContext } from './generated/spark/connect/UserContext.js';

/** What every call of one Spark Connect session sends, and how its failures are reported. */
export interface SessionContext {
  readonly stub: SparkConnectServiceClient;
  /** The endpoint without secrets (sc://host:port), for messages. */
  readonly endpoint: string;
  readonly sessionId: string;
  readonly userContext: UserContext;
  readonly clientType: string;
  /** Per-call headers (the bearer token, when the connection string has one). */
  metadata(): Metadata;
  /** A failed call as a SparkEngineError, with Spark's full message when the server still has it. */
  failure(error: unknown): Promise<SparkEngineError>;
}

/** The fields every request of the session starts with. */
export function sessionFields(session: SessionContext): {
  session_id: string;
  user_context: UserContext;
  client_type: string;
} {
  return {
    session_id: session.sessionId,
    user_context: session.userContext,
    client_type: session.clientType,
  };
}
