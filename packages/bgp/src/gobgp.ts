/**
 * The GoBGP daemon as lbkit uses it: a thin gRPC client (unary calls with a deadline, the WatchEvent stream).
 * Only wiring; what to send is decided in route.ts and speaker.ts.
 */
import * as grpc from "@grpc/grpc-js";
import { gobgpApi } from "./proto.js";

type Unary = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: Error | null, r: unknown) => void,
) => void;
type Stream = (
  req: unknown,
  meta?: grpc.Metadata,
  opts?: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

export class GobgpClient {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    private readonly deadlineMs = 5000,
  ) {
    const { service } = gobgpApi();
    this.client = new service(address, grpc.credentials.createInsecure());
  }

  call<T = Record<string, unknown>>(method: string, req: Record<string, unknown>): Promise<T> {
    const fn = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
    return new Promise((resolve, reject) => {
      fn(req, new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs }, (e, r) =>
        e ? reject(e) : resolve(r as T),
      );
    });
  }

  /** A server-streaming call collected into an array (ListPeer, ListPath). */
  list<T = Record<string, unknown>>(method: string, req: Record<string, unknown>): Promise<T[]> {
    const out: T[] = [];
    const s = this.stream(method, req, { deadline: Date.now() + this.deadlineMs });
    return new Promise((resolve, reject) => {
      s.on("data", (d) => out.push(d as T));
      s.on("error", reject);
      s.on("end", () => resolve(out));
    });
  }

  stream(
    method: string,
    req: Record<string, unknown>,
    opts?: grpc.CallOptions,
  ): grpc.ClientReadableStream<unknown> {
    const fn = (this.client as unknown as Record<string, Stream>)[method]!.bind(this.client);
    return fn(req, new grpc.Metadata(), opts);
  }

  close(): void {
    this.client.close();
  }
}

export const isCancelled = (e: unknown) => (e as { code?: number })?.code === grpc.status.CANCELLED;
