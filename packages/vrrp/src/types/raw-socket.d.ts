// Minimal typings for the parts of raw-socket (CommonJS, no bundled types) that the raw transport uses.
declare module "raw-socket" {
  import type { EventEmitter } from "node:events";
  export interface RawSocket extends EventEmitter {
    send(
      buffer: Buffer,
      offset: number,
      length: number,
      address: string,
      callback: (error: Error | null, bytes: number) => void,
    ): RawSocket;
    setOption(level: number, option: number, value: number): void;
    setOption(level: number, option: number, value: Buffer, length: number): void;
    /** getsockopt into `value`; returns the length the kernel wrote */
    getOption(level: number, option: number, value: Buffer, length: number): number;
    close(): RawSocket;
    /**
     * Not in raw-socket's README: the native SocketWrap behind the socket. Its `send` is a synchronous sendto on
     * the (non-blocking) descriptor that throws on failure; `RawSocket.send` queues a request and calls it once
     * the poll handle reports the socket writable. Present in 1.x; the raw transport checks before using it.
     */
    wrap?: {
      send(
        buffer: Buffer,
        offset: number,
        length: number,
        address: string,
        callback: (bytes: number) => void,
      ): unknown;
    };
    on(event: "message", fn: (buffer: Buffer, source: string) => void): this;
    on(event: "error", fn: (error: Error) => void): this;
    on(event: "close", fn: () => void): this;
  }
  export const AddressFamily: { IPv4: number; IPv6: number };
  export function createSocket(options: {
    protocol?: number;
    addressFamily?: number;
    bufferSize?: number;
  }): RawSocket;
}
