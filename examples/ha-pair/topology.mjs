// The ha-pair's addresses (the guides' topology on 198.18.0.0/24), shared by the demo and bench/deploy.
import { fileURLToPath } from "node:url";

export const VIP = "198.18.0.200";
export const LBS = [
  { name: "lb1", address: "198.18.0.11", priority: 104 },
  { name: "lb2", address: "198.18.0.12", priority: 100 },
];
export const WEBS = [
  { name: "web1", address: "198.18.0.21", port: 80 },
  { name: "web2", address: "198.18.0.22", port: 8080 },
  { name: "web3", address: "198.18.0.23", port: 8080 },
];
export const CLIENT = { name: "client", address: "198.18.0.100" };
export const HOSTS = [...LBS, ...WEBS, CLIENT];
const script = (f) => fileURLToPath(new URL(f, import.meta.url));

/** argv of one load-balancer node (node.mjs) in its namespace */
export const lbArgv = (n, extra = []) => [
  process.execPath,
  script("./node.mjs"),
  ...["--name", n.name, "--priority", String(n.priority), "--vip", `${VIP}/24`, "--interface", "eth0"],
  ...["--servers", WEBS.map((w) => `${w.name}=${w.address}:${w.port}`).join(",")],
  ...extra,
];
/** argv of one web server (web.mjs) */
export const webArgv = (w) => [
  process.execPath,
  script("./web.mjs"),
  ...["--name", w.name, "--host", w.address, "--port", String(w.port)],
];
/** argv of the client (client.mjs): `rate` requests/s to the VIP for `seconds` */
export const clientArgv = (rate, seconds, extra = []) => [
  process.execPath,
  script("./client.mjs"),
  ...["--url", `http://${VIP}/index.html`, "--rate", String(rate), "--duration", String(seconds), ...extra],
];
