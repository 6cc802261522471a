import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { sparkConnectGrpc } from './proto-loader.js';

/** What Spark says about a failure, from the ErrorInfo in the gRPC status details. */
export interface SparkErrorInfo {
  /** Spark's error class, e.g. TABLE_OR_VIEW_NOT_FOUND. */
  errorClass: string | undefined;
  sqlState: string | undefined;
  /** The JVM exception class, e.g. org.apache.spark.sql.AnalysisException. */
  exceptionClass: string | undefined;
  /** The server's handle on the full error, for FetchErrorDetails. */
  errorId: string | undefined;
}

/** A failure of a Spark Connect call, with the endpoint, the gRPC code and Spark's own message. */
export class SparkEngineError extends Error {
  override readonly name = 'SparkEngineError';

  constructor(
    message: string,
    readonly endpoint: string,
    /** The gRPC status code (`status` of @grpc/grpc-js); undefined when the failure was not a call's. */
    readonly grpcCode: status | undefined,
    /** Spark's message as the server sent it (the full one from FetchErrorDetails when it was fetched). */
    readonly sparkMessage: string,
    readonly info: SparkErrorInfo = NO_INFO,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the call failed because the operation was interrupted (or cancelled by the client). */
  get cancelled(): boolean {
    return this.grpcCode === status.CANCELLED || this.info.errorClass === 'OPERATION_CANCELED';
  }
}

const NO_INFO: SparkErrorInfo = {
  errorClass: undefined,
  sqlState: undefined,
  exceptionClass: undefined,
  errorId: undefined,
};

export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    (error as Partial<ServiceError>).metadata instanceof Metadata
  );
}

/** The ErrorInfo Spark puts in `grpc-status-details-bin` (empty info when there is none or it is unreadable). */
export function errorInfoOf(error: ServiceError): SparkErrorInfo {
  const [raw] = error.metadata.get('grpc-status-details-bin');
  if (!Buffer.isBuffer(raw)) return NO_INFO;
  try {
    const proto = sparkConnectGrpc();
    const details = proto.google.rpc.Status.deserialize(raw).details;
    const any = details.find((detail) => detail.type_url.endsWith('/google.rpc.ErrorInfo'));
    if (!any) return NO_INFO;
    const info = proto.google.rpc.ErrorInfo.deserialize(any.value);
    return {
      errorClass: info.metadata.errorClass || undefined,
      sqlState: info.metadata.sqlState || undefined,
      exceptionClass: info.reason || undefined,
      errorId: info.metadata.errorId || undefined,
    };
  } catch {
    // Details in an unexpected shape: the status message still says what happened.
    return NO_INFO;
  }
}

/**
 * The SparkEngineError for a failed call. `fullMessage` is Spark's complete message when the caller fetched it
 * (the status message may be truncated to fit a gRPC header).
 */
export function sparkEngineError(error: unknown, endpoint: string, fullMessage?: string): SparkEngineError {
  if (error instanceof SparkEngineError) return error;
  if (!isServiceError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new SparkEngineError(
      `Spark Connect at ${endpoint}: ${message}`,
      endpoint,
      undefined,
      message,
      NO_INFO,
      {
        cause: error,
      },
    );
  }
  const info = errorInfoOf(error);
  // Parse errors start with a line break before the error class.
  const sparkMessage = (fullMessage ?? error.details ?? error.message).trim();
  const code = status[error.code] ?? String(error.code);
  let message: string;
  if (error.code === status.UNAVAILABLE) {
    message =
      `Spark Connect at ${endpoint} is unreachable: ${sparkMessage} ` +
      '(is the server running and listening there? scripts/services/spark.sh start runs a local one)';
  } else if (info.errorClass === 'INVALID_HANDLE.SESSION_NOT_FOUND') {
    // Seen when a call reattaches after a lost connection to a server that restarted: its sessions are gone.
    message =
      `Spark Connect at ${endpoint} no longer has this session (the server restarted or closed it ` +
      `during the operation): ${sparkMessage}`;
  } else if (error.code === status.DEADLINE_EXCEEDED) {
    message = `Spark Connect at ${endpoint} did not answer in time: ${sparkMessage}`;
  } else if (error.code === status.CANCELLED || info.errorClass === 'OPERATION_CANCELED') {
    message = `Spark operation cancelled at ${endpoint}: ${sparkMessage}`;
  } else {
    // Spark's message leads: it names the error class and the offending SQL (e.g. [TABLE_OR_VIEW_NOT_FOUND] …).
    message = `${sparkMessage} (Spark Connect at ${endpoint}, gRPC ${code})`;
  }
  return new SparkEngineError(message, endpoint, error.code, sparkMessage, info, { cause: error });
}
