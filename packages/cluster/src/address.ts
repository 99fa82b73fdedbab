/**
 * Where a controller listens and where others find it, as ipcontroller's
 * `--ip` and `--location`. The listen address may be an IP, a network
 * interface's name (`ib0`, `eth1`: its IPv4 address, so that a login node's
 * internal network can be chosen by name) or `*` (every interface). The
 * location is what engines and clients connect to: the listen address, or
 * for `*` this host's first external IPv4 address, unless given.
 */
import { networkInterfaces } from "node:os";
import { ClusterError } from "./errors.ts";

export const isLoopback = (ip: string) => /^127\.\d+\.\d+\.\d+$/.test(ip) || ip === "::1" || ip === "localhost";

const ANY = new Set(["*", "0.0.0.0"]);

/** The IPv4 addresses of this host's interfaces, by name, external ones first. */
function ipv4s(): { name: string; address: string; internal: boolean }[] {
  return Object.entries(networkInterfaces())
    .flatMap(([name, list]) => (list ?? []).filter((a) => a.family === "IPv4").map((a) => ({ name, address: a.address, internal: a.internal })))
    .sort((a, b) => Number(a.internal) - Number(b.internal));
}

/** This host's external IPv4 addresses, by interface. */
export const externalIPv4s = () => ipv4s().filter((a) => !a.internal);

/** The address to bind (`0.0.0.0` for every interface) and the one to hand out. */
export function resolveAddress(ip = "127.0.0.1", location?: string): { bind: string; location: string } {
  let bind = ip;
  if (ANY.has(ip)) bind = "0.0.0.0";
  else if (!/^[\d.]+$/.test(ip) && !ip.includes(":") && ip !== "localhost") {
    const named = ipv4s().filter((a) => a.name === ip);
    if (!named.length) throw new ClusterError(`--ip ${ip}: not an address, and no network interface of that name has an IPv4 address (interfaces: ${ipv4s().map((a) => `${a.name} ${a.address}`).join(", ")})`);
    bind = named[0].address;
  }
  if (location) return { bind, location };
  if (bind !== "0.0.0.0") return { bind, location: bind };
  const [external] = externalIPv4s();
  if (!external) throw new ClusterError("listening on every interface, but this host has no external IPv4 address to give engines: name one with --location");
  return { bind, location: external.address };
}
