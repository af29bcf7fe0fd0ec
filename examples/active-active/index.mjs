// The guides' master/master mode: two VIPs, each node master of one (VRID 51: lb1 104 / lb2 100; VRID 52: lb1
// 100 / lb2 104), so both nodes serve. lb1 fails: lb2 takes both; lb1 returns: it takes VIP A back, lb2 keeps B.
// Runs on the (non-standard) UDP loopback transport with in-memory VIPs: no root; about 3 s, VRRP v3 at 100 ms.
//   node examples/active-active/index.mjs [--help]
import { MemoryVipMover, UdpTransport, VrrpInstance } from "@lbkit/vrrp";
import { cli } from "../cli.mjs";

cli(`
usage: node examples/active-active/index.mjs

Two VRRP instances per node, each node master of one VIP; prints who holds each VIP as lb1 fails
and returns. UDP loopback transport, no root, about 3 s.
  -h, --help   this text`);
const VIPS = { 51: "198.18.0.201/24", 52: "198.18.0.202/24" };
// one transport per instance (its own loopback address), as each VRID is its own conversation here
const ADDR = { lb1: { 51: "127.0.0.11", 52: "127.0.0.13" }, lb2: { 51: "127.0.0.12", 52: "127.0.0.14" } };
const PRIORITY = { lb1: { 51: 104, 52: 100 }, lb2: { 51: 100, 52: 104 } };
const t0 = Date.now();
const log = (s) => console.log(`+${((Date.now() - t0) / 1000).toFixed(2)}s  ${s}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function node(name) {
  const instances = [51, 52].map((vrid) => {
    const transport = new UdpTransport({
      address: ADDR[name][vrid],
      peers: [ADDR.lb1[vrid], ADDR.lb2[vrid]],
    });
    const vrrp = new VrrpInstance({
      id: `${name}/VI_${vrid}`,
      vrid,
      version: 3,
      advertInterval: 100,
      priority: PRIORITY[name][vrid],
      virtualAddresses: [VIPS[vrid]],
      transport,
      vipMover: new MemoryVipMover(),
      garp: false,
    });
    vrrp.on("change", (c) => log(`${c.id}: ${c.from} → ${c.to} (${c.reason})`));
    return { vrid, transport, vrrp };
  });
  return {
    name,
    instances,
    async start() {
      for (const i of instances) await i.transport.start();
      await Promise.all(instances.map((i) => i.vrrp.start()));
    },
    async stop() {
      await Promise.all(instances.map((i) => i.vrrp.stop()));
      for (const i of instances) await i.transport.stop();
    },
  };
}
const nodes = [node("lb1"), node("lb2")];
const holders = () =>
  [51, 52]
    .map((vrid) => {
      const who = nodes.filter((n) => n.instances.find((i) => i.vrid === vrid).vrrp.state === "master");
      return `${VIPS[vrid].split("/")[0]} → ${who.map((n) => n.name).join("+") || "nobody"}`;
    })
    .join(",  ");

try {
  await Promise.all(nodes.map((n) => n.start()));
  await sleep(700);
  log(`both serving:     ${holders()}`);
  await nodes[0].stop();
  await sleep(500);
  log(`lb1 failed:       ${holders()}`);
  await nodes[0].start();
  await sleep(700);
  log(`lb1 is back:      ${holders()}`);
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
}
