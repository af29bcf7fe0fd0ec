/**
 * GoBGP's gRPC API, typed from its own .proto files (copied under proto/ with their MIT license headers from
 * Debian's golang-github-osrg-gobgp-dev 3.10) and loaded at run time: no generated code, no build step.
 */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import type { AnyMessage } from "./route.js";

/** proto/ next to dist/ (published) or next to src/ (in the repo). */
function protoDir(): string {
  const here = typeof __dirname === "string" ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, "..", "proto"), join(here, "..", "..", "proto")])
    if (existsSync(join(d, "gobgp.proto"))) return d;
  throw new Error(`bgp: GoBGP .proto files not found next to ${here}`);
}

const OPTIONS: protoLoader.Options = { longs: Number, enums: String, defaults: true, oneofs: true };

interface Loaded {
  service: grpc.ServiceClientConstructor;
  pack: (type: string, value: Record<string, unknown>) => AnyMessage;
  unpack: (any: AnyMessage) => Record<string, unknown> & { "@type": string };
}
let loaded: Loaded | undefined;

export function gobgpApi(): Loaded {
  if (loaded) return loaded;
  const dir = protoDir();
  const files = ["gobgp.proto", "attribute.proto", "capability.proto"];
  const def = protoLoader.loadSync(files, { ...OPTIONS, includeDirs: [dir] });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    apipb: { GobgpApi: grpc.ServiceClientConstructor };
  };
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith("google/") || isAbsolute(target) ? target : join(dir, target);
  root.loadSync(files.map((f) => join(dir, f)));
  const pack = (type: string, value: Record<string, unknown>): AnyMessage => {
    const t = root.lookupType(type);
    return { type_url: `type.googleapis.com/${type}`, value: t.encode(t.fromObject(value)).finish() };
  };
  const unpack = (any: AnyMessage) => {
    const type = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
    const t = root.lookupType(type);
    return {
      "@type": type,
      ...t.toObject(t.decode(any.value), { longs: Number, enums: String, defaults: true }),
    };
  };
  loaded = { service: pkg.apipb.GobgpApi, pack, unpack };
  return loaded;
}
