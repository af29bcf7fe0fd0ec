// A hostile VRRP sender for the network-namespace suites: crafts adverts with the built codec and sends them
// from a raw socket on eth0, with a chosen TTL / hop limit, source (IPv4) and rate, bounded in count and time.
// Usage: node spoof.mjs '<json>'; prints one JSON line {"event":"done","sent":N} at the end.
//   { family: 4|6, version: 2|3, vrid, priority, addresses: [...], advertInterval (ms), ttl (TTL / hop limit),
//     src (IPv4 only; default eth0's address), count, rate (adverts/s), maxMs }

import { createRequire } from "node:module";
import { networkInterfaces } from "node:os";
import { encodeAdvert, encodeIpv4Packet } from "../../packages/vrrp/dist/index.js";

// raw-socket is @lbkit/vrrp's dependency: resolve it from there
const raw = createRequire(new URL("../../packages/vrrp/package.json", import.meta.url))("raw-socket");
const o = JSON.parse(process.argv[2] ?? "{}");
const family = o.family ?? 4;
const eth0 = networkInterfaces().eth0 ?? [];
const ifindex = eth0.find((a) => a.family === "IPv6" && a.scopeid)?.scopeid ?? 0;
const src =
  family === 4
    ? (o.src ?? eth0.find((a) => a.family === "IPv4").address)
    : eth0.find((a) => a.family === "IPv6" && a.address.startsWith("fe80:")).address;
const dst = o.dst ?? (family === 4 ? "224.0.0.18" : "ff02::12");
const ttl = o.ttl ?? 255;
const socket = raw.createSocket({
  protocol: 112,
  addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
});
socket.setOption(1, 25, Buffer.from("eth0\0"), 5); // SO_BINDTODEVICE
if (family === 4) {
  socket.setOption(0, 3, 1); // IP_HDRINCL
} else {
  socket.setOption(41, 7, 6); // IPV6_CHECKSUM at offset 6: the kernel fills the checksum
  socket.setOption(41, 17, ifindex); // IPV6_MULTICAST_IF
  socket.setOption(41, 18, ttl); // IPV6_MULTICAST_HOPS
  socket.setOption(41, 16, ttl); // IPV6_UNICAST_HOPS
  socket.setOption(41, 19, 0); // IPV6_MULTICAST_LOOP
}
socket.on("error", () => {});
const message = encodeAdvert(
  {
    version: o.version ?? 3,
    vrid: o.vrid,
    priority: o.priority,
    advertInterval: o.advertInterval ?? 100,
    addresses: o.addresses,
    ...((o.version ?? 3) === 2 ? { authType: 0 } : {}),
  },
  { src, dst },
);
let id = 0;
const frame = () =>
  Buffer.from(family === 4 ? encodeIpv4Packet(message, { src, dst, ttl, id: id++ & 0xffff }) : message);
const count = o.count ?? 1;
const rate = o.rate ?? 1000;
const maxMs = o.maxMs ?? 10_000;
const t0 = performance.now();
let sent = 0;
let failed = 0;
const tick = () => {
  const elapsed = performance.now() - t0;
  const due = Math.min(count, Math.ceil((elapsed / 1000) * rate) + 1);
  while (sent + failed < due) {
    const b = frame();
    try {
      socket.wrap.send(b, 0, b.length, dst, () => {});
      sent++;
    } catch {
      failed++;
    }
  }
  if (sent + failed >= count || elapsed > maxMs) {
    process.stdout.write(
      `${JSON.stringify({ t: Date.now(), event: "done", sent, failed, ms: Math.round(elapsed) })}\n`,
    );
    socket.close();
    return;
  }
  setTimeout(tick, 1);
};
process.stdout.write(`${JSON.stringify({ t: Date.now(), event: "spoofing", src, dst, ttl })}\n`);
tick();
