/**
 * Runtime errors are never dropped: a shell emits them as `error`; when nobody listens, they are reported through
 * `process.emitWarning` (printed on stderr by default, observable with `process.on("warning")`), never thrown into
 * the event loop where they would crash the process.
 */

/** The part of an event emitter `emitError` needs (eventemitter3 and node:events both fit). */
export interface ErrorEmitter {
  emit(event: "error", error: Error): boolean;
  listenerCount(event: "error"): number;
}

export function emitError(emitter: ErrorEmitter, error: Error): void {
  if (emitter.listenerCount("error") > 0) {
    emitter.emit("error", error);
    return;
  }
  const code = (error as { code?: unknown }).code;
  process.emitWarning(error.message, {
    type: error.name,
    code: typeof code === "string" ? code : undefined,
    detail: "no 'error' listener was attached; add one to handle this",
  });
}
