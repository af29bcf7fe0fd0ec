import type net from "node:net";
import type { FrontendRuntime, ProxyCore } from "./shell.js";

export class HttpConnection {
  constructor(_core: ProxyCore, _fe: FrontendRuntime, socket: net.Socket) {
    socket.destroy();
  }
}
