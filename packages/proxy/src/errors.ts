/** The proxy's error family (on @lbkit/core's LbkitError): `proxy: <what> <value> <why/fix>`, with a stable `code`. */
import { configMessage, LbkitError, type LbkitErrorOptions } from "@lbkit/core";

export class ProxyError extends LbkitError {
  override name = "ProxyError";
  constructor(message: string, code: string, options?: LbkitErrorOptions) {
    super("proxy", code, message.startsWith("proxy: ") ? message : `proxy: ${message}`, options);
  }
}

/** Bad configuration, at construction or on a runtime change: names the option, the value and the fix. */
export class ProxyConfigError extends ProxyError {
  override name = "ProxyConfigError";
  readonly option: string;
  readonly value: unknown;
  readonly fix: string;
  constructor(option: string, value: unknown, fix: string) {
    super(configMessage("proxy", option, value, fix), "ERR_CONFIG");
    this.option = option;
    this.value = value;
    this.fix = fix;
  }
}
