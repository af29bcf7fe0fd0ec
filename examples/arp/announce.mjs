#!/usr/bin/env node
// Announce VIPs on an interface with gratuitous ARP (IPv4) and unsolicited NA (IPv6), as keepalived does when
// it becomes MASTER. Needs CAP_NET_RAW. Run it only inside a network namespace you own, e.g.:
//
//   ip netns exec lab-a node examples/arp/announce.mjs --interface eth0 \
//       --address 198.18.0.100 --address 2001:db8::100 --count 3 --form both
//
// --refresh MS --duration MS keeps an Announcer running (first burst, second burst after --delay, then a
// refresh every --refresh ms) for --duration ms. Prints JSON to stdout; errors to stderr, exit code 1.
import { Announcer, announce } from "@lbkit/arp";
import { cli } from "../cli.mjs";

const values = cli(
  `
usage: node examples/arp/announce.mjs --interface IFACE --address ADDR [--address ADDR…] [options]
Sends gratuitous ARP (IPv4) and unsolicited NA (IPv6) for the addresses. Needs CAP_NET_RAW; run it only inside
a network namespace you own (ip netns exec <ns> node examples/arp/announce.mjs …).
  -i, --interface IFACE   interface to send on (required)
  -a, --address ADDR      IPv4 or IPv6 address to announce; repeat for more (required)
  -c, --count N           rounds per burst (default 5)
      --interval MS       ms between rounds
      --form FORM         request | reply | both (IPv4 GARP form)
      --mac MAC           source MAC (default: the interface's)
      --delay MS          ms before the second burst
      --refresh MS        keep an Announcer running, re-announcing every MS ms…
      --duration MS       …for MS ms (default 10000)
  -h, --help              this text
Prints JSON to stdout; errors to stderr, exit code 1.`,
  {
    interface: { type: "string", short: "i" },
    address: { type: "string", short: "a", multiple: true },
    count: { type: "string", short: "c" },
    interval: { type: "string" },
    form: { type: "string" },
    mac: { type: "string" },
    delay: { type: "string" },
    refresh: { type: "string" },
    duration: { type: "string" },
  },
);
const num = (v) => (v === undefined ? undefined : Number(v));

try {
  if (values.refresh === undefined) {
    const result = await announce({
      interface: values.interface,
      addresses: values.address ?? [],
      count: num(values.count),
      interval: num(values.interval),
      form: values.form,
      mac: values.mac,
      delay: num(values.delay),
    });
    const frames = result.frames.map(({ kind, address, at }) => ({
      kind,
      address,
      at: Math.round(at * 1000) / 1000,
    }));
    console.log(JSON.stringify({ ...result, frames }));
  } else {
    const times = [];
    const announcer = new Announcer({
      interface: values.interface,
      addresses: values.address ?? [],
      repeat: num(values.count),
      interval: num(values.interval),
      form: values.form,
      mac: values.mac,
      delay: num(values.delay),
      refresh: num(values.refresh),
    });
    announcer.on("frame", (f) =>
      times.push({ kind: f.kind, address: f.address, at: Math.round(f.at * 1000) / 1000 }),
    );
    announcer.on("error", (err) => console.error(err.message));
    await announcer.start();
    await new Promise((r) => setTimeout(r, num(values.duration) ?? 10_000));
    await announcer.stop();
    console.log(JSON.stringify({ ...announcer.interfaceInfo, sent: announcer.sent, frames: times }));
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
