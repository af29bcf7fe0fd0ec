// Byte vectors derived by hand from linux/ip_vs.h (enum values), linux/netlink.h and linux/genetlink.h (headers),
// and net/netfilter/ipvs/ip_vs_ctl.c's attribute policies (ports and the IPv4 netmask big-endian, the rest in host
// order — little-endian on the machines lbkit runs on, asserted below).
import { Pool } from "@lbkit/balancer";
import { describe, expect, it } from "vitest";
import { serviceConfig } from "./config.js";
import { encodeIpvs, ipvsCommands } from "./ipvs.js";
import { computeTable } from "./table.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const strip = (s: string) => s.replace(/\s+|\/\/[^\n]*/g, "");

describe("IPVS generic-netlink codec", () => {
  it("is on a little-endian host (the vectors below are)", () => {
    expect(new Uint8Array(new Uint16Array([1]).buffer)[0]).toBe(1);
  });

  it("IPVS_CMD_NEW_SERVICE 198.18.0.100:80 tcp wrr", () => {
    const msg = encodeIpvs(
      {
        cmd: "NEW_SERVICE",
        service: { address: "198.18.0.100", port: 80, protocol: "tcp", scheduler: "wrr" },
      },
      0x1c,
      7,
    );
    expect(hex(msg)).toBe(
      strip(`
        68000000 1c00 0500 07000000 00000000   // nlmsghdr: len 104, type = family id 0x1c, REQUEST|ACK, seq 7, pid 0
        01 01 0000                             // genlmsghdr: IPVS_CMD_NEW_SERVICE, version 1
        5400 0180                              // IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, len 84
          0600 0100 0200 0000                  //   IPVS_SVC_ATTR_AF = AF_INET (u16)
          0600 0200 0600 0000                  //   IPVS_SVC_ATTR_PROTOCOL = IPPROTO_TCP (u16)
          1400 0300 c6120064 000000000000000000000000 // IPVS_SVC_ATTR_ADDR (union nf_inet_addr)
          0600 0400 0050 0000                  //   IPVS_SVC_ATTR_PORT = 80 (be16)
          0800 0600 77727200                   //   IPVS_SVC_ATTR_SCHED_NAME "wrr\\0"
          0c00 0700 00000000 ffffffff          //   IPVS_SVC_ATTR_FLAGS { flags 0, mask ~0 }
          0800 0800 00000000                   //   IPVS_SVC_ATTR_TIMEOUT 0
          0800 0900 ffffffff                   //   IPVS_SVC_ATTR_NETMASK 255.255.255.255 (be32)
      `),
    );
  });

  it("IPVS_CMD_NEW_DEST 198.18.0.12:80, direct routing, weight 3", () => {
    const msg = encodeIpvs(
      {
        cmd: "NEW_DEST",
        service: { address: "198.18.0.100", port: 80, protocol: "tcp" },
        dest: { address: "198.18.0.12", port: 80, forward: "dr", weight: 3 },
      },
      0x1c,
      8,
      4242,
    );
    expect(hex(msg)).toBe(
      strip(`
        8c000000 1c00 0500 08000000 92100000   // len 140, seq 8, pid 4242
        05 01 0000                             // IPVS_CMD_NEW_DEST
        3000 0180                              // IPVS_CMD_ATTR_SERVICE (the key only), len 4 + 44
          0600 0100 0200 0000
          0600 0200 0600 0000
          1400 0300 c6120064 000000000000000000000000
          0600 0400 0050 0000
        4800 0280                              // IPVS_CMD_ATTR_DEST | NLA_F_NESTED, len 4 + 68
          1400 0100 c612000c 000000000000000000000000 // IPVS_DEST_ATTR_ADDR
          0600 0200 0050 0000                  //   IPVS_DEST_ATTR_PORT (be16)
          0800 0300 03000000                   //   IPVS_DEST_ATTR_FWD_METHOD = IP_VS_CONN_F_DROUTE
          0800 0400 03000000                   //   IPVS_DEST_ATTR_WEIGHT 3
          0800 0500 00000000                   //   IPVS_DEST_ATTR_U_THRESH 0
          0800 0600 00000000                   //   IPVS_DEST_ATTR_L_THRESH 0
          0600 0b00 0200 0000                  //   IPVS_DEST_ATTR_ADDR_FAMILY = AF_INET
      `),
    );
  });

  it("an IPv6 service: AF_INET6, 16 address bytes, the netmask as a prefix length", () => {
    const msg = encodeIpvs(
      {
        cmd: "NEW_SERVICE",
        service: { address: "2001:db8::100", port: 443, protocol: "udp", scheduler: "sh" },
      },
      0x1c,
      1,
    );
    const h = hex(msg);
    expect(h).toContain(strip("0600 0100 0a00 0000")); // AF_INET6
    expect(h).toContain(strip("0600 0200 1100 0000")); // IPPROTO_UDP
    expect(h).toContain(strip("1400 0300 20010db8000000000000000000000100"));
    expect(h).toContain(strip("0600 0400 01bb 0000")); // 443 big-endian
    expect(h).toContain(strip("0700 0600 736800 00")); // "sh\0", padded
    expect(h.endsWith(strip("0800 0900 80000000"))).toBe(true); // prefix 128
  });

  it("a table change becomes NEW/SET/DEL_DEST; the first programming NEW_SERVICE", () => {
    const pool = new Pool({
      servers: [
        { id: "r1", address: "198.18.0.12", weight: 1 },
        { id: "r2", address: "198.18.0.13", weight: 2 },
      ],
    });
    const cfg = serviceConfig({
      id: "web",
      vip: "198.18.0.100",
      port: 80,
      pool,
      lbKind: "dr",
      device: "eth0",
    });
    const a = computeTable(cfg, undefined);
    expect(ipvsCommands(undefined, a, "wrr").map((c) => c.cmd)).toEqual([
      "NEW_SERVICE",
      "NEW_DEST",
      "NEW_DEST",
    ]);
    pool.setWeight("r2", 5);
    pool.add({ id: "r3", address: "198.18.0.14" });
    pool.setState("r1", "down");
    const b = computeTable(cfg, true);
    expect(ipvsCommands(a, b, "wrr")).toEqual([
      {
        cmd: "SET_DEST",
        service: { address: "198.18.0.100", port: 80, protocol: "tcp" },
        dest: { address: "198.18.0.13", port: 80, forward: "dr", weight: 5 },
      },
      {
        cmd: "NEW_DEST",
        service: { address: "198.18.0.100", port: 80, protocol: "tcp" },
        dest: { address: "198.18.0.14", port: 80, forward: "dr", weight: 1 },
      },
      {
        cmd: "DEL_DEST",
        service: { address: "198.18.0.100", port: 80, protocol: "tcp" },
        dest: { address: "198.18.0.12", port: 80 },
      },
    ]);
    expect(ipvsCommands(b, undefined, "wrr").map((c) => c.cmd)).toEqual(["DEL_SERVICE"]);
  });

  it("refuses what the kernel would: a bad scheduler name, a non-address", () => {
    expect(() =>
      encodeIpvs(
        {
          cmd: "NEW_SERVICE",
          service: { address: "198.18.0.1", port: 1, protocol: "tcp", scheduler: "w r r" },
        },
        1,
        1,
      ),
    ).toThrow("IPVS scheduler");
    expect(() =>
      encodeIpvs({ cmd: "DEL_SERVICE", service: { address: "vip", port: 1, protocol: "tcp" } }, 1, 1),
    ).toThrow('IPVS address "vip"');
  });
});
