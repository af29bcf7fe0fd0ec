// Command line shared by the Node proxy peers: --listen host:port --backend host:port[,…] [--idle-timeout s]
// (the same flags as examples/proxy/index.mjs). Node peers use the first backend.
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const [host, port] = arg("listen").split(":");
export const listen = { host, port: Number(port) };
export const backend = arg("backend").split(",")[0];
export const idleMs = Number(arg("idle-timeout", 60)) * 1000;
