/**
 * The e-mail channel: a plain-text message per alert over SMTP (nodemailer), its subject naming the pipeline
 * and the cause. The password comes from the environment variable the configuration names, never from a file.
 */
import nodemailer from 'nodemailer';
import type { EmailChannelConfig } from '../core/alert-rules.js';
import { ConfigError } from '../core/errors.js';
import {
  AlertDeliveryError,
  renderSubject,
  renderText,
  type AlertChannel,
  type AlertMessage,
} from './channel.js';

type Transporter = ReturnType<typeof nodemailer.createTransport>;

export class EmailChannel implements AlertChannel {
  private readonly transport: Transporter;
  private readonly config: EmailChannelConfig;

  /** Throws a ConfigError when the password's environment variable is not set. */
  constructor(
    readonly name: string,
    config: EmailChannelConfig,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.config = config;
    let pass: string | undefined;
    if (config.passwordEnv !== undefined) {
      pass = env[config.passwordEnv];
      if (!pass) {
        throw new ConfigError(
          `alert channel ${name}: the environment variable ${config.passwordEnv} (the SMTP password) is not set`,
          {
            context: { field: `channels.${name}.email.passwordEnv` },
            hint: `export ${config.passwordEnv}=…`,
          },
        );
      }
    }
    const timeoutMs = config.timeoutMs ?? 10_000;
    this.transport = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure ?? false,
      ...(config.user !== undefined && { auth: { user: config.user, ...(pass !== undefined && { pass }) } }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  async send(message: AlertMessage): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: this.config.to,
        subject: renderSubject(message),
        text: renderText(message),
        headers: { 'X-Medallion-Cause': message.cause },
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AlertDeliveryError(
        `e-mail ${this.name} (smtp://${this.config.host}:${this.config.port}): ${reason}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
