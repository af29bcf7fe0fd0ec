// A web server for test/bgp-*: answers its id on <address>:8080.
import http from "node:http";

const [id, address] = process.argv.slice(2);
http
  .createServer((_req, res) => res.end(id))
  .listen(8080, address, () => process.stdout.write("listening\n"));
