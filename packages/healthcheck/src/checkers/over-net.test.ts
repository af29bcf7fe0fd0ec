// The checker suites once more over net.Socket, the transport checks fall back to when libuv's TCP handle is
// not available (tcp-handle.ts): each file here is a module graph of its own, so forcing it affects only these.
import { forceTransport } from "./tcp-handle.js";
import "./tcp.test.js";
import "./http.test.js";
import "./protocols.test.js";

forceTransport("net");
