import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ProtoGrpcType as SparkConnectProto } from './generated/base.js';
import type { ProtoGrpcType as ErrorDetailsProto } from './generated/error_details.js';
import type { ProtoGrpcType as StatusProto } from './generated/status.js';

export type SparkConnectGrpc = SparkConnectProto & StatusProto & ErrorDetailsProto;

const ENTRY_FILES = ['spark/connect/base.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'];

/**
 * The directory holding the .proto files: beside this module when it runs from src/ (vitest, tsx), under the
 * package root's src/engine/spark/proto when it runs from dist/ (tsc emits no .proto files; package.json
 * "files" ships that directory).
 */
export function protoDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'proto'), path.resolve(here, '../../../src/engine/spark/proto')];
  const found = candidates.find((dir) => existsSync(path.join(dir, ENTRY_FILES[0] ?? '')));
  if (!found) {
    throw new Error(
      `Spark Connect protocol files not found (looked in ${candidates.join(', ')}); run \`npm run spark:proto\``,
    );
  }
  return found;
}

let loaded: SparkConnectGrpc | undefined;

/** The Spark Connect service and the google.rpc messages its errors carry, loaded once per process. */
export function sparkConnectGrpc(): SparkConnectGrpc {
  if (!loaded) {
    // Must match the flags scripts/spark-proto.mjs gives proto-loader-gen-types, so that the generated types
    // describe what is decoded: snake_case fields, int64 as decimal strings, enums by name, defaults filled in,
    // and a virtual field naming the member set in each oneof.
    const definition = loadSync(ENTRY_FILES, {
      includeDirs: [protoDirectory()],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    loaded = loadPackageDefinition(definition) as unknown as SparkConnectGrpc;
  }
  return loaded;
}
