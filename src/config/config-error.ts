/** A setting that stops the server at start; the message names the variable first. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** A setting that does not stop the server but that the operator should hear about once. */
export interface ConfigWarning {
  variable: string;
  message: string;
}
