/**
 * Reading an alert configuration file: JSON (`alerts.json`), or an ES module (`alerts.mjs`, `.js`) whose default
 * export is the configuration — for those who want comments or computed values. Secrets stay in the
 * environment: the file names the variables (`passwordEnv`, `urlEnv`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAlertConfig, type AlertConfig } from '../core/alert-rules.js';
import { ConfigError, describeError } from '../core/errors.js';
import type { AlertChannel } from './channel.js';
import { EmailChannel } from './email.js';
import { WebhookChannel } from './webhook.js';

const FIELD = '--alerts';

export async function loadAlertConfig(file: string): Promise<AlertConfig> {
  const absolute = path.resolve(file);
  const extension = path.extname(absolute).toLowerCase();
  let value: unknown;
  if (extension === '.json') {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read the alert configuration: ${describeError(error)}`, {
        context: { file, field: FIELD },
      });
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`the alert configuration is not valid JSON: ${describeError(error)}`, {
        context: { file, field: FIELD },
      });
    }
  } else if (extension === '.mjs' || extension === '.js') {
    try {
      const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
      value = module.default;
    } catch (error) {
      throw new ConfigError(`cannot load the alert configuration module: ${describeError(error)}`, {
        context: { file, field: FIELD },
        cause: error,
      });
    }
    if (value === undefined) {
      throw new ConfigError('the alert configuration module has no default export', {
        context: { file, field: FIELD },
        hint: 'export default { channels: {…}, rules: […] }',
      });
    }
  } else {
    throw new ConfigError(`an alert configuration is a .json file or an .mjs module, not "${extension}"`, {
      context: { file, field: FIELD },
    });
  }
  return parseAlertConfig(value, file);
}

/**
 * One channel per configured name. Throws a ConfigError when a secret's environment variable is missing, so that
 * a scheduler does not start with alerts that could never go out.
 */
export function createChannels(
  config: AlertConfig,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, AlertChannel> {
  const channels = new Map<string, AlertChannel>();
  for (const [name, channel] of Object.entries(config.channels)) {
    if (channel.webhook) {
      const { urlEnv, timeoutMs, retries } = channel.webhook;
      const url = channel.webhook.url ?? (urlEnv !== undefined ? env[urlEnv] : undefined);
      if (!url) {
        throw new ConfigError(
          `alert channel ${name}: the environment variable ${urlEnv} (the webhook URL) is not set`,
          { context: { field: `channels.${name}.webhook.urlEnv` } },
        );
      }
      if (!/^https?:\/\//i.test(url)) {
        throw new ConfigError(`alert channel ${name}: ${urlEnv} does not hold an http(s) URL`, {
          context: { field: `channels.${name}.webhook.urlEnv` },
        });
      }
      channels.set(
        name,
        new WebhookChannel(name, {
          url,
          ...(timeoutMs !== undefined && { timeoutMs }),
          ...(retries !== undefined && { retries }),
        }),
      );
    } else if (channel.email) {
      channels.set(name, new EmailChannel(name, channel.email, env));
    }
  }
  return channels;
}
